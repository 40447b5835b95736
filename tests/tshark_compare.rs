//! Real loopback traffic, captured with tcpdump, analyzed by us and by
//! tshark: every field of every frame must be equal.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::capture::{Tcpdump, read_pcap};
use common::tshark::assert_same_as_tshark;
use labrun::analysis::{CSV_FIELDS, Packet, SUPPORTED_FIELDS, Trace};

const PAUSE: Duration = Duration::from_millis(30);

/// A pseudo-random high port that is currently free for TCP and UDP.
fn free_port(avoid: u16) -> u16 {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        ^ std::process::id().wrapping_mul(2_654_435_761);
    for i in 0..1000u32 {
        let port = 20_000 + ((seed.wrapping_add(i.wrapping_mul(7919))) % 40_000) as u16;
        if port == avoid || port.abs_diff(avoid) < 2 {
            continue;
        }
        let tcp_ok = TcpListener::bind(("127.0.0.1", port)).is_ok();
        let udp_ok = UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if tcp_ok && udp_ok {
            return port;
        }
    }
    panic!("no free port found");
}

fn exchange(listener: &TcpListener, port: u16, client_first: bool) {
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (mut server, _) = listener.accept().expect("accept");
    let mut buf = [0u8; 256];
    if client_first {
        client.write_all(b"hello from the client\n").expect("write");
        let n = server.read(&mut buf).expect("read");
        assert_eq!(n, 22);
        std::thread::sleep(PAUSE);
        server.write_all(b"reply-reply-rep").expect("write");
        let n = client.read(&mut buf).expect("read");
        assert_eq!(n, 15);
        std::thread::sleep(PAUSE);
        client.shutdown(Shutdown::Write).expect("shutdown");
        assert_eq!(server.read(&mut buf).expect("read eof"), 0);
        std::thread::sleep(PAUSE);
        drop(server);
        assert_eq!(client.read(&mut buf).expect("read eof"), 0);
    } else {
        server.write_all(b"220 server greeting\r\n").expect("write");
        let n = client.read(&mut buf).expect("read");
        assert_eq!(n, 21);
        std::thread::sleep(PAUSE);
        client.write_all(b"QUIT\r\n").expect("write");
        let n = server.read(&mut buf).expect("read");
        assert_eq!(n, 6);
        std::thread::sleep(PAUSE);
        server.shutdown(Shutdown::Write).expect("shutdown");
        assert_eq!(client.read(&mut buf).expect("read eof"), 0);
        std::thread::sleep(PAUSE);
        drop(client);
        assert_eq!(server.read(&mut buf).expect("read eof"), 0);
    }
    std::thread::sleep(PAUSE);
}

fn generate_traffic(port: u16, closed: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind tcp");
    exchange(&listener, port, true);
    exchange(&listener, port, false);
    // A connection to a closed port is answered with RST, ACK.
    let refused = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], closed)),
        Duration::from_secs(2),
    );
    assert!(refused.is_err(), "port {closed} unexpectedly open");
    std::thread::sleep(PAUSE);
    // UDP request/response, then a datagram to a closed port (ICMP port unreachable).
    let server = UdpSocket::bind(("127.0.0.1", port)).expect("bind udp");
    let client = UdpSocket::bind(("127.0.0.1", 0)).expect("bind udp client");
    client.set_read_timeout(Some(Duration::from_secs(2))).ok();
    client
        .send_to(b"udp question", ("127.0.0.1", port))
        .expect("send");
    let mut buf = [0u8; 64];
    let (n, from) = server.recv_from(&mut buf).expect("recv");
    assert_eq!(n, 12);
    server.send_to(b"pong", from).expect("send");
    client.recv_from(&mut buf).expect("recv reply");
    std::thread::sleep(PAUSE);
    client.send_to(b"x", ("127.0.0.1", closed)).expect("send");
    std::thread::sleep(PAUSE);
}

fn capture_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrun-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

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

fn check_streams(trace: &Trace, port: u16, closed: u16) {
    let streams: Vec<_> = trace
        .streams
        .iter()
        .filter(|s| s.server.port() == port || s.server.port() == closed)
        .collect();
    assert_eq!(streams.len(), 3, "streams: {streams:#?}");
    for s in &streams[..2] {
        assert!(s.handshake_complete(), "{s:#?}");
        assert!(s.client_fin_frame.is_some() && s.server_fin_frame.is_some());
        assert!(s.rst_frames.is_empty());
        assert_eq!(s.server.port(), port);
    }
    let first = streams[0];
    assert!(first.client_fin_frame < first.server_fin_frame);
    let second = streams[1];
    assert!(second.server_fin_frame < second.client_fin_frame);
    let refused = streams[2];
    assert_eq!(refused.server.port(), closed);
    assert!(refused.syn_frame.is_some());
    assert_eq!(refused.rst_frames.len(), 1);
    assert!(!refused.rst_frames[0].1, "the server sends the RST");
}

fn find(packets: &[Packet], pred: impl Fn(&Packet) -> bool) -> Option<&Packet> {
    packets.iter().find(|p| pred(p))
}

#[test]
fn loopback_capture_matches_tshark() {
    if let Some(reason) = prerequisites_missing() {
        common::skip_or_fail(reason);
        return;
    }
    let port = free_port(0);
    let closed = free_port(port);
    let path = capture_file("loopback.pcap");
    let filter = format!(
        "tcp port {port} or udp port {port} or tcp port {closed} or udp port {closed} or icmp"
    );
    let dump = Tcpdump::start(&path, &filter);
    generate_traffic(port, closed);
    dump.stop();

    let (link, frames) = read_pcap(&path);
    assert!(frames.len() >= 25, "only {} frames captured", frames.len());
    let trace = Trace::analyze(link, &frames);

    assert_same_as_tshark(&path, &trace.packets, CSV_FIELDS);
    assert_same_as_tshark(&path, &trace.packets, SUPPORTED_FIELDS);
    check_streams(&trace, port, closed);

    let syn = find(&trace.packets, |p| {
        p.tcp.as_ref().is_some_and(|t| t.flags.bits() == 0x002)
    })
    .expect("a SYN");
    assert_eq!(syn.field("tcp.ack").as_deref(), Some("0"));
    assert!(syn.info.contains("[SYN] Seq=0 Win="), "{}", syn.info);
    let rst = find(&trace.packets, |p| p.info.contains("[RST, ACK]")).expect("RST");
    assert!(rst.error.is_none());
    let icmp = find(&trace.packets, |p| p.protocol == "ICMP").expect("ICMP");
    assert_eq!(icmp.info, "Destination unreachable (Port unreachable)");
    assert!(trace.packets.iter().all(|p| p.error.is_none()));
    remove_capture(&path);
}

/// Deletes a capture that matched, and its directory once empty.
fn remove_capture(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
}

/// A bulk transfer to a slow reader: many segments, window updates and
/// usually zero windows, all produced by the kernel.
#[test]
fn bulk_transfer_matches_tshark() {
    if let Some(reason) = prerequisites_missing() {
        common::skip_or_fail(reason);
        return;
    }
    let port = free_port(0);
    let path = capture_file("bulk.pcap");
    // A 256 MiB buffer: the capture keeps every frame even on a loaded machine, so the
    // comparison is about the analysis, not about which frames tcpdump happened to drop.
    let dump = Tcpdump::start_with(
        &path,
        &[],
        &["-i", "lo", "-B", "262144"],
        &format!("tcp port {port}"),
    );
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let sender = std::thread::spawn(move || {
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let block = vec![0x5au8; 64 * 1024];
        for _ in 0..64 {
            c.write_all(&block).expect("write");
        }
        c.shutdown(Shutdown::Write).expect("shutdown");
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).expect("read");
    });
    let (mut s, _) = listener.accept().expect("accept");
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0usize;
    let mut reads = 0u32;
    loop {
        let n = s.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n;
        reads += 1;
        if reads < 40 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    assert_eq!(total, 64 * 64 * 1024);
    drop(s);
    sender.join().expect("sender");
    dump.stop();

    let (link, frames) = read_pcap(&path);
    let trace = Trace::analyze(link, &frames);
    assert!(trace.packets.len() > 50, "{} frames", trace.packets.len());
    assert_same_as_tshark(&path, &trace.packets, CSV_FIELDS);
    assert_same_as_tshark(&path, &trace.packets, SUPPORTED_FIELDS);
    let flagged = trace
        .packets
        .iter()
        .filter(|p| p.info.starts_with("[TCP"))
        .count();
    eprintln!(
        "bulk transfer: {} frames, {flagged} with analysis flags",
        trace.packets.len()
    );
    remove_capture(&path);
}
