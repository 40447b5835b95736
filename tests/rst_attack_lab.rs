//! End to end: labs/rst_attack.rhai — three hosts; RSTs forged by the attacker as the server:
//! out of window ignored, in window answered by a challenge ACK (RFC 5961), exact kills the
//! connection (ECONNRESET); asserted from the capture; packets.csv equal to tshark's.
//! Refreshes reports/examples/rst_attack/.

mod common;

use common::lab::{assert_csv_matches_tshark, capture_pairs, col, refresh_example, run_lab};

#[test]
fn forged_rsts_ignored_challenged_and_fatal() {
    if !common::is_root() {
        return common::skip_or_fail(
            "raw sockets, the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab(
        "labs/rst_attack.rhai",
        &["--student", "20215120807 Li Yihang"],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("6 of 6 checks passed"),
        "{}",
        run.text()
    );
    for (csv, pcap) in capture_pairs(&run.dir) {
        assert_csv_matches_tshark(&csv, &pcap);
    }
    let rows = run.csv("packets.csv");
    let is_rst = |r: &Vec<String>| r[col("_ws.col.info")].contains("[RST]");
    let rst_at: Vec<usize> = (1..rows.len()).filter(|&i| is_rst(&rows[i])).collect();
    assert_eq!(
        rst_at.len(),
        3,
        "three forged RSTs (the lab's own abort is RST+ACK)"
    );
    for &i in &rst_at {
        assert_eq!(rows[i][col("ip.src")], "10.77.0.2", "forged as the server");
        assert_eq!(rows[i][col("ip.dst")], "10.77.0.1");
    }
    // The first forged RST is out of window: the next packet is the server's data, not the client's.
    assert_eq!(rows[rst_at[0] + 1][col("ip.src")], "10.77.0.2");
    // The second is in window: the client's next packet is a bare ACK acking rcv_nxt.
    let challenge = &rows[rst_at[1] + 1];
    assert_eq!(challenge[col("ip.src")], "10.77.0.1", "challenge ACK");
    assert_eq!(challenge[col("tcp.len")], "0");
    assert!(
        challenge[col("_ws.col.info")].contains("[ACK]"),
        "{challenge:?}"
    );
    let rst_seq: u64 = rows[rst_at[1]][col("tcp.seq_raw")].parse().unwrap();
    let acked: u64 = challenge[col("tcp.ack_raw")].parse().unwrap();
    assert_eq!(
        (rst_seq + (1 << 32) - acked) % (1 << 32),
        1000,
        "rcv_nxt + 1000"
    );
    // The third is exact: the client never sends on this connection again.
    assert!(
        rows[rst_at[2] + 1..]
            .iter()
            .all(|r| r[col("ip.src")] != "10.77.0.1"),
        "nothing from the client after the exact RST"
    );
    let md = run.read("report.md");
    assert!(md.contains("dead: recv → ECONNRESET"), "{md}");
    assert!(md.contains("challenge ACK"), "{md}");
    // A RST is answered here (the challenge ACK): the report must not say nothing answers one.
    assert!(!md.contains("nothing answers a RST"), "{md}");
    assert!(md.contains("never answered with a RST"), "{md}");
    // Every frame Wireshark labels a retransmission or a duplicate ACK is explained, and so
    // is the real server's own RST after the attack.
    for r in &rows[1..] {
        let info = &r[col("_ws.col.info")];
        let n = &r[col("frame.number")];
        if info.contains("[TCP Retransmission]") || info.contains("[TCP Dup ACK") {
            assert!(
                md.contains(&format!("- frame {n} **[TCP ")),
                "frame {n} unexplained: {md}"
            );
        }
        if info.contains("[RST, ACK]") {
            assert!(
                md.contains(&format!("frame {n} (RST, ACK")),
                "frame {n} unexplained: {md}"
            );
        }
    }
    refresh_example("rst_attack", &run.dir);
}
