//! The report of `labrun analyze --out DIR`: report.md, packets.csv and the
//! Follow TCP Stream files (stream-N.txt, stream-N.bin), written atomically.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{AnalyzeError, CaptureFile, Summary};
use crate::analysis::{
    Analyzer, CSV_FIELDS, Follow, Side, SynOptions, TcpStream, fmt_seconds, follow_text,
};
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
}

/// Analyzes `file` and writes the report directory.
pub fn write_analysis_report(
    file: &mut CaptureFile,
    opts: &ReportOptions,
) -> Result<Written, AnalyzeError> {
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
    let read = file.for_each(|sec, nsec, len, data| -> Result<(), AnalyzeError> {
        let p = analyzer.push_bytes(sec, nsec, len, data);
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
        Err(e @ AnalyzeError::Read { .. }) => Some(e.to_string()),
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
        damaged.as_deref(),
    );
    let mut w = dir.create("report.md")?;
    w.write_all(md.as_bytes())
        .and_then(|()| w.flush())
        .map_err(|e| dir.io_error("report.md", e))?;
    Ok(dir.commit()?)
}

/// Frames of a stream, counted by the story (the report keeps no frame lists).
fn segments(st: &TcpStream) -> u64 {
    st.story.ends.iter().map(|e| e.segments).sum()
}

fn options_text(o: Option<&SynOptions>) -> [String; 5] {
    match o {
        None => ["–".into(), "–".into(), "–".into(), "–".into(), "–".into()],
        Some(o) => [
            o.mss.map_or("none".into(), |v| v.to_string()),
            o.wscale
                .map_or("none".into(), |v| format!("{v} (×{})", 1u32 << v.min(14))),
            if o.sack_perm { "yes" } else { "no" }.into(),
            if o.timestamps { "yes" } else { "no" }.into(),
            o.window.to_string(),
        ],
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

fn stream_section(st: &TcpStream, follow: Option<&(u32, usize, u64)>) -> String {
    let s = &st.story;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## TCP stream {} — client {} ↔ server {}\n",
        st.index, st.client, st.server
    );
    let _ = writeln!(
        out,
        "Wireshark filter: `tcp.stream == {}`. {} frames, {} s.\n",
        st.index,
        segments(st),
        fmt_seconds(st.last_ts - st.first_ts)
    );
    let _ = writeln!(
        out,
        "**Handshake:** {} ({}).\n",
        s.handshake_kind(),
        match frame_list(&[st.syn_frame, st.syn_ack_frame, st.handshake_ack_frame]) {
            f if f.is_empty() => "no handshake frames".to_string(),
            f => format!("frames {f}"),
        }
    );
    if s.syn_options(Side::Client).is_some() || s.syn_options(Side::Server).is_some() {
        let c = options_text(s.syn_options(Side::Client));
        let v = options_text(s.syn_options(Side::Server));
        let names = [
            "MSS",
            "window scale",
            "SACK permitted",
            "timestamps",
            "window",
        ];
        let rows: Vec<Vec<String>> = names
            .iter()
            .zip(c.iter().zip(v.iter()))
            .map(|(n, (a, b))| vec![n.to_string(), a.clone(), b.clone()])
            .collect();
        out.push_str(&table(
            &[
                "option".into(),
                "client SYN".into(),
                "server SYN-ACK".into(),
            ],
            &rows,
        ));
        out.push('\n');
    }
    let c = s.end(Side::Client);
    let v = s.end(Side::Server);
    let _ = writeln!(
        out,
        "**Data:** client → server {} bytes in {} data segments; server → client {} bytes in {} data segments.\n",
        c.bytes, c.data_segments, v.bytes, v.data_segments
    );
    let closer = s
        .closed_first()
        .map_or(String::new(), |side| format!("; the {side} closed first"));
    let fins = frame_list(&[
        s.fin(Side::Client).map(|f| f.frame),
        s.fin(Side::Server).map(|f| f.frame),
    ]);
    let _ = writeln!(
        out,
        "**Close:** {}{closer}{}.\n",
        s.close_kind(),
        if fins.is_empty() {
            String::new()
        } else {
            format!(" (FIN frames {fins})")
        }
    );
    for r in &s.rsts {
        let _ = writeln!(
            out,
            "- RST in frame #{} from the {}{}: {}.",
            r.frame,
            r.from,
            if r.with_ack {
                " (with ACK)"
            } else {
                " (no ACK flag)"
            },
            r.cause
        );
    }
    if !s.rsts.is_empty() {
        out.push('\n');
    }
    if s.anomalies.is_empty() {
        out.push_str("**Anomalies:** none flagged by the sequence analysis.\n\n");
    } else {
        let list: Vec<String> = s
            .anomalies
            .iter()
            .map(|(n, c)| format!("{n} ×{c}"))
            .collect();
        let _ = writeln!(out, "**Anomalies:** {}.\n", list.join(", "));
    }
    if let Some((i, bytes, missing)) = follow {
        let _ = writeln!(
            out,
            "Follow TCP Stream: `stream-{i}.txt` (text) and `stream-{i}.bin` (raw bytes), {bytes} bytes{}.\n",
            if *missing > 0 {
                format!(
                    ", {missing} bytes missing (not captured, cut by the snap length, or beyond the limit)"
                )
            } else {
                String::new()
            }
        );
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
    let mut out = String::new();
    let name = opts.path.file_name().map_or_else(
        || opts.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let _ = writeln!(out, "# Capture analysis: {name}\n");
    let span = sum.span.map_or(0, |(a, b)| b - a);
    let _ = writeln!(
        out,
        "- file: `{}`\n- link type: {:?} (DLT {})\n- frames: {}, {} bytes on the wire, over {} s\n- filter: {}\n- labrun {}\n",
        opts.path.display(),
        file.link,
        file.dlt,
        sum.frames,
        sum.bytes,
        fmt_seconds(span),
        opts.filter
            .as_deref()
            .map_or("none".to_string(), |f| format!("`{f}`")),
        env!("CARGO_PKG_VERSION")
    );
    if let Some(d) = damaged {
        let _ = writeln!(
            out,
            "> **Warning:** {d}. The analysis covers the frames before the damage.\n"
        );
    }
    if sum.cut_short > 0 {
        let _ = writeln!(
            out,
            "> {} frames were cut short by the snap length: headers are analyzed, payload bytes are partly missing.\n",
            sum.cut_short
        );
    }
    out.push_str("## Protocols\n\n");
    let rows: Vec<Vec<String>> = sum
        .protocols
        .iter()
        .map(|(p, c)| {
            vec![
                if p.is_empty() {
                    "(none)".into()
                } else {
                    p.clone()
                },
                c.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(&["protocol".into(), "frames".into()], &rows));
    out.push('\n');
    let shown: Vec<&TcpStream> = match opts.stream {
        Some(s) => streams.iter().filter(|st| st.index == s).collect(),
        None => streams.iter().collect(),
    };
    if !shown.is_empty() {
        out.push_str("## TCP conversations\n\n");
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
                    format!("{:?}", s.handshake_kind()),
                    format!("{:?}", s.close_kind()),
                    s.closed_first().map_or("–".into(), |x| x.to_string()),
                ]
            })
            .collect();
        let headers = [
            "stream",
            "client",
            "server",
            "frames",
            "bytes c→s",
            "bytes s→c",
            "handshake",
            "close",
            "closed first",
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
            out.push_str(&stream_section(st, follow));
        }
        if opts.stream.is_none() && shown.len() > MAX_DETAILED {
            let _ = writeln!(
                out,
                "The other {} streams are in the table above; `--stream N` describes one in full.\n",
                shown.len() - MAX_DETAILED
            );
        }
    }
    if opts.stream.is_none() {
        render_udp_icmp(&mut out, sum);
    }
    out
}

fn render_udp_icmp(out: &mut String, sum: &Summary) {
    if !sum.udp_flows.is_empty() {
        out.push_str("## UDP flows\n\n");
        let rows: Vec<Vec<String>> = sum
            .udp_flows
            .iter()
            .map(|f| {
                vec![
                    f.a.to_string(),
                    f.b.to_string(),
                    format!("{} ({} bytes)", f.a_to_b.0, f.a_to_b.1),
                    format!("{} ({} bytes)", f.b_to_a.0, f.b_to_a.1),
                    format!("#{}–#{}", f.frames.0, f.frames.1),
                ]
            })
            .collect();
        let headers: Vec<String> = ["from", "to", "datagrams →", "datagrams ←", "frames"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        out.push_str(&table(&headers, &rows));
        out.push('\n');
    }
    if !sum.icmp_errors.is_empty() {
        out.push_str("## ICMP errors\n\n");
        let rows: Vec<Vec<String>> = sum
            .icmp_errors
            .iter()
            .map(|e| {
                vec![
                    format!("#{}", e.frame),
                    e.from.to_string(),
                    e.info.clone(),
                    e.quoted.clone(),
                    e.answers.map_or("not captured".into(), |f| format!("#{f}")),
                ]
            })
            .collect();
        let headers: Vec<String> = ["frame", "from", "message", "about", "answers frame"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        out.push_str(&table(&headers, &rows));
        out.push('\n');
    }
    if !sum.defragmented.is_empty() {
        out.push_str("## Reassembled IPv4 datagrams\n\n");
        for d in &sum.defragmented {
            let frags: Vec<String> = d.fragments.iter().map(|f| format!("#{f}")).collect();
            let _ = writeln!(
                out,
                "- frame #{}: {} (fragments {})",
                d.frame,
                d.info,
                frags.join(", ")
            );
        }
        out.push('\n');
    }
    if sum.decode_errors.0 > 0 {
        let _ = writeln!(
            out,
            "## Frames that did not decode\n\n{} frames; the first:\n",
            sum.decode_errors.0
        );
        for (n, e) in &sum.decode_errors.1 {
            let _ = writeln!(out, "- frame #{n}: {e}");
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
