//! report.md in the form of a 实验报告: cover, purpose, environment, principles, the
//! lab's steps, its results and analysis, a space for the student's conclusion, and an
//! appendix with the checks, the packet lists and the digests.

use super::{Block, CaptureRecord, Report};
use crate::analysis::Packet;
use crate::i18n::Lang;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// Renders the whole report as Markdown, in the form of a 实验报告: a cover, then
/// Purpose, Environment, Principles, Procedure, Results and analysis, Conclusion (left to
/// the student) and an Appendix with the checks, the score, the full packet lists and the
/// digests. Tables and figures are numbered (表 n / 图 n) and the text refers to them.
pub fn render_markdown(r: &Report) -> String {
    let mut md = String::new();
    let mut numbers = Numbers::default();
    render_cover(&mut md, r);
    render_purpose(&mut md, r);
    render_environment(&mut md, r);
    render_principles(&mut md, r);
    render_procedure(&mut md, r);
    // The appendix's tables come after every table of the results: count those first, so
    // the results can name the appendix's numbers.
    let results_tables = count_tables(&r.blocks);
    let appendix_first = results_tables + 1;
    render_results(&mut md, r, &mut numbers, appendix_first);
    render_conclusion(&mut md, r);
    numbers.tables = results_tables;
    render_appendix(&mut md, r, &mut numbers);
    md
}

/// The running numbers of tables and figures.
#[derive(Default)]
struct Numbers {
    tables: usize,
    figures: usize,
}

impl Numbers {
    fn table(&mut self, lang: Lang, caption: &str) -> String {
        self.tables += 1;
        match lang {
            Lang::En => format!("**Table {}** {caption}\n\n", self.tables),
            Lang::Zh => format!("**表 {}** {caption}\n\n", self.tables),
        }
    }
}

/// The heading of top-level section `n` (1-based): "一、实验目的" or "1. Purpose".
fn heading(lang: Lang, n: usize, en: &str, zh: &str) -> String {
    const ZH: [&str; 8] = ["", "一", "二", "三", "四", "五", "六", "七"];
    match lang {
        Lang::En => format!("## {n}. {en}\n\n"),
        Lang::Zh => format!("## {}、{zh}\n\n", ZH[n.min(7)]),
    }
}

/// The cover: course, lab, school, class, name, student ID, instructor, date, place and
/// the grade the instructor writes; a field not given stays blank, to fill in by hand.
/// report.html prints it on a page of its own (`<section class="cover">`).
fn render_cover(md: &mut String, r: &Report) {
    let h = &r.header;
    let lang = h.lang;
    let t = |en, zh| lang.pick(en, zh);
    let title = if h.title.is_empty() {
        h.lab.clone()
    } else {
        h.title.clone()
    };
    md.push_str("<!-- cover -->\n\n");
    let _ = writeln!(md, "# {title}\n");
    let _ = writeln!(md, "{}\n", t("**Lab report**", "**实验报告**"));
    let given = |v: &Option<String>| v.clone().unwrap_or_default();
    let rows: Vec<(&str, String)> = vec![
        (t("Course", "课程名称"), given(&h.course)),
        (t("Lab", "实验名称"), title.clone()),
        (t("School or college", "学院"), given(&h.cover.school)),
        (t("Class", "专业班级"), given(&h.cover.class)),
        (
            t("Name", "姓名"),
            h.student
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        ),
        (
            t("Student ID", "学号"),
            h.student.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
        ),
        (t("Instructor", "指导教师"), given(&h.cover.instructor)),
        (t("Date", "实验日期"), h.date.clone()),
        (t("Place", "实验地点"), given(&h.cover.place)),
        (
            t("Grade (by the instructor)", "成绩（教师填写）"),
            String::new(),
        ),
    ];
    md.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {} |", cell(&v));
    }
    md.push_str("\n<!-- /cover -->\n\n");
}

fn render_purpose(md: &mut String, r: &Report) {
    let lang = r.header.lang;
    md.push_str(&heading(lang, 1, "Purpose", "实验目的"));
    if r.lab_text.purpose.is_empty() {
        let _ = writeln!(
            md,
            "{}\n",
            lang.pick("The lab declares no purpose.", "本实验没有声明实验目的。")
        );
        return;
    }
    for (i, p) in r.lab_text.purpose.iter().enumerate() {
        let _ = writeln!(md, "{}. {}", i + 1, p.replace('\n', " "));
    }
    md.push('\n');
}

fn render_environment(md: &mut String, r: &Report) {
    let h = &r.header;
    let lang = h.lang;
    let t = |en, zh| lang.pick(en, zh);
    md.push_str(&heading(lang, 2, "Environment", "实验环境"));
    let mut facts: Vec<(&str, String)> = Vec::new();
    if !h.hardware.is_empty() {
        facts.push((t("Hardware", "硬件"), h.hardware.clone()));
    }
    if !h.os.is_empty() {
        facts.push((t("Operating system", "操作系统"), h.os.clone()));
    }
    if !h.kernel.is_empty() {
        facts.push((t("Kernel", "内核"), h.kernel.clone()));
    }
    facts.push(("labrun", h.labrun_version.clone()));
    let version = if h.lab_version.is_empty() {
        String::new()
    } else {
        format!("{}{}", t(", version ", "，版本 "), h.lab_version)
    };
    facts.push((
        t("Lab script", "实验脚本"),
        format!("{} (`{}`{version})", h.lab, h.script),
    ));
    if !h.rhai.is_empty() {
        facts.push((
            t("Scripting language", "脚本语言"),
            format!("Rhai {}", h.rhai),
        ));
    }
    if !h.libpcap.is_empty() {
        facts.push((t("Capture library", "抓包库"), h.libpcap.clone()));
    }
    facts.push((t("Network", "网络"), h.network.clone()));
    if !h.hosts.is_empty() {
        facts.push((t("Hosts", "主机"), h.hosts.join(", ")));
    }
    for c in &r.captures {
        facts.push((t("Capture", "抓包"), capture_fact(c, lang)));
    }
    if !h.nonce.is_empty() {
        facts.push((t("Run nonce", "运行随机数"), format!("`{}`", h.nonce)));
    }
    if h.deterministic {
        facts.push((
            t("Deterministic", "确定性输出"),
            t(DETERMINISTIC_NOTE, DETERMINISTIC_NOTE_ZH).to_string(),
        ));
    }
    md.push_str("| | |\n|---|---|\n");
    for (k, v) in facts {
        let _ = writeln!(md, "| {k} | {} |", cell(&v));
    }
    md.push('\n');
}

fn render_principles(md: &mut String, r: &Report) {
    let lang = r.header.lang;
    md.push_str(&heading(lang, 3, "Principles", "实验原理"));
    if r.lab_text.principles.is_empty() {
        let _ = writeln!(
            md,
            "{}\n",
            lang.pick(
                "The lab declares no principles.",
                "本实验没有声明实验原理。"
            )
        );
    }
    for p in &r.lab_text.principles {
        let _ = writeln!(md, "{}\n", p.trim_end());
    }
}

fn render_procedure(md: &mut String, r: &Report) {
    let lang = r.header.lang;
    md.push_str(&heading(lang, 4, "Procedure", "实验内容与步骤"));
    let steps: Vec<&String> = r
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Step(s) => Some(s),
            _ => None,
        })
        .collect();
    let _ = match lang {
        Lang::En => writeln!(
            md,
            "The lab script `{}` ran these steps, in this order:\n",
            r.header.script
        ),
        Lang::Zh => writeln!(md, "实验脚本 `{}` 依次执行了以下步骤：\n", r.header.script),
    };
    for (i, s) in steps.iter().enumerate() {
        let _ = writeln!(md, "{}. {s}", i + 1);
    }
    if steps.is_empty() {
        let _ = writeln!(
            md,
            "{}",
            lang.pick("(no step recorded)", "（没有记录步骤）")
        );
    }
    md.push('\n');
}

fn render_results(md: &mut String, r: &Report, numbers: &mut Numbers, appendix_first: usize) {
    let lang = r.header.lang;
    let t = |en, zh| lang.pick(en, zh);
    md.push_str(&heading(lang, 5, "Results and analysis", "实验结果与分析"));
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
    let (passed, checks) = (r.checks.len() - r.failed(), r.checks.len());
    let _ = match lang {
        Lang::En => writeln!(
            md,
            "{passed} of the lab's {checks} checks passed; each check is listed in the appendix (table {appendix_first}).\n"
        ),
        Lang::Zh => writeln!(
            md,
            "本实验的 {checks} 项检查中通过 {passed} 项，各项检查见附录（表 {appendix_first}）。\n"
        ),
    };
    render_blocks(md, &r.blocks, lang, numbers);
    let mut listed = appendix_first;
    for c in &r.captures {
        listed += 1;
        let figures = c.figures();
        let first = numbers.figures + 1;
        let last = numbers.figures + figures.len();
        let n = c.trace.packets.len();
        let file = c.pcap_file();
        let _ = writeln!(md, "### {} {file}\n", t("Capture", "抓包"));
        let shown = listed_frames(n);
        let (all_en, all_zh) = if shown < n {
            (
                format!("the first {shown} of its {n} frames are listed in the appendix"),
                format!("前 {shown} 帧（共 {n} 帧）列于附录"),
            )
        } else {
            (
                format!("all {n} frames are listed in the appendix"),
                format!("全部 {n} 帧列于附录"),
            )
        };
        let _ = match (lang, figures.len()) {
            (Lang::En, 0) if shown == n => writeln!(
                md,
                "All {n} frames of {file} are listed in the appendix (table {listed}).\n"
            ),
            (Lang::En, 0) => writeln!(
                md,
                "The first {shown} of the {n} frames of {file} are listed in the appendix (table {listed}).\n"
            ),
            (Lang::En, 1) => writeln!(
                md,
                "Figure {first} draws the TCP conversation of {file}; {all_en} (table {listed}).\n"
            ),
            (Lang::En, 2) => writeln!(
                md,
                "Figures {first} and {last} draw the TCP conversations of {file}; {all_en} (table {listed}).\n"
            ),
            (Lang::En, _) => writeln!(
                md,
                "Figures {first} to {last} draw the TCP conversations of {file}; {all_en} (table {listed}).\n"
            ),
            (Lang::Zh, 0) if shown == n => {
                writeln!(md, "{file} 的全部 {n} 帧列于附录（表 {listed}）。\n")
            }
            (Lang::Zh, 0) => writeln!(md, "{file} 的{all_zh}（表 {listed}）。\n"),
            (Lang::Zh, 1) => writeln!(
                md,
                "图 {first} 画出了 {file} 中的 TCP 连接；{all_zh}（表 {listed}）。\n"
            ),
            (Lang::Zh, 2) => writeln!(
                md,
                "图 {first} 和图 {last} 画出了 {file} 中的 TCP 连接；{all_zh}（表 {listed}）。\n"
            ),
            (Lang::Zh, _) => writeln!(
                md,
                "图 {first} 至图 {last} 画出了 {file} 中的 TCP 连接；{all_zh}（表 {listed}）。\n"
            ),
        };
        // The window-scaling paragraph of this capture's handshakes, under its heading.
        let scaling = crate::analysis::window_scaling(&c.trace.packets);
        if let Some(text) = super::scaling_text::scaling_text(&scaling, lang) {
            let text = text
                .strip_prefix("### ")
                .map_or(text.clone(), |t| format!("#### {t}"));
            let _ = writeln!(md, "{text}");
        }
        for f in figures {
            numbers.figures += 1;
            let label = match lang {
                Lang::En => format!("Figure {}", numbers.figures),
                Lang::Zh => format!("图 {}", numbers.figures),
            };
            let _ = writeln!(
                md,
                "![{label} {}]({})\n\n**{label}** {}\n",
                f.caption, f.file, f.caption
            );
        }
    }
}

fn render_conclusion(md: &mut String, r: &Report) {
    let lang = r.header.lang;
    md.push_str(&heading(lang, 6, "Conclusion", "实验总结"));
    let _ = writeln!(
        md,
        "> {}\n",
        lang.pick(
            "**For the student's own words.** Write here what you learned, the problems you met and how you solved them. labrun does not write this section.",
            "**此处由学生本人填写。** 请写下本实验的收获、遇到的问题及其解决方法。labrun 不代写本节。"
        )
    );
    md.push_str("&nbsp;\n\n&nbsp;\n\n&nbsp;\n\n");
    if !r.lab_text.questions.is_empty() {
        let _ = writeln!(md, "### {}\n", lang.pick("Questions", "思考题"));
        for (i, q) in r.lab_text.questions.iter().enumerate() {
            let _ = writeln!(md, "{}. {}", i + 1, q.replace('\n', " "));
        }
        md.push('\n');
    }
}

fn render_appendix(md: &mut String, r: &Report, numbers: &mut Numbers) {
    let lang = r.header.lang;
    let t = |en, zh| lang.pick(en, zh);
    let _ = writeln!(md, "## {}\n", t("Appendix", "附录"));
    let _ = writeln!(md, "### {}\n", t("A. Checks and score", "A. 检查与得分"));
    render_checks(md, r, numbers);
    let _ = writeln!(md, "### {}\n", t("B. Packet lists", "B. 完整分组列表"));
    for c in &r.captures {
        let n = c.trace.packets.len();
        let caption = match lang {
            Lang::En => format!("Packets: {} ({n} frames)", c.pcap_file()),
            Lang::Zh => format!("分组：{}（{n} 帧）", c.pcap_file()),
        };
        md.push_str(&numbers.table(lang, &caption));
        let states = state_cells(&c.trace.packets, lang);
        let shown = listed_frames(n);
        md.push_str(&packet_table_with_states(
            &c.trace.packets[..shown],
            &states,
            lang,
        ));
        md.push('\n');
        if shown < n {
            let (csv, pcap) = (c.csv_file(), c.pcap_file());
            let _ = match lang {
                Lang::En => writeln!(
                    md,
                    "Frames {} to {n} are not listed here, to keep the report printable: every frame is in {csv} and {pcap}.\n",
                    shown + 1
                ),
                Lang::Zh => writeln!(
                    md,
                    "为使报告便于打印，第 {} 至 {n} 帧未在此列出：全部帧见 {csv} 和 {pcap}。\n",
                    shown + 1
                ),
            };
        }
    }
    let _ = writeln!(md, "### {}\n", t("C. Digests", "C. 摘要"));
    let mut rows = Vec::new();
    for c in &r.captures {
        let sha = if r.header.deterministic {
            super::normalize::NORMALISED.to_string()
        } else {
            c.sha256()
        };
        rows.push(vec![c.pcap_file(), format!("SHA-256 {sha}")]);
    }
    if !r.header.lab_version.is_empty() {
        rows.push(vec![
            r.header.script.clone(),
            format!(
                "{} {}",
                t("SHA-256, first 12 digits:", "SHA-256 前 12 位："),
                r.header.lab_version
            ),
        ]);
    }
    md.push_str(&numbers.table(
        lang,
        t(
            "The files of this report and their digests",
            "本报告的文件及其摘要",
        ),
    ));
    md.push_str(&table(
        &[t("File", "文件").into(), t("Digest", "摘要").into()],
        &rows,
    ));
    md.push('\n');
}

/// Frames a capture's packet list in the appendix shows: all of a capture of up to
/// [`MAX_LISTED`] frames, else the first [`LISTED_HEAD`] (a bulk transfer's thousand
/// frames would fill dozens of pages; the CSV and the capture file hold them all).
fn listed_frames(n: usize) -> usize {
    if n <= MAX_LISTED { n } else { LISTED_HEAD }
}

/// The longest packet list the appendix prints whole.
const MAX_LISTED: usize = 200;
/// How many frames it prints of a longer capture.
const LISTED_HEAD: usize = 100;

/// The header's explanation of a `--deterministic` report.
const DETERMINISTIC_NOTE: &str = "yes (`--deterministic`): frame n is shown at (n − 1) ms; \
ephemeral ports, raw sequence numbers, TCP timestamps, IP IDs and WebSocket keys are replaced \
by canonical values, measured durations are masked (#.###), and the date, hardware, operating \
system, kernel, libpcap version and digests read \"normalised\". A golden report for testing the lab, not one to hand in.";

/// [`DETERMINISTIC_NOTE`] in Chinese.
const DETERMINISTIC_NOTE_ZH: &str = "是（`--deterministic`）：第 n 帧显示在 (n − 1) ms；\
临时端口、原始序号、TCP 时间戳、IP 标识和 WebSocket 密钥替换为规范值，测得的时长被遮盖为 #.###，\
日期、硬件、操作系统、内核、libpcap 版本和摘要显示为 normalised。这是用于测试实验的标准报告，不用于提交。";

fn capture_fact(c: &CaptureRecord, lang: Lang) -> String {
    let s = &c.captured.stats;
    let (file, frames, iface) = (c.pcap_file(), c.captured.frames.len(), &c.captured.iface);
    let dropped = s.dropped + s.if_dropped;
    let filter = &c.captured.filter;
    let mut text = match (lang, filter.is_empty()) {
        (Lang::En, true) => format!("{file}: {frames} frames on {iface}, no filter"),
        (Lang::En, false) => format!("{file}: {frames} frames on {iface}, filter `{filter}`"),
        (Lang::Zh, true) => format!("{file}：在 {iface} 上抓到 {frames} 帧，无过滤器"),
        (Lang::Zh, false) => format!("{file}：在 {iface} 上抓到 {frames} 帧，过滤器 `{filter}`"),
    };
    let _ = match lang {
        Lang::En => write!(text, "; libpcap dropped {dropped}"),
        Lang::Zh => write!(text, "；libpcap 丢弃 {dropped} 帧"),
    };
    if s.truncated > 0 {
        let _ = match lang {
            Lang::En => write!(text, ", {} frames over the storage limit", s.truncated),
            Lang::Zh => write!(text, "，{} 帧超出存储上限", s.truncated),
        };
    }
    text
}

/// The results: the lab's sections (as subsections), notes, tables and packet lists in
/// script order, every table numbered with a caption above it. The steps are the
/// Procedure's.
fn render_blocks(md: &mut String, blocks: &[Block], lang: Lang, numbers: &mut Numbers) {
    let mut context = lang.pick("Results", "实验结果").to_string();
    let mut previous: Option<&Block> = None;
    for b in blocks {
        let lead = match previous {
            Some(Block::Note(text)) => lead_in(text),
            _ => None,
        };
        if !matches!(b, Block::Step(_)) {
            previous = Some(b);
        }
        match b {
            Block::Step(_) => {}
            Block::Section { title, body } => {
                let _ = writeln!(md, "### {title}\n");
                context = title.clone();
                let body = caption_tables(body.trim_end(), &context, lang, numbers);
                let _ = writeln!(md, "{body}\n");
            }
            Block::Note(text) => {
                let text = caption_tables(text.trim_end(), &context, lang, numbers);
                let _ = writeln!(md, "{text}\n");
            }
            Block::Table { headers, rows } => {
                md.push_str(&numbers.table(lang, lead.as_deref().unwrap_or(&context)));
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
                let caption = match lang {
                    Lang::En => format!("{context}: the packets"),
                    Lang::Zh => format!("{context}：相关报文"),
                };
                md.push_str(&numbers.table(lang, &caption));
                let _ = writeln!(md, "{}\n", table.trim_end());
            }
        }
    }
}

/// The lead-in of a note that introduces a table ("Frame 4, the server's SYN+ACK: its
/// IPv4 header..." gives "Frame 4, the server's SYN+ACK"): the note up to its first colon,
/// when that is short and on one line.
fn lead_in(note: &str) -> Option<String> {
    let first = note.trim().lines().next()?;
    let end = first.find([':', '：'])?;
    let lead = first[..end].trim();
    (!lead.is_empty() && lead.chars().count() <= 80 && !lead.contains('|'))
        .then(|| lead.to_string())
}

/// Where the Markdown tables of `text` start: a `|` line after a line that is not one,
/// followed by the `|---|` separator.
fn table_starts(text: &str) -> Vec<usize> {
    let lines: Vec<&str> = text.lines().collect();
    (0..lines.len())
        .filter(|&i| {
            let row = |j: usize| {
                lines
                    .get(j)
                    .is_some_and(|l| l.trim_start().starts_with('|'))
            };
            row(i)
                && (i == 0 || !row(i - 1))
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.trim_start().starts_with("|-") || l.contains("|---"))
        })
        .collect()
}

/// `text` with a numbered caption ("**表 3** TITLE") above each of its tables.
fn caption_tables(text: &str, title: &str, lang: Lang, numbers: &mut Numbers) -> String {
    let starts = table_starts(text);
    if starts.is_empty() {
        return text.to_string();
    }
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if starts.contains(&i) {
            if !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(&numbers.table(lang, title));
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The number of tables [`render_blocks`] captions.
fn count_tables(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Step(_) => 0,
            Block::Section { body, .. } => table_starts(body.trim_end()).len(),
            Block::Note(text) => table_starts(text.trim_end()).len(),
            Block::Table { .. } | Block::Packets(_) => 1,
        })
        .sum()
}

fn render_checks(md: &mut String, r: &Report, numbers: &mut Numbers) {
    let lang = r.header.lang;
    let t = |en, zh| lang.pick(en, zh);
    if r.checks.is_empty() {
        // The table number the results named still holds: an empty table says so.
        md.push_str(&numbers.table(lang, t("The lab's checks", "本实验的检查项")));
        let _ = writeln!(
            md,
            "{}\n",
            t("The lab made no checks.", "本实验没有检查项。")
        );
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
    md.push_str(&numbers.table(lang, t("The lab's checks", "本实验的检查项")));
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
            "\n{passed} of {checks} checks passed; score {earned} / {total}.\n"
        ),
        Lang::Zh => writeln!(
            md,
            "\n{checks} 项检查中通过 {passed} 项；得分 {earned} / {total}。\n"
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
