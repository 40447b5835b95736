//! End to end: run labs/chat.rhai with a real capture, read the report it wrote, and
//! compare packets.csv with tshark on the same capture.pcap. Also refreshes the committed
//! example report in reports/examples/chat/.

mod common;

use labrun::analysis::CSV_FIELDS;
use std::path::Path;
use std::process::Command;

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn chat_lab_report_matches_tshark() {
    if !common::is_root() {
        return common::skip_or_fail("capturing needs root (run the tests as root)");
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("chat");
    let out = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "labs/chat.rhai",
            "--student",
            "20215120807 Li Yihang",
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("7 of 7 checks passed"), "{stdout}");
    for f in ["report.md", "packets.csv", "capture.pcap"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }

    // packets.csv equals tshark's view of capture.pcap, frame by frame, field by field.
    let ours = read_csv(&out_dir.join("packets.csv"));
    let theirs = common::tshark::tshark_fields(&out_dir.join("capture.pcap"), CSV_FIELDS);
    assert_eq!(ours[0], CSV_FIELDS, "header row");
    assert_eq!(ours.len() - 1, theirs.len(), "frame count");
    for (i, (a, b)) in ours[1..].iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "frame {} differs from tshark", i + 1);
    }

    // The wire really showed the handshake, both messages and the close.
    let col = |name: &str| CSV_FIELDS.iter().position(|f| *f == name).unwrap();
    let flags: Vec<&str> = ours[1..]
        .iter()
        .map(|r| r[col("tcp.flags.str")].as_str())
        .collect();
    assert_eq!(
        &flags[..3],
        ["··········S·", "·······A··S·", "·······A····"]
    );
    let lens: Vec<&str> = ours[1..]
        .iter()
        .map(|r| r[col("tcp.len")].as_str())
        .filter(|l| *l != "0")
        .collect();
    assert_eq!(lens, ["21", "39"], "the two messages");
    let fins = flags.iter().filter(|f| f.ends_with('F')).count();
    assert_eq!(fins, 2, "one FIN each way");

    // The report explains with this capture's numbers.
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("| Student | 20215120807 Li Yihang |"), "{md}");
    assert!(md.contains("**ack 22 = 1 + 21**"), "{md}");
    assert!(md.contains("**ack 40 = 1 + 39**"), "{md}");
    assert!(md.contains("ack 1 = client seq 0 + 1"), "{md}");
    assert!(md.contains("7 of 7 checks passed"), "{md}");

    refresh_example(&out_dir);
}

/// Replaces reports/examples/chat with this run's report, so the committed example is
/// always what the current labrun produces.
fn refresh_example(from: &Path) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/examples/chat");
    let _ = std::fs::remove_dir_all(&example);
    std::fs::create_dir_all(&example).unwrap();
    for f in ["report.md", "packets.csv", "capture.pcap"] {
        std::fs::copy(from.join(f), example.join(f)).unwrap();
    }
}
