//! report.md: header, the lab's steps and explanation, packet tables, checks.

use super::{Block, CaptureRecord, Report};
use crate::analysis::Packet;
use std::fmt::Write;

/// Renders the whole report as Markdown.
pub fn render_markdown(r: &Report) -> String {
    let mut md = String::new();
    let h = &r.header;
    let title = if h.title.is_empty() {
        h.lab.clone()
    } else {
        h.title.clone()
    };
    let _ = writeln!(md, "# {title}\n");
    let mut facts: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &h.course {
        facts.push(("Course", c.clone()));
    }
    let version = if h.lab_version.is_empty() {
        String::new()
    } else {
        format!(", version {}", h.lab_version)
    };
    facts.push(("Lab", format!("{} (`{}`{version})", h.lab, h.script)));
    if let Some(s) = &h.student {
        facts.push(("Student", format!("{} {}", s.id, s.name)));
    }
    facts.push(("Date", h.date.clone()));
    if h.deterministic {
        facts.push(("Deterministic", DETERMINISTIC_NOTE.to_string()));
    }
    facts.push(("labrun", h.labrun_version.clone()));
    if !h.kernel.is_empty() {
        facts.push(("Kernel", h.kernel.clone()));
    }
    if !h.nonce.is_empty() {
        facts.push(("Run nonce", format!("`{}`", h.nonce)));
    }
    facts.push(("Network", h.network.clone()));
    if !h.hosts.is_empty() {
        facts.push(("Hosts", h.hosts.join(", ")));
    }
    for c in &r.captures {
        facts.push(("Capture", capture_fact(c, h.deterministic)));
    }
    let passed = r.checks.len() - r.failed();
    facts.push(("Checks", format!("{passed} of {} passed", r.checks.len())));
    let (earned, total) = r.score();
    facts.push(("Score", format!("{earned} / {total}")));
    md.push_str("| | |\n|---|---|\n");
    for (k, v) in facts {
        let _ = writeln!(md, "| {k} | {} |", cell(&v));
    }
    md.push('\n');
    for w in &r.warnings {
        let _ = writeln!(md, "> **Warning:** {w}\n");
    }
    if let Some(e) = &r.error {
        let _ = writeln!(md, "> **The lab stopped with an error:** `{e}`\n");
    }
    render_blocks(&mut md, &r.blocks);
    for c in &r.captures {
        let _ = writeln!(
            md,
            "## Packets: {} ({} frames)\n",
            c.pcap_file(),
            c.trace.packets.len()
        );
        md.push_str(&packet_table(&c.trace.packets));
        md.push('\n');
        for f in c.figures() {
            let _ = writeln!(md, "### {}\n\n![{}]({})\n", f.caption, f.caption, f.file);
        }
    }
    render_checks(&mut md, r);
    md
}

/// The header's explanation of a `--deterministic` report.
const DETERMINISTIC_NOTE: &str = "yes (`--deterministic`): frame n is shown at (n − 1) ms; \
ephemeral ports, raw sequence numbers, TCP timestamps, IP IDs and WebSocket keys are replaced \
by canonical values, measured durations are masked (#.###), and the date, kernel and digests \
read \"normalised\". A golden report for testing the lab, not one to hand in.";

fn capture_fact(c: &CaptureRecord, deterministic: bool) -> String {
    let s = &c.captured.stats;
    let filter = if c.captured.filter.is_empty() {
        "no filter".to_string()
    } else {
        format!("filter `{}`", c.captured.filter)
    };
    let mut text = format!(
        "{}: {} frames on {}, {filter}; libpcap dropped {}; SHA-256 {}",
        c.pcap_file(),
        c.captured.frames.len(),
        c.captured.iface,
        s.dropped + s.if_dropped,
        if deterministic {
            super::normalize::NORMALISED.to_string()
        } else {
            c.sha256()
        }
    );
    if s.truncated > 0 {
        let _ = write!(text, ", {} frames over the storage limit", s.truncated);
    }
    text
}

fn render_blocks(md: &mut String, blocks: &[Block]) {
    let mut step = 0;
    let mut in_steps = false;
    for b in blocks {
        if !matches!(b, Block::Step(_)) && in_steps {
            md.push('\n');
            in_steps = false;
        }
        match b {
            Block::Step(text) => {
                if !in_steps && step == 0 {
                    md.push_str("## Steps\n\n");
                }
                step += 1;
                in_steps = true;
                let _ = writeln!(md, "{step}. {text}");
            }
            Block::Section { title, body } => {
                let _ = writeln!(md, "## {title}\n\n{}\n", body.trim_end());
            }
            Block::Note(text) => {
                let _ = writeln!(md, "{}\n", text.trim_end());
            }
            Block::Table { headers, rows } => {
                md.push_str(&table(headers, rows));
                md.push('\n');
            }
            Block::Packets(list) => {
                let table = packet_table(list.iter().filter_map(|(t, i)| t.packets.get(*i)));
                let _ = writeln!(md, "{}\n", table.trim_end());
            }
        }
    }
    if in_steps {
        md.push('\n');
    }
}

fn render_checks(md: &mut String, r: &Report) {
    md.push_str("## Checks\n\n");
    if r.checks.is_empty() {
        md.push_str("The lab made no checks.\n");
        return;
    }
    let rows: Vec<Vec<String>> = r
        .checks
        .iter()
        .map(|c| {
            let mut what = c.what.clone();
            if let Some(d) = &c.detail {
                let _ = write!(what, " — {d}");
            }
            vec![
                if c.passed { "PASS" } else { "**FAIL**" }.to_string(),
                format!("{}/{}", if c.passed { c.points } else { 0 }, c.points),
                what,
                c.filter
                    .as_ref()
                    .map(|f| format!("`{f}`"))
                    .unwrap_or_default(),
                c.at.clone(),
            ]
        })
        .collect();
    md.push_str(&table(
        &[
            "Result".into(),
            "Points".into(),
            "Check".into(),
            "Wireshark filter".into(),
            "Script".into(),
        ],
        &rows,
    ));
    let (earned, total) = r.score();
    let _ = writeln!(
        md,
        "\n{} of {} checks passed; score {earned} / {total}.",
        r.checks.len() - r.failed(),
        r.checks.len()
    );
}

/// A Wireshark-like packet list: No., Time, Source, Destination, Protocol, Length, Info.
pub fn packet_table<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> String {
    let f = |p: &Packet, name: &str| p.field(name).unwrap_or_default();
    let endpoint = |p: &Packet, ip: &str, ip6: &str, tcp: &str, udp: &str| {
        let eth = if ip.ends_with("src") {
            "eth.src"
        } else {
            "eth.dst"
        };
        // An ICMP error also carries the quoted datagram's addresses and ports: show the
        // outer header's address only.
        let addr = p
            .field(ip)
            .or_else(|| p.field(ip6))
            .or_else(|| p.field(eth))
            .unwrap_or_default();
        let addr = addr.split(',').next().unwrap_or_default().to_string();
        let port = if p.icmp.is_some() {
            None
        } else {
            p.field(tcp).or_else(|| p.field(udp))
        };
        match port {
            Some(port) if addr.contains(':') => format!("[{addr}]:{port}"),
            Some(port) => format!("{addr}:{port}"),
            None => addr,
        }
    };
    let rows: Vec<Vec<String>> = packets
        .into_iter()
        .map(|p| {
            vec![
                f(p, "frame.number"),
                f(p, "frame.time_relative"),
                endpoint(p, "ip.src", "ipv6.src", "tcp.srcport", "udp.srcport"),
                endpoint(p, "ip.dst", "ipv6.dst", "tcp.dstport", "udp.dstport"),
                f(p, "_ws.col.protocol"),
                f(p, "frame.len"),
                f(p, "_ws.col.info"),
            ]
        })
        .collect();
    let headers: Vec<String> = [
        "No.",
        "Time",
        "Source",
        "Destination",
        "Protocol",
        "Length",
        "Info",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    table(&headers, &rows)
}

/// A Markdown table; pipes and newlines inside cells are escaped.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {} |",
        headers
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}", "---|".repeat(headers.len().max(1)));
    for row in rows {
        let mut cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        cells.resize(headers.len().max(cells.len()), String::new());
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_cells() {
        let t = table(
            &["a".into(), "b".into()],
            &[vec!["x|y".into(), "1\n2".into()]],
        );
        assert_eq!(t, "| a | b |\n|---|---|\n| x\\|y | 1<br>2 |\n");
    }
}
