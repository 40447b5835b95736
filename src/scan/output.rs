//! A scan's results as a table for people (like nmap's) and as CSV for programs.

use super::{PortResult, PortState, Reason, ScanReport};
use crate::i18n::Lang;
use std::collections::BTreeMap;

/// The CSV header: one row per port follows.
pub const CSV_HEADER: &str = "port,protocol,state,service,reason";

/// Every port as a CSV row `port,protocol,state,service,reason`, header first.
pub fn csv(report: &ScanReport) -> String {
    let mut out = String::with_capacity(32 * (report.ports.len() + 1));
    out.push_str(CSV_HEADER);
    out.push('\n');
    for p in &report.ports {
        out.push_str(&format!(
            "{},tcp,{},{},{}\n",
            p.port,
            p.state.as_str(),
            p.service(),
            p.reason.as_str()
        ));
    }
    out
}

/// The most common (state, reason) when it covers enough ports to be summarised in one
/// line instead of listed (nmap's "Not shown: 1020 closed tcp ports (reset)").
pub fn hidden(report: &ScanReport) -> Option<(PortState, Reason, usize)> {
    let mut counts: BTreeMap<(PortState, &str), (Reason, usize)> = BTreeMap::new();
    for p in &report.ports {
        counts
            .entry((p.state, p.reason.as_str()))
            .or_insert((p.reason, 0))
            .1 += 1;
    }
    let ((state, _), (reason, n)) = counts.into_iter().max_by_key(|(_, (_, n))| *n)?;
    (n > 25 && state != PortState::Open).then_some((state, reason, n))
}

/// The ports a listing shows: all but the summarised ones.
pub fn shown(report: &ScanReport) -> Vec<&PortResult> {
    let hide = hidden(report);
    report
        .ports
        .iter()
        .filter(|p| !matches!(hide, Some((s, r, _)) if p.state == s && p.reason == r))
        .collect()
}

/// The scan as nmap prints it: a summary line for the most common state, then a row per
/// other port, then the counters.
pub fn table(report: &ScanReport) -> String {
    let mut out = format!(
        "labrun {} scan of {} ({} ports)\n",
        report.scan_type.as_str(),
        report.target,
        report.ports.len()
    );
    if let Some((state, reason, n)) = hidden(report) {
        out.push_str(&format!(
            "Not shown: {n} {} tcp ports ({})\n",
            state.as_str(),
            reason.as_str()
        ));
    }
    let rows = shown(report);
    if rows.is_empty() {
        out.push_str("(every port is in the line above)\n");
    } else {
        let w_port = rows
            .iter()
            .map(|p| p.port.to_string().len() + 4)
            .max()
            .unwrap_or(4)
            .max(4);
        let w_state = rows
            .iter()
            .map(|p| p.state.as_str().len())
            .max()
            .unwrap_or(5)
            .max(5);
        let w_service = rows
            .iter()
            .map(|p| p.service().len())
            .max()
            .unwrap_or(7)
            .max(7);
        out.push_str(&format!(
            "{:w_port$}  {:w_state$}  {:w_service$}  REASON\n",
            "PORT", "STATE", "SERVICE"
        ));
        for p in rows {
            out.push_str(&format!(
                "{:w_port$}  {:w_state$}  {:w_service$}  {}\n",
                format!("{}/tcp", p.port),
                p.state.as_str(),
                p.service(),
                p.reason.as_str()
            ));
        }
    }
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// One line of counters: time, rate, probes, retries, round-trip time, timeout.
pub fn summary(report: &ScanReport) -> String {
    let s = &report.stats;
    let mut line = format!(
        "{} ports in {:.3} s ({:.0} ports/s): {} probes, {} retries, {} answers",
        report.ports.len(),
        s.elapsed.as_secs_f64(),
        report.rate(),
        s.probes,
        s.retries,
        s.replies
    );
    if let Some(rtt) = s.srtt {
        line.push_str(&format!(
            ", srtt {} µs, timeout {} ms",
            rtt.as_micros(),
            s.timeout.as_millis()
        ));
    }
    if s.kernel_rsts > 0 {
        line.push_str(&format!(
            "; this host's kernel sent {} RST{} in answer to SYN-ACKs it did not expect",
            s.kernel_rsts,
            if s.kernel_rsts == 1 { "" } else { "s" }
        ));
    }
    line
}

/// A Markdown table of the listed ports (the summarised state in a line above it), in
/// `lang`; state and reason keep nmap's names, which the lab manuals quote.
pub fn markdown(report: &ScanReport, lang: Lang) -> String {
    let mut out = String::new();
    if let Some((state, reason, n)) = hidden(report) {
        let (state, reason) = (state.as_str(), reason.as_str());
        out.push_str(&match lang {
            Lang::En => format!("Not shown: {n} {state} ports ({reason}).\n\n"),
            Lang::Zh => format!("未列出：{n} 个 {state} 端口（{reason}）。\n\n"),
        });
    }
    out.push_str(lang.pick(
        "| port | state | service | reason | probes |\n|---|---|---|---|---|\n",
        "| 端口 | 状态 | 服务 | 原因 | 探测次数 |\n|---|---|---|---|---|\n",
    ));
    for p in shown(report) {
        out.push_str(&format!(
            "| {}/tcp | {} | {} | {} | {} |\n",
            p.port,
            // `open|filtered` inside a table cell: the bar must not end the cell.
            p.state.as_str().replace('|', "\\|"),
            p.service(),
            p.reason.as_str(),
            p.tries
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{ScanStats, ScanType};
    use std::time::Duration;

    fn report() -> ScanReport {
        let mut ports: Vec<PortResult> = (1..=100)
            .map(|port| PortResult {
                port,
                state: PortState::Closed,
                reason: Reason::Reset,
                tries: 1,
                rtt: Some(Duration::from_micros(50)),
            })
            .collect();
        ports[21].state = PortState::Open;
        ports[21].reason = Reason::SynAck;
        ports[80 - 1].state = PortState::Filtered;
        ports[80 - 1].reason = Reason::NoResponse;
        ports[80 - 1].tries = 3;
        ScanReport {
            target: "127.0.0.1".parse().unwrap(),
            source: "127.0.0.1".parse().unwrap(),
            scan_type: ScanType::Syn,
            ports,
            stats: ScanStats {
                probes: 102,
                retries: 2,
                replies: 99,
                kernel_rsts: 1,
                elapsed: Duration::from_millis(50),
                ..ScanStats::default()
            },
        }
    }

    #[test]
    fn table_like_nmap() {
        let t = table(&report());
        assert!(t.contains("Not shown: 98 closed tcp ports (reset)"), "{t}");
        assert!(t.contains("22/tcp  open      ssh      syn-ack"), "{t}");
        assert!(t.contains("80/tcp  filtered  http     no-response"), "{t}");
        assert!(t.contains("1 RST in answer"), "{t}");
    }

    #[test]
    fn csv_has_every_port() {
        let c = csv(&report());
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines.len(), 101);
        assert_eq!(lines[22], "22,tcp,open,ssh,syn-ack");
        assert_eq!(lines[80], "80,tcp,filtered,http,no-response");
    }
}
