//! End to end: labs/multi_client.rhai serves three interleaving clients from one server
//! port; the capture shows three streams from three client ports. Refreshes
//! reports/examples/multi_client/.

mod common;

use common::lab::{assert_csv_matches_tshark, col, refresh_example, run_lab};
use std::collections::BTreeSet;

#[test]
fn three_clients_three_streams_one_port() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab(
        "labs/multi_client.rhai",
        &["--student", "20215120807 Li Yihang"],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("8 of 8 checks passed"),
        "{}",
        run.text()
    );
    assert_csv_matches_tshark(
        &run.dir.join("packets.csv"),
        &run.dir.join("capture.pcapng"),
    );

    let rows = run.csv("packets.csv");
    let syns: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|r| r[col("tcp.flags.str")] == "··········S·")
        .collect();
    assert_eq!(syns.len(), 3, "three SYNs");
    let client_ports: BTreeSet<&str> = syns
        .iter()
        .map(|r| r[col("tcp.srcport")].as_str())
        .collect();
    let server_ports: BTreeSet<&str> = syns
        .iter()
        .map(|r| r[col("tcp.dstport")].as_str())
        .collect();
    let streams: BTreeSet<&str> = rows[1..]
        .iter()
        .map(|r| r[col("tcp.stream")].as_str())
        .collect();
    assert_eq!(client_ports.len(), 3, "three client ports");
    assert_eq!(server_ports.into_iter().collect::<Vec<_>>(), ["9000"]);
    assert_eq!(streams.into_iter().collect::<Vec<_>>(), ["0", "1", "2"]);
    let md = run.read("report.md");
    assert!(
        md.contains("| line | Li Yihang |"),
        "the server's view names the line: {md}"
    );
    refresh_example("multi_client", &run.dir);
}
