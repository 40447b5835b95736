//! `--network host`: two namespaces made by the test stand in for two machines joined by a
//! cable; one labrun plays the server on one, another the client on the other.

mod common;

use common::two_machines::TwoMachines;

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `labrun LAB --network host --role ROLE --peer PEER --out OUT EXTRA...` inside
/// namespace `ns` (`extra`: `--student`, `--server`, ...).
fn play_with(
    ns: &str,
    lab: &str,
    role: &str,
    peer: &str,
    out: &Path,
    extra: &[&str],
) -> std::process::Child {
    Command::new("ip")
        .env("LABRUN_FORMATS", "none")
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
        .args(extra)
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
    run_both_with(lab, tag, &[], &[])
}

/// `run_both` with more arguments for the server's and the client's labrun.
fn run_both_with(
    lab: &str,
    tag: &str,
    server_args: &[&str],
    client_args: &[&str],
) -> (Output, Output, tempfile::TempDir) {
    let machines = TwoMachines::new(tag);
    let dir = tempfile::tempdir().unwrap();
    let server = play_with(
        &machines.a,
        lab,
        "server",
        "10.78.0.2",
        &dir.path().join("server"),
        server_args,
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let client = play_with(
        &machines.b,
        lab,
        "client",
        "10.78.0.1",
        &dir.path().join("client"),
        client_args,
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

#[test]
fn across_two_machines_each_side_sends_its_own_id_and_name() {
    if !common::is_root() {
        return common::skip_or_fail("making two namespaces needs root");
    }
    let (s, c, dir) = run_both_with(
        "labs/chat.rhai",
        "own",
        &["--student", "1001 Server Student"],
        &["--student", "2002 Client Student"],
    );
    assert_eq!(s.status.code(), Some(0), "server: {}", text(&s));
    assert_eq!(c.status.code(), Some(0), "client: {}", text(&c));
    let client_md = std::fs::read_to_string(dir.path().join("client/report.md")).unwrap();
    assert!(
        client_md.contains("The server answered: \"1001 Server Student\""),
        "{client_md}"
    );
    let server_md = std::fs::read_to_string(dir.path().join("server/report.md")).unwrap();
    assert!(
        server_md.contains("The client sent: \"2002 Client Student #"),
        "{server_md}"
    );
}

#[test]
fn students_programs_across_two_machines() {
    if !common::is_root() {
        return common::skip_or_fail("making two namespaces needs root");
    }
    if !common::have_program("python3") {
        return common::skip_or_fail("python3 is not installed");
    }
    let (s, c, dir) = run_both_with(
        "labs/chat.rhai",
        "prog",
        &[
            "--student",
            "1001 Server Student",
            "--server",
            "python3 examples/programs/python/chat_server.py {port}",
        ],
        &[
            "--student",
            "2002 Client Student",
            "--client",
            "python3 examples/programs/python/chat_client.py {server_ip} {port}",
        ],
    );
    assert_eq!(s.status.code(), Some(0), "server: {}", text(&s));
    assert_eq!(c.status.code(), Some(0), "client: {}", text(&c));
    let server_md = std::fs::read_to_string(dir.path().join("server/report.md")).unwrap();
    assert!(
        server_md.contains("received: 2002 Client Student"),
        "{server_md}"
    );
    assert!(
        server_md.contains("The other machine sent: \"2002 Client Student"),
        "{server_md}"
    );
    let client_md = std::fs::read_to_string(dir.path().join("client/report.md")).unwrap();
    assert!(
        client_md.contains("the server answered: 1001 Server Student"),
        "{client_md}"
    );
    // The client found the other machine's address in its placeholders.
    assert!(
        client_md.contains("chat_client.py 10.78.0.1 8888"),
        "{client_md}"
    );
}
