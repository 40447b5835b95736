//! `labrun grade`: a lab's capture-only checks on captures labrun did not make. A tcpdump
//! capture of a correct chat scores full marks; one that stops before the close loses
//! exactly the close check; `--dir` grades a folder into one CSV. Each lab gives full marks
//! to its own exchange captured by tcpdump on a port the test picks, found without being
//! told the port, and not to another lab's; a lab without a grading part is refused.

#![cfg(target_os = "linux")]

mod common;

use common::capture::Tcpdump;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The tests of this file capture loopback traffic with tcpdump; run side by side, a busy
/// machine makes tcpdump drop packets (a scan sends hundreds in a burst). Each test holds
/// this lock while it captures and grades, so a capture never competes with another.
static CAPTURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn capturing() -> std::sync::MutexGuard<'static, ()> {
    CAPTURING.lock().unwrap_or_else(|p| p.into_inner())
}

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
    let _capturing = capturing();
    if !common::is_root() || !common::have_program("tcpdump") {
        return common::skip_or_fail("making the captures needs root and tcpdump");
    }
    let dir = tempfile::tempdir().unwrap();
    let port = 47_000 + (std::process::id() % 2000) as u16;
    let full = dir.path().join("alice.pcap");
    let cut = dir.path().join("bob.pcap");
    complete(&full, || chat_captured_by_tcpdump(&full, port, false));
    complete(&cut, || chat_captured_by_tcpdump(&cut, port + 1, true));
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
    assert!(text.contains("score 6 / 6"), "full marks: {text}");

    let (code, text) = labrun(&[
        "grade",
        "labs/chat.rhai",
        "--pcap",
        cut.to_str().unwrap(),
        "--",
        &cut_port_arg,
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("score 5 / 6"), "{text}");
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
    complete(&subs.join("carol.pcap"), || {
        chat_captured_by_tcpdump(&subs.join("carol.pcap"), port + 2, false)
    });
    complete(&subs.join("dave.pcap"), || {
        chat_captured_by_tcpdump(&subs.join("dave.pcap"), port + 2, true)
    });
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
    assert_eq!(
        rows[0],
        "submission,id,name,score,total,failed_checks,flags"
    );
    assert_eq!(
        rows[1], "carol.pcap,,,6,6,,no student ID in the file name",
        "{text}"
    );
    assert!(
        rows[2].starts_with("dave.pcap,,,5,6,") && rows[2].contains("close is complete"),
        "{text}"
    );
    assert!(
        rows[3].starts_with("erin.pcap,,,0,") && rows[3].contains("error:"),
        "{text}"
    );
}

/// A port the test picks at random in 20000..60000, away from the other tests' ports.
fn random_port() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    20_000 + ((nanos ^ std::process::id()) % 20_000) as u16
}

/// A TCP exchange on loopback `port` captured by tcpdump into `path`: the client sends
/// `sent`, the server answers `reply` (nothing when empty), the client closes first.
fn tcp_captured_by_tcpdump(path: &Path, port: u16, sent: &[u8], reply: &[u8]) {
    let dump = Tcpdump::start(path, &format!("tcp port {port}"));
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(sent).unwrap();
    let mut got = vec![0u8; sent.len()];
    server.read_exact(&mut got).unwrap();
    if !reply.is_empty() {
        server.write_all(reply).unwrap();
        let mut back = vec![0u8; reply.len()];
        client.read_exact(&mut back).unwrap();
    }
    drop(client);
    let mut rest = [0u8; 16];
    let _ = server.read(&mut rest);
    std::thread::sleep(Duration::from_millis(50));
    drop(server);
    std::thread::sleep(Duration::from_millis(150));
    dump.stop();
}

/// A UDP exchange on loopback `port` captured by tcpdump into `path`.
fn udp_captured_by_tcpdump(path: &Path, port: u16) {
    let dump = Tcpdump::start(path, &format!("udp port {port}"));
    let server = std::net::UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let client = std::net::UdpSocket::bind(("127.0.0.1", 0)).unwrap();
    client
        .send_to(b"20215120807 Li Yihang", ("127.0.0.1", port))
        .unwrap();
    let mut buf = [0u8; 64];
    let (_, from) = server.recv_from(&mut buf).unwrap();
    server.send_to(b"Hello Li Yihang", from).unwrap();
    client.recv(&mut buf).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    dump.stop();
}

/// The score line's `earned / total` of `labrun grade` output.
fn score(text: &str) -> (u32, u32) {
    let line = text
        .lines()
        .find(|l| l.contains(": score "))
        .unwrap_or_else(|| panic!("no score line: {text}"));
    let (_, s) = line.rsplit_once(": score ").unwrap();
    let (a, b) = s.split_once(" / ").unwrap();
    (a.trim().parse().unwrap(), b.trim().parse().unwrap())
}

#[test]
fn every_lab_grades_its_own_tcpdump_capture_on_any_port_and_not_another_labs() {
    let _capturing = capturing();
    if !common::is_root() || !common::have_program("tcpdump") {
        return common::skip_or_fail("making the captures needs root and tcpdump");
    }
    let dir = tempfile::tempdir().unwrap();
    let port = random_port();
    let mut segment_data = b"20215120807 Li Yihang ".to_vec();
    segment_data.resize(2950, b'a');
    let captures = [
        ("chat", dir.path().join("chat.pcap")),
        ("segment", dir.path().join("segment.pcap")),
        ("udp", dir.path().join("udp.pcap")),
    ];
    tcp_captured_by_tcpdump(
        &captures[0].1,
        port,
        b"20215120807 Li Yihang",
        b"Hello Li Yihang",
    );
    complete(&captures[1].1, || {
        tcp_captured_by_tcpdump(&captures[1].1, port + 1, &segment_data, b"")
    });
    udp_captured_by_tcpdump(&captures[2].1, port + 2);
    for (lab, _) in &captures {
        let script = format!("labs/{lab}.rhai");
        for (made_by, pcap) in &captures {
            let (code, text) = labrun(&["grade", &script, "--pcap", pcap.to_str().unwrap()]);
            let (earned, total) = score(&text);
            if lab == made_by {
                assert_eq!(code, 0, "{lab} grading its own capture: {text}");
                assert_eq!(
                    earned, total,
                    "{lab}: full marks for its own capture: {text}"
                );
                assert!(total >= 3, "{lab}: {text}");
            } else {
                assert_eq!(code, 1, "{lab} grading a {made_by} capture: {text}");
                assert!(
                    earned < total,
                    "{lab}: not full marks for {made_by}: {text}"
                );
            }
        }
    }
    // The report names the conversation graded, found on the test's port.
    let out = dir.path().join("report");
    let (code, text) = labrun(&[
        "grade",
        "labs/chat.rhai",
        "--pcap",
        captures[0].1.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Grade the conversation 127.0.0.1:")
            && text.contains(&format!(" → 127.0.0.1:{port} (tcp.stream == 0)")),
        "the summary names the graded conversation: {text}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains(&format!("127.0.0.1:{port} (tcp.stream == 0)")),
        "the report names the graded conversation: {report}"
    );
}

#[test]
fn every_shipped_lab_has_a_grading_part() {
    let labs = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&labs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rhai") {
            let source = std::fs::read_to_string(&path).unwrap();
            assert!(
                labrun::runner::has_grading_part(&source),
                "{} has no grading part",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} labs in {}", labs.display());
}

#[test]
fn a_lab_without_a_grading_part_is_refused_and_never_run_live() {
    let _capturing = capturing();
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("live.rhai");
    std::fs::write(
        &lab,
        "// A lab that only makes traffic\nlet net = network();\nexpect(true, \"ran\");\n",
    )
    .unwrap();
    let pcap = dir.path().join("any.pcap");
    common::pcapfile::write_pcap(&pcap, 1, &[]);
    let (code, text) = labrun(&[
        "grade",
        lab.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{text}");
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    assert!(text.contains("has no grading part"), "{text}");

    // A grading part that falls through to the live lab stops at the network.
    std::fs::write(
        &lab,
        "if grading() { graded_capture(); }\nlet net = network();\nexpect(true, \"ran\");\n",
    )
    .unwrap();
    let (code, text) = labrun(&[
        "grade",
        lab.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("never runs a lab live"), "{text}");

    // A grading part that checks nothing is no grade.
    std::fs::write(&lab, "if grading() { graded_capture(); return; }\n").unwrap();
    let (code, text) = labrun(&[
        "grade",
        lab.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("checked nothing"), "{text}");
}

/// The manual's multi-client exchange on `port`: three clients connected at once, each
/// welcomed, greeted by name and said good bye to; the server closes first.
fn multi_client_captured_by_tcpdump(path: &Path, port: u16) {
    use std::io::{BufRead, BufReader};
    let dump = Tcpdump::start(path, &format!("tcp port {port}"));
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let clients: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let servers: Vec<_> = (0..3)
        .map(|_| {
            let (conn, _) = listener.accept().unwrap();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                w.write_all(b"Welcome!\nWhat's your name?\n").unwrap();
                let mut line = String::new();
                while {
                    line.clear();
                    r.read_line(&mut line).unwrap() > 0
                } {
                    let name = line.trim_end();
                    if name == "exit" {
                        w.write_all(b"Good bye!\n").unwrap();
                        break;
                    }
                    w.write_all(format!("Hello {name}!\n").as_bytes()).unwrap();
                }
            })
        })
        .collect();
    for (i, c) in clients.iter().enumerate() {
        let mut r = BufReader::new(c.try_clone().unwrap());
        let mut w = c.try_clone().unwrap();
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        r.read_line(&mut line).unwrap();
        w.write_all(format!("client{i}\n").as_bytes()).unwrap();
        r.read_line(&mut line).unwrap();
    }
    for c in &clients {
        let mut r = BufReader::new(c.try_clone().unwrap());
        c.try_clone().unwrap().write_all(b"exit\n").unwrap();
        let mut rest = String::new();
        let _ = r.read_to_string(&mut rest);
    }
    for s in servers {
        s.join().unwrap();
    }
    drop(clients);
    std::thread::sleep(Duration::from_millis(200));
    dump.stop();
}

/// The four causes of a RST on ports `port`..`port + 3` and a half-close on `port + 4`.
fn rst_captured_by_tcpdump(path: &Path, port: u16) {
    let dump = Tcpdump::start(path, &format!("tcp portrange {port}-{}", port + 4));
    let pause = || std::thread::sleep(Duration::from_millis(100));
    // 1. Nobody listens.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    pause();
    // 2. An abortive close: the server closes with SO_LINGER 0.
    let l = TcpListener::bind(("127.0.0.1", port + 1)).unwrap();
    let c = TcpStream::connect(("127.0.0.1", port + 1)).unwrap();
    let (s, _) = l.accept().unwrap();
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(s);
    pause();
    drop(c);
    pause();
    // 3. The server closes with the client's data unread.
    let l = TcpListener::bind(("127.0.0.1", port + 2)).unwrap();
    let mut c = TcpStream::connect(("127.0.0.1", port + 2)).unwrap();
    let (s, _) = l.accept().unwrap();
    c.write_all(b"unread").unwrap();
    pause();
    drop(s);
    pause();
    drop(c);
    pause();
    // 4. The client sends after the server closed.
    let l = TcpListener::bind(("127.0.0.1", port + 3)).unwrap();
    let mut c = TcpStream::connect(("127.0.0.1", port + 3)).unwrap();
    let (s, _) = l.accept().unwrap();
    drop(s);
    pause();
    let mut buf = [0u8; 16];
    assert_eq!(c.read(&mut buf).unwrap(), 0);
    c.write_all(b"too late").unwrap();
    pause();
    drop(c);
    pause();
    // 5. A half-close: the client shuts down its sending side, the server keeps sending.
    let l = TcpListener::bind(("127.0.0.1", port + 4)).unwrap();
    let mut c = TcpStream::connect(("127.0.0.1", port + 4)).unwrap();
    let (mut s, _) = l.accept().unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(s.read(&mut buf).unwrap(), 0);
    s.write_all(b"still here").unwrap();
    let _ = c.read(&mut buf).unwrap();
    drop(s);
    let _ = c.read(&mut buf);
    pause();
    drop(c);
    pause();
    dump.stop();
}

/// A WebSocket on `port`: upgrade, the ID and name each way, the closing handshake.
fn websocket_captured_by_tcpdump(path: &Path, port: u16) {
    let dump = Tcpdump::start(path, &format!("tcp port {port}"));
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(conn).unwrap();
        let got = ws.read().unwrap();
        ws.send(tungstenite::Message::text(format!("Hello {got}")))
            .unwrap();
        while ws.read().is_ok() {}
    });
    let conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/ws"), conn).unwrap();
    ws.send(tungstenite::Message::text("20215120807 Li Yihang"))
        .unwrap();
    ws.read().unwrap();
    ws.close(None).unwrap();
    while ws.read().is_ok() {}
    server.join().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    dump.stop();
}

/// nmap's connect, SYN and FIN scans of ports 1-120 and `port` (where something listens).
fn scan_captured_by_tcpdump(path: &Path, port: u16) {
    // A large buffer and a modest rate: tcpdump keeps every probe on a busy machine.
    let filter = format!("tcp portrange 1-120 or tcp port {port}");
    let dump = Tcpdump::start_with(path, &[], &["-i", "lo", "-B", "16384"], &filter);
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let accepting = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let end = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < end {
            let _ = listener.accept();
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    for kind in ["-sT", "-sS", "-sF"] {
        let ports = format!("1-120,{port}");
        let ok = Command::new("nmap")
            .args(["-n", "-Pn", kind, "-p", &ports, "--max-retries", "1"])
            .args(["--max-rate", "500", "127.0.0.1"])
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "nmap {kind}");
    }
    std::thread::sleep(Duration::from_millis(200));
    dump.stop();
    drop(accepting);
}

#[test]
fn multi_client_rst_websocket_and_scan_grade_their_own_tcpdump_captures() {
    let _capturing = capturing();
    if !common::is_root() || !common::have_program("tcpdump") || !common::have_program("nmap") {
        return common::skip_or_fail("making the captures needs root, tcpdump and nmap");
    }
    let dir = tempfile::tempdir().unwrap();
    let port = random_port();
    let captures = [
        ("multi_client", dir.path().join("multi.pcap")),
        ("rst", dir.path().join("rst.pcap")),
        ("websocket", dir.path().join("ws.pcap")),
        ("scan", dir.path().join("scan.pcap")),
    ];
    complete(&captures[0].1, || {
        multi_client_captured_by_tcpdump(&captures[0].1, port)
    });
    complete(&captures[1].1, || {
        rst_captured_by_tcpdump(&captures[1].1, port + 10)
    });
    complete(&captures[2].1, || {
        websocket_captured_by_tcpdump(&captures[2].1, port + 20)
    });
    scan_captured_by_tcpdump(&captures[3].1, port + 30);
    let chat = dir.path().join("chat.pcap");
    complete(&chat, || {
        tcp_captured_by_tcpdump(&chat, port + 40, b"20215120807 Li Yihang", b"Hello")
    });
    for (lab, pcap) in &captures {
        assert_full_marks_for_its_own_lab_only(lab, pcap, &chat, 4, &["chat"]);
    }
}

/// `lab` gives its own capture `pcap` full marks (at least `checks` checks), and a chat's
/// capture `chat` less; each of the labs `others` gives `pcap` less than full marks.
fn assert_full_marks_for_its_own_lab_only(
    lab: &str,
    pcap: &Path,
    chat: &Path,
    checks: u32,
    others: &[&str],
) {
    let script = format!("labs/{lab}.rhai");
    let (code, text) = labrun(&["grade", &script, "--pcap", pcap.to_str().unwrap()]);
    let (earned, total) = score(&text);
    assert_eq!(code, 0, "{lab} grading its own capture: {text}");
    assert!(earned == total && total >= checks, "{lab}: {text}");
    let (code, text) = labrun(&["grade", &script, "--pcap", chat.to_str().unwrap()]);
    let (earned, total) = score(&text);
    assert!(code == 1 && earned < total, "{lab} grading a chat: {text}");
    for other in others {
        let other_lab = format!("labs/{other}.rhai");
        let (code, text) = labrun(&["grade", &other_lab, "--pcap", pcap.to_str().unwrap()]);
        let (earned, total) = score(&text);
        assert!(
            code == 1 && earned < total,
            "{other} grading a {lab} capture: {text}"
        );
    }
}

/// Parses CSV text into rows of fields.
/// Runs `capture` (which writes `path`) until tshark finds no segment missing from it: on
/// a busy machine tcpdump now and then misses a loopback packet ("[TCP Previous segment not
/// captured]"), and a capture with a hole is not the exchange the test means to grade.
fn complete(path: &Path, capture: impl Fn()) {
    for _ in 0..3 {
        capture();
        let out = Command::new("tshark")
            .arg("-r")
            .arg(path)
            .args([
                "-Y",
                "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment",
            ])
            .output()
            .expect("run tshark");
        if out.status.success() && out.stdout.is_empty() {
            return;
        }
        eprintln!(
            "{}: tcpdump missed a segment, capturing again",
            path.display()
        );
    }
    panic!("{}: every capture missed a segment", path.display());
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn a_class_folder_flags_copies_and_wrong_ids_naming_the_other_submission() {
    let _capturing = capturing();
    if !common::is_root() || !common::have_program("tcpdump") {
        return common::skip_or_fail("making the captures needs root and tcpdump");
    }
    let dir = tempfile::tempdir().unwrap();
    let subs = dir.path().join("class");
    std::fs::create_dir(&subs).unwrap();
    let port = random_port();
    let (ann, bob, cat, dan, eve) = (
        "20210000001",
        "20210000002",
        "20210000003",
        "20210000004",
        "20210000005",
    );
    let p = |id: &str| subs.join(format!("{id}.pcap"));
    // Ann's own chat; Bob hands in Ann's file; Cat's chat sends Ann's ID.
    complete(&p(ann), || {
        tcp_captured_by_tcpdump(&p(ann), port, format!("{ann} Ann").as_bytes(), b"Hi Ann")
    });
    std::fs::copy(p(ann), p(bob)).unwrap();
    tcp_captured_by_tcpdump(
        &p(cat),
        port + 1,
        format!("{ann} Ann").as_bytes(),
        b"Hi Ann",
    );
    // Dan and Eve capture the same connection with two tcpdumps (different snap lengths).
    let second = Tcpdump::start_with(
        &p(eve),
        &[],
        &["-i", "lo", "-s", "300"],
        &format!("tcp port {}", port + 2),
    );
    tcp_captured_by_tcpdump(
        &p(dan),
        port + 2,
        format!("{dan} Dan {eve} Eve").as_bytes(),
        b"Hi",
    );
    second.stop();
    // Odd entries: a FIFO and a folder named like captures.
    let fifo = subs.join("fifo.pcap");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(subs.join("folder.pcap")).unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        format!("id,name\n{ann},Ann A\n{bob},Bob B\n{cat},Cat C\n{dan},Dan D\n{eve},Eve E\n"),
    )
    .unwrap();
    let feedback = dir.path().join("feedback");
    let (code, text) = labrun(&[
        "grade",
        "labs/chat.rhai",
        "--dir",
        subs.to_str().unwrap(),
        "--roster",
        roster.to_str().unwrap(),
        "--feedback",
        feedback.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{text}");
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), 8, "{text}");
    let row = |file: &str| {
        rows.iter()
            .find(|r| r[0] == file)
            .unwrap_or_else(|| panic!("no row for {file}: {text}"))
            .clone()
    };
    let flags = |file: &str| row(file)[6].clone();
    let a = row(&format!("{ann}.pcap"));
    assert_eq!(
        (a[1].as_str(), a[2].as_str(), a[3].as_str()),
        (ann, "Ann A", "6"),
        "{text}"
    );
    assert!(
        flags(&format!("{ann}.pcap")).contains(&format!("identical to {bob}.pcap")),
        "{text}"
    );
    let b = flags(&format!("{bob}.pcap"));
    assert!(b.contains(&format!("identical to {ann}.pcap")), "{text}");
    assert!(
        b.contains(&format!(
            "the student ID {bob} is not in the capture's data"
        )),
        "{text}"
    );
    assert!(
        b.contains(&format!("another student's ID {ann} ({ann}.pcap)")),
        "{text}"
    );
    let c = flags(&format!("{cat}.pcap"));
    assert!(
        c.contains(&format!("the student ID {cat} is not")),
        "{text}"
    );
    assert!(c.contains(&format!("another student's ID {ann}")), "{text}");
    assert!(
        !c.contains("identical") && !c.contains("shares a connection"),
        "{text}"
    );
    let d = flags(&format!("{dan}.pcap"));
    assert!(
        d.contains(&format!(
            "shares a connection with {eve}.pcap (same ports and ISNs)"
        )),
        "{text}"
    );
    assert!(
        flags(&format!("{eve}.pcap")).contains(&format!("shares a connection with {dan}.pcap")),
        "{text}"
    );
    assert!(row("fifo.pcap")[5].contains("not a regular file"), "{text}");
    assert!(
        row("folder.pcap")[5].contains("not a regular file"),
        "{text}"
    );
    // Feedback: the failed checks with their filters, and the flags.
    let fb = std::fs::read_to_string(feedback.join(format!("{bob}.txt"))).unwrap();
    assert!(
        fb.contains("score: 6 / 6") && fb.contains(&format!("identical to {ann}.pcap")),
        "{fb}"
    );

    // Moodle: keyed by ID number.
    let (code, text) = labrun(&[
        "grade",
        "labs/chat.rhai",
        "--dir",
        subs.to_str().unwrap(),
        "--format",
        "moodle",
    ]);
    assert_eq!(code, 0, "{text}");
    let rows = csv_rows(&text);
    assert_eq!(rows[0], ["ID number", "Grade", "Feedback"]);
    assert!(
        rows.iter()
            .any(|r| r[0] == cat && r[1] == "6" && r[2].contains("flagged")),
        "{text}"
    );

    // Gradescope: results.json with the documented fields.
    let (code, text) = labrun(&[
        "grade",
        "labs/segment.rhai",
        "--pcap",
        p(cat).to_str().unwrap(),
        "--format",
        "gradescope",
    ]);
    assert_eq!(code, 1, "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tests = json["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    let sum: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
    let max: u64 = tests.iter().map(|t| t["max_score"].as_u64().unwrap()).sum();
    assert_eq!(json["score"].as_u64(), Some(sum));
    assert_eq!(json["max_score"].as_u64(), Some(max));
    assert!(sum < max);
    for t in tests {
        assert!(t["name"].is_string() && t["output"].is_string(), "{t}");
        let status = t["status"].as_str().unwrap();
        assert!(status == "passed" || status == "failed", "{t}");
        if status == "failed" {
            assert!(
                t["output"]
                    .as_str()
                    .unwrap()
                    .starts_with("Wireshark filter: "),
                "{t}"
            );
        }
    }
    assert!(
        json["output"]
            .as_str()
            .unwrap()
            .contains("not in the capture's data"),
        "{text}"
    );
}

#[test]
fn a_course_key_gives_each_student_a_port_and_grade_expects_it() {
    let _capturing = capturing();
    if !common::is_root() {
        return common::skip_or_fail("running the chat lab needs root");
    }
    let dir = tempfile::tempdir().unwrap();
    let (id, other) = ("20215120807", "20215120899");
    std::fs::write(
        dir.path().join("labrun.toml"),
        format!("student = \"{id} Li Yihang\"\ncourse_key = \"course secret\"\n"),
    )
    .unwrap();
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs/chat.rhai");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_labrun"))
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.code().unwrap_or(-1), text)
    };
    let (code, text) = run(&[lab.to_str().unwrap(), "--out", "run"]);
    assert_eq!(code, 0, "{text}");
    let values = labrun::config::student_values("course secret", id);
    let port = &values[0].1;
    let report = std::fs::read_to_string(dir.path().join("run/report.md")).unwrap();
    assert!(
        report.contains(&format!(":{port}")),
        "the lab ran on the student's port {port}"
    );
    // The student's own capture gets full marks; handed in as another student's, it fails.
    std::fs::copy(
        dir.path().join("run/capture.pcapng"),
        dir.path().join(format!("{id}.pcap")),
    )
    .unwrap();
    std::fs::copy(
        dir.path().join("run/capture.pcapng"),
        dir.path().join(format!("{other}.pcap")),
    )
    .unwrap();
    let (code, text) = run(&[
        "grade",
        lab.to_str().unwrap(),
        "--pcap",
        &format!("{id}.pcap"),
    ]);
    assert_eq!(code, 0, "{text}");
    let (earned, total) = score(&text);
    assert_eq!(earned, total, "{text}");
    let (code, text) = run(&[
        "grade",
        lab.to_str().unwrap(),
        "--pcap",
        &format!("{other}.pcap"),
    ]);
    assert_eq!(code, 1, "{text}");
    let other_port = &labrun::config::student_values("course secret", other)[0].1;
    assert!(
        text.contains(&format!(
            "FAIL  the capture holds a TCP connection to port {other_port}"
        )),
        "{text}"
    );
}

/// Runs tests/grade_scenarios.py's `lab` scenario in a network namespace of its own
/// (`unshare -n`): its own loopback, nftables drops and raw sockets, recorded by tcpdump.
fn scenario_captured_by_tcpdump(lab: &str, path: &Path, port: u16, extra: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/grade_scenarios.py");
    let out = Command::new("unshare")
        .args(["-n", "python3"])
        .arg(&script)
        .arg(lab)
        .arg(port.to_string())
        .arg(path)
        .args(extra)
        .output()
        .expect("run unshare");
    assert!(
        out.status.success(),
        "{lab} scenario: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn link_timer_and_attack_labs_grade_their_own_tcpdump_captures() {
    let _capturing = capturing();
    let needs = ["tcpdump", "unshare", "nft", "ethtool", "python3", "tshark"];
    if !common::is_root() || !needs.iter().all(|p| common::have_program(p)) {
        return common::skip_or_fail(
            "making the captures needs root, tcpdump, unshare, nft, ethtool and python3",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let port = random_port();
    let captures = [
        ("retransmit", dir.path().join("retransmit.pcap")),
        ("syn_craft", dir.path().join("syn_craft.pcap")),
        ("rst_attack", dir.path().join("rst_attack.pcap")),
        ("nagle", dir.path().join("nagle.pcap")),
        ("flow_control", dir.path().join("flow_control.pcap")),
    ];
    // The fifth of ten segments is lost, as a course key can ask of one student.
    scenario_captured_by_tcpdump("retransmit", &captures[0].1, port, &["5"]);
    scenario_captured_by_tcpdump("syn_craft", &captures[1].1, port + 10, &[]);
    scenario_captured_by_tcpdump("rst_attack", &captures[2].1, port + 20, &[]);
    scenario_captured_by_tcpdump("nagle", &captures[3].1, port + 30, &[]);
    scenario_captured_by_tcpdump("flow_control", &captures[4].1, port + 50, &[]);
    let chat = dir.path().join("chat.pcap");
    complete(&chat, || {
        tcp_captured_by_tcpdump(&chat, port + 40, b"20215120807 Li Yihang", b"Hello")
    });
    for (lab, pcap) in &captures {
        assert_full_marks_for_its_own_lab_only(lab, pcap, &chat, 3, &["chat", "segment"]);
    }
    // The retransmission lab checks which segment was lost when the student's value is known.
    let pcap = captures[0].1.to_str().unwrap();
    let (code, text) = labrun(&[
        "grade",
        "labs/retransmit.rhai",
        "--pcap",
        pcap,
        "--",
        "segment=5",
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("PASS  the lost segment was segment 5"),
        "{text}"
    );
    let (code, text) = labrun(&[
        "grade",
        "labs/retransmit.rhai",
        "--pcap",
        pcap,
        "--",
        "segment=3",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  the lost segment was segment 3"),
        "{text}"
    );
    // Named ports: the timer case on `port`, fast retransmit on `port + 1`.
    let named = format!("port={port}");
    let (code, text) = labrun(&[
        "grade",
        "labs/retransmit.rhai",
        "--pcap",
        pcap,
        "--",
        &named,
    ]);
    assert_eq!(code, 0, "{text}");
    let wrong = format!("port={}", port + 1);
    let (code, _) = labrun(&[
        "grade",
        "labs/retransmit.rhai",
        "--pcap",
        pcap,
        "--",
        &wrong,
    ]);
    assert_eq!(code, 1);
}
