//! Unit tests of the session layer, on loopback sockets and hand-made captures.

use super::*;
use crate::capture::{CaptureStats, Captured};
use crate::clock::RunClock;
use crate::network::{NetOptions, NetworkKind};
use crate::sockets::TcpConn;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn session() -> Session {
    Session::new(SessionState::new(
        Report::default(),
        "labs/t.rhai".to_string(),
        crate::progress::none(),
    ))
}

fn captured(dlt: u32, stats: CaptureStats) -> Captured {
    Captured {
        iface: "lo".to_string(),
        filter: String::new(),
        dlt,
        snaplen: 65535,
        frames: Vec::new(),
        stats,
    }
}

fn clock() -> RunClock {
    RunClock::new(Duration::from_secs(30), Default::default())
}

#[test]
fn steps_checks_and_blocks_are_recorded_in_order() {
    let s = session();
    s.record_step("connect");
    s.record_block(Block::Note("a note".to_string()));
    s.record_check(Check {
        what: "the SYN was seen".to_string(),
        passed: false,
        detail: Some("expected 1, saw 0".to_string()),
        filter: None,
        at: "labs/t.rhai:3".to_string(),
        points: 2,
    });
    let report = s.teardown(&clock());
    assert!(
        matches!(&report.blocks[..], [Block::Step(a), Block::Note(b)] if a == "connect" && b == "a note")
    );
    assert_eq!(report.checks.len(), 1);
    assert_eq!(report.failed(), 1);
    assert_eq!(report.checks[0].at, "labs/t.rhai:3");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn a_finished_capture_is_recorded_with_its_loss_warning() {
    let s = session();
    let lossy = CaptureStats {
        received: 10,
        dropped: 3,
        if_dropped: 1,
        truncated: 2,
    };
    let r = s.record_capture("capture", captured(1, lossy)).unwrap();
    assert_eq!((r.name.as_str(), r.dropped), ("capture", 4));
    let clean = s
        .record_capture("capture-2", captured(1, CaptureStats::default()))
        .unwrap();
    assert_eq!(clean.dropped, 0);
    let report = s.teardown(&clock());
    let names: Vec<_> = report.captures.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["capture", "capture-2"]);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].starts_with(
            "capture `capture` on lo LOST PACKETS: libpcap dropped 3 and the interface 1, 2 over"
        ),
        "{}",
        report.warnings[0]
    );
}

#[test]
fn a_capture_of_an_unknown_link_type_is_an_error_and_not_recorded() {
    let s = session();
    let e = s
        .record_capture("capture", captured(9999, CaptureStats::default()))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the interface `lo` has link type 9999, which labrun cannot decode"
    );
    assert!(s.teardown(&clock()).captures.is_empty());
}

#[test]
fn the_graded_capture_is_recorded_as_capture() {
    let s = session();
    assert!(!s.grading());
    assert!(s.record_graded().is_none());
    s.lock().graded = Some(captured(1, CaptureStats::default()));
    assert!(s.grading());
    let r = s.record_graded().unwrap().unwrap();
    assert_eq!(r.name, "capture");
    assert_eq!(s.teardown(&clock()).captures.len(), 1);
}

/// Fails every line it is sent.
struct Failing;

impl ConnHandler for Failing {
    fn on_connect(&self, _: &TcpConn) -> Result<(), String> {
        Ok(())
    }
    fn on_line(&self, _: &TcpConn, line: &str) -> Result<(), String> {
        Err(format!("cannot handle {line:?}"))
    }
    fn on_close(&self, _: &TcpConn) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn teardown_stops_servers_and_reports_a_handler_error() {
    let s = session();
    let net = s
        .make_network(Some(NetworkKind::Loopback), &NetOptions::default())
        .unwrap();
    let server = s.serve(&net.hosts[1], 0, Arc::new(Failing)).unwrap();
    let mut client = TcpStream::connect(server.addr()).unwrap();
    client.write_all(b"hello\n").unwrap();
    let t = Instant::now();
    while server.errors().is_empty() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(server.accepted(), 1);
    let events: Vec<_> = server.log().iter().map(|e| e.event).collect();
    assert_eq!(events[..2], ["connect", "line"]);

    let t = Instant::now();
    let report = s.teardown(&clock());
    let took = t.elapsed();
    assert!(server.is_stopped(), "teardown left the server running");
    assert!(took < Duration::from_secs(1), "teardown took {took:?}");
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    let at = server.addr();
    let w = &report.warnings[0];
    assert!(
        w.starts_with(&format!("server on {at}: connection "))
            && w.ends_with(": cannot handle \"hello\""),
        "{w}"
    );
    // The header names the network and its hosts once each.
    assert!(
        report.header.network.starts_with("loopback"),
        "{}",
        report.header.network
    );
    assert_eq!(report.header.hosts.len(), 2, "{:?}", report.header.hosts);
    assert!(report.header.hosts[0].starts_with("client 127.0.0.1 ("));
}

#[test]
fn the_default_network_is_made_once() {
    let s = session();
    s.lock().choice.mode = NetworkMode::Loopback;
    let a = s.network().unwrap();
    let b = s.network().unwrap();
    assert_eq!(a.kind, NetworkKind::Loopback);
    assert_eq!(b.kind, NetworkKind::Loopback);
    assert_eq!(s.lock().networks.len(), 1);
    assert!(s.udp_target_allowed("127.0.0.1:9".parse().unwrap()));
    assert!(!s.udp_target_allowed("192.0.2.1:9".parse().unwrap()));
}

/// A connected pair on loopback: labrun's end and a plain peer.
fn pair() -> (TcpConn, TcpStream) {
    let listener = crate::sockets::TcpListener::bind(
        "127.0.0.1:0".parse().unwrap(),
        crate::sockets::TcpOptions::default(),
    )
    .unwrap();
    let peer = TcpStream::connect(listener.addr()).unwrap();
    (listener.accept().unwrap(), peer)
}

fn recorder() -> (Arc<Mutex<Vec<String>>>, chat::Say) {
    let said = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&said);
    (
        said,
        Arc::new(move |t: &str| sink.lock().unwrap().push(t.to_string())),
    )
}

#[test]
fn chat_sends_typed_lines_and_quits_cleanly_on_q() {
    let (conn, peer) = pair();
    let other = std::thread::spawn(move || {
        let mut peer = peer;
        peer.write_all(b"hi there\n").unwrap();
        let mut reader = BufReader::new(peer.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let mut rest = Vec::new();
        // Our FIN after `q` ends this read; closing answers it.
        reader.read_to_end(&mut rest).unwrap();
        (line, rest)
    });
    let (said, say) = recorder();
    let input = std::io::Cursor::new("hello\nq\nnever sent\n");
    let t = Instant::now();
    let log = run_chat(&conn, || reader_lines(input), say);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let (line, rest) = other.join().unwrap();
    assert_eq!(line, "hello\n");
    assert!(rest.is_empty());
    let mut seen: Vec<_> = log.iter().map(|e| (e.dir, e.text.as_str())).collect();
    seen.sort();
    assert_eq!(seen, [("received", "hi there"), ("sent", "hello")]);
    let said = said.lock().unwrap();
    assert!(said[0].starts_with("connected: "), "{said:?}");
    assert!(said.iter().any(|l| l.ends_with("> hi there")), "{said:?}");
    assert!(said.iter().any(|l| l.starts_with("(closing")), "{said:?}");
    assert_eq!(said.last().map(String::as_str), Some("(chat ended)"));
    assert!(conn.is_closed());
}

#[test]
fn chat_ends_when_the_other_side_closes() {
    let (conn, peer) = pair();
    drop(peer);
    let (said, say) = recorder();
    let (_typing, lines) = std::sync::mpsc::channel();
    let t = Instant::now();
    let log = run_chat(&conn, || lines, say);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(log.is_empty());
    let said = said.lock().unwrap();
    assert!(
        said.contains(&"(the other side closed the connection)".to_string()),
        "{said:?}"
    );
    assert!(!said.iter().any(|l| l.starts_with("(closing")), "{said:?}");
}

#[cfg(unix)]
#[test]
fn teardown_stops_a_capture_the_script_left_running() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        let reason = "a live capture on lo needs root";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "cannot run under CI=true: {reason}"
        );
        eprintln!("skipped: {reason}");
        return;
    }
    let s = session();
    let net = s
        .make_network(Some(NetworkKind::Loopback), &NetOptions::default())
        .unwrap();
    let host = &net.hosts[0];
    let first = s
        .start_capture(host, host.capture_config("tcp port 9"), None)
        .unwrap();
    let named = s
        .start_capture(host, host.capture_config("udp port 9"), Some("u d/p"))
        .unwrap();
    assert_eq!(
        (first.name.as_str(), named.name.as_str()),
        ("capture", "capture-u_d_p")
    );
    // The script stopped the first itself.
    let live = first.live.lock().unwrap().take().unwrap();
    s.finish_capture(&first.name, live).unwrap();
    let report = s.teardown(&clock());
    let names: Vec<_> = report.captures.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["capture", "capture-u_d_p"]);
    assert_eq!(
        report.warnings,
        ["the script never stopped capture `capture-u_d_p`; labrun stopped it at the end"]
    );
    assert!(named.live.lock().unwrap().is_none());
}
