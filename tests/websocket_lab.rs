//! End to end: run labs/websocket.rhai in the sandbox, once with labrun's own WebSocket
//! client and once with headless Chromium, and check from the capture itself — read by
//! tshark, independently of labrun's decoder — the upgrade (101, the right
//! Sec-WebSocket-Accept), masked client frames, unmasked server frames, the ping/pong and
//! the closing handshake. packets.csv is compared with tshark column for column, with
//! tshark's default options: its HTTP heuristic finds the HTTP on port 8888, and the
//! frames after the upgrade are WebSocket in both. websocket.csv is
//! compared with tshark told to read port 8888 as HTTP (`-d tcp.port==8888,http`).
//! Refreshes reports/examples/websocket/ from the Chromium run.

mod common;

use common::lab::{LabRun, assert_csv_matches_tshark_with, read_csv, refresh_example, run_lab};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// WebSocket and HTTP fields tshark shows for port 8888 read as HTTP, one row per frame.
const WS_FIELDS: &[&str] = &[
    "frame.number",
    "tcp.stream",
    "websocket.fin",
    "websocket.rsv",
    "websocket.opcode",
    "websocket.mask",
    "websocket.payload_length",
    "websocket.payload_length_ext_16",
    "websocket.payload_length_ext_64",
    "websocket.masking_key",
];

fn tshark_ws(pcap: &Path, extra: &[&str]) -> Vec<BTreeMap<String, String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(pcap)
        .args(["-d", "tcp.port==8888,http", "-Y", "websocket || http"])
        .args(["-T", "fields", "-E", "separator=\t", "-E", "aggregator=,"]);
    let fields: Vec<&str> = WS_FIELDS.iter().chain(extra).copied().collect();
    for f in &fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            fields
                .iter()
                .zip(l.split('\t'))
                .map(|(f, v)| (f.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn ready(what: &str) -> bool {
    if !common::is_root() {
        common::skip_or_fail(&format!(
            "{what}: the sandbox and its capture need root here (run the tests as root)"
        ));
        return false;
    }
    if !common::have_program("tshark") {
        common::skip_or_fail(&format!(
            "{what}: tshark is not installed (apt-get install tshark)"
        ));
        return false;
    }
    true
}

/// Checks the capture of a run with tshark and compares both CSV files.
fn check_capture(run: &LabRun, client_pings: bool) {
    let pcap = run.dir.join("capture.pcapng");
    assert_csv_matches_tshark_with(&run.dir.join("packets.csv"), &pcap, &[]);

    let rows = tshark_ws(
        &pcap,
        &[
            "http.response.code",
            "http.sec_websocket_key",
            "http.sec_websocket_accept",
            "websocket.payload.close.status_code",
            "websocket.payload.text",
            "ip.src",
        ],
    );
    let get = |r: &BTreeMap<String, String>, f: &str| r.get(f).cloned().unwrap_or_default();

    // The upgrade: one key, answered by a 101 whose accept is derived from it.
    let key = rows
        .iter()
        .map(|r| get(r, "http.sec_websocket_key"))
        .find(|k| !k.is_empty())
        .expect("the upgrade request carries Sec-WebSocket-Key");
    let upgrade = rows
        .iter()
        .find(|r| get(r, "http.response.code") == "101")
        .expect("a 101 Switching Protocols was captured");
    assert_eq!(
        get(upgrade, "http.sec_websocket_accept"),
        tungstenite::handshake::derive_accept_key(key.as_bytes()),
        "Sec-WebSocket-Accept = base64(SHA-1(key + GUID))"
    );

    // Frames: split tshark's aggregated values into one entry per WebSocket frame.
    let mut frames = Vec::new();
    for r in rows
        .iter()
        .filter(|r| !get(r, "websocket.opcode").is_empty())
    {
        let opcodes: Vec<String> = get(r, "websocket.opcode")
            .split(',')
            .map(str::to_string)
            .collect();
        let masks: Vec<String> = get(r, "websocket.mask")
            .split(',')
            .map(str::to_string)
            .collect();
        for (op, mask) in opcodes.into_iter().zip(masks) {
            frames.push((get(r, "ip.src"), op, mask, get(r, "websocket.payload.text")));
        }
    }
    let client: Vec<_> = frames.iter().filter(|f| f.0 == "10.77.0.1").collect();
    let server: Vec<_> = frames.iter().filter(|f| f.0 == "10.77.0.2").collect();
    assert!(
        !client.is_empty() && client.iter().all(|f| f.2 == "1"),
        "client frames masked: {frames:?}"
    );
    assert!(
        !server.is_empty() && server.iter().all(|f| f.2 == "0"),
        "server frames unmasked: {frames:?}"
    );
    let ops =
        |v: &[&(String, String, String, String)]| v.iter().map(|f| f.1.clone()).collect::<Vec<_>>();
    let (c, s) = (ops(&client), ops(&server));
    assert!(
        s.contains(&"9".into()) && c.contains(&"10".into()),
        "server ping, client pong: {frames:?}"
    );
    if client_pings {
        assert!(
            c.contains(&"9".into()) && s.contains(&"10".into()),
            "client ping, server pong: {frames:?}"
        );
    }
    assert_eq!(
        c.last().map(String::as_str),
        Some("8"),
        "the client's close frame: {frames:?}"
    );
    assert_eq!(
        s.last().map(String::as_str),
        Some("8"),
        "the server's close reply: {frames:?}"
    );
    let texts: Vec<String> = rows
        .iter()
        .map(|r| get(r, "websocket.payload.text"))
        .filter(|t| !t.is_empty())
        .collect();
    assert!(texts.iter().any(|t| t.contains("20215120807")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("Li Yihang")), "{texts:?}");

    // websocket.csv: the same frames with the same header fields as tshark.
    let ours = read_csv(&run.dir.join("websocket.csv"));
    let header = &ours[0];
    let mut by_frame: BTreeMap<u64, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for row in &ours[1..] {
        let n: u64 = row[0].parse().unwrap();
        let entry = by_frame.entry(n).or_default();
        for (h, v) in header.iter().zip(row) {
            entry.entry(h.clone()).or_default().push(v.clone());
        }
    }
    let theirs: Vec<_> = rows
        .iter()
        .filter(|r| !get(r, "websocket.opcode").is_empty())
        .collect();
    assert_eq!(
        by_frame.len(),
        theirs.len(),
        "frames carrying WebSocket: ours {by_frame:?}"
    );
    for (r, (n, ours)) in theirs.iter().zip(&by_frame) {
        assert_eq!(get(r, "frame.number"), n.to_string());
        for f in &WS_FIELDS[1..] {
            let mine: Vec<&String> = ours[*f].iter().filter(|v| !v.is_empty()).collect();
            let mine = mine
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",");
            let mine = if *f == "tcp.stream" {
                ours[*f][0].clone()
            } else {
                mine
            };
            assert_eq!(mine, get(r, f), "frame {n}, {f}");
        }
    }
}

#[test]
fn websocket_lab_with_labruns_own_client() {
    if !ready("websocket lab") {
        return;
    }
    let run = run_lab(
        "labs/websocket.rhai",
        &["--student", "20215120807 Li Yihang"],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("19 of 19 checks passed"),
        "{}",
        run.text()
    );
    check_capture(&run, true);
    let md = run.read("report.md");
    assert!(md.contains("the **server ends in TIME-WAIT**"), "{md}");
    assert!(md.contains("The client sent the first close frame"), "{md}");
    assert_byte_totals_match_table(&md);
}

#[test]
fn websocket_lab_with_headless_chromium() {
    if !ready("websocket lab with Chromium") {
        return;
    }
    if labrun::websocket::find_browser("chromium").is_err() {
        return common::skip_or_fail("chromium is not installed (apt-get install chromium)");
    }
    let run = run_lab(
        "labs/websocket.rhai",
        &[
            "--browser",
            "chromium",
            "--student",
            "20215120807 Li Yihang",
        ],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("15 of 15 checks passed"),
        "{}",
        run.text()
    );
    check_capture(&run, false);
    let md = run.read("report.md");
    assert!(
        md.contains("headless chromium connected from 10.77.0.1"),
        "{md}"
    );
    assert!(
        md.contains("| 2 Binary | 0 |  | 64-bit (70000) | 10 |"),
        "{md}"
    );
    refresh_example("websocket", &run.dir);
}

/// The bytes sentence of the WebSocket/HTTP comparison says "in total" for the sums of the
/// table's rows (not "per message"), and gives the per-message average from the same rows.
fn assert_byte_totals_match_table(md: &str) {
    assert!(!md.contains("per message here"), "{md}");
    let rows: Vec<Vec<&str>> = md
        .lines()
        .filter(|l| l.contains(" there and back |"))
        .map(|l| l.split(" | ").collect())
        .collect();
    assert!(rows.len() >= 2, "{md}");
    let total = |col: usize| -> u64 {
        rows.iter()
            .map(|r| {
                r[col]
                    .rsplit("= ")
                    .next()
                    .unwrap()
                    .trim()
                    .parse::<u64>()
                    .unwrap()
            })
            .sum()
    };
    let (ws, http, n) = (total(1), total(3), rows.len() as u64);
    let want = format!(
        "for these {n} messages there and back, {http} bytes of HTTP against {ws} bytes of \
         WebSocket frames in total, on average {} against {} bytes per message",
        http / n,
        ws / n
    );
    assert!(md.contains(&want), "missing `{want}` in {md}");
}
