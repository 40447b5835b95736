//! The report of `labrun analyze --out DIR`: report.md, packets.csv and the
//! Follow TCP Stream files (stream-N.txt, stream-N.bin), written atomically.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{AnalyzeError, CaptureFile, Summary};
use crate::analysis::{
    Analyzer, CSV_FIELDS, CloseKind, Follow, HandshakeKind, Side, SynOptions, TcpStream,
    fmt_seconds, follow_text,
};
use crate::i18n::Lang;
use crate::report::Describe;
use crate::report::{StagedDir, Written, table};

/// Streams followed in full when no `--stream` is given; later streams are summarized only.
const MAX_FOLLOWED: usize = 100;
/// Bytes kept per followed stream without `--stream` (and with it).
const FOLLOW_LIMIT: (usize, usize) = (1 << 20, 256 << 20);
/// Streams described in their own section without `--stream`.
const MAX_DETAILED: usize = 50;

/// What to analyze and where the report goes.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The capture file (as named in the report).
    pub path: PathBuf,
    /// The report directory.
    pub out: PathBuf,
    /// True when the user chose `out` (`--out`): existing report files are an error;
    /// otherwise a taken name gets a numeric suffix.
    pub exact: bool,
    /// Only this TCP stream (packets.csv rows, sections, follow files).
    pub stream: Option<u32>,
    /// The BPF filter applied, for the header.
    pub filter: Option<String>,
    /// The language of the report's sentences (`--lang`).
    pub lang: Lang,
}

/// A written analysis report, and the damage that cut the capture short, if any.
#[derive(Debug)]
pub struct Analyzed {
    /// Where the report went.
    pub written: Written,
    /// The capture is damaged: the report holds the frames before the damage (it says
    /// so), and the caller still reports the error (exit 2, as with `--fields`).
    pub damaged: Option<AnalyzeError>,
}

/// Analyzes `file` and writes the report directory, also for a capture damaged part
/// way (what was readable, with the damage in [`Analyzed::damaged`]).
pub fn write_analysis_report(
    file: &mut CaptureFile,
    opts: &ReportOptions,
) -> Result<Analyzed, AnalyzeError> {
    let expected = ["report.md".to_string(), "packets.csv".to_string()];
    let mut dir = StagedDir::new(&opts.out, opts.exact, &expected)?;
    let csv_out = dir.create("packets.csv")?;
    let mut csv = csv::Writer::from_writer(csv_out);
    let csv_err = |e: csv::Error| AnalyzeError::Write(std::io::Error::other(e));
    csv.write_record(CSV_FIELDS).map_err(csv_err)?;

    let mut analyzer = Analyzer::new(file.link);
    analyzer.keep_frame_lists(false);
    let mut summary = Summary::default();
    let mut follows: HashMap<u32, Follow> = HashMap::new();
    let limit = if opts.stream.is_some() {
        FOLLOW_LIMIT.1
    } else {
        FOLLOW_LIMIT.0
    };
    let read = file.for_each(|f| -> Result<(), AnalyzeError> {
        analyzer.set_link(f.link);
        let mut p = analyzer.push_bytes(f.ts_sec, f.ts_nsec, f.orig_len, f.data);
        p.comments.extend(f.comments.iter().map(|c| c.to_string()));
        summary.add(&p);
        let (Some(t), Some(ip)) = (&p.tcp, &p.ip) else {
            if opts.stream.is_none() {
                let row = CSV_FIELDS.iter().map(|f| p.field(f).unwrap_or_default());
                csv.write_record(row).map_err(csv_err)?;
            }
            return Ok(());
        };
        if opts.stream.is_some_and(|s| s != t.stream) {
            return Ok(());
        }
        let row = CSV_FIELDS.iter().map(|f| p.field(f).unwrap_or_default());
        csv.write_record(row).map_err(csv_err)?;
        let client = analyzer.streams().get(t.stream as usize).map(|s| s.client);
        let from = if client == Some(SocketAddr::new(ip.src, t.src_port)) {
            Side::Client
        } else {
            Side::Server
        };
        let n = follows.len();
        let f = match follows.get_mut(&t.stream) {
            Some(f) => f,
            None if n < MAX_FOLLOWED || opts.stream.is_some() => follows
                .entry(t.stream)
                .or_insert_with(|| Follow::new(limit)),
            None => return Ok(()),
        };
        f.add(from, t.seq, t.len, &p.payload);
        Ok(())
    });
    let damaged = match read {
        Ok(_) => None,
        Err(e @ AnalyzeError::File(crate::pcapfile::PcapFileError::Read { .. })) => Some(e),
        Err(e) => return Err(e),
    };
    csv.flush()?;
    drop(csv);
    let streams = analyzer.finish();
    if let Some(s) = opts.stream {
        if s as usize >= streams.len() {
            return Err(AnalyzeError::NoSuchStream {
                stream: s,
                count: streams.len(),
            });
        }
    }
    let mut follow_files = Vec::new();
    let mut indices: Vec<u32> = follows.keys().copied().collect();
    indices.sort_unstable();
    for i in indices {
        let (Some(f), Some(st)) = (follows.get_mut(&i), streams.get(i as usize)) else {
            continue;
        };
        f.finish();
        if f.bytes() == 0 {
            continue;
        }
        let text = follow_text(f.chunks(), &st.client.to_string(), &st.server.to_string());
        for (name, bytes) in [
            (format!("stream-{i}.txt"), text.into_bytes()),
            (
                format!("stream-{i}.bin"),
                f.chunks()
                    .iter()
                    .flat_map(|c| c.data.iter().copied())
                    .collect(),
            ),
        ] {
            let mut w = dir.create(&name)?;
            w.write_all(&bytes)
                .and_then(|()| w.flush())
                .map_err(|e| dir.io_error(&name, e))?;
        }
        follow_files.push((i, f.bytes(), f.missing));
    }
    let md = render(
        opts,
        file,
        &summary,
        &streams,
        &follow_files,
        damaged.as_ref().map(|e| e.to_string()).as_deref(),
    );
    let mut w = dir.create("report.md")?;
    w.write_all(md.as_bytes())
        .and_then(|()| w.flush())
        .map_err(|e| dir.io_error("report.md", e))?;
    Ok(Analyzed {
        written: dir.commit()?,
        damaged,
    })
}

/// Frames of a stream, counted by the story (the report keeps no frame lists).
fn segments(st: &TcpStream) -> u64 {
    st.story.ends.iter().map(|e| e.segments).sum()
}

fn options_text(o: Option<&SynOptions>, lang: Lang) -> [String; 5] {
    let none = || lang.pick("none", "无").to_string();
    let yes_no = |b: bool| {
        if b {
            lang.pick("yes", "是")
        } else {
            lang.pick("no", "否")
        }
        .to_string()
    };
    match o {
        None => ["–".into(), "–".into(), "–".into(), "–".into(), "–".into()],
        Some(o) => [
            o.mss.map_or_else(none, |v| v.to_string()),
            o.wscale
                .map_or_else(none, |v| format!("{v} (×{})", 1u32 << v.min(14))),
            yes_no(o.sack_perm),
            yes_no(o.timestamps),
            o.window.to_string(),
        ],
    }
}

/// The handshake's kind for the conversations table.
fn short_handshake(k: HandshakeKind, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{k:?}"),
        Lang::Zh => match k {
            HandshakeKind::Normal => "正常".into(),
            HandshakeKind::SynRetried(n) => format!("SYN 重传 ({n})"),
            HandshakeKind::SimultaneousOpen => "同时打开".into(),
            HandshakeKind::Refused => "被拒绝".into(),
            HandshakeKind::Incomplete => "不完整".into(),
            HandshakeKind::NotCaptured => "未抓到".into(),
        },
    }
}

/// The close's kind for the conversations table.
fn short_close(k: CloseKind, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{k:?}"),
        Lang::Zh => match k {
            CloseKind::FourWay => "四次挥手",
            CloseKind::ThreeWay => "三次挥手",
            CloseKind::Simultaneous => "同时关闭",
            CloseKind::HalfClose => "半关闭",
            CloseKind::Reset => "复位",
            CloseKind::OneSided => "单方关闭",
            CloseKind::Open => "未关闭",
        }
        .into(),
    }
}

fn frame_list(frames: &[Option<u64>]) -> String {
    frames
        .iter()
        .flatten()
        .map(|f| format!("#{f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn stream_section(st: &TcpStream, follow: Option<&(u32, usize, u64)>, lang: Lang) -> String {
    let s = &st.story;
    let t = |en, zh| lang.pick(en, zh);
    let mut out = String::new();
    let (i, c, v) = (st.index, st.client, st.server);
    let (n, secs) = (segments(st), fmt_seconds(st.last_ts - st.first_ts));
    let _ = match lang {
        Lang::En => writeln!(
            out,
            "## TCP stream {i} — client {c} ↔ server {v}\n\nWireshark filter: `tcp.stream == {i}`. {n} frames, {secs} s.\n"
        ),
        Lang::Zh => writeln!(
            out,
            "## TCP 流 {i} — 客户端 {c} ↔ 服务器 {v}\n\nWireshark 过滤器：`tcp.stream == {i}`。共 {n} 帧，{secs} s。\n"
        ),
    };
    let frames = match frame_list(&[st.syn_frame, st.syn_ack_frame, st.handshake_ack_frame]) {
        f if f.is_empty() => t("no handshake frames", "没有握手帧").to_string(),
        f => format!("{} {f}", t("frames", "帧")),
    };
    let _ = match lang {
        Lang::En => writeln!(
            out,
            "**Handshake:** {} ({frames}).\n",
            s.handshake_kind().describe(lang)
        ),
        Lang::Zh => writeln!(
            out,
            "**握手：**{}（{frames}）。\n",
            s.handshake_kind().describe(lang)
        ),
    };
    if s.syn_options(Side::Client).is_some() || s.syn_options(Side::Server).is_some() {
        let c = options_text(s.syn_options(Side::Client), lang);
        let v = options_text(s.syn_options(Side::Server), lang);
        let names = [
            "MSS",
            t("window scale", "窗口扩大因子"),
            t("SACK permitted", "允许 SACK"),
            t("timestamps", "时间戳"),
            t("window", "窗口"),
        ];
        let rows: Vec<Vec<String>> = names
            .iter()
            .zip(c.iter().zip(v.iter()))
            .map(|(n, (a, b))| vec![n.to_string(), a.clone(), b.clone()])
            .collect();
        out.push_str(&table(
            &[
                t("option", "选项").into(),
                t("client SYN", "客户端 SYN").into(),
                t("server SYN-ACK", "服务器 SYN-ACK").into(),
            ],
            &rows,
        ));
        out.push('\n');
    }
    let c = s.end(Side::Client);
    let v = s.end(Side::Server);
    let (cb, cs, vb, vs) = (c.bytes, c.data_segments, v.bytes, v.data_segments);
    let _ = match lang {
        Lang::En => writeln!(
            out,
            "**Data:** client → server {cb} bytes in {cs} data segments; server → client {vb} bytes in {vs} data segments.\n"
        ),
        Lang::Zh => writeln!(
            out,
            "**数据：**客户端 → 服务器 {cb} 字节，{cs} 个数据报文段；服务器 → 客户端 {vb} 字节，{vs} 个数据报文段。\n"
        ),
    };
    let closer = s.closed_first().map_or(String::new(), |side| match lang {
        Lang::En => format!("; the {} closed first", side.describe(lang)),
        Lang::Zh => format!("；{}先关闭", side.describe(lang)),
    });
    let fins = frame_list(&[
        s.fin(Side::Client).map(|f| f.frame),
        s.fin(Side::Server).map(|f| f.frame),
    ]);
    let fin_frames = match (fins.is_empty(), lang) {
        (true, _) => String::new(),
        (false, Lang::En) => format!(" (FIN frames {fins})"),
        (false, Lang::Zh) => format!("（FIN 帧 {fins}）"),
    };
    let _ = match lang {
        Lang::En => writeln!(
            out,
            "**Close:** {}{closer}{fin_frames}.\n",
            s.close_kind().describe(lang)
        ),
        Lang::Zh => writeln!(
            out,
            "**关闭：**{}{closer}{fin_frames}。\n",
            s.close_kind().describe(lang)
        ),
    };
    for r in &s.rsts {
        let (frame, from, cause) = (r.frame, r.from.describe(lang), r.cause.describe(lang));
        let _ = match (lang, r.with_ack) {
            (Lang::En, true) => writeln!(
                out,
                "- RST in frame #{frame} from the {from} (with ACK): {cause}."
            ),
            (Lang::En, false) => writeln!(
                out,
                "- RST in frame #{frame} from the {from} (no ACK flag): {cause}."
            ),
            (Lang::Zh, true) => {
                writeln!(out, "- 帧 #{frame}：{from}发送的 RST（带 ACK）：{cause}。")
            }
            (Lang::Zh, false) => writeln!(
                out,
                "- 帧 #{frame}：{from}发送的 RST（不带 ACK 标志）：{cause}。"
            ),
        };
    }
    if !s.rsts.is_empty() {
        out.push('\n');
    }
    if s.anomalies.is_empty() {
        out.push_str(t(
            "**Anomalies:** none flagged by the sequence analysis.\n\n",
            "**异常：**序号分析没有标出任何异常。\n\n",
        ));
    } else {
        let list: Vec<String> = s
            .anomalies
            .iter()
            .map(|(a, c)| format!("{} ×{c}", a.describe(lang)))
            .collect();
        let _ = match lang {
            Lang::En => writeln!(out, "**Anomalies:** {}.\n", list.join(", ")),
            Lang::Zh => writeln!(out, "**异常：**{}。\n", list.join("，")),
        };
    }
    if let Some((i, bytes, missing)) = follow {
        let gap = match (*missing > 0, lang) {
            (false, _) => String::new(),
            (true, Lang::En) => format!(
                ", {missing} bytes missing (not captured, cut by the snap length, or beyond the limit)"
            ),
            (true, Lang::Zh) => {
                format!("，缺少 {missing} 字节（未抓到、被快照长度截断或超出上限）")
            }
        };
        let _ = match lang {
            Lang::En => writeln!(
                out,
                "Follow TCP Stream: `stream-{i}.txt` (text) and `stream-{i}.bin` (raw bytes), {bytes} bytes{gap}.\n"
            ),
            Lang::Zh => writeln!(
                out,
                "追踪 TCP 流：`stream-{i}.txt`（文本）和 `stream-{i}.bin`（原始字节），共 {bytes} 字节{gap}。\n"
            ),
        };
    }
    out
}

fn render(
    opts: &ReportOptions,
    file: &CaptureFile,
    sum: &Summary,
    streams: &[TcpStream],
    follows: &[(u32, usize, u64)],
    damaged: Option<&str>,
) -> String {
    let lang = opts.lang;
    let t = |en, zh| lang.pick(en, zh);
    let mut out = String::new();
    let name = opts.path.file_name().map_or_else(
        || opts.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let _ = writeln!(out, "# {}{name}\n", t("Capture analysis: ", "抓包分析："));
    let span = fmt_seconds(sum.span.map_or(0, |(a, b)| b - a));
    let (path, link, dlt) = (opts.path.display(), file.link, file.dlt);
    let (frames, bytes, version) = (sum.frames, sum.bytes, env!("CARGO_PKG_VERSION"));
    let filter = opts
        .filter
        .as_deref()
        .map_or(t("none", "无").to_string(), |f| format!("`{f}`"));
    let _ = match lang {
        Lang::En => writeln!(
            out,
            "- file: `{path}`\n- link type: {link:?} (DLT {dlt})\n- frames: {frames}, {bytes} bytes on the wire, over {span} s\n- filter: {filter}\n- labrun {version}\n"
        ),
        Lang::Zh => writeln!(
            out,
            "- 文件：`{path}`\n- 链路类型：{link:?} (DLT {dlt})\n- 帧数：{frames}，线路上共 {bytes} 字节，历时 {span} s\n- 过滤器：{filter}\n- labrun {version}\n"
        ),
    };
    if let Some(d) = damaged {
        let _ = match lang {
            Lang::En => writeln!(
                out,
                "> **Warning:** {d}. The analysis covers the frames before the damage.\n"
            ),
            Lang::Zh => writeln!(out, "> **警告：**{d}。分析只覆盖损坏之前的帧。\n"),
        };
    }
    if sum.cut_short > 0 {
        let n = sum.cut_short;
        let _ = match lang {
            Lang::En => writeln!(
                out,
                "> {n} frames were cut short by the snap length: headers are analyzed, payload bytes are partly missing.\n"
            ),
            Lang::Zh => writeln!(
                out,
                "> {n} 帧被快照长度截短：首部都已分析，部分载荷字节缺失。\n"
            ),
        };
    }
    let _ = writeln!(out, "## {}\n", t("Protocols", "协议"));
    let rows: Vec<Vec<String>> = sum
        .protocols
        .iter()
        .map(|(p, c)| {
            vec![
                if p.is_empty() {
                    t("(none)", "（无）").into()
                } else {
                    p.clone()
                },
                c.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[t("protocol", "协议").into(), t("frames", "帧数").into()],
        &rows,
    ));
    out.push('\n');
    let shown: Vec<&TcpStream> = match opts.stream {
        Some(s) => streams.iter().filter(|st| st.index == s).collect(),
        None => streams.iter().collect(),
    };
    if !shown.is_empty() {
        let _ = writeln!(out, "## {}\n", t("TCP conversations", "TCP 会话"));
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|st| {
                let s = &st.story;
                vec![
                    st.index.to_string(),
                    st.client.to_string(),
                    st.server.to_string(),
                    segments(st).to_string(),
                    s.end(Side::Client).bytes.to_string(),
                    s.end(Side::Server).bytes.to_string(),
                    short_handshake(s.handshake_kind(), lang),
                    short_close(s.close_kind(), lang),
                    s.closed_first()
                        .map_or("–".into(), |x| x.describe(lang).to_string()),
                ]
            })
            .collect();
        let headers = [
            t("stream", "流"),
            t("client", "客户端"),
            t("server", "服务器"),
            t("frames", "帧数"),
            t("bytes c→s", "字节 c→s"),
            t("bytes s→c", "字节 s→c"),
            t("handshake", "握手"),
            t("close", "关闭"),
            t("closed first", "先关闭方"),
        ];
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        out.push_str(&table(&headers, &rows));
        out.push('\n');
        for st in shown.iter().take(if opts.stream.is_some() {
            1
        } else {
            MAX_DETAILED
        }) {
            let follow = follows.iter().find(|f| f.0 == st.index);
            out.push_str(&stream_section(st, follow, lang));
        }
        if opts.stream.is_none() && shown.len() > MAX_DETAILED {
            let n = shown.len() - MAX_DETAILED;
            let _ = match lang {
                Lang::En => writeln!(
                    out,
                    "The other {n} streams are in the table above; `--stream N` describes one in full.\n"
                ),
                Lang::Zh => writeln!(
                    out,
                    "其余 {n} 个流见上表；用 `--stream N` 可完整描述其中一个。\n"
                ),
            };
        }
    }
    if opts.stream.is_none() {
        render_udp_icmp(&mut out, sum, lang);
    }
    out
}

fn render_udp_icmp(out: &mut String, sum: &Summary, lang: Lang) {
    let t = |en, zh| lang.pick(en, zh);
    if !sum.udp_flows.is_empty() {
        let _ = writeln!(out, "## {}\n", t("UDP flows", "UDP 流"));
        let rows: Vec<Vec<String>> = sum
            .udp_flows
            .iter()
            .map(|f| {
                vec![
                    f.a.to_string(),
                    f.b.to_string(),
                    format!("{} ({} {})", f.a_to_b.0, f.a_to_b.1, t("bytes", "字节")),
                    format!("{} ({} {})", f.b_to_a.0, f.b_to_a.1, t("bytes", "字节")),
                    format!("#{}–#{}", f.frames.0, f.frames.1),
                ]
            })
            .collect();
        let headers: Vec<String> = [
            t("from", "源"),
            t("to", "目的"),
            t("datagrams →", "数据报 →"),
            t("datagrams ←", "数据报 ←"),
            t("frames", "帧"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect();
        out.push_str(&table(&headers, &rows));
        out.push('\n');
    }
    if !sum.icmp_errors.is_empty() {
        let _ = writeln!(out, "## {}\n", t("ICMP errors", "ICMP 差错报文"));
        let rows: Vec<Vec<String>> = sum
            .icmp_errors
            .iter()
            .map(|e| {
                vec![
                    format!("#{}", e.frame),
                    e.from.to_string(),
                    e.info.clone(),
                    e.quoted.clone(),
                    e.answers
                        .map_or(t("not captured", "未抓到").into(), |f| format!("#{f}")),
                ]
            })
            .collect();
        let headers: Vec<String> = [
            t("frame", "帧"),
            t("from", "来自"),
            t("message", "报文"),
            t("about", "针对"),
            t("answers frame", "回应的帧"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect();
        out.push_str(&table(&headers, &rows));
        out.push('\n');
    }
    if !sum.defragmented.is_empty() {
        let _ = writeln!(
            out,
            "## {}\n",
            t("Reassembled IPv4 datagrams", "重组的 IPv4 数据报")
        );
        for d in &sum.defragmented {
            let frags: Vec<String> = d.fragments.iter().map(|f| format!("#{f}")).collect();
            let (frame, info, frags) = (d.frame, &d.info, frags.join(", "));
            let _ = match lang {
                Lang::En => writeln!(out, "- frame #{frame}: {info} (fragments {frags})"),
                Lang::Zh => writeln!(out, "- 帧 #{frame}：{info}（分片 {frags}）"),
            };
        }
        out.push('\n');
    }
    if sum.decode_errors.0 > 0 {
        let n = sum.decode_errors.0;
        let _ = match lang {
            Lang::En => writeln!(
                out,
                "## Frames that did not decode\n\n{n} frames; the first:\n"
            ),
            Lang::Zh => writeln!(out, "## 无法解码的帧\n\n共 {n} 帧；前几帧：\n"),
        };
        for (n, e) in &sum.decode_errors.1 {
            let _ = match lang {
                Lang::En => writeln!(out, "- frame #{n}: {e}"),
                Lang::Zh => writeln!(out, "- 帧 #{n}：{e}"),
            };
        }
        out.push('\n');
    }
}

/// The default report directory for a capture: `reports/analyze-<file stem>`.
pub fn default_dir(base: &Path, capture: &Path) -> PathBuf {
    let stem = capture
        .file_stem()
        .map_or("capture".to_string(), |s| s.to_string_lossy().into_owned());
    base.join(format!("analyze-{stem}"))
}
