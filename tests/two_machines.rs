//! `--network host`: two namespaces made by the test stand in for two machines joined by a
//! cable; one labrun plays the server on one, another the client on the other.

mod common;

use common::two_machines::TwoMachines;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn play(ns: &str, lab: &str, role: &str, peer: &str, out: &Path) -> std::process::Child {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            env!("CARGO_BIN_EXE_labrun"),
            lab,
            "--network",
            "host",
            "--role",
            role,
            "--peer",
            peer,
            "--out",
        ])
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run_both(lab: &str, tag: &str) -> (Output, Output, tempfile::TempDir) {
    let machines = TwoMachines::new(tag);
    let dir = tempfile::tempdir().unwrap();
    let server = play(
        &machines.a,
        lab,
        "server",
        "10.78.0.2",
        &dir.path().join("server"),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let client = play(
        &machines.b,
        lab,
        "client",
        "10.78.0.1",
        &dir.path().join("client"),
    );
    let c = client.wait_with_output().unwrap();
    let s = server.wait_with_output().unwrap();
    (s, c, dir)
}

#[test]
fn chat_lab_across_two_machines() {
    if !common::is_root() {
        return common::skip_or_fail("making two namespaces needs root");
    }
    let (s, c, dir) = run_both("labs/chat.rhai", "chat");
    assert_eq!(s.status.code(), Some(0), "server: {}", text(&s));
    assert_eq!(c.status.code(), Some(0), "client: {}", text(&c));
    for side in ["server", "client"] {
        let md = std::fs::read_to_string(dir.path().join(side).join("report.md")).unwrap();
        assert!(md.contains("two machines: this one is the"), "{md}");
        assert!(md.contains("**SYN, ACK**"), "{md}");
        let csv = std::fs::read_to_string(dir.path().join(side).join("packets.csv")).unwrap();
        assert!(csv.contains("10.78.0.2,10.78.0.1"), "{csv}");
        assert!(csv.contains("10.78.0.1,10.78.0.2"), "{csv}");
    }
}

#[test]
fn segment_lab_across_two_machines() {
    if !common::is_root() {
        return common::skip_or_fail("making two namespaces needs root");
    }
    let (s, c, dir) = run_both("labs/segment.rhai", "seg");
    assert_eq!(s.status.code(), Some(0), "server: {}", text(&s));
    assert_eq!(c.status.code(), Some(0), "client: {}", text(&c));
    let md = std::fs::read_to_string(dir.path().join("server/report.md")).unwrap();
    assert!(md.contains("ack 2951 = 1 + 2950"), "{md}");
}
