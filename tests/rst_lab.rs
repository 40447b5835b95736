//! End to end: labs/rst.rhai — the four RST causes (closed port, abortive close, unread
//! data, data after close) with ECONNREFUSED / ECONNRESET / EPIPE, and a half-close without
//! RST; packets.csv equal to tshark's. Refreshes reports/examples/rst/.

mod common;

use common::lab::{assert_csv_matches_tshark, capture_pairs, col, refresh_example, run_lab};

#[test]
fn rst_lab_shows_each_cause_and_error() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab("labs/rst.rhai", &["--student", "20215120807 Li Yihang"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("32 of 32 checks passed"),
        "{}",
        run.text()
    );
    for (csv, pcap) in capture_pairs(&run.dir) {
        assert_csv_matches_tshark(&csv, &pcap);
    }
    // Four RSTs on the wire, all from the server: RST+ACK three times, a bare RST once.
    let rows = run.csv("packets.csv");
    let rsts: Vec<(String, String)> = rows[1..]
        .iter()
        .filter(|r| r[col("_ws.col.info")].contains("[RST"))
        .map(|r| {
            let ack = r[col("_ws.col.info")].contains("[RST, ACK]");
            (
                r[col("ip.src")].clone(),
                if ack { "1" } else { "0" }.to_string(),
            )
        })
        .collect();
    let server = "10.77.0.2".to_string();
    assert_eq!(
        rsts,
        vec![
            (server.clone(), "1".into()),
            (server.clone(), "1".into()),
            (server.clone(), "1".into()),
            (server, "0".into()),
            ("10.77.0.1".to_string(), "1".into()),
        ],
        "the five RSTs: {rsts:?}"
    );
    let md = run.read("report.md");
    // The manual's numbering: each of its four causes names this run's RST frames, and
    // every frame named there is a RST of the capture.
    let rst_frames: Vec<String> = rows[1..]
        .iter()
        .filter(|r| r[col("_ws.col.info")].contains("[RST"))
        .map(|r| r[col("frame.number")].clone())
        .collect();
    let manual = md
        .split("## The manual's four causes")
        .nth(1)
        .expect("the manual's causes section");
    for (cause, case) in [
        ("| 1) port not open |", "1. Connect to a closed port"),
        ("| 2) request timeout |", "5. Timeout"),
        ("| 3) closed early", "2. Abortive close"),
        (
            "| 4) data arriving at a closed socket |",
            "4. Data after the peer closed",
        ),
    ] {
        let row = manual
            .lines()
            .find(|l| l.starts_with(cause))
            .unwrap_or_else(|| panic!("no row `{cause}` in\n{manual}"));
        assert!(row.contains(case), "{row}");
        let frames = row.rsplit('|').nth(1).expect("frame column");
        for f in frames.split(',').map(str::trim) {
            assert!(
                rst_frames.iter().any(|r| r == f),
                "frame {f} of `{row}` is not a RST: {rst_frames:?}"
            );
        }
    }
    for want in [
        "| 1 | Connect to a closed port |",
        "closed port | ECONNREFUSED |",
        "abortive close | ECONNRESET |",
        "unread data | ECONNRESET |",
        "data after close | EPIPE |",
        // The manual's timeout cause: keepalive gives up, RST from the client, ETIMEDOUT.
        "| 5 | Timeout: keepalive gives up |",
        "| client | yes | timeout | ETIMEDOUT |",
        "[TCP Keep-Alive]",
        "No RST: 0 captured",
    ] {
        assert!(md.contains(want), "missing `{want}` in\n{md}");
    }
    // A RST is never answered with a RST, but it may be answered (RFC 5961's challenge
    // ACK): the report must not claim that nothing ever answers one.
    for wrong in ["TCP never does", "Nothing answers a RST", "the four causes"] {
        assert!(!md.contains(wrong), "`{wrong}` in\n{md}");
    }
    for want in [
        "never answered with a RST",
        // Case 1: Seq=1 in the Info column beside raw seq 0 is explained.
        "shows Seq=1 although the field on the wire is 0",
        // Cases 2-4: the receiver accepted an exact RST.
        "exactly the next one the client expected",
        // Case 4: the closer is in FIN-WAIT-2, not TIME-WAIT.
        "moved the server to **FIN-WAIT-2**",
    ] {
        assert!(md.contains(want), "missing `{want}` in\n{md}");
    }
    refresh_example("rst", &run.dir);
}
