//! End to end: run labs/chat.rhai in the sandbox with a real capture, read the report it
//! wrote, and compare packets.csv with tshark on the same capture.pcapng. Also refreshes the
//! committed example report in reports/examples/chat/.

mod common;

use common::lab::{assert_csv_matches_tshark, col, data_lens, refresh_example, run_lab};

#[test]
fn chat_lab_report_matches_tshark() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab("labs/chat.rhai", &["--student", "20215120807 Li Yihang"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("9 of 9 checks passed"),
        "{}",
        run.text()
    );
    for f in ["report.md", "packets.csv", "capture.pcapng"] {
        assert!(run.dir.join(f).is_file(), "{f} missing");
    }
    assert_csv_matches_tshark(
        &run.dir.join("packets.csv"),
        &run.dir.join("capture.pcapng"),
    );
    // The capture explains itself in Wireshark: the handshake and close as packet comments.
    let comments = common::tshark::assert_comments_match_tshark(
        &run.dir.join("capture.pcapng"),
        &[
            "handshake 1/3",
            "handshake 2/3",
            "handshake 3/3",
            "close 1/4",
            "close 2/4",
            "close 3/4",
            "close 4/4",
        ],
    );
    assert!(
        comments
            .values()
            .any(|c| c
                .starts_with("handshake 2/3: SYN+ACK, seq=0 (server ISN), ack=1 (client ISN + 1)")),
        "{comments:?}"
    );

    // The wire really showed ARP, the handshake, both messages and the close.
    let rows = run.csv("packets.csv");
    let protocols: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[col("_ws.col.info")].as_str())
        .collect();
    assert!(
        protocols[0].starts_with("Who has 10.77.0.2? Tell 10.77.0.1"),
        "{protocols:?}"
    );
    assert!(
        protocols[1].starts_with("10.77.0.2 is at 02:00:00:00:00:02"),
        "{protocols:?}"
    );
    let flags: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[col("tcp.flags.str")].as_str())
        .filter(|f| !f.is_empty())
        .collect();
    assert_eq!(
        &flags[..3],
        ["··········S·", "·······A··S·", "·······A····"]
    );
    assert_eq!(
        data_lens(&rows, "10.77.0.1"),
        ["31"],
        "the client's message"
    );
    assert_eq!(data_lens(&rows, "10.77.0.2"), ["39"], "the server's answer");
    assert_eq!(
        flags.iter().filter(|f| f.ends_with('F')).count(),
        2,
        "one FIN each way"
    );

    // The report explains with this capture's numbers.
    let md = run.read("report.md");
    assert!(md.contains("| Name | Li Yihang |"), "{md}");
    assert!(md.contains("| Student ID | 20215120807 |"), "{md}");
    // The payload carries the run's nonce, and the header names it.
    let nonce = md
        .split("| Run nonce | `")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .expect("the header names the run's nonce");
    assert!(
        md.contains(&format!("20215120807 Li Yihang #{nonce}")),
        "{md}"
    );
    assert!(md.contains("**ack 32 = 1 + 31**"), "{md}");
    assert!(md.contains("**ack 40 = 1 + 39**"), "{md}");
    assert!(md.contains("ack 1 = client seq 0 + 1"), "{md}");
    assert!(md.contains("**ARP request**"), "{md}");
    assert!(md.contains("9 of 9 checks passed"), "{md}");
    assert_close_explained(&rows, &md);
    assert_scaling_matches_tshark(&md, &run.dir.join("capture.pcapng"));
    assert_states_match_flags(&md, &run.dir.join("capture.pcapng"));
    assert_header_fields_match_tshark(&md, &run.dir.join("capture.pcapng"));

    refresh_example("chat", &run.dir);
}

/// The close section names the lab's close_delay and, when the server's bare ACK of the
/// client's FIN came 20 ms or more after it (tshark's times), calls it a delayed ACK.
fn assert_close_explained(rows: &[Vec<String>], md: &str) {
    assert!(md.contains("close_delay=100"), "{md}");
    let fin = rows[1..]
        .iter()
        .position(|r| r[col("ip.src")] == "10.77.0.1" && r[col("tcp.flags.str")].ends_with('F'))
        .expect("the client's FIN")
        + 1;
    let ack = &rows[fin + 1];
    assert_eq!(
        ack[col("ip.src")],
        "10.77.0.2",
        "the server answers the FIN"
    );
    let time = |r: &Vec<String>| r[col("frame.time_relative")].parse::<f64>().unwrap();
    let gap_ms = (time(ack) - time(&rows[fin])) * 1000.0;
    let bare = !ack[col("tcp.flags.str")].ends_with('F');
    assert_eq!(
        md.contains("a **delayed ACK**"),
        bare && gap_ms >= 20.0,
        "gap {gap_ms} ms: {md}"
    );
    if bare && gap_ms >= 20.0 {
        assert!(
            md.contains("That is why this close shows four packets"),
            "{md}"
        );
    }
}

/// The window-scaling paragraph under the packet table names the shift each SYN announced
/// and one scaled window, with the numbers tshark gives for the same frames.
fn assert_scaling_matches_tshark(md: &str, pcap: &std::path::Path) {
    let rows = common::tshark::tshark_fields(
        pcap,
        &[
            "frame.number",
            "tcp.options.wscale.shift",
            "tcp.window_size_value",
            "tcp.window_size",
        ],
    );
    let row = |n: &str| {
        rows.iter()
            .find(|r| r[0] == n)
            .unwrap_or_else(|| panic!("frame {n}"))
    };
    let start = md
        .find("### Window scaling and SACK_PERM (frames ")
        .expect(md);
    let text = &md[start..];
    let text = &text[..text.find("\n\n#").unwrap_or(text.len())];
    let frames: Vec<&str> = text["### Window scaling and SACK_PERM (frames ".len()..]
        .split(')')
        .next()
        .unwrap()
        .split(", ")
        .collect();
    for n in &frames {
        let shift = &row(n)[1];
        assert!(
            text.contains(&format!(
                "(frame {n}) carried the window scale option with shift {shift}: Wireshark's WS={}",
                1u64 << shift.parse::<u32>().unwrap()
            )),
            "frame {n} shift {shift}: {text}"
        );
    }
    let at = text
        .find("\nFrame ")
        .or_else(|| text.find(" Frame "))
        .expect(text);
    let n: String = text[at + 7..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = row(&n);
    assert!(
        text.contains(&format!(
            "Frame {n}: Win={} in the Info column is the scaled window (`tcp.window_size`): the field on the wire (`tcp.window_size_value`) is {}",
            r[3], r[2]
        )),
        "frame {n}: {r:?}: {text}"
    );
}

/// Every TCP-state cell of the capture's packet table agrees with the flags tshark shows
/// for that frame: handshake 1 is a bare SYN, 2 a SYN+ACK, 3 an ACK; close 1 and 3 carry
/// FIN, close 2 and 4 are ACKs without FIN; all seven steps are there, in order.
fn assert_states_match_flags(md: &str, pcap: &std::path::Path) {
    let rows = common::tshark::tshark_fields(pcap, &["frame.number", "tcp.flags.str"]);
    let flags = |n: &str| {
        rows.iter()
            .find(|r| r[0] == n)
            .map(|r| r[1].clone())
            .unwrap()
    };
    let table = &md[md.find("Packets: capture.pcapng (").expect(md)..];
    let table = &table[..table.find("\n#").unwrap_or(table.len())];
    let mut steps = Vec::new();
    for line in table
        .lines()
        .filter(|l| l.starts_with("| ") && l.ends_with(" |"))
    {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let (n, state) = (cells[0], cells[cells.len() - 1]);
        let Some((step, _)) = state.split_once(": ") else {
            continue;
        };
        let f = flags(n);
        let (syn, ack, fin) = (f.contains('S'), f.contains('A'), f.contains('F'));
        let ok = match step {
            "handshake 1/3" => syn && !ack,
            "handshake 2/3" => syn && ack,
            "handshake 3/3" | "close 2/4" | "close 4/4" => ack && !syn && !fin,
            "close 1/4" | "close 3/4" => fin,
            other => panic!("unexpected step {other} in {line}"),
        };
        assert!(ok, "frame {n} ({f}) is not {step}: {line}");
        steps.push(step.to_string());
    }
    assert_eq!(
        steps,
        [
            "handshake 1/3",
            "handshake 2/3",
            "handshake 3/3",
            "close 1/4",
            "close 2/4",
            "close 3/4",
            "close 4/4"
        ]
    );
}

/// Every value of the two header-field tables equals what tshark prints for the same
/// Wireshark field of the same frame, and both checksums are said to be correct.
fn assert_header_fields_match_tshark(md: &str, pcap: &std::path::Path) {
    let start = md.find("## Header fields, one by one").expect(md);
    let part = &md[start..];
    let part = &part[..part[3..].find("\n#").map_or(part.len(), |i| i + 3)];
    let mut frame = String::new();
    let mut checked = 0;
    let mut tables = 0;
    for line in part.lines() {
        if let Some(rest) = line.strip_prefix("Frame ") {
            frame = rest.chars().take_while(char::is_ascii_digit).collect();
            continue;
        }
        if line.starts_with("| Field |") {
            tables += 1;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.len() != 6 || !cells[5].starts_with('`') {
            continue;
        }
        let field = cells[5].trim_matches('`');
        if field == "tcp.option_kind" {
            continue; // one value per option: several in tshark's column
        }
        let rows = common::tshark::tshark_fields_with(
            pcap,
            &["frame.number", field],
            &["-Y", &format!("frame.number == {frame}")],
        );
        let want = rows
            .iter()
            .find(|r| r[0] == frame)
            .map(|r| r[1].clone())
            .unwrap();
        assert_eq!(cells[3], want, "frame {frame} {field}: {line}");
        if field.ends_with("checksum") {
            assert!(cells[4].ends_with("equal: correct"), "{line}");
        }
        checked += 1;
    }
    assert_eq!(tables, 2, "{part}");
    assert!(checked >= 40, "{checked} fields checked: {part}");
    assert!(
        part.contains("| Control bits: CWR ECE | URG ACK PSH RST SYN FIN |")
            || part.contains("00 010010"),
        "{part}"
    );
}
