//! End to end: labs/retransmit.rhai in the sandbox. The link drops a segment twice (the
//! retransmission timer recovers it, backing off) and one of ten segments (fast retransmit
//! after duplicate ACKs); every frame the report names as a retransmission, fast
//! retransmission or duplicate ACK is exactly the frame tshark flags with that
//! `tcp.analysis.*` field on the same capture. Refreshes reports/examples/retransmit/ and,
//! from a run in Chinese, reports/examples/retransmit-zh/.

mod common;

use common::lab::{refresh_example, run_lab_against_tshark};
use common::tshark::tshark_fields_with;
use std::collections::BTreeSet;
use std::path::Path;

/// The `tcp.analysis.*` flags the report's tables name.
const FLAGS: [&str; 3] = ["retransmission", "fast_retransmission", "duplicate_ack"];

/// The frames of the table under the section `heading` whose analysis cell names `flag`
/// (a table row starts with its frame number).
fn report_frames(md: &str, heading: &str, flag: &str) -> BTreeSet<u64> {
    let start = md
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading}: {md}"));
    let rest = &md[start + heading.len()..];
    let section = &rest[..rest.find("\n#").unwrap_or(rest.len())];
    section
        .lines()
        .filter(|l| l.starts_with("| "))
        .filter(|l| {
            // The analysis cell: "tcp.analysis.a, tcp.analysis.b#n".
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells.get(6).is_some_and(|cell| {
                cell.split(", ")
                    .any(|f| f.split('#').next() == Some(&format!("tcp.analysis.{flag}")))
            })
        })
        .filter_map(|l| l[2..].split(" |").next()?.trim().parse().ok())
        .collect()
}

/// The frames tshark flags with `tcp.analysis.<flag>`.
fn tshark_frames(pcap: &Path, flag: &str) -> BTreeSet<u64> {
    tshark_fields_with(
        pcap,
        &["frame.number"],
        &["-Y", &format!("tcp.analysis.{flag}")],
    )
    .iter()
    .filter_map(|r| r.first()?.parse().ok())
    .collect()
}

#[test]
fn retransmit_lab_names_the_frames_wireshark_flags() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab_against_tshark("labs/retransmit.rhai", 14);

    let md = run.read("report.md");
    let cases = [
        (
            "## Case 1: recovered by the retransmission timer",
            "capture.pcapng",
        ),
        (
            "## Case 2: recovered by fast retransmit",
            "capture-fast.pcapng",
        ),
    ];
    for (heading, pcap) in cases {
        let pcap = run.dir.join(pcap);
        for flag in FLAGS {
            let ours = report_frames(&md, heading, flag);
            let theirs = tshark_frames(&pcap, flag);
            assert_eq!(ours, theirs, "{heading}: tcp.analysis.{flag}\n{md}");
        }
    }
    // Case 1: the segment and its first retransmission dropped, the second delivered.
    assert_eq!(
        md.matches("**dropped on the way to the server**").count(),
        3,
        "{md}"
    );
    assert_eq!(
        report_frames(&md, cases[0].0, "retransmission").len(),
        2,
        "{md}"
    );
    assert_eq!(
        report_frames(&md, cases[1].0, "fast_retransmission").len(),
        1,
        "{md}"
    );
    assert!(
        report_frames(&md, cases[1].0, "duplicate_ack").len() >= 3,
        "{md}"
    );
    // Case 3: the textbook row names the resend frame and how it came; tshark agrees.
    let row: Vec<&str> = md
        .lines()
        .find(|l| l.starts_with("| textbook (SACK and RACK off) |"))
        .unwrap_or_else(|| panic!("no textbook row: {md}"))
        .split('|')
        .map(str::trim)
        .collect();
    let frame: u64 = row[5].parse().unwrap();
    let pcap = run.dir.join("capture-textbook.pcapng");
    assert!(
        tshark_frames(&pcap, "retransmission").contains(&frame),
        "{md}"
    );
    assert_eq!(
        tshark_frames(&pcap, "fast_retransmission").contains(&frame),
        row[4] == "fast retransmit",
        "{md}"
    );
    let dups = tshark_frames(&pcap, "duplicate_ack");
    let before = dups.iter().filter(|n| **n < frame).count();
    assert_eq!(row[3], before.to_string(), "{md}");
    refresh_example("retransmit", &run.dir);

    common::lab::chinese_example(
        "retransmit",
        &["14 项检查中通过 14 项", "在去往服务器的途中被丢弃"],
    );
}

/// The retransmission, flow-control, Nagle and congestion labs as an ordinary user: the link's loss rules
/// (nftables in labrun's user namespace), the bottleneck (tc), the textbook profile's settings, socket options
/// and TCP_INFO need no root.
#[test]
fn timer_labs_run_as_an_ordinary_user() {
    use std::process::Command;
    if !common::is_root() {
        return common::skip_or_fail("creating a test user needs root");
    }
    let user = "labrun-student";
    let _ = Command::new("useradd")
        .args(["--no-create-home", "--shell", "/bin/sh", user])
        .output();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("labrun");
    std::fs::copy(env!("CARGO_BIN_EXE_labrun"), &bin).unwrap();
    let labs = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs");
    for (program, args) in [
        (
            "cp",
            vec!["-r", labs.to_str().unwrap(), dir.path().to_str().unwrap()],
        ),
        ("chown", vec![user, dir.path().to_str().unwrap()]),
        ("chmod", vec!["-R", "a+rX", dir.path().to_str().unwrap()]),
    ] {
        assert!(Command::new(program).args(args).status().unwrap().success());
    }
    for (lab, checks) in [
        ("retransmit", 14),
        ("flow_control", 5),
        ("nagle", 7),
        ("congestion", 12),
    ] {
        let out = dir.path().join(format!("report-{lab}"));
        let o = Command::new("runuser")
            .args(["-u", user, "--"])
            .arg(&bin)
            .arg(dir.path().join(format!("labs/{lab}.rhai")))
            .arg("--out")
            .arg(&out)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        if text.contains("user namespaces") && o.status.code() == Some(2) {
            return common::skip_or_fail(&format!(
                "this system forbids unprivileged user namespaces: {text}"
            ));
        }
        assert_eq!(o.status.code(), Some(0), "{lab}: {text}");
        assert!(
            text.contains(&format!("{checks} of {checks} checks passed")),
            "{lab}: {text}"
        );
        if lab == "retransmit" {
            let md = std::fs::read_to_string(out.join("report.md")).unwrap();
            assert_eq!(
                md.matches("**dropped on the way to the server**").count(),
                3,
                "{md}"
            );
        }
    }
}
