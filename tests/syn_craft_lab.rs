//! End to end: labs/syn_craft.rhai — a crafted SYN answered by SYN-ACK and the client
//! kernel's RST; with that RST dropped by labrun's rule, SYN-ACK retransmissions about 1, 2
//! and 4 s apart; the handshake completed by a crafted ACK; packets.csv equal to tshark's.
//! Refreshes reports/examples/syn_craft/.

mod common;

use common::lab::{assert_csv_matches_tshark, capture_pairs, col, refresh_example, run_lab};

#[test]
fn crafted_syn_gets_kernel_rst_then_synack_backoff() {
    if !common::is_root() {
        return common::skip_or_fail(
            "raw sockets, the sandbox and its capture need root here (run the tests as root)",
        );
    }
    for program in ["tshark", "nft"] {
        if !common::have_program(program) {
            return common::skip_or_fail(&format!(
                "{program} is not installed (apt-get install tshark nftables)"
            ));
        }
    }
    let run = run_lab(
        "labs/syn_craft.rhai",
        &["--student", "20215120807 Li Yihang"],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("7 of 7 checks passed"),
        "{}",
        run.text()
    );
    for (csv, pcap) in capture_pairs(&run.dir) {
        assert_csv_matches_tshark(&csv, &pcap);
    }
    let rows = run.csv("packets.csv");
    let info = |port: &str, what: &str| -> Vec<f64> {
        rows[1..]
            .iter()
            .filter(|r| r[col("tcp.dstport")] == port || r[col("tcp.srcport")] == port)
            .filter(|r| r[col("_ws.col.info")].contains(what))
            .map(|r| r[col("frame.time_relative")].parse().unwrap())
            .collect()
    };
    // The first flow: SYN, SYN-ACK, the client kernel's RST.
    assert_eq!(info("40001", "[SYN, ACK]").len(), 1);
    assert_eq!(info("40001", "[RST]").len(), 1);
    // The second: the RST never left; four SYN-ACKs with doubling gaps.
    let client_rsts = rows[1..]
        .iter()
        .filter(|r| r[col("tcp.srcport")] == "40002" && r[col("_ws.col.info")].contains("[RST"))
        .count();
    assert_eq!(
        client_rsts, 0,
        "the rule kept the client kernel's RST off the wire"
    );
    let synacks = info("40002", "[SYN, ACK]");
    assert_eq!(synacks.len(), 4, "{synacks:?}");
    let gaps: Vec<f64> = synacks.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, want) in gaps.iter().zip([1.0, 2.0, 4.0]) {
        assert!(
            (gap / want - 1.0).abs() < 0.3,
            "backoff gaps {gaps:?}, expected about 1, 2, 4 s"
        );
    }
    let md = run.read("report.md");
    assert!(md.contains("the **client's own kernel** answers"), "{md}");
    assert!(md.contains("tcp sport 40002 tcp flags rst drop"), "{md}");
    refresh_example("syn_craft", &run.dir);
}
