//! End to end: labs/udp.rhai — no handshake, three datagrams for three sends, fragment
//! offsets 0/1480/2960 with MF, ICMP port unreachable and ECONNREFUSED; every capture's
//! packets.csv equal to tshark's. Refreshes reports/examples/udp/.

mod common;

use common::lab::{assert_csv_matches_tshark, capture_pairs, col, refresh_example, run_lab};

#[test]
fn udp_lab_shows_fragments_and_port_unreachable() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab("labs/udp.rhai", &["--student", "20215120807 Li Yihang"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("12 of 12 checks passed"),
        "{}",
        run.text()
    );
    for (csv, pcap) in capture_pairs(&run.dir) {
        assert_csv_matches_tshark(&csv, &pcap);
    }
    let rows = run.csv("packets.csv");
    let frags: Vec<(String, String)> = rows[1..]
        .iter()
        .filter(|r| {
            r[col("ip.src")] == "10.77.0.1" && !r[col("frame.time_relative")].is_empty() && {
                let info = &r[col("_ws.col.info")];
                info.starts_with("Fragmented IP protocol") || info.contains("Len=4000")
            }
        })
        .map(|r| {
            (
                r[col("frame.number")].clone(),
                r[col("_ws.col.info")].clone(),
            )
        })
        .collect();
    assert_eq!(frags.len(), 3, "three fragments: {frags:?}");
    assert!(
        rows[1..].iter().all(|r| r[col("tcp.srcport")].is_empty()),
        "no TCP in the UDP capture"
    );
    let md = run.read("report.md");
    assert!(
        md.contains("| 0x") && md.contains("| 1480 | 1 |") && md.contains("| 2960 | 0 |"),
        "{md}"
    );
    assert!(
        md.contains("Destination unreachable (Port unreachable)"),
        "{md}"
    );
    assert!(md.contains("ECONNREFUSED"), "{md}");
    refresh_example("udp", &run.dir);
}
