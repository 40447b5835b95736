//! SYN and FIN scans (Linux): probes sent on a raw IPv4 socket (`IPPROTO_RAW`, so the
//! scanner writes the IP header itself), answers read from a libpcap capture whose BPF
//! filter passes only what concerns the scan.
//!
//! The scanner's port is reserved by binding an ordinary TCP socket to it (never listening),
//! so no other program uses it meanwhile. That socket takes no connection: when a SYN-ACK
//! arrives, the scanner's own kernel finds no connection for it and answers RST. The
//! capture sees those RSTs too and counts them ([`super::ScanStats::kernel_rsts`]).

use super::probe::{self, Answer, Probe};
use super::timing::Schedule;
use super::{PortState, Reason, ScanError, ScanOptions, ScanReport, ScanResult, ScanType};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// `PACKET_IGNORE_OUTGOING` from linux/if_packet.h.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;

/// How long the raw socket may refuse every probe before the scan gives up.
const STALL_LIMIT: Duration = Duration::from_secs(5);

/// Probes sent between two looks at the capture.
const BURST: usize = 512;
/// After the last result, how long the capture may stay quiet before the scan ends (it
/// still counts the kernel's RSTs to the last SYN-ACKs).
const TAIL: Duration = Duration::from_millis(3);

/// Runs a SYN or FIN scan from `src` (captures on `iface`) to `target`.
pub fn scan(
    src: IpAddr,
    iface: &str,
    target: IpAddr,
    ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    let (IpAddr::V4(src4), IpAddr::V4(dst4)) = (src, target) else {
        return Err(ScanError::Unsupported(format!(
            "{} scans are IPv4 only ({target} from {src}); use a connect scan for IPv6",
            options.scan_type.as_str()
        )));
    };
    let started = Instant::now();
    let (reserve, sport) = reserve_port(src4)?;
    let raw = raw_socket()?;
    let mut cap = open_capture(iface, src4, dst4, sport, ports.len())?;
    let dlt = cap.get_datalink().0;
    if !probe::link_supported(dlt) {
        return Err(ScanError::Capture {
            iface: iface.to_string(),
            message: format!("link type {dlt} is not one the scanner decodes"),
            hint: String::new(),
        });
    }
    let silent = match options.scan_type {
        ScanType::Fin => (PortState::OpenFiltered, Reason::NoResponse),
        _ => (PortState::Filtered, Reason::NoResponse),
    };
    let mut sched = Schedule::new(
        ports,
        options.max_in_flight,
        options.retries,
        options.max_timeout,
        silent,
        options.progress.clone(),
    );
    let secret = secret();
    let to = SockAddr::from(SocketAddr::new(target, 0));
    let mut buf = Vec::with_capacity(64);
    let mut quiet_since: Option<Instant> = None;
    let mut stalled: Option<Instant> = None;
    let clock = Clock::new();
    loop {
        if options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
            || crate::clock::check().is_err()
        {
            return Err(ScanError::Interrupted);
        }
        let mut sent = 0;
        let mut send_blocked = false;
        while sent < BURST {
            let Some((i, _)) = sched.next_probe(Instant::now()) else {
                break;
            };
            let port = sched.port(i);
            probe::build(
                &Probe {
                    src: src4,
                    dst: dst4,
                    sport,
                    dport: port,
                    seq: probe::cookie(secret, port),
                    kind: options.scan_type,
                },
                &mut buf,
            );
            match raw.send_to(&buf, &to) {
                Ok(_) => {
                    sent += 1;
                    stalled = None;
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.raw_os_error() == Some(libc::ENOBUFS) =>
                {
                    // The socket's buffer is full: this probe goes out on the next round.
                    sched.unsend(i);
                    send_blocked = true;
                    let since = *stalled.get_or_insert_with(Instant::now);
                    if since.elapsed() > STALL_LIMIT {
                        return Err(ScanError::io(
                            format!(
                                "send probes: the socket took none for {}",
                                crate::util::fmt_duration(STALL_LIMIT)
                            ),
                            e,
                        ));
                    }
                    break;
                }
                Err(e) => {
                    return Err(ScanError::io(format!("send a probe to {target}:{port}"), e));
                }
            }
        }
        let read = drain(
            &mut cap,
            &clock,
            dlt,
            &mut sched,
            secret,
            (src4, dst4, sport),
            iface,
        )?;
        sched.expire(Instant::now());
        if sched.finished() {
            if read > 0 {
                quiet_since = None;
            }
            let q = *quiet_since.get_or_insert_with(Instant::now);
            if q.elapsed() >= TAIL {
                break;
            }
            wait_readable(&cap, Duration::from_millis(1));
            continue;
        }
        if sent == 0 && read == 0 {
            let wait = if send_blocked {
                Duration::from_millis(1)
            } else {
                sched
                    .next_deadline()
                    .map(|d| d.saturating_duration_since(Instant::now()))
                    .unwrap_or(Duration::from_millis(1))
                    .clamp(Duration::from_micros(100), Duration::from_millis(20))
            };
            wait_readable(&cap, wait);
        }
    }
    drop(reserve);
    let (ports, stats) = sched.finish(started.elapsed());
    Ok(ScanReport {
        target,
        source: src,
        scan_type: options.scan_type,
        ports,
        stats,
    })
}

/// Reads every frame the capture holds now and records what they answer; returns how
/// many frames were read.
fn drain(
    cap: &mut pcap::Capture<pcap::Active>,
    clock: &Clock,
    dlt: i32,
    sched: &mut Schedule,
    secret: u64,
    (me, target, sport): (Ipv4Addr, Ipv4Addr, u16),
    iface: &str,
) -> ScanResult<usize> {
    let mut n = 0;
    loop {
        let (answer, now) = match cap.next_packet() {
            Ok(p) => (probe::parse(dlt, p.data), clock.at(&p.header.ts)),
            Err(pcap::Error::TimeoutExpired) | Err(pcap::Error::NoMorePackets) => return Ok(n),
            Err(e) => {
                return Err(ScanError::Capture {
                    iface: iface.to_string(),
                    message: e.to_string(),
                    hint: String::new(),
                });
            }
        };
        n += 1;
        match answer {
            Some(Answer::Tcp {
                src,
                dst,
                sport: from_port,
                dport: to_port,
                ack,
                syn,
                ack_flag,
                rst,
                ..
            }) => {
                if src == target && dst == me && to_port == sport && (rst || (syn && ack_flag)) {
                    let Some(i) = sched.slot_of(from_port) else {
                        continue;
                    };
                    let valid = probe::cookie(secret, from_port) == ack.wrapping_sub(1);
                    // A RST without ACK cannot name its probe; any other answer must.
                    if !valid && (ack_flag || !rst) {
                        continue;
                    }
                    let try_no = first_try(sched, i);
                    let (state, reason) = if rst {
                        (PortState::Closed, Reason::Reset)
                    } else {
                        (PortState::Open, Reason::SynAck)
                    };
                    sched.answer(i, try_no, state, reason, now);
                } else if src == me && from_port == sport && rst {
                    sched.count_kernel_rst();
                }
            }
            Some(Answer::Unreachable {
                code,
                src,
                dst,
                sport: from_port,
                dport: to_port,
                seq,
                ..
            }) => {
                if src != me || dst != target || from_port != sport {
                    continue;
                }
                let (Some(i), Some(reason)) =
                    (sched.slot_of(to_port), Reason::from_icmp_unreach(code))
                else {
                    continue;
                };
                if probe::cookie(secret, to_port) == seq {
                    let try_no = first_try(sched, i);
                    sched.answer(i, try_no, PortState::Filtered, reason, now);
                }
            }
            None => {}
        }
    }
}

/// The try an answer for slot `i` answers, when that is certain: only one probe went out.
/// After a retry the probes are identical, so a round trip cannot be timed (Karn's rule).
fn first_try(sched: &Schedule, i: usize) -> Option<u32> {
    (sched.tries(i) == 1).then_some(1)
}

/// Converts libpcap's timestamps (wall clock, taken when the kernel received the frame)
/// to the monotonic clock the probes' send times use, so a round trip is timed by the
/// kernel's own receive time rather than by when the scan got around to reading it.
struct Clock {
    mono: Instant,
    wall: std::time::SystemTime,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            mono: Instant::now(),
            wall: std::time::SystemTime::now(),
        }
    }

    fn at(&self, ts: &libc::timeval) -> Instant {
        let (Ok(sec), Ok(usec)) = (u64::try_from(ts.tv_sec), u64::try_from(ts.tv_usec)) else {
            return Instant::now();
        };
        let t = std::time::UNIX_EPOCH + Duration::from_secs(sec) + Duration::from_micros(usec);
        match t.duration_since(self.wall) {
            Ok(d) => self.mono + d,
            Err(_) => self.mono,
        }
    }
}

/// A per-scan key for the probes' sequence numbers.
fn secret() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32) ^ 0x5bd1_e995_0000_0000
}

/// Binds a TCP socket to a free port of `src` and keeps it: the probes' source port.
fn reserve_port(src: Ipv4Addr) -> ScanResult<(Socket, u16)> {
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| ScanError::io("open a socket to reserve the scan's port", e))?;
    s.bind(&SockAddr::from(SocketAddr::new(IpAddr::V4(src), 0)))
        .map_err(|e| ScanError::io(format!("reserve a port on {src}"), e))?;
    let port = s
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .ok_or_else(|| {
            ScanError::io(
                "read the reserved port",
                std::io::Error::from(std::io::ErrorKind::AddrNotAvailable),
            )
        })?;
    Ok((s, port))
}

/// A non-blocking raw IPv4 socket that sends packets with their own IP header (the same
/// socket crafted packets go out on), with a large send buffer for bursts of probes.
fn raw_socket() -> ScanResult<Socket> {
    let s = crate::craft::raw_ipv4_socket(true).map_err(|e| match e {
        crate::craft::CraftError::Io { action, source, .. } => ScanError::io(action, source),
        other => ScanError::Unsupported(other.to_string()),
    })?;
    let _ = s.set_send_buffer_size(4 << 20);
    Ok(s)
}

/// The capture that sees the answers: immediate mode, non-blocking, a large buffer, and
/// a filter for answers to the scan's port, ICMP unreachables, and the kernel's RSTs.
fn open_capture(
    iface: &str,
    me: Ipv4Addr,
    target: Ipv4Addr,
    sport: u16,
    n_ports: usize,
) -> ScanResult<pcap::Capture<pcap::Active>> {
    let err = |e: pcap::Error| {
        let message = e.to_string();
        let hint = if message.contains("ermission") || message.contains("not permitted") {
            "\n  SYN and FIN scans need raw sockets and a capture: run as root, or once \
             `sudo setcap cap_net_raw,cap_net_admin+ep $(which labrun)`"
                .to_string()
        } else {
            String::new()
        };
        ScanError::Capture {
            iface: iface.to_string(),
            message,
            hint,
        }
    };
    let cap = pcap::Capture::from_device(iface)
        .map_err(err)?
        .immediate_mode(true)
        // Enough for the headers of an ICMP error quoting a probe (14 + 60 + 8 + 60 + 8).
        .snaplen(160)
        // Room for every answer even if the scan fell behind reading them; a small ring
        // for a small scan (the kernel allocates and clears all of it up front).
        .buffer_size(i32::try_from((n_ports * 512).clamp(1 << 20, 32 << 20)).unwrap_or(32 << 20))
        .timeout(1)
        .open()
        .map_err(err)?;
    let mut cap = cap.setnonblock().map_err(err)?;
    if iface == "lo" {
        // Loopback delivers every packet twice, outgoing and incoming; the incoming copy
        // is enough (the kernel's own RSTs arrive as incoming too). PACKET_IGNORE_OUTGOING
        // (Linux 4.20) makes the kernel skip this capture for outgoing packets altogether,
        // which saves a filter run per packet; libpcap's own direction filter works after
        // the copy, so it is set only as the fallback.
        let _ = cap.direction(pcap::Direction::In);
        let one: libc::c_int = 1;
        // SAFETY: setsockopt on the capture's own descriptor with a valid int option.
        unsafe {
            libc::setsockopt(
                cap.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_IGNORE_OUTGOING,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    let filter = format!(
        "(tcp and src host {target} and dst host {me} and dst port {sport}) \
         or (tcp and src host {me} and dst host {target} and src port {sport} and tcp[tcpflags] & tcp-rst != 0) \
         or (icmp and dst host {me} and icmp[icmptype] == icmp-unreach)"
    );
    cap.filter(&filter, true).map_err(err)?;
    Ok(cap)
}

/// Waits until the capture has a frame or `wait` passes.
fn wait_readable(cap: &pcap::Capture<pcap::Active>, wait: Duration) {
    let mut fds = [libc::pollfd {
        fd: cap.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let ms = i32::try_from(wait.as_millis().max(1)).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe {
        libc::poll(fds.as_mut_ptr(), 1, ms);
    }
}
