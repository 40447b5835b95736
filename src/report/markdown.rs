//! report.md: header, the lab's steps and explanation, packet tables, checks.

use super::{Block, CaptureRecord, Report};
use crate::analysis::Packet;
use crate::i18n::Lang;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// Renders the whole report as Markdown.
pub fn render_markdown(r: &Report) -> String {
    let mut md = String::new();
    let h = &r.header;
    let lang = h.lang;
    let t = |en, zh| lang.pick(en, zh);
    let title = if h.title.is_empty() {
        h.lab.clone()
    } else {
        h.title.clone()
    };
    let _ = writeln!(md, "# {title}\n");
    let mut facts: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &h.course {
        facts.push((t("Course", "课程"), c.clone()));
    }
    let version = if h.lab_version.is_empty() {
        String::new()
    } else {
        format!("{}{}", t(", version ", "，版本 "), h.lab_version)
    };
    facts.push((
        t("Lab", "实验"),
        format!("{} (`{}`{version})", h.lab, h.script),
    ));
    if let Some(s) = &h.student {
        facts.push((t("Student", "学生"), format!("{} {}", s.id, s.name)));
    }
    facts.push((t("Date", "日期"), h.date.clone()));
    if h.deterministic {
        facts.push((
            t("Deterministic", "确定性输出"),
            t(DETERMINISTIC_NOTE, DETERMINISTIC_NOTE_ZH).to_string(),
        ));
    }
    facts.push(("labrun", h.labrun_version.clone()));
    if !h.kernel.is_empty() {
        facts.push((t("Kernel", "内核"), h.kernel.clone()));
    }
    if !h.nonce.is_empty() {
        facts.push((t("Run nonce", "运行随机数"), format!("`{}`", h.nonce)));
    }
    facts.push((t("Network", "网络"), h.network.clone()));
    if !h.hosts.is_empty() {
        facts.push((t("Hosts", "主机"), h.hosts.join(", ")));
    }
    for c in &r.captures {
        facts.push((t("Capture", "抓包"), capture_fact(c, lang, h.deterministic)));
    }
    let passed = r.checks.len() - r.failed();
    let checks = r.checks.len();
    facts.push((
        t("Checks", "检查"),
        match lang {
            Lang::En => format!("{passed} of {checks} passed"),
            Lang::Zh => format!("{checks} 项中通过 {passed} 项"),
        },
    ));
    let (earned, total) = r.score();
    facts.push((t("Score", "得分"), format!("{earned} / {total}")));
    md.push_str("| | |\n|---|---|\n");
    for (k, v) in facts {
        let _ = writeln!(md, "| {k} | {} |", cell(&v));
    }
    md.push('\n');
    for w in &r.warnings {
        let _ = writeln!(md, "> **{}** {w}\n", t("Warning:", "警告："));
    }
    if let Some(e) = &r.error {
        let _ = writeln!(
            md,
            "> **{}** `{e}`\n",
            t("The lab stopped with an error:", "实验因错误而停止：")
        );
    }
    render_blocks(&mut md, &r.blocks, lang);
    for c in &r.captures {
        let n = c.trace.packets.len();
        let _ = match lang {
            Lang::En => writeln!(md, "## Packets: {} ({n} frames)\n", c.pcap_file()),
            Lang::Zh => writeln!(md, "## 分组：{}（{n} 帧）\n", c.pcap_file()),
        };
        let states = state_cells(&c.trace.packets, lang);
        md.push_str(&packet_table_with_states(&c.trace.packets, &states, lang));
        md.push('\n');
        let scaling = crate::analysis::window_scaling(&c.trace.packets);
        if let Some(text) = super::scaling_text::scaling_text(&scaling, lang) {
            let _ = writeln!(md, "{text}");
        }
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

/// [`DETERMINISTIC_NOTE`] in Chinese.
const DETERMINISTIC_NOTE_ZH: &str = "是（`--deterministic`）：第 n 帧显示在 (n − 1) ms；\
临时端口、原始序号、TCP 时间戳、IP 标识和 WebSocket 密钥替换为规范值，测得的时长被遮盖为 #.###，\
日期、内核和摘要显示为 normalised。这是用于测试实验的标准报告，不用于提交。";

fn capture_fact(c: &CaptureRecord, lang: Lang, deterministic: bool) -> String {
    let s = &c.captured.stats;
    let (file, frames, iface) = (c.pcap_file(), c.captured.frames.len(), &c.captured.iface);
    let dropped = s.dropped + s.if_dropped;
    let sha = if deterministic {
        super::normalize::NORMALISED.to_string()
    } else {
        c.sha256()
    };
    let filter = &c.captured.filter;
    let mut text = match (lang, filter.is_empty()) {
        (Lang::En, true) => format!("{file}: {frames} frames on {iface}, no filter"),
        (Lang::En, false) => format!("{file}: {frames} frames on {iface}, filter `{filter}`"),
        (Lang::Zh, true) => format!("{file}：在 {iface} 上抓到 {frames} 帧，无过滤器"),
        (Lang::Zh, false) => format!("{file}：在 {iface} 上抓到 {frames} 帧，过滤器 `{filter}`"),
    };
    let _ = match lang {
        Lang::En => write!(text, "; libpcap dropped {dropped}; SHA-256 {sha}"),
        Lang::Zh => write!(text, "；libpcap 丢弃 {dropped} 帧；SHA-256 {sha}"),
    };
    if s.truncated > 0 {
        let _ = match lang {
            Lang::En => write!(text, ", {} frames over the storage limit", s.truncated),
            Lang::Zh => write!(text, "，{} 帧超出存储上限", s.truncated),
        };
    }
    text
}

fn render_blocks(md: &mut String, blocks: &[Block], lang: Lang) {
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
                    let _ = writeln!(md, "## {}\n", lang.pick("Steps", "步骤"));
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
                // The states come from the whole trace: a table of the close alone still
                // knows the handshake that opened the connection.
                let mut states = HashMap::new();
                let mut seen: Vec<*const crate::analysis::Trace> = Vec::new();
                for (t, _) in list {
                    if !seen.contains(&Arc::as_ptr(t)) {
                        seen.push(Arc::as_ptr(t));
                        states.extend(state_cells(&t.packets, lang));
                    }
                }
                let packets = list.iter().filter_map(|(t, i)| t.packets.get(*i));
                let table = packet_table_with_states(packets, &states, lang);
                let _ = writeln!(md, "{}\n", table.trim_end());
            }
        }
    }
    if in_steps {
        md.push('\n');
    }
}

fn render_checks(md: &mut String, r: &Report) {
    let lang = r.header.lang;
    let t = |en, zh| lang.pick(en, zh);
    let _ = writeln!(md, "## {}\n", t("Checks", "检查"));
    if r.checks.is_empty() {
        let _ = writeln!(md, "{}", t("The lab made no checks.", "本实验没有检查项。"));
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
                if c.passed {
                    t("PASS", "通过")
                } else {
                    t("**FAIL**", "**未通过**")
                }
                .to_string(),
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
            t("Result", "结果").into(),
            t("Points", "分值").into(),
            t("Check", "检查项").into(),
            t("Wireshark filter", "Wireshark 过滤器").into(),
            t("Script", "脚本").into(),
        ],
        &rows,
    ));
    let (earned, total) = r.score();
    let (passed, checks) = (r.checks.len() - r.failed(), r.checks.len());
    let _ = match lang {
        Lang::En => writeln!(
            md,
            "\n{passed} of {checks} checks passed; score {earned} / {total}."
        ),
        Lang::Zh => writeln!(
            md,
            "\n{checks} 项检查中通过 {passed} 项；得分 {earned} / {total}。"
        ),
    };
}

/// The TCP-state cell of every frame of `packets` (a whole trace) whose segment changed a
/// state, by frame number.
fn state_cells(packets: &[Packet], lang: Lang) -> HashMap<u64, String> {
    crate::analysis::tcp_states(packets)
        .iter()
        .map(|c| (c.frame, super::states_text::change_cell(c, lang)))
        .collect()
}

/// A Wireshark-like packet list: No., Time, Source, Destination, Protocol, Length, Info
/// (the column names as Wireshark's Chinese interface shows them with `Lang::Zh`; the Info
/// column is Wireshark's own, which is English in every language).
pub fn packet_table<'a>(packets: impl IntoIterator<Item = &'a Packet>, lang: Lang) -> String {
    packet_table_with_states(packets, &HashMap::new(), lang)
}

/// [`packet_table`] with a last column, "TCP states", holding `states`' cell of each frame
/// (the step of the handshake or close and the state each end enters); the column is left
/// out when no row has one.
pub fn packet_table_with_states<'a>(
    packets: impl IntoIterator<Item = &'a Packet>,
    states: &HashMap<u64, String>,
    lang: Lang,
) -> String {
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
                states.get(&p.number).cloned().unwrap_or_default(),
            ]
        })
        .collect();
    let with_states = rows.iter().any(|r| !r[7].is_empty());
    let headers: Vec<String> = match lang {
        Lang::En => [
            "No.",
            "Time",
            "Source",
            "Destination",
            "Protocol",
            "Length",
            "Info",
        ],
        Lang::Zh => ["编号", "时间", "源地址", "目的地址", "协议", "长度", "信息"],
    }
    .iter()
    .map(|s| s.to_string())
    .collect();
    if with_states {
        let mut headers = headers;
        headers.push(lang.pick("TCP states", "TCP 状态").to_string());
        return table(&headers, &rows);
    }
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|mut r| {
            r.pop();
            r
        })
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
