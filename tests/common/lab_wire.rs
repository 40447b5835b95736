//! A 2950-byte TCP send between two sandbox hosts, captured on the sender's veth.

use labrun::capture::{CaptureConfig, LiveCapture};
use labrun::sandbox::{Sandbox, SandboxHost};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};

/// What a capture on the sender's interface saw of one transfer.
#[derive(Debug)]
pub struct WireResult {
    /// Payload lengths of the sender's data segments, in capture order.
    pub data_segments: Vec<usize>,
    /// Frames that were ARP (ethertype 0x0806).
    pub arp_frames: usize,
    /// Bytes the receiver got.
    pub received: usize,
}

/// An IPv4/TCP frame's source address and TCP payload length (Ethernet link type).
pub fn tcp_payload(frame: &[u8]) -> Option<(Ipv4Addr, usize)> {
    if frame.len() < 14 + 20 || frame[12..14] != [0x08, 0x00] {
        return None;
    }
    let ip = &frame[14..];
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if ip[9] != 6 || ip.len() < ihl + 20 {
        return None;
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let doff = usize::from(ip[ihl + 12] >> 4) * 4;
    Some((src, total.checked_sub(ihl + doff)?))
}

/// Sends `len` bytes from `from` to `to` over TCP (MSS untouched), capturing on `from`'s
/// interface inside its namespace.
pub fn send_and_capture(from: &SandboxHost, to: &SandboxHost, len: usize) -> WireResult {
    let listener = to
        .netns
        .enter(|| TcpListener::bind((to.ip, 0)))
        .expect("enter server")
        .expect("bind in server");
    let port = listener.local_addr().expect("local addr").port();
    let capture = from
        .netns
        .enter(|| LiveCapture::start(CaptureConfig::new(&from.iface, "")))
        .expect("enter client")
        .expect("open capture in client");
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("read");
        got.len()
    });
    from.netns
        .enter(|| {
            let mut c = TcpStream::connect((to.ip, port)).expect("connect");
            c.write_all(&vec![b'x'; len]).expect("send");
            c.shutdown(std::net::Shutdown::Write).expect("shutdown");
            let mut rest = Vec::new();
            c.read_to_end(&mut rest).expect("read to EOF");
        })
        .expect("enter client");
    let received = server.join().expect("server thread");
    let captured = capture.stop().expect("stop capture");
    let data_segments = captured
        .frames
        .iter()
        .filter_map(|f| tcp_payload(&f.data))
        .filter(|(src, n)| *src == from.ip && *n > 0)
        .map(|(_, n)| n)
        .collect();
    let arp_frames = captured
        .frames
        .iter()
        .filter(|f| f.data.len() >= 14 && f.data[12..14] == [0x08, 0x06])
        .count();
    WireResult {
        data_segments,
        arp_frames,
        received,
    }
}

/// The default sandbox's `client` → `server` transfer of `len` bytes.
pub fn client_to_server(sb: &Sandbox, len: usize) -> WireResult {
    let client = sb.host("client").expect("client host");
    let server = sb.host("server").expect("server host");
    send_and_capture(client, server, len)
}
