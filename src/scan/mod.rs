//! Port scanning: TCP connect, SYN and FIN scans with nmap's port states and reasons.
//!
//! - [`ports`]: port lists written like nmap's (`1-1024,8080,60000-`, `-` for all);
//! - [`target`]: resolving a target and the rule of which targets may be scanned;
//! - [`services`]: service names of well-known ports;
//! - [`timing`]: round-trip time estimate, adaptive timeout and the probe window;
//! - `connect`: many non-blocking connects driven by one poller (no thread per port);
//! - `raw` (Linux only): SYN and FIN probes built with etherparse, sent on a raw socket,
//!   their answers matched in a libpcap capture with a BPF filter;
//! - [`probe`]: building probes and reading answers, byte by byte;
//! - [`output`]: the table for people and the CSV for programs.
//!
//! Every scan runs inside the scanning host's context (its network namespace in the
//! sandbox), so sockets and the capture live where the host lives.

#[cfg(unix)]
mod connect;
pub mod output;
pub mod ports;
pub mod probe;
#[cfg(all(target_os = "linux", feature = "live-capture"))]
mod raw;
pub mod services;
pub mod target;
pub mod timing;

pub use ports::parse_ports;
pub use target::{Cidr, check_target, lab_target, resolve_target};

use crate::network::Host;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// The scan layer's error.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The port list does not parse.
    #[error("bad port list {spec:?}: {message}")]
    Ports {
        /// The list as given.
        spec: String,
        /// What is wrong with it.
        message: String,
    },
    /// A target name does not resolve.
    #[error("cannot resolve the target {name:?}: {message}")]
    Resolve {
        /// The name as given.
        name: String,
        /// Why.
        message: String,
    },
    /// The target may not be scanned.
    #[error("refusing to scan {target}: {why}")]
    Refused {
        /// The target's address.
        target: IpAddr,
        /// Why, and what to do if the target is really yours.
        why: String,
    },
    /// An option is out of range or does not fit the scan.
    #[error("{0}")]
    Option(String),
    /// The scan type needs something this system or target lacks.
    #[error("{0}")]
    Unsupported(String),
    /// A system call failed.
    #[error("cannot {action}: {source}{hint}")]
    Io {
        /// What the scanner was doing.
        action: String,
        /// The OS error.
        source: std::io::Error,
        /// What to do about it, as an indented line, or "".
        hint: String,
    },
    /// The capture that sees the answers failed.
    #[error("the scan's capture on `{iface}` failed: {message}{hint}")]
    Capture {
        /// The interface.
        iface: String,
        /// libpcap's message.
        message: String,
        /// What to do about it, or "".
        hint: String,
    },
    /// The scanning host could not be entered (its namespace), or is another machine.
    #[error("{0}")]
    Host(String),
    /// The scan was interrupted (Ctrl-C) before every port had an answer or a timeout.
    #[error("the scan was interrupted")]
    Interrupted,
}

impl ScanError {
    /// An I/O error with a hint for the usual permission problem.
    #[cfg(unix)]
    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> ScanError {
        let hint = if source.raw_os_error() == Some(libc::EPERM)
            || source.kind() == std::io::ErrorKind::PermissionDenied
        {
            "\n  SYN and FIN scans need raw sockets and a capture: run as root, or once \
             `sudo setcap cap_net_raw,cap_net_admin+ep $(which labrun)`; a connect scan needs neither"
                .to_string()
        } else {
            String::new()
        };
        ScanError::Io {
            action: action.into(),
            source,
            hint,
        }
    }
}

/// Shorthand for this layer's results.
pub type ScanResult<T> = Result<T, ScanError>;

/// The three classic scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanType {
    /// A full TCP connect per port through the socket API (nmap `-sT`).
    #[default]
    Connect,
    /// A crafted SYN per port; the handshake is never completed (nmap `-sS`, half-open).
    Syn,
    /// A crafted FIN per port (nmap `-sF`): closed ports answer RST, open ones stay silent.
    Fin,
}

impl ScanType {
    /// `connect`, `syn` or `fin`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanType::Connect => "connect",
            ScanType::Syn => "syn",
            ScanType::Fin => "fin",
        }
    }

    /// Parses `connect`, `syn` or `fin` (also nmap's `sT`, `sS`, `sF`).
    pub fn parse(text: &str) -> ScanResult<ScanType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "connect" | "st" | "-st" => Ok(ScanType::Connect),
            "syn" | "ss" | "-ss" => Ok(ScanType::Syn),
            "fin" | "sf" | "-sf" => Ok(ScanType::Fin),
            other => Err(ScanError::Option(format!(
                "unknown scan type {other:?} (known: connect, syn, fin)"
            ))),
        }
    }

    /// The nmap option that does the same scan.
    pub fn nmap_flag(self) -> &'static str {
        match self {
            ScanType::Connect => "-sT",
            ScanType::Syn => "-sS",
            ScanType::Fin => "-sF",
        }
    }
}

/// A port's state, with nmap's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortState {
    /// Something listens: the connect succeeded or a SYN-ACK came back.
    Open,
    /// Nothing listens: RST (or a refused connect).
    Closed,
    /// A firewall is in the way: no answer, or an ICMP unreachable.
    Filtered,
    /// No answer to a FIN: open (a listener ignores a bare FIN) or filtered; a FIN scan
    /// cannot tell which.
    OpenFiltered,
}

impl PortState {
    /// `open`, `closed`, `filtered`, `open|filtered`.
    pub fn as_str(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
            PortState::OpenFiltered => "open|filtered",
        }
    }
}

/// The packet (or its absence) that decided a port's state, with nmap's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A SYN-ACK came back (connect scans: the connect succeeded).
    SynAck,
    /// A RST came back.
    Reset,
    /// The connect failed with ECONNREFUSED (a RST, or an ICMP port unreachable, which the
    /// socket API cannot tell apart).
    ConnRefused,
    /// Nothing came back within the timeout, after every retry.
    NoResponse,
    /// ICMP destination unreachable, port unreachable (type 3 code 3).
    PortUnreach,
    /// ICMP host unreachable (type 3 code 1), or EHOSTUNREACH.
    HostUnreach,
    /// ICMP network unreachable (type 3 code 0), or ENETUNREACH.
    NetUnreach,
    /// ICMP protocol unreachable (type 3 code 2).
    ProtoUnreach,
    /// ICMP administratively prohibited (type 3 codes 9, 10, 13).
    AdminProhibited,
}

impl Reason {
    /// nmap's reason word: `syn-ack`, `reset`, `conn-refused`, `no-response`, `port-unreach`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::Reset => "reset",
            Reason::ConnRefused => "conn-refused",
            Reason::NoResponse => "no-response",
            Reason::PortUnreach => "port-unreach",
            Reason::HostUnreach => "host-unreach",
            Reason::NetUnreach => "net-unreach",
            Reason::ProtoUnreach => "proto-unreach",
            Reason::AdminProhibited => "admin-prohibited",
        }
    }

    /// The reason for an ICMP destination unreachable of `code`, if it means "filtered".
    pub fn from_icmp_unreach(code: u8) -> Option<Reason> {
        match code {
            0 => Some(Reason::NetUnreach),
            1 => Some(Reason::HostUnreach),
            2 => Some(Reason::ProtoUnreach),
            3 => Some(Reason::PortUnreach),
            9 | 10 | 13 => Some(Reason::AdminProhibited),
            _ => None,
        }
    }
}

/// One scanned port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortResult {
    /// The port number.
    pub port: u16,
    /// Its state.
    pub state: PortState,
    /// What decided it.
    pub reason: Reason,
    /// Probes sent to it (1 when the first one was answered).
    pub tries: u32,
    /// Time from the answered probe to its answer (none for `no-response`).
    pub rtt: Option<Duration>,
}

impl PortResult {
    /// The service name usually found on this port, e.g. `ssh`, or `unknown`.
    pub fn service(&self) -> &'static str {
        services::name(self.port)
    }
}

/// Counters of a finished scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanStats {
    /// Probes sent, first tries and retries together (connect attempts for a connect scan).
    pub probes: u64,
    /// Of those, retries after a timeout.
    pub retries: u64,
    /// Answers matched to a probe.
    pub replies: u64,
    /// RSTs the scanner's own kernel sent in answer to SYN-ACKs (SYN scans): it made no
    /// such connection, so it resets it.
    pub kernel_rsts: u64,
    /// Wall time of the scan.
    pub elapsed: Duration,
    /// Smoothed round-trip time at the end of the scan.
    pub srtt: Option<Duration>,
    /// The probe timeout at the end of the scan (adapted to the round-trip time).
    pub timeout: Duration,
    /// The most probes that were in flight at once.
    pub max_in_flight: usize,
}

/// A finished scan of one target.
#[derive(Debug, Clone)]
pub struct ScanReport {
    /// The scanned address.
    pub target: IpAddr,
    /// The scanning address.
    pub source: IpAddr,
    /// The kind of scan.
    pub scan_type: ScanType,
    /// Every scanned port, in ascending order.
    pub ports: Vec<PortResult>,
    /// Counters and timing.
    pub stats: ScanStats,
}

impl ScanReport {
    /// The ports in `state`, ascending.
    pub fn in_state(&self, state: PortState) -> Vec<u16> {
        self.ports
            .iter()
            .filter(|p| p.state == state)
            .map(|p| p.port)
            .collect()
    }

    /// The result for `port`, if it was scanned.
    pub fn port(&self, port: u16) -> Option<&PortResult> {
        self.ports
            .binary_search_by_key(&port, |p| p.port)
            .ok()
            .map(|i| &self.ports[i])
    }

    /// Scanned ports per second of wall time.
    pub fn rate(&self) -> f64 {
        let s = self.stats.elapsed.as_secs_f64();
        if s > 0.0 {
            self.ports.len() as f64 / s
        } else {
            0.0
        }
    }
}

/// The most retries of one probe a scan allows.
pub const MAX_RETRIES: u32 = 10;

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The kind of scan.
    pub scan_type: ScanType,
    /// The longest a probe waits for its answer; also the timeout before any round-trip
    /// time has been measured. The timeout in use adapts to the measured round-trip time
    /// and never goes below [`timing::MIN_TIMEOUT`].
    pub max_timeout: Duration,
    /// Retries of an unanswered probe before its port counts as unanswered (at most
    /// [`MAX_RETRIES`]); each retry waits twice as long as the probe before it.
    pub retries: u32,
    /// Most probes in flight at once (connect scans are also held to the open-file limit).
    pub max_in_flight: usize,
    /// Shows progress (a bar with ports/s and ETA on a terminal); `None` for none.
    pub progress: Option<crate::progress::SharedProgress>,
    /// Set (e.g. by Ctrl-C) to stop the scan early with [`ScanError::Interrupted`]; the
    /// run's clock ([`crate::clock`]: its time limit, Ctrl-C) stops it the same way.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            scan_type: ScanType::Connect,
            max_timeout: Duration::from_millis(1000),
            retries: 2,
            max_in_flight: 4096,
            progress: None,
            cancel: None,
        }
    }
}

/// Scans `ports` of `target` from `host`, inside the host's context (its namespace).
///
/// The target must already have passed [`check_target`]; `ports` must be non-empty.
pub fn scan(
    host: &Host,
    target: IpAddr,
    ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    if ports.is_empty() {
        return Err(ScanError::Option("no ports to scan".into()));
    }
    if options.retries > MAX_RETRIES {
        return Err(ScanError::Option(format!(
            "at most {MAX_RETRIES} retries, not {}",
            options.retries
        )));
    }
    if options.max_in_flight == 0 {
        return Err(ScanError::Option(
            "at least one probe must be allowed in flight".into(),
        ));
    }
    if let Some(p) = &options.progress {
        p.set_length(ports.len() as u64);
        p.set_position(0);
    }
    let shards = shard_count(ports.len());
    let run = || {
        if shards <= 1 {
            return scan_shard(host, target, ports, options);
        }
        // Each shard is a whole scan of its share of the ports (its own sockets, poller or
        // capture and timing) on its own thread; the kernel's work per probe, which is most
        // of a scan's cost on loopback, then spreads over the cores.
        let started = std::time::Instant::now();
        let per = ports.len().div_ceil(shards);
        let mut shard_options = options.clone();
        shard_options.max_in_flight = (options.max_in_flight / shards).max(1);
        let results: Vec<ScanResult<ScanReport>> = std::thread::scope(|s| {
            let handles: Vec<_> = ports
                .chunks(per)
                .map(|chunk| {
                    let o = &shard_options;
                    s.spawn(move || scan_shard(host, target, chunk, o))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(ScanError::Host("a scan thread stopped unexpectedly".into()))
                    })
                })
                .collect()
        });
        merge(results, started.elapsed())
    };
    let report = host
        .within("scan", run)
        .map_err(|e| ScanError::Host(e.message))??;
    if let Some(p) = &options.progress {
        p.finish();
    }
    Ok(report)
}

/// Ports below which a scan runs on one thread: splitting small scans gains nothing.
const SHARD_MIN_PORTS: usize = 4096;

/// How many threads share a scan of `n` ports: one per core, at most 4.
fn shard_count(n: usize) -> usize {
    if n < SHARD_MIN_PORTS {
        return 1;
    }
    std::thread::available_parallelism()
        .map(|c| c.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

fn scan_shard(
    host: &Host,
    target: IpAddr,
    ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    match options.scan_type {
        ScanType::Connect => connect_scan(host.ip(), target, ports, options),
        ScanType::Syn | ScanType::Fin => raw_scan(host, target, ports, options),
    }
}

/// One report from the shards' reports (ports in order, counters added up).
fn merge(results: Vec<ScanResult<ScanReport>>, elapsed: Duration) -> ScanResult<ScanReport> {
    let mut merged: Option<ScanReport> = None;
    let mut srtts = Vec::new();
    for r in results {
        let r = r?;
        srtts.extend(r.stats.srtt);
        match &mut merged {
            None => merged = Some(r),
            Some(m) => {
                m.ports.extend(r.ports);
                let (a, b) = (&mut m.stats, &r.stats);
                a.probes += b.probes;
                a.retries += b.retries;
                a.replies += b.replies;
                a.kernel_rsts += b.kernel_rsts;
                a.timeout = a.timeout.max(b.timeout);
                a.max_in_flight += b.max_in_flight;
            }
        }
    }
    let mut m = merged.ok_or_else(|| ScanError::Option("no ports to scan".into()))?;
    m.ports.sort_by_key(|p| p.port);
    m.stats.elapsed = elapsed;
    m.stats.srtt = (!srtts.is_empty())
        .then(|| srtts.iter().sum::<Duration>() / u32::try_from(srtts.len()).unwrap_or(1));
    Ok(m)
}

#[cfg(all(target_os = "linux", feature = "live-capture"))]
fn raw_scan(
    host: &Host,
    target: IpAddr,
    ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    raw::scan(host.ip(), host.iface(), target, ports, options)
}

#[cfg(not(target_os = "linux"))]
fn raw_scan(
    _host: &Host,
    _target: IpAddr,
    _ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    Err(ScanError::Unsupported(format!(
        "{} scans need Linux raw sockets; use a connect scan here",
        options.scan_type.as_str()
    )))
}

#[cfg(all(target_os = "linux", not(feature = "live-capture")))]
fn raw_scan(
    _host: &Host,
    _target: IpAddr,
    _ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    Err(ScanError::Unsupported(format!(
        "{} scans capture the answers: {}",
        options.scan_type.as_str(),
        crate::util::NO_LIVE_CAPTURE
    )))
}

#[cfg(unix)]
fn connect_scan(
    src: IpAddr,
    target: IpAddr,
    ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    connect::scan(src, target, ports, options)
}

#[cfg(not(unix))]
fn connect_scan(
    _src: IpAddr,
    _target: IpAddr,
    _ports: &[u16],
    _options: &ScanOptions,
) -> ScanResult<ScanReport> {
    Err(ScanError::Unsupported(
        "connect scans need a Unix poller (epoll or kqueue)".into(),
    ))
}
