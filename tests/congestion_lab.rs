//! End to end: labs/congestion.rhai in the sandbox (a 5 Mbit/s bottleneck, one segment of
//! each transfer dropped on purpose), checked against tshark on the same capture: every
//! field of the CSV, the fast retransmissions and the duplicate ACKs the report names, and
//! the kernel's window before the loss against what the capture shows in flight. The
//! figure draws the sampled congestion window over the sequence plot. Refreshes
//! reports/examples/congestion[-zh]/.

mod common;

use common::lab::{refresh_example, run_lab_against_tshark};
use common::tshark::tshark_fields_with;
use std::collections::BTreeSet;
use std::path::Path;

/// The frames tshark shows with display filter `filter`.
fn tshark_frames(pcap: &Path, filter: &str) -> BTreeSet<u64> {
    tshark_fields_with(pcap, &["frame.number"], &["-Y", filter])
        .iter()
        .filter_map(|r| r.first()?.parse().ok())
        .collect()
}

/// The number after `before` in `text` (the first one).
fn number_after(text: &str, before: &str) -> u64 {
    text.split(before)
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {before:?} in {text}"))
}

#[test]
fn congestion_lab_names_the_frames_wireshark_flags() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab_against_tshark("labs/congestion.rhai", 12);
    let md = run.read("report.md");
    let pcap = run.dir.join("capture.pcapng");
    for (stream, name) in [(0, "Reno"), (1, "CUBIC")] {
        let section = md
            .split(&format!("### {name}: slow start, the loss and after"))
            .nth(1)
            .unwrap_or_else(|| panic!("no {name} section: {md}"));
        let section = section.split("\n### ").next().unwrap();
        // The fast retransmission the text names is the one tshark flags.
        let named = number_after(section, "before frame ");
        let fast = tshark_frames(
            &pcap,
            &format!("tcp.stream == {stream} && tcp.analysis.fast_retransmission"),
        );
        assert_eq!(fast, BTreeSet::from([named]), "{name}: {section}");
        // So are the duplicate ACKs counted before it.
        let lost_seq = number_after(section, "repeated its ACK for seq ");
        let dups = tshark_frames(
            &pcap,
            &format!(
                "tcp.stream == {stream} && tcp.analysis.duplicate_ack && tcp.ack == {lost_seq} && frame.number < {named}"
            ),
        );
        let counted = number_after(section, "Wireshark flags ");
        assert_eq!(dups.len() as u64, counted, "{name}: {section}");
        assert!(counted >= 3, "{name}: {section}");
        // The frame the link dropped left the client (the capture is the sender's) and
        // is the one the fast retransmission resends.
        let dropped = number_after(section, "data segment (frame ");
        let seqs = tshark_fields_with(
            &pcap,
            &["tcp.seq"],
            &[
                "-Y",
                &format!("frame.number == {dropped} || frame.number == {named}"),
            ],
        );
        assert_eq!(seqs.len(), 2, "{name}");
        assert_eq!(seqs[0], seqs[1], "{name}: {seqs:?}");
        // The kernel's window before the loss is about what the capture had in flight.
        let peak = number_after(section, "grew to ");
        let flight = number_after(section, "When it retransmitted, ");
        assert!(
            peak.abs_diff(flight) <= 5,
            "{name}: cwnd {peak}, in flight {flight}"
        );
        // The figure draws the sampled window (a step line) over the sequence plot.
        let svg = run.read(&format!("seq-capture-{stream}.svg"));
        let cwnd = svg
            .split(r##"stroke="#1a73e8" stroke-width="1.6""##)
            .next()
            .and_then(|s| s.rsplit("<path d=\"").next())
            .unwrap_or_default();
        assert!(cwnd.matches('H').count() > 20, "{name}: {svg}");
        assert!(svg.contains("stroke-dasharray=\"5 3\""), "{name}: ssthresh");
        assert!(svg.contains("relative sequence number"), "{name}");
    }
    // The capture is far longer than the appendix lists: the first frames, then a pointer.
    assert!(
        md.contains("Frames 101 to ")
            && md.contains("every frame is in packets.csv and capture.pcapng"),
        "{md}"
    );
    refresh_example("congestion", &run.dir);

    common::lab::chinese_example(
        "congestion",
        &["慢开始", "拥塞避免", "慢开始门限", "快重传"],
    );
}
