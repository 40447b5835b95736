//! End to end: labs/scan.rhai in the sandbox — listeners, a dropped and a rejected port,
//! connect, SYN and FIN scans — with every check passing, the packet exchanges in the
//! captures (compared with tshark) and the report's explanations. Refreshes
//! reports/examples/scan/.

mod common;

use common::lab::{assert_csv_matches_tshark, capture_pairs, col, refresh_example, run_lab};

#[test]
fn scan_lab_explains_every_port() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox, its firewall and raw sockets need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    if !std::path::Path::new("/usr/sbin/nft").exists() && !common::have_program("nft") {
        return common::skip_or_fail("nft is not installed (apt-get install nftables)");
    }
    let before = common::host_state::root_links();
    let run = run_lab("labs/scan.rhai", &["--student", "20215120807 Li Yihang"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("28 of 28 checks passed"),
        "{}",
        run.text()
    );
    assert_eq!(common::host_state::root_links(), before);

    let pairs = capture_pairs(&run.dir);
    assert_eq!(
        pairs.len(),
        3,
        "one exchange capture per scan type: {pairs:?}"
    );
    for (csv, pcap) in &pairs {
        assert_csv_matches_tshark(csv, pcap);
    }

    let flags = |name: &str, src: &str, port: &str| -> Vec<String> {
        let rows = run.csv(name);
        rows[1..]
            .iter()
            .filter(|r| {
                r[col("ip.src")] == src
                    && (r[col("tcp.srcport")] == port || r[col("tcp.dstport")] == port)
            })
            .map(|r| r[col("tcp.flags.str")].clone())
            .collect()
    };
    // Connect scan: the whole handshake to the open port, then the scanner's FIN.
    let c = flags("packets-connect-exchange.csv", "10.77.0.1", "22");
    assert_eq!(
        c[..3],
        ["··········S·", "·······A····", "·······A···F"],
        "{c:?}"
    );
    // SYN scan: SYN, then the client kernel's RST after the server's SYN-ACK.
    assert_eq!(
        flags("packets-syn-exchange.csv", "10.77.0.1", "22"),
        ["··········S·", "·········R··"]
    );
    assert_eq!(
        flags("packets-syn-exchange.csv", "10.77.0.2", "22"),
        ["·······A··S·"]
    );
    // FIN scan: the open port never answers; the closed one answers RST.
    assert!(flags("packets-fin-exchange.csv", "10.77.0.2", "22").is_empty());
    assert_eq!(
        flags("packets-fin-exchange.csv", "10.77.0.2", "23"),
        ["·······A·R··"]
    );

    let md = run.read("report.md");
    for want in [
        "tcp dport 25 drop",
        "| 110/tcp | filtered | pop3 | port-unreach | 1 |",
        "| 25/tcp | open\\|filtered | smtp | no-response | 3 |",
        "**RST from the client**",
        "cannot tell the two apart",
        "Not shown: 1019 closed ports (reset).",
    ] {
        assert!(md.contains(want), "report.md lacks {want:?}:\n{md}");
    }
    refresh_example("scan", &run.dir);
}
