//! End to end: labs/udp.rhai — no handshake, three datagrams for three sends, fragment
//! offsets 0/1480/2960 with MF, ICMP port unreachable and ECONNREFUSED; every capture's
//! packets.csv equal to tshark's. Refreshes reports/examples/udp/.

mod common;

use common::lab::{assert_csv_matches_tshark, capture_pairs, col, refresh_example, run_lab};
use common::tshark::tshark_fields;

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
    assert_nagle_only_when_merged(&md, &run.dir.join("capture-tcp.pcapng"));
    assert_udp_comments(&run.dir.join("capture.pcapng"));
    refresh_example("udp", &run.dir);
}

/// The report's section titled `title` (up to the next heading).
fn section<'a>(md: &'a str, title: &str) -> &'a str {
    let start = md
        .find(&format!("## {title}\n"))
        .unwrap_or_else(|| panic!("no section {title}: {md}"));
    let rest = &md[start + 3..];
    &md[start..start + 3 + rest.find("\n#").unwrap_or(rest.len())]
}

/// The message-boundaries section speaks of data held back (Nagle) only when tshark sees
/// fewer client data segments than the three sends on the second TCP connection, and
/// otherwise names each segment.
fn assert_nagle_only_when_merged(md: &str, pcap: &std::path::Path) {
    let rows = tshark_fields(pcap, &["tcp.stream", "ip.src", "tcp.len", "frame.number"]);
    let segs: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[0] == "1" && r[1] == "10.77.0.1" && r[2] != "0")
        .collect();
    let text = section(md, "Message boundaries");
    let held = text.contains("Nagle") || text.contains("held");
    assert_eq!(held, segs.len() < 3, "{} data segments: {text}", segs.len());
    for r in &segs {
        assert!(
            text.contains(&format!("{} (Len={})", r[3], r[2])),
            "frame {}: {text}",
            r[3]
        );
    }
}

/// The capture explains its UDP datagrams, fragments and the port unreachable in packet
/// comments that tshark reads, with tshark's own numbers.
fn assert_udp_comments(pcap: &std::path::Path) {
    let rows = common::tshark::tshark_fields_with(
        pcap,
        &["frame.number", "udp.length", "icmp.type", "frame.comment"],
        &["-Y", "frame.comment"],
    );
    let mut datagrams = 0;
    for r in &rows {
        let (frame, length, icmp, comment) = (&r[0], &r[1], &r[2], &r[3]);
        if let Some(rest) = comment.strip_prefix("UDP datagram: length ") {
            let said: String = rest.chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(&said, length, "frame {frame}: {comment:?}");
            datagrams += 1;
        }
        if icmp == "3" {
            assert!(
                comment.contains("port unreachable"),
                "frame {frame}: {comment:?}"
            );
        }
    }
    assert!(datagrams >= 3, "{rows:?}");
    assert!(
        rows.iter().any(|r| r[3].contains("IPv4 fragment")),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r[2] == "3"),
        "no ICMP port unreachable: {rows:?}"
    );
}
