//! Script API: port scans from a host (connect, SYN, FIN) and firewall rules on sandbox
//! hosts that make ports filtered.

use super::lab_values::LabHost as Host;
use super::{ApiResult, api_error, session, to_port};
use crate::network::Firewall;
use crate::scan::{self, PortState, ScanOptions, ScanReport, ScanType};
use rhai::plugin::*;
use rhai::{Array, Engine, FLOAT, INT, Map};
use std::sync::Arc;
use std::time::Duration;

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<ScanRef>("Scan");
    engine.register_global_module(exported_module!(scan_module).into());
}

/// A finished scan as a script value (cheap to copy).
#[derive(Debug, Clone)]
pub struct ScanRef(pub Arc<ScanReport>);

fn scan_options(map: &Map) -> ApiResult<ScanOptions> {
    let mut o = ScanOptions::default();
    for (k, v) in map {
        let int = |what: &str| {
            v.as_int()
                .map_err(|t| api_error("scan", format!("`{k}` must be {what}, not {t}")))
        };
        match k.as_str() {
            "type" => {
                o.scan_type = ScanType::parse(&v.to_string()).map_err(|e| api_error("scan", e))?;
            }
            "timeout" => {
                let ms = u64::try_from(int("a number of milliseconds")?)
                    .ok()
                    .filter(|&m| (1..=60_000).contains(&m))
                    .ok_or_else(|| api_error("scan", "`timeout` must be 1..=60000 ms"))?;
                o.max_timeout = Duration::from_millis(ms);
            }
            "retries" => {
                o.retries = u32::try_from(int("an integer")?)
                    .ok()
                    .filter(|&r| r <= 10)
                    .ok_or_else(|| api_error("scan", "`retries` must be 0..=10"))?;
            }
            "max_in_flight" => {
                o.max_in_flight = usize::try_from(int("an integer")?)
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| api_error("scan", "`max_in_flight` must be at least 1"))?;
            }
            other => {
                return Err(api_error(
                    "scan",
                    format!(
                        "unknown option `{other}` (known: type, timeout, retries, max_in_flight)"
                    ),
                ));
            }
        }
    }
    Ok(o)
}

fn run_scan(from: &Host, target: &str, spec: &str, options: &Map) -> ApiResult<ScanRef> {
    let session = &from.session;
    let opts = scan_options(options)?;
    let ports = scan::parse_ports(spec).map_err(|e| api_error("scan", e))?;
    let hosts = session.lab_hosts();
    let ip = scan::lab_target(target, &hosts).map_err(|e| api_error("scan", e))?;
    scan::check_target(ip, from.policy(), &[]).map_err(|e| api_error("scan", e))?;
    session.show(format!(
        "{} scan of {ip}, {} ports",
        opts.scan_type.as_str(),
        ports.len()
    ));
    let report =
        scan::scan(from, ip, &ports, &opts).map_err(|e| super::or_stop(api_error("scan", e)))?;
    Ok(ScanRef(Arc::new(report)))
}

fn ports_in(s: &ScanRef, state: PortState) -> Array {
    s.0.in_state(state)
        .into_iter()
        .map(|p| Dynamic::from_int(INT::from(p)))
        .collect()
}

fn firewall_ports(key: &str, v: &Dynamic) -> ApiResult<Vec<u16>> {
    let list = match v.clone().try_cast::<Array>() {
        Some(a) => a,
        None if v.is_int() => vec![v.clone()],
        None => {
            return Err(api_error(
                "firewall",
                format!("`{key}` must be a port or an array of ports"),
            ));
        }
    };
    list.iter()
        .map(|p| {
            p.as_int()
                .map_err(|t| api_error("firewall", format!("`{key}` holds {t}, not a port")))
                .and_then(|n| to_port("firewall", n))
        })
        .collect()
}

#[export_module]
mod scan_module {
    use super::*;

    /// A finished port scan: per-port states and reasons, and its counters.
    pub type Scan = ScanRef;

    /// Scans `ports` (nmap's syntax: "1-1024,8080", "-" for all) of `target` (an address,
    /// "localhost", or the name of a lab host such as "server"; no other name is looked
    /// up) from this host with a connect scan.
    #[rhai_fn(return_raw)]
    pub fn scan(host: &mut Host, target: &str, ports: &str) -> ApiResult<Scan> {
        run_scan(host, target, ports, &Map::new())
    }

    /// Scans with options `#{ type: "connect" | "syn" | "fin", timeout: 1000, retries: 2,
    /// max_in_flight: 4096 }` (timeout: the longest a probe waits, in ms; the timeout in
    /// use adapts to the round-trip time).
    #[rhai_fn(name = "scan", return_raw)]
    pub fn scan_with(host: &mut Host, target: &str, ports: &str, options: Map) -> ApiResult<Scan> {
        run_scan(host, target, ports, &options)
    }

    /// Scans a host of the lab network: `net.client.scan(net.server, "1-1024")`.
    #[rhai_fn(name = "scan", return_raw)]
    pub fn scan_host(host: &mut Host, target: Host, ports: &str) -> ApiResult<Scan> {
        run_scan(host, &target.ip().to_string(), ports, &Map::new())
    }

    /// Scans a host of the lab network with options (see `scan(target, ports, options)`).
    #[rhai_fn(name = "scan", return_raw)]
    pub fn scan_host_with(
        host: &mut Host,
        target: Host,
        ports: &str,
        options: Map,
    ) -> ApiResult<Scan> {
        run_scan(host, &target.ip().to_string(), ports, &options)
    }

    /// Sets a sandbox host's firewall: `#{ drop: [25], reject: [110] }` — incoming TCP to a
    /// `drop` port vanishes, to a `reject` port is answered with ICMP port unreachable;
    /// `drop_rst_from: [40000]` drops the host's own outgoing RSTs from those local ports
    /// (so its kernel cannot reset a handshake made by hand). Replaces earlier rules; returns the ruleset as `nft list` shows it.
    #[rhai_fn(return_raw)]
    pub fn firewall(host: &mut Host, rules: Map) -> ApiResult<String> {
        let mut fw = Firewall::default();
        for (k, v) in &rules {
            match k.as_str() {
                "drop" => fw.drop = firewall_ports(k, v)?,
                "reject" => fw.reject = firewall_ports(k, v)?,
                "drop_rst_from" => fw.drop_rst_from = firewall_ports(k, v)?,
                other => {
                    return Err(api_error(
                        "firewall",
                        format!("unknown rule `{other}` (known: drop, reject, drop_rst_from)"),
                    ));
                }
            }
        }
        host.set_firewall(&fw).map_err(|e| api_error("firewall", e))
    }

    /// Removes the firewall rules labrun set on a sandbox host.
    #[rhai_fn(return_raw)]
    pub fn clear_firewall(host: &mut Host) -> ApiResult<()> {
        host.clear_firewall()
            .map_err(|e| api_error("clear_firewall", e))
    }

    /// `connect`, `syn` or `fin`.
    #[rhai_fn(get = "type", pure)]
    pub fn scan_type(s: &mut Scan) -> String {
        s.0.scan_type.as_str().to_string()
    }

    /// The nmap option of the same scan: `-sT`, `-sS`, `-sF`.
    #[rhai_fn(get = "nmap_flag", pure)]
    pub fn nmap_flag(s: &mut Scan) -> String {
        s.0.scan_type.nmap_flag().to_string()
    }

    /// The scanned address.
    #[rhai_fn(get = "target", pure)]
    pub fn target(s: &mut Scan) -> String {
        s.0.target.to_string()
    }

    /// Every scanned port as `#{ port, state, service, reason, tries, rtt_us }` (rtt_us is
    /// () when no answer came).
    #[rhai_fn(get = "ports", pure)]
    pub fn ports(s: &mut Scan) -> Array {
        s.0.ports
            .iter()
            .map(|p| {
                let mut m = Map::new();
                m.insert("port".into(), Dynamic::from_int(INT::from(p.port)));
                m.insert("state".into(), p.state.as_str().into());
                m.insert("service".into(), p.service().into());
                m.insert("reason".into(), p.reason.as_str().into());
                m.insert("tries".into(), Dynamic::from_int(INT::from(p.tries)));
                m.insert(
                    "rtt_us".into(),
                    p.rtt
                        .map(|r| {
                            Dynamic::from_int(INT::try_from(r.as_micros()).unwrap_or(INT::MAX))
                        })
                        .unwrap_or(Dynamic::UNIT),
                );
                Dynamic::from_map(m)
            })
            .collect()
    }

    /// The open ports, ascending.
    #[rhai_fn(get = "open", pure)]
    pub fn open(s: &mut Scan) -> Array {
        ports_in(s, PortState::Open)
    }

    /// The closed ports, ascending.
    #[rhai_fn(get = "closed", pure)]
    pub fn closed(s: &mut Scan) -> Array {
        ports_in(s, PortState::Closed)
    }

    /// The filtered ports, ascending.
    #[rhai_fn(get = "filtered", pure)]
    pub fn filtered(s: &mut Scan) -> Array {
        ports_in(s, PortState::Filtered)
    }

    /// The open|filtered ports (FIN scan: no answer), ascending.
    #[rhai_fn(get = "open_filtered", pure)]
    pub fn open_filtered(s: &mut Scan) -> Array {
        ports_in(s, PortState::OpenFiltered)
    }

    /// The state of `port`: "open", "closed", "filtered", "open|filtered", or "" if not scanned.
    pub fn state(s: &mut Scan, port: INT) -> String {
        u16::try_from(port)
            .ok()
            .and_then(|p| s.0.port(p))
            .map(|p| p.state.as_str().to_string())
            .unwrap_or_default()
    }

    /// Why `port` has its state: "syn-ack", "reset", "conn-refused", "no-response",
    /// "port-unreach", ..., or "" if not scanned.
    pub fn reason(s: &mut Scan, port: INT) -> String {
        u16::try_from(port)
            .ok()
            .and_then(|p| s.0.port(p))
            .map(|p| p.reason.as_str().to_string())
            .unwrap_or_default()
    }

    /// Number of scanned ports.
    #[rhai_fn(name = "len", get = "len", pure)]
    pub fn len(s: &mut Scan) -> INT {
        s.0.ports.len() as INT
    }

    /// Wall time of the scan in milliseconds.
    #[rhai_fn(get = "elapsed_ms", pure)]
    pub fn elapsed_ms(s: &mut Scan) -> FLOAT {
        s.0.stats.elapsed.as_secs_f64() * 1000.0
    }

    /// Scanned ports per second.
    #[rhai_fn(get = "rate", pure)]
    pub fn rate(s: &mut Scan) -> FLOAT {
        s.0.rate()
    }

    /// Probes sent (connect attempts for a connect scan), retries included.
    #[rhai_fn(get = "probes", pure)]
    pub fn probes(s: &mut Scan) -> INT {
        INT::try_from(s.0.stats.probes).unwrap_or(INT::MAX)
    }

    /// Of the probes, retries after a timeout.
    #[rhai_fn(get = "retries", pure)]
    pub fn retries(s: &mut Scan) -> INT {
        INT::try_from(s.0.stats.retries).unwrap_or(INT::MAX)
    }

    /// Answers matched to a probe.
    #[rhai_fn(get = "replies", pure)]
    pub fn replies(s: &mut Scan) -> INT {
        INT::try_from(s.0.stats.replies).unwrap_or(INT::MAX)
    }

    /// RSTs the scanning host's own kernel sent in answer to SYN-ACKs (SYN scans).
    #[rhai_fn(get = "kernel_rsts", pure)]
    pub fn kernel_rsts(s: &mut Scan) -> INT {
        INT::try_from(s.0.stats.kernel_rsts).unwrap_or(INT::MAX)
    }

    /// The smoothed round-trip time at the end, in microseconds (() if nothing answered).
    #[rhai_fn(get = "srtt_us", pure)]
    pub fn srtt_us(s: &mut Scan) -> Dynamic {
        s.0.stats
            .srtt
            .map(|r| Dynamic::from_int(INT::try_from(r.as_micros()).unwrap_or(INT::MAX)))
            .unwrap_or(Dynamic::UNIT)
    }

    /// The probe timeout at the end, in milliseconds (adapted to the round-trip time).
    #[rhai_fn(get = "timeout_ms", pure)]
    pub fn timeout_ms(s: &mut Scan) -> FLOAT {
        s.0.stats.timeout.as_secs_f64() * 1000.0
    }

    /// A Markdown table of the ports (the most common closed state summarised in a line).
    #[rhai_fn(get = "markdown", pure, return_raw)]
    pub fn markdown(ctx: NativeCallContext, s: &mut Scan) -> ApiResult<String> {
        let lang = session(&ctx)?.lang();
        Ok(scan::output::markdown(&s.0, lang))
    }

    /// One line of counters: time, rate, probes, retries, round-trip time, timeout.
    #[rhai_fn(get = "summary", pure)]
    pub fn summary(s: &mut Scan) -> String {
        scan::output::summary(&s.0)
    }

    /// Every port as CSV: `port,protocol,state,service,reason`, header first.
    #[rhai_fn(get = "csv", pure)]
    pub fn csv(s: &mut Scan) -> String {
        scan::output::csv(&s.0)
    }

    /// The scan as `labrun scan` prints it.
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(s: &mut Scan) -> String {
        scan::output::table(&s.0)
    }

    /// The scan as `labrun scan` prints it (for `print` and `debug`).
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(s: &mut Scan) -> String {
        scan::output::table(&s.0)
    }
}
