//! `labrun analyze` on real kernel traffic captured with tcpdump: the RST
//! cases, a half-close, keep-alives, a zero window, IPv6 on loopback, `-i any`
//! (Linux cooked v1 and v2), a small snap length and a pcapng file. Every
//! frame's fields must equal tshark's, and the stream stories must name what
//! the test really did.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::capture::{Tcpdump, read_pcap};
use common::tshark::{ISSUE_FIELDS, assert_cli_same_as_tshark};
use labrun::analysis::{CloseKind, HandshakeKind, RstCause, Side, Trace};
use socket2::{SockRef, TcpKeepalive};

const PAUSE: Duration = Duration::from_millis(60);

fn prerequisites_missing() -> Option<&'static str> {
    if !common::is_root() {
        return Some("capturing needs root");
    }
    if !common::have_program("tcpdump") {
        return Some("tcpdump is not installed");
    }
    if !common::have_program("tshark") {
        return Some("tshark is not installed");
    }
    None
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrun-analyze-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn listen(ip: &str) -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind((ip, 0)).expect("bind");
    let a = l.local_addr().expect("addr");
    (l, a)
}

/// A loopback address of this test run alone (127.77.x.y), so the capture
/// filter never matches other programs' loopback traffic on the same ports.
fn private_v4() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "127.77.{}.{}",
        std::process::id() % 200 + 1,
        nanos % 200 + 1
    )
}

/// A port nobody listens on at `ip`.
fn closed_port(ip: &str) -> u16 {
    let (l, a) = listen(ip);
    drop(l);
    a.port()
}

/// Plays the RST cases, a half-close, keep-alives and a zero window, in this
/// order of streams: refused, abortive, unread, data after close, half-close,
/// keep-alive, zero window.
fn play_loopback_cases(listener: &TcpListener, addr: SocketAddr, closed: u16) {
    let refused = TcpStream::connect(SocketAddr::new(addr.ip(), closed));
    assert_eq!(
        refused.err().and_then(|e| e.raw_os_error()),
        Some(libc::ECONNREFUSED)
    );
    std::thread::sleep(PAUSE);

    // Abortive close: SO_LINGER with timeout 0.
    let c = TcpStream::connect(addr).expect("connect");
    let (s, _) = listener.accept().expect("accept");
    SockRef::from(&c)
        .set_linger(Some(Duration::ZERO))
        .expect("linger");
    drop(c);
    std::thread::sleep(PAUSE);
    drop(s);

    // Close with unread data.
    let mut c = TcpStream::connect(addr).expect("connect");
    let (s, _) = listener.accept().expect("accept");
    c.write_all(&[b'u'; 100]).expect("write");
    std::thread::sleep(PAUSE);
    drop(s);
    std::thread::sleep(PAUSE);
    let mut buf = [0u8; 64];
    let err = c.read(&mut buf).expect_err("the unread close resets");
    assert_eq!(err.raw_os_error(), Some(libc::ECONNRESET));
    drop(c);

    // Data after the peer fully closed.
    let mut c = TcpStream::connect(addr).expect("connect");
    let (s, _) = listener.accept().expect("accept");
    drop(s);
    assert_eq!(c.read(&mut buf).expect("eof"), 0);
    c.write_all(b"late")
        .expect("the first write still goes out");
    std::thread::sleep(PAUSE);
    assert!(
        c.write_all(b"again").is_err(),
        "the second write fails (EPIPE)"
    );
    drop(c);
    std::thread::sleep(PAUSE);

    // Half-close: the client shuts down its sending side, the server still answers.
    let mut c = TcpStream::connect(addr).expect("connect");
    let (mut s, _) = listener.accept().expect("accept");
    c.write_all(b"question").expect("write");
    c.shutdown(Shutdown::Write).expect("shutdown");
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("read");
    assert_eq!(got, b"question");
    std::thread::sleep(PAUSE);
    s.write_all(b"answer after your FIN").expect("write");
    drop(s);
    let mut got = Vec::new();
    c.read_to_end(&mut got).expect("read");
    assert_eq!(got, b"answer after your FIN");
    drop(c);
    std::thread::sleep(PAUSE);

    // Keep-alives after one idle second.
    let c = TcpStream::connect(addr).expect("connect");
    let (s, _) = listener.accept().expect("accept");
    let ka = TcpKeepalive::new()
        .with_time(Duration::from_secs(1))
        .with_interval(Duration::from_secs(1));
    SockRef::from(&c).set_tcp_keepalive(&ka).expect("keepalive");
    std::thread::sleep(Duration::from_millis(2_400));
    drop(c);
    drop(s);
    std::thread::sleep(PAUSE);

    // Zero window: a receiver with a tiny buffer that stops reading.
    let mut c = TcpStream::connect(addr).expect("connect");
    let (mut s, _) = listener.accept().expect("accept");
    let writer = std::thread::spawn(move || {
        c.write_all(&vec![b'z'; 200_000]).expect("write");
        c.shutdown(Shutdown::Write).expect("shutdown");
        c
    });
    std::thread::sleep(Duration::from_millis(1_500));
    let mut total = 0;
    let mut big = vec![0u8; 64 * 1024];
    loop {
        let n = s.read(&mut big).expect("read");
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, 200_000);
    drop(s);
    drop(writer.join().expect("writer"));
    std::thread::sleep(PAUSE);
}

fn check_stories(trace: &Trace) {
    let st = &trace.streams;
    assert_eq!(
        st.len(),
        7,
        "streams: {:#?}",
        st.iter().map(|s| s.client).collect::<Vec<_>>()
    );
    let story = |i: usize| &st[i].story;
    assert_eq!(story(0).handshake_kind(), HandshakeKind::Refused);
    assert_eq!(story(0).rsts[0].cause, RstCause::ClosedPort);
    assert_eq!(story(1).close_kind(), CloseKind::Reset);
    assert_eq!(story(1).rsts[0].cause, RstCause::AbortiveClose);
    assert_eq!(story(1).rsts[0].from, Side::Client);
    assert_eq!(story(2).rsts[0].cause, RstCause::UnreadData);
    assert_eq!(story(2).rsts[0].from, Side::Server);
    assert_eq!(story(3).closed_first(), Some(Side::Server));
    let late = story(3).rsts.last().expect("rst");
    assert_eq!(
        (late.cause, late.with_ack),
        (RstCause::DataAfterClose, false)
    );
    assert_eq!(story(4).close_kind(), CloseKind::HalfClose);
    assert_eq!(story(4).closed_first(), Some(Side::Client));
    assert_eq!(story(4).end(Side::Server).bytes, 21);
    assert_eq!(story(4).end(Side::Client).bytes, 8);
    assert!(
        story(5)
            .anomalies
            .iter()
            .any(|(n, _)| *n == labrun::analysis::Anomaly::KeepAlive),
        "{:?}",
        story(5).anomalies
    );
    let zw = &story(6).anomalies;
    assert!(
        zw.iter()
            .any(|(n, _)| *n == labrun::analysis::Anomaly::ZeroWindow),
        "{zw:?}"
    );
    assert_eq!(story(6).end(Side::Client).bytes, 200_000);
    for i in 1..7 {
        assert_eq!(
            story(i).handshake_kind(),
            HandshakeKind::Normal,
            "stream {i}"
        );
    }
}

fn analyze_report(pcap: &Path, out: &Path) -> String {
    let status = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg("analyze")
        .arg(pcap)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run labrun analyze");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read_to_string(out.join("report.md")).expect("report.md")
}

#[test]
fn rst_cases_half_close_keepalive_and_zero_window_match_tshark() {
    if let Some(reason) = prerequisites_missing() {
        common::skip_or_fail(reason);
        return;
    }
    let dir = work_dir("loopback");
    let ip = private_v4();
    let (listener, addr) = listen(&ip);
    SockRef::from(&listener)
        .set_recv_buffer_size(4096)
        .expect("rcvbuf");
    let closed = closed_port(&ip);
    let path = dir.join("cases.pcap");
    let dump = Tcpdump::start_with(
        &path,
        &[],
        &["-i", "lo", "-B", "65536"],
        &format!(
            "host {ip} and (tcp port {} or tcp port {closed})",
            addr.port()
        ),
    );
    play_loopback_cases(&listener, addr, closed);
    dump.stop();

    let frames = assert_cli_same_as_tshark(&path, ISSUE_FIELDS);
    assert!(frames > 40, "{frames} frames");
    let (link, raw) = read_pcap(&path);
    let trace = Trace::analyze(link, &raw);
    check_stories(&trace);

    let report = analyze_report(&path, &dir.join("report"));
    for text in [
        "connection refused: nobody listens on the port",
        "abortive close (SO_LINGER with timeout 0)",
        "data arrived after this end had closed",
        "half-close: data still flowed after the first FIN",
        "zero window",
        "keep-alive",
    ] {
        assert!(report.contains(text), "report.md lacks {text:?}");
    }
    let follow = std::fs::read_to_string(dir.join("report/stream-4.txt")).expect("follow");
    assert!(follow.contains("question") && follow.contains("answer after your FIN"));
    // Follow TCP Stream holds every captured byte once, in order; a burst the
    // capture missed (tcpdump can lose a few) is counted as missing, not invented.
    let bin = std::fs::read(dir.join("report/stream-6.bin")).expect("follow bin");
    assert!(bin.len() > 100_000 && bin.len() <= 200_000, "{}", bin.len());
    assert!(bin.iter().all(|b| *b == b'z'));
    if bin.len() < 200_000 {
        assert!(report.contains(&format!("{} bytes missing", 200_000 - bin.len())));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A short chat over IPv6 loopback, captured four ways at once.
fn chat_v6(listener: &TcpListener, addr: SocketAddr) {
    let mut c = TcpStream::connect(addr).expect("connect");
    let (mut s, _) = listener.accept().expect("accept");
    let mut buf = [0u8; 256];
    c.write_all(b"20215120807 Li Yihang").expect("write");
    let n = s.read(&mut buf).expect("read");
    s.write_all(&buf[..n]).expect("echo");
    let _ = c.read(&mut buf).expect("read");
    c.write_all(&[b'p'; 3000]).expect("write");
    let mut got = 0;
    while got < 3000 {
        got += s.read(&mut buf).expect("read");
    }
    std::thread::sleep(PAUSE);
    drop(c);
    let _ = s.read(&mut buf);
    drop(s);
    std::thread::sleep(PAUSE);
}

#[test]
fn ipv6_any_interface_small_snaplen_and_pcapng_match_tshark() {
    if let Some(reason) = prerequisites_missing() {
        common::skip_or_fail(reason);
        return;
    }
    if !common::have_program("editcap") {
        common::skip_or_fail("editcap (from tshark's packages) is not installed");
        return;
    }
    let dir = work_dir("v6");
    let (listener, addr) = listen("::1");
    let filter = format!("ip6 and tcp port {}", addr.port());
    let captures = [
        ("lo.pcap", vec!["-i", "lo"]),
        ("any-sll.pcap", vec!["-i", "any"]),
        ("any-sll2.pcap", vec!["-i", "any", "-y", "LINUX_SLL2"]),
        ("snaplen.pcap", vec!["-i", "lo", "-s", "80"]),
    ];
    let dumps: Vec<Tcpdump> = captures
        .iter()
        .map(|(name, args)| {
            let mut args = args.clone();
            args.extend(["-B", "65536"]);
            Tcpdump::start_with(&dir.join(name), &[], &args, &filter)
        })
        .collect();
    chat_v6(&listener, addr);
    dumps.into_iter().for_each(Tcpdump::stop);
    let pcapng = dir.join("lo.pcapng");
    let ok = Command::new("editcap")
        .args(["-F", "pcapng"])
        .arg(dir.join("lo.pcap"))
        .arg(&pcapng)
        .status()
        .expect("editcap");
    assert!(ok.success());
    let mut files: Vec<PathBuf> = captures.iter().map(|(n, _)| dir.join(n)).collect();
    files.push(pcapng);
    for f in &files {
        let frames = assert_cli_same_as_tshark(f, ISSUE_FIELDS);
        assert!(frames >= 8, "{}: {frames} frames", f.display());
    }
    let (link, raw) = read_pcap(&dir.join("any-sll2.pcap"));
    assert_eq!(link.dlt(), 276);
    let trace = Trace::analyze(link, &raw);
    let ours = trace
        .streams
        .iter()
        .find(|s| s.server == addr)
        .expect("our stream");
    let s = &ours.story;
    assert_eq!(s.handshake_kind(), HandshakeKind::Normal);
    assert_eq!(s.end(Side::Client).bytes, 3021);
    let (_, cut) = read_pcap(&dir.join("snaplen.pcap"));
    assert!(cut.iter().any(|f| f.data.len() < f.orig_len as usize));
    let _ = std::fs::remove_dir_all(&dir);
}
