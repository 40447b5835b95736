//! Running tshark on a capture and comparing its fields with ours.

use std::path::Path;
use std::process::Command;

use labrun::analysis::Packet;

/// True when the installed tshark predates 4.2, which spells the column
/// fields `_ws.col.Info` / `_ws.col.Protocol`.
fn old_column_names() -> bool {
    static OLD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OLD.get_or_init(detect_old_column_names)
}

fn detect_old_column_names() -> bool {
    let out = Command::new("tshark").arg("--version").output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let version = text.split_whitespace().nth(2).unwrap_or("4.0").to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) < (4, 2)
}

/// The field name to pass to this tshark for one of our field names.
pub fn tshark_name(field: &str) -> String {
    if old_column_names() {
        match field {
            "_ws.col.info" => return "_ws.col.Info".to_string(),
            "_ws.col.protocol" => return "_ws.col.Protocol".to_string(),
            _ => {}
        }
    }
    field.to_string()
}

/// Runs `tshark -T fields` for `fields` and returns one row per frame.
pub fn tshark_fields(pcap: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    tshark_fields_with(pcap, fields, &[])
}

/// `tshark_fields` with extra tshark options (e.g. `--disable-heuristic http_tcp`).
pub fn tshark_fields_with(pcap: &Path, fields: &[&str], options: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap).args(options).args([
        "-T",
        "fields",
        "-E",
        "header=y",
        "-E",
        "separator=,",
        "-E",
        "quote=d",
    ]);
    for f in fields {
        cmd.arg("-e").arg(tshark_name(f));
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(out.stdout.as_slice());
    reader
        .records()
        .map(|r| {
            r.expect("tshark csv row")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Asserts that every packet's `fields` equal tshark's, printing the first
/// mismatches as a readable diff.
pub fn assert_same_as_tshark(pcap: &Path, packets: &[Packet], fields: &[&str]) {
    assert_same_as_tshark_with(pcap, packets, fields, &[]);
}

/// `assert_same_as_tshark` with extra tshark options.
pub fn assert_same_as_tshark_with(
    pcap: &Path,
    packets: &[Packet],
    fields: &[&str],
    options: &[&str],
) {
    let rows = tshark_fields_with(pcap, fields, options);
    assert_eq!(
        rows.len(),
        packets.len(),
        "tshark shows {} frames, we decoded {}",
        rows.len(),
        packets.len()
    );
    let mut mismatches = Vec::new();
    for (packet, row) in packets.iter().zip(&rows) {
        for (field, theirs) in fields.iter().zip(row) {
            let ours = packet.field(field).unwrap_or_default();
            if &ours != theirs {
                mismatches.push(format!(
                    "frame {:>4} {:<28} ours: {:?}\n{:>41} tshark: {:?}",
                    packet.number, field, ours, "", theirs
                ));
            }
        }
    }
    if !mismatches.is_empty() {
        let shown: Vec<&String> = mismatches.iter().take(25).collect();
        panic!(
            "{} field(s) differ from tshark in {}:\n{}",
            mismatches.len(),
            pcap.display(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The fields the analyze issue lists, compared on every frame.
pub const ISSUE_FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_relative",
    "frame.len",
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "ip.id",
    "ip.ttl",
    "ip.flags.mf",
    "ip.frag_offset",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.stream",
    "tcp.flags.str",
    "tcp.seq",
    "tcp.ack",
    "tcp.nxtseq",
    "tcp.len",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.window_size_value",
    "tcp.window_size",
    "tcp.options.mss_val",
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.duplicate_ack",
    "tcp.analysis.lost_segment",
    "tcp.analysis.ack_lost_segment",
    "tcp.analysis.out_of_order",
    "tcp.analysis.zero_window",
    "tcp.analysis.keep_alive",
    "tcp.analysis.window_full",
    "tcp.analysis.window_update",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "icmp.type",
    "icmp.code",
    "_ws.col.protocol",
    "_ws.col.info",
];

/// Runs `labrun analyze FILE --fields ...` and `tshark -T fields` with the
/// same fields and asserts the two outputs are the same text, line by line.
pub fn assert_cli_same_as_tshark(pcap: &Path, fields: &[&str]) -> usize {
    let names: Vec<String> = fields.iter().map(|f| tshark_name(f)).collect();
    let ours = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg("analyze")
        .arg(pcap)
        .arg("--fields")
        .arg(names.join(","))
        .output()
        .expect("run labrun analyze");
    assert!(
        ours.status.success(),
        "labrun analyze failed: {}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap).args([
        "-T",
        "fields",
        "-E",
        "header=y",
        "-E",
        "separator=,",
        "-E",
        "quote=d",
    ]);
    for n in &names {
        cmd.arg("-e").arg(n);
    }
    let theirs = cmd.output().expect("run tshark");
    assert!(
        theirs.status.success(),
        "tshark failed on {}",
        pcap.display()
    );
    let ours = String::from_utf8_lossy(&ours.stdout).into_owned();
    let theirs = String::from_utf8_lossy(&theirs.stdout).into_owned();
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    let diffs: Vec<String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x != y)
        .take(6)
        .map(|(x, y)| format!("ours:   {x}\ntshark: {y}"))
        .collect();
    assert!(
        diffs.is_empty() && a.len() == b.len(),
        "{}: labrun and tshark differ ({} vs {} lines):\n{}",
        pcap.display(),
        a.len(),
        b.len(),
        diffs.join("\n")
    );
    a.len().saturating_sub(1)
}

/// Asserts that tshark reads the packet comments of a report's capture.pcapng
/// (`frame.comment`): every SYN and FIN carries one, the handshake and close steps are named
/// in the report's language (`steps`, e.g. "handshake 1/3"), and every `seq=N` and `ack=N` in
/// a comment is tshark's own `tcp.seq` / `tcp.ack` of that frame. Returns the comments by
/// frame number.
pub fn assert_comments_match_tshark(
    pcap: &Path,
    steps: &[&str],
) -> std::collections::BTreeMap<String, String> {
    let fields = ["frame.number", "tcp.seq", "tcp.ack", "frame.comment"];
    let commented = tshark_fields_with(pcap, &fields, &["-Y", "frame.comment"]);
    let comments: std::collections::BTreeMap<String, String> = commented
        .iter()
        .map(|r| (r[0].clone(), r[3].clone()))
        .collect();
    let number_after = |text: &str, key: &str| -> Option<String> {
        let at = text.find(key)? + key.len();
        Some(
            text[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect(),
        )
    };
    for r in &commented {
        let (frame, seq, ack, comment) = (&r[0], &r[1], &r[2], &r[3]);
        if let Some(s) = number_after(comment, "seq=") {
            assert_eq!(
                &s, seq,
                "frame {frame}: comment {comment:?}, tshark tcp.seq {seq}"
            );
        }
        if let Some(a) = number_after(comment, "ack=") {
            assert_eq!(
                &a, ack,
                "frame {frame}: comment {comment:?}, tshark tcp.ack {ack}"
            );
        }
    }
    let syn_fin = tshark_fields_with(
        pcap,
        &["frame.number"],
        &["-Y", "tcp.flags.syn == 1 || tcp.flags.fin == 1"],
    );
    assert!(!syn_fin.is_empty(), "no SYN or FIN in {}", pcap.display());
    for r in &syn_fin {
        assert!(
            comments.contains_key(&r[0]),
            "frame {} (SYN or FIN) has no comment: {comments:?}",
            r[0]
        );
    }
    for step in steps {
        assert!(
            comments.values().any(|c| c.starts_with(step)),
            "no comment starts with {step:?}: {comments:?}"
        );
    }
    comments
}
