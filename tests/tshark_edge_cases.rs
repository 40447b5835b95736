//! Hand-built frames for the cases loopback traffic rarely shows (missing
//! handshakes, port reuse, sequence wrap-around, truncation, ARP, ICMP,
//! fragments, IPv6, other link types), compared field by field with tshark.

mod common;

use std::path::PathBuf;

use common::capture::read_pcap;
use common::pcapfile::{OutFrame, write_pcap};
use common::tshark::assert_same_as_tshark;
use etherparse::{ArpEthIpv4Packet, ArpOperation, PacketBuilder, TcpOptionElement};
use labrun::analysis::{CSV_FIELDS, SUPPORTED_FIELDS, Trace};

const A: [u8; 4] = [127, 0, 0, 1];
const B: [u8; 4] = [127, 0, 0, 2];
const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// Builds an Ethernet/IPv4/TCP frame; `flags` uses the wire bit values.
#[allow(clippy::too_many_arguments)]
fn tcp(
    src: [u8; 4],
    dst: [u8; 4],
    ports: (u16, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    win: u16,
    opts: &[TcpOptionElement],
    payload: &[u8],
) -> Vec<u8> {
    let (smac, dmac) = if src == A {
        (MAC_A, MAC_B)
    } else {
        (MAC_B, MAC_A)
    };
    let mut b = PacketBuilder::ethernet2(smac, dmac)
        .ipv4(src, dst, 64)
        .tcp(ports.0, ports.1, seq, win);
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if flags & RST != 0 {
        b = b.rst();
    }
    if flags & PSH != 0 {
        b = b.psh();
    }
    if flags & ACK != 0 {
        b = b.ack(ack);
    }
    let b = b.options(opts).expect("options");
    let mut out = Vec::new();
    b.write(&mut out, payload).expect("build tcp");
    if flags & ACK == 0 && ack != 0 {
        // An acknowledgment number without the ACK flag.
        out[14 + 20 + 8..14 + 20 + 12].copy_from_slice(&ack.to_be_bytes());
    }
    out
}

fn udp(src: [u8; 4], dst: [u8; 4], ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(src, dst, 64)
        .udp(ports.0, ports.1)
        .write(&mut out, payload)
        .expect("build udp");
    out
}

/// Frames for the edge cases, written as a table (one frame per line).
#[rustfmt::skip]
#[allow(clippy::vec_init_then_push)]
fn edge_frames() -> Vec<OutFrame> {
    use TcpOptionElement::*;
    let mut v: Vec<Vec<u8>> = Vec::new();
    // 1. A connection whose handshake was not captured.
    v.push(tcp(A, B, (41000, 43000), 5000, 9000, PSH | ACK, 512, &[], b"abc"));
    v.push(tcp(B, A, (43000, 41000), 9000, 5003, ACK, 256, &[], &[]));
    // 2. SYN without options carrying an ack number, then RST, then port reuse.
    v.push(tcp(A, B, (41001, 43001), 100, 77, SYN, 100, &[], &[]));
    v.push(tcp(B, A, (43001, 41001), 500, 101, SYN | ACK, 200, &[], &[]));
    v.push(tcp(A, B, (41001, 43001), 101, 501, ACK, 300, &[], &[]));
    v.push(tcp(A, B, (41001, 43001), 101, 0, RST, 0, &[], &[]));
    v.push(tcp(A, B, (41001, 43001), 7000, 0, SYN, 100, &[MaximumSegmentSize(1460), Noop, WindowScale(7)], &[]));
    v.push(tcp(B, A, (43001, 41001), 8000, 7001, SYN | ACK, 200, &[MaximumSegmentSize(1460), Noop, WindowScale(2)], &[]));
    v.push(tcp(A, B, (41001, 43001), 7001, 8001, PSH | ACK, 300, &[], b"hi"));
    v.push(tcp(B, A, (43001, 41001), 8001, 7003, ACK, 300, &[], &[]));
    // 3. Sequence numbers wrapping around 2^32.
    v.push(tcp(A, B, (41002, 43002), 0xffff_fff0, 0, SYN, 100, &[], &[]));
    v.push(tcp(B, A, (43002, 41002), 0xffff_ffff, 0xffff_fff1, SYN | ACK, 100, &[], &[]));
    v.push(tcp(A, B, (41002, 43002), 0xffff_fff1, 0, PSH | ACK, 100, &[], &[b'x'; 40]));
    v.push(tcp(B, A, (43002, 41002), 0, 0x0000_0019, ACK, 100, &[], &[]));
    v.push(tcp(A, B, (41002, 43002), 0x0000_0019, 0, FIN | ACK, 100, &[], &[]));
    // 4. Window scale offered by the client only; then a SYN-ACK seen without its SYN.
    v.push(tcp(A, B, (41003, 43003), 10, 0, SYN, 100, &[Noop, WindowScale(7)], &[]));
    v.push(tcp(B, A, (43003, 41003), 20, 11, SYN | ACK, 100, &[], &[]));
    v.push(tcp(A, B, (41003, 43003), 11, 21, ACK, 300, &[], &[]));
    v.push(tcp(B, A, (43004, 41004), 50, 61, SYN | ACK, 100, &[Noop, WindowScale(2)], &[]));
    v.push(tcp(A, B, (41004, 43004), 61, 51, ACK, 300, &[], &[]));
    v.push(tcp(B, A, (43004, 41004), 51, 61, PSH | ACK, 300, &[], b"data"));
    // 5. Linux-style handshake with timestamps and a SACK block.
    let ts = |a, b| Timestamp(a, b);
    v.push(tcp(A, B, (41005, 43005), 1000, 0, SYN, 65495, &[MaximumSegmentSize(65495), SelectiveAcknowledgementPermitted, ts(11, 0), Noop, WindowScale(10)], &[]));
    v.push(tcp(B, A, (43005, 41005), 2000, 1001, SYN | ACK, 65483, &[MaximumSegmentSize(65495), SelectiveAcknowledgementPermitted, ts(22, 11), Noop, WindowScale(10)], &[]));
    v.push(tcp(A, B, (41005, 43005), 1001, 2001, ACK, 64, &[Noop, Noop, ts(12, 22)], &[]));
    v.push(tcp(B, A, (43005, 41005), 2001, 1001, PSH | ACK, 64, &[Noop, Noop, ts(23, 12)], b"0123456789"));
    v.push(tcp(A, B, (41005, 43005), 1001, 2011, ACK, 64, &[Noop, Noop, SelectiveAcknowledgement((2001, 2011), [None, None, None])], &[]));
    v.push(tcp(A, B, (41005, 43005), 1001, 2011, RST | ACK, 0, &[], &[]));
    // 6. UDP, ICMP echo, ICMP errors quoting UDP and TCP, ARP, a fragment.
    v.push(udp(A, B, (41006, 43006), b"question?"));
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(A, B, 64).icmpv4_echo_request(0x11, 7).write(&mut out, b"ping").expect("echo");
    v.push(out);
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_B, MAC_A).ipv4(B, A, 63).icmpv4_echo_reply(0x11, 7).write(&mut out, b"ping").expect("echo");
    v.push(out);
    let quoted_udp = udp(A, B, (41007, 43007), b"abcd")[14..14 + 28].to_vec();
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_B, MAC_A).ipv4(B, A, 64).icmpv4_raw(3, 3, [0; 4]).write(&mut out, &quoted_udp).expect("icmp");
    v.push(out);
    let quoted_tcp = tcp(A, B, (41008, 43008), 1234, 0, SYN, 10, &[], &[])[14..14 + 28].to_vec();
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_B, MAC_A).ipv4(B, A, 64).icmpv4_raw(11, 0, [0; 4]).write(&mut out, &quoted_tcp).expect("icmp");
    v.push(out);
    for (op, smac, sip, tmac, tip) in [
        (ArpOperation::REQUEST, MAC_A, [10, 77, 0, 1], [0; 6], [10, 77, 0, 2]),
        (ArpOperation::REPLY, [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff], [10, 77, 0, 2], MAC_A, [10, 77, 0, 1]),
        (ArpOperation::REQUEST, MAC_A, [10, 77, 0, 1], [0; 6], [10, 77, 0, 1]),
        (ArpOperation::REQUEST, MAC_A, [0, 0, 0, 0], [0; 6], [10, 77, 0, 9]),
        (ArpOperation::REPLY, MAC_A, [10, 77, 0, 1], [0xff; 6], [10, 77, 0, 1]),
    ] {
        let arp = ArpEthIpv4Packet { operation: op, sender_mac: smac, sender_ipv4: sip, target_mac: tmac, target_ipv4: tip };
        let mut out = Vec::new();
        PacketBuilder::ethernet2(smac, [0xff; 6]).arp(arp.into()).write(&mut out).expect("arp");
        v.push(out);
    }
    let mut frag = udp(A, B, (41009, 43009), &[b'y'; 32]);
    frag[14 + 4..14 + 6].copy_from_slice(&0x1234u16.to_be_bytes());
    frag[14 + 6] = 0x20; // MF, offset 0
    frag[14 + 10..14 + 12].copy_from_slice(&[0, 0]);
    let sum = ipv4_checksum(&frag[14..34]);
    frag[14 + 10..14 + 12].copy_from_slice(&sum.to_be_bytes());
    v.push(frag);
    // 7. IPv6.
    let loopback6: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let link_local: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B).ipv6(loopback6, link_local, 64).udp(41010, 43010).write(&mut out, b"six").expect("v6");
    v.push(out);
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B).ipv6(loopback6, loopback6, 64).tcp(41011, 43011, 77, 1000).syn().write(&mut out, &[]).expect("v6");
    v.push(out);
    // 9. Sequence analysis: dup ACKs, fast retransmission, window update, lost
    //    segment, out-of-order, zero window, probes, keep-alive, unseen ACK.
    let p = (41014, 43014);
    let q = (43014, 41014);
    v.push(tcp(A, B, p, 100, 0, SYN, 1000, &[], &[]));
    v.push(tcp(B, A, q, 500, 101, SYN | ACK, 1000, &[], &[]));
    v.push(tcp(A, B, p, 101, 501, ACK, 1000, &[], &[]));
    v.push(tcp(A, B, p, 101, 501, PSH | ACK, 1000, &[], &[b'1'; 10]));
    v.push(tcp(A, B, p, 111, 501, PSH | ACK, 1000, &[], &[b'2'; 10]));
    v.push(tcp(B, A, q, 501, 111, ACK, 100, &[], &[]));
    v.push(tcp(B, A, q, 501, 111, ACK, 100, &[], &[]));
    v.push(tcp(B, A, q, 501, 111, ACK, 100, &[], &[]));
    v.push(tcp(A, B, p, 111, 501, PSH | ACK, 1000, &[], &[b'2'; 10]));
    v.push(tcp(B, A, q, 501, 121, ACK, 100, &[], &[]));
    v.push(tcp(B, A, q, 501, 121, ACK, 200, &[], &[]));
    v.push(tcp(A, B, p, 131, 501, PSH | ACK, 1000, &[], &[b'4'; 10]));
    v.push(tcp(A, B, p, 121, 501, PSH | ACK, 1000, &[], &[b'3'; 10]));
    v.push(tcp(B, A, q, 501, 141, ACK, 0, &[], &[]));
    v.push(tcp(A, B, p, 141, 501, PSH | ACK, 1000, &[], b"p"));
    v.push(tcp(B, A, q, 501, 141, ACK, 0, &[], &[]));
    v.push(tcp(B, A, q, 501, 141, ACK, 100, &[], &[]));
    v.push(tcp(A, B, p, 140, 501, ACK, 1000, &[], &[]));
    v.push(tcp(B, A, q, 501, 141, ACK, 100, &[], &[]));
    v.push(tcp(B, A, q, 501, 500, ACK, 100, &[], &[]));
    v.push(tcp(A, B, p, 101, 501, PSH | ACK, 1000, &[], &[b'1'; 10]));
    v.push(tcp(A, B, p, 141, 501, FIN | ACK, 1000, &[], &[]));
    v.push(tcp(A, B, p, 141, 501, FIN | ACK, 1000, &[], &[]));

    let mut frames: Vec<OutFrame> = v
        .into_iter()
        .enumerate()
        .map(|(i, d)| OutFrame::full(1_700_000_000_000_000 + i as u64 * 1_250, d))
        .collect();
    // 8. Frames cut by a small snap length: inside the TCP header, inside the
    //    TCP payload, inside the UDP payload.
    let t0 = 1_700_000_001_000_000;
    frames.push(OutFrame::cut(t0, tcp(A, B, (41012, 43012), 1, 2, ACK, 100, &[], &[b'q'; 100]), 40));
    frames.push(OutFrame::cut(t0 + 1, tcp(A, B, (41012, 43012), 1, 2, ACK, 100, &[], &[b'q'; 100]), 60));
    frames.push(OutFrame::cut(t0 + 2, udp(A, B, (41013, 43013), &[b'u'; 50]), 44));
    frames
}

fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn out_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labrun-edge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn hand_built_edge_cases_match_tshark() {
    if !common::have_program("tshark") {
        common::skip_or_fail("tshark is not installed");
        return;
    }
    let path = out_path("edge.pcap");
    write_pcap(&path, 1, &edge_frames());
    let (link, frames) = read_pcap(&path);
    let trace = Trace::analyze(link, &frames);
    assert_same_as_tshark(&path, &trace.packets, CSV_FIELDS);
    assert_same_as_tshark(&path, &trace.packets, SUPPORTED_FIELDS);
    for line in trace.packets.iter().map(|p| p.info.as_str()) {
        if line.starts_with('[') {
            eprintln!("{line}");
        }
    }
    for prefix in [
        "[TCP Port numbers reused]",
        "[TCP Dup ACK ",
        "[TCP Fast Retransmission]",
        "[TCP Window Update]",
        "[TCP Previous segment not captured]",
        "[TCP ZeroWindow]",
        "[TCP ZeroWindowProbe]",
        "[TCP Keep-Alive]",
        "[TCP ACKed unseen segment]",
        "[TCP Spurious Retransmission]",
    ] {
        assert!(
            trace.packets.iter().any(|p| p.info.contains(prefix)),
            "no frame shows {prefix}"
        );
    }
    let _ = std::fs::remove_file(&path);
}

/// Builds the link header for a frame from its EtherType bytes.
type Prefix = dyn Fn(&[u8]) -> Vec<u8>;

#[test]
fn other_link_types_match_tshark() {
    if !common::have_program("tshark") {
        common::skip_or_fail("tshark is not installed");
        return;
    }
    let eth_frames = edge_frames();
    let ip_only = |f: &OutFrame| f.data.get(14..).unwrap_or(&[]).to_vec();
    let is_ip = |f: &&OutFrame| {
        f.data.get(12..14) == Some(&[0x08, 0x00][..]) && f.data.len() == f.orig_len as usize
    };
    let make = |prefix: &Prefix| -> Vec<OutFrame> {
        eth_frames
            .iter()
            .filter(is_ip)
            .map(|f| {
                let mut d = prefix(&f.data[12..14]);
                d.extend_from_slice(&ip_only(f));
                OutFrame::full(f.ts_us, d)
            })
            .collect()
    };
    let sll = |proto: &[u8]| {
        let mut h = vec![0, 4, 0x03, 0x04, 0, 6];
        h.extend_from_slice(&MAC_A);
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(proto);
        h
    };
    let sll2 = |proto: &[u8]| {
        let mut h = proto.to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6]);
        h.extend_from_slice(&MAC_A);
        h.extend_from_slice(&[0, 0]);
        h
    };
    let null = |_: &[u8]| 2u32.to_le_bytes().to_vec();
    let raw = |_: &[u8]| Vec::new();
    let cases: [(&str, u32, &Prefix); 4] = [
        ("sll.pcap", 113, &sll),
        ("sll2.pcap", 276, &sll2),
        ("null.pcap", 0, &null),
        ("raw.pcap", 101, &raw),
    ];
    for (name, dlt, prefix) in cases {
        let path = out_path(name);
        write_pcap(&path, dlt, &make(prefix));
        let (link, frames) = read_pcap(&path);
        assert_eq!(link.dlt(), if dlt == 101 { 101 } else { dlt });
        let trace = Trace::analyze(link, &frames);
        assert!(trace.packets.iter().all(|p| p.error.is_none()), "{name}");
        assert_same_as_tshark(&path, &trace.packets, SUPPORTED_FIELDS);
        let _ = std::fs::remove_file(&path);
    }
    let _ = std::fs::remove_dir(out_path("x").parent().expect("dir"));
}
