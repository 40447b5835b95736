//! `labrun grade`: a lab's capture-only checks on captures labrun did not make. A tcpdump
//! capture of a correct chat scores full marks; one that stops before the close loses
//! exactly the close check; `--dir` grades a folder into one CSV.

mod common;

use common::capture::Tcpdump;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A chat on loopback port `port`, captured by tcpdump into `path`; with `stop_before_close`
/// the capture ends before either side closes.
fn chat_captured_by_tcpdump(path: &Path, port: u16, stop_before_close: bool) {
    let dump = Tcpdump::start(path, &format!("tcp port {port}"));
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"20215120807 Li Yihang").unwrap();
    let mut buf = [0u8; 64];
    let n = server.read(&mut buf).unwrap();
    assert_eq!(n, 21);
    server.write_all(b"Hello Li Yihang").unwrap();
    let n = client.read(&mut buf).unwrap();
    assert_eq!(n, 15);
    std::thread::sleep(Duration::from_millis(100));
    if stop_before_close {
        dump.stop();
        drop(client);
        drop(server);
    } else {
        drop(client);
        let _ = server.read(&mut buf);
        std::thread::sleep(Duration::from_millis(60));
        drop(server);
        std::thread::sleep(Duration::from_millis(100));
        dump.stop();
    }
}

fn labrun(args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

#[test]
fn tcpdump_captures_are_graded_by_the_chat_labs_checks() {
    if !common::is_root() || !common::have_program("tcpdump") {
        return common::skip_or_fail("making the captures needs root and tcpdump");
    }
    let dir = tempfile::tempdir().unwrap();
    let port = 47_000 + (std::process::id() % 2000) as u16;
    let full = dir.path().join("alice.pcap");
    let cut = dir.path().join("bob.pcap");
    chat_captured_by_tcpdump(&full, port, false);
    chat_captured_by_tcpdump(&cut, port + 1, true);
    let port_arg = format!("port={port}");
    let cut_port_arg = format!("port={}", port + 1);

    let (code, text) = labrun(&[
        "grade",
        "labs/chat.rhai",
        "--pcap",
        full.to_str().unwrap(),
        "--",
        &port_arg,
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("score 4 / 4"), "full marks: {text}");

    let (code, text) = labrun(&[
        "grade",
        "labs/chat.rhai",
        "--pcap",
        cut.to_str().unwrap(),
        "--",
        &cut_port_arg,
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("score 3 / 4"), "{text}");
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL"))
        .collect();
    assert_eq!(failed.len(), 1, "{text}");
    assert!(
        failed[0].contains("the close is complete"),
        "only the close check fails: {text}"
    );

    // A folder of submissions: one CSV row each (both use the same port here).
    let subs = dir.path().join("subs");
    std::fs::create_dir(&subs).unwrap();
    chat_captured_by_tcpdump(&subs.join("carol.pcap"), port + 2, false);
    chat_captured_by_tcpdump(&subs.join("dave.pcap"), port + 2, true);
    std::fs::write(subs.join("erin.pcap"), b"not a capture").unwrap();
    let arg = format!("port={}", port + 2);
    let (code, text) = labrun(&[
        "grade",
        "labs/chat.rhai",
        "--dir",
        subs.to_str().unwrap(),
        "--",
        &arg,
    ]);
    assert_eq!(code, 0, "{text}");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "submission,score,total,failed_checks");
    assert_eq!(rows[1], "carol.pcap,4,4,", "{text}");
    assert!(
        rows[2].starts_with("dave.pcap,3,4,") && rows[2].contains("close is complete"),
        "{text}"
    );
    assert!(
        rows[3].starts_with("erin.pcap,0,") && rows[3].contains("error:"),
        "{text}"
    );
}
