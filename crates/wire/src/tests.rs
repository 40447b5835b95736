//! Decoder tests on hand-built frames, truncations and random garbage.

use std::net::{IpAddr, Ipv4Addr};

use etherparse::{ArpEthIpv4Packet, ArpOperation, PacketBuilder, TcpOptionElement};

use super::*;

const MAC_A: [u8; 6] = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01];
const MAC_B: [u8; 6] = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x02];

fn tcp_syn_frame() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([127, 0, 0, 1], [127, 0, 0, 2], 64)
        .tcp(52550, 47001, 0xfffffff0, 65495)
        .syn()
        .options(&[
            TcpOptionElement::MaximumSegmentSize(65495),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(986897326, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(10),
        ])
        .unwrap()
        .write(&mut out, &[])
        .unwrap();
    out
}

fn tcp_data_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([127, 0, 0, 1], [127, 0, 0, 2], 64)
        .tcp(52550, 47001, 1000, 512)
        .ack(2000)
        .psh()
        .write(&mut out, payload)
        .unwrap();
    out
}

fn udp_frame() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 77, 0, 1], [10, 77, 0, 2], 17)
        .udp(52550, 47001)
        .write(&mut out, b"hello world!")
        .unwrap();
    out
}

fn arp_frame() -> Vec<u8> {
    let arp = ArpEthIpv4Packet {
        operation: ArpOperation::REPLY,
        sender_mac: MAC_A,
        sender_ipv4: [10, 77, 0, 2],
        target_mac: MAC_B,
        target_ipv4: [10, 77, 0, 1],
    };
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .arp(arp.into())
        .write(&mut out)
        .unwrap();
    out
}

fn icmp_unreachable_frame() -> Vec<u8> {
    // The quoted datagram: the start of the UDP datagram that bounced.
    let quoted = &udp_frame()[14..14 + 28];
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_B, MAC_A)
        .ipv4([10, 77, 0, 2], [10, 77, 0, 1], 64)
        .icmpv4_raw(3, 3, [0; 4])
        .write(&mut out, quoted)
        .unwrap();
    out
}

#[test]
fn link_types_round_trip() {
    for lt in [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::RawIp,
    ] {
        assert_eq!(LinkType::from_dlt(lt.dlt()), Some(lt));
    }
    assert_eq!(LinkType::from_dlt(108), Some(LinkType::Null));
    assert_eq!(LinkType::from_dlt(12), Some(LinkType::RawIp));
    assert_eq!(LinkType::from_dlt(14), Some(LinkType::RawIp));
    assert_eq!(LinkType::from_dlt(105), None);
}

#[test]
fn decodes_tcp_syn_with_options() {
    let f = decode(LinkType::Ethernet, &tcp_syn_frame());
    assert_eq!(f.error, None);
    let LinkRepr::Ethernet(eth) = &f.link else {
        panic!("not ethernet: {:?}", f.link)
    };
    assert_eq!((eth.src, eth.dst, eth.ethertype), (MAC_A, MAC_B, 0x0800));
    let Some(NetRepr::Ip(ip)) = &f.net else {
        panic!("no ip")
    };
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
    assert_eq!(
        (ip.ttl, ip.protocol, ip.header_len, ip.total_len),
        (64, 6, 20, 60)
    );
    assert!(ip.df);
    assert!(!ip.mf);
    let Some(TransportRepr::Tcp(t)) = &f.transport else {
        panic!("no tcp")
    };
    assert_eq!((t.src_port, t.dst_port, t.seq), (52550, 47001, 0xfffffff0));
    assert_eq!(
        (t.flags, t.window, t.data_offset, t.payload_len),
        (TcpFlags::SYN, 65495, 10, 0)
    );
    assert_eq!(
        t.options,
        vec![
            TcpOption::Mss(65495),
            TcpOption::SackPermitted,
            TcpOption::Timestamps(986897326, 0),
            TcpOption::Nop,
            TcpOption::WindowScale(10),
        ]
    );
}

#[test]
fn decodes_tcp_payload_and_flags() {
    let f = decode(LinkType::Ethernet, &tcp_data_frame(b"GET / HTTP/1.0\r\n"));
    let Some(TransportRepr::Tcp(t)) = &f.transport else {
        panic!("no tcp")
    };
    assert_eq!(t.flags, TcpFlags::PSH | TcpFlags::ACK);
    assert_eq!((t.ack, t.payload_len), (2000, 16));
    assert_eq!(f.payload, b"GET / HTTP/1.0\r\n");
}

#[test]
fn decodes_udp_arp_icmp() {
    let f = decode(LinkType::Ethernet, &udp_frame());
    assert_eq!(
        f.transport,
        Some(TransportRepr::Udp(UdpRepr {
            src_port: 52550,
            dst_port: 47001,
            length: 20,
            checksum: match &f.transport {
                Some(TransportRepr::Udp(u)) => u.checksum,
                _ => 0,
            },
        }))
    );
    assert_eq!(f.payload, b"hello world!");

    let f = decode(LinkType::Ethernet, &arp_frame());
    assert_eq!(
        f.net,
        Some(NetRepr::Arp(ArpRepr::ethernet_ipv4(
            2,
            MAC_A,
            Ipv4Addr::new(10, 77, 0, 2),
            MAC_B,
            Ipv4Addr::new(10, 77, 0, 1),
        )))
    );

    let f = decode(LinkType::Ethernet, &icmp_unreachable_frame());
    let Some(TransportRepr::Icmpv4(icmp)) = &f.transport else {
        panic!("no icmp: {f:?}")
    };
    assert_eq!((icmp.icmp_type, icmp.code), (3, 3));
    let q = icmp.quote.as_ref().expect("quote");
    assert_eq!(q.ip.dst, IpAddr::V4(Ipv4Addr::new(10, 77, 0, 2)));
    assert_eq!(q.ports, Some((52550, 47001)));
    assert_eq!(q.udp_length, Some(20));
    // A UDP quote has no TCP header to show.
    assert_eq!(q.tcp, None);
}

#[test]
fn decodes_fragment_without_transport() {
    let mut frame = udp_frame();
    // Set MF on the IPv4 header (byte 6 of the IP header) and fix nothing else:
    // a fragment must not be decoded as UDP.
    frame[14 + 6] = 0x20;
    let f = decode(LinkType::Ethernet, &frame);
    let Some(NetRepr::Ip(ip)) = &f.net else {
        panic!("no ip")
    };
    assert!(ip.mf && ip.fragmented);
    assert_eq!(f.transport, None);
}

#[test]
fn other_link_types() {
    let eth = tcp_syn_frame();
    let ip = &eth[14..];

    let mut sll = vec![0, 0, 0x03, 0x04, 0, 6];
    sll.extend_from_slice(&MAC_A);
    sll.extend_from_slice(&[0, 0, 0x08, 0x00]);
    sll.extend_from_slice(ip);
    let f = decode(LinkType::LinuxSll, &sll);
    assert_eq!(f.error, None);
    assert!(matches!(f.transport, Some(TransportRepr::Tcp(_))));
    let LinkRepr::LinuxSll(s) = &f.link else {
        panic!()
    };
    assert_eq!((s.version, s.hatype, s.protocol), (1, 772, 0x0800));
    assert_eq!(s.addr, MAC_A);

    let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 4, 6];
    sll2.extend_from_slice(&MAC_A);
    sll2.extend_from_slice(&[0, 0]);
    sll2.extend_from_slice(ip);
    let f = decode(LinkType::LinuxSll2, &sll2);
    assert_eq!(f.error, None);
    let LinkRepr::LinuxSll(s) = &f.link else {
        panic!()
    };
    assert_eq!((s.version, s.packet_type, s.ifindex), (2, 4, Some(1)));
    assert!(matches!(f.transport, Some(TransportRepr::Tcp(_))));

    for family in [2u32.to_le_bytes(), 2u32.to_be_bytes()] {
        let mut null = family.to_vec();
        null.extend_from_slice(ip);
        let f = decode(LinkType::Null, &null);
        assert_eq!(f.link, LinkRepr::Null { family: 2 });
        assert!(matches!(f.transport, Some(TransportRepr::Tcp(_))));
    }

    let f = decode(LinkType::RawIp, ip);
    assert_eq!(f.link, LinkRepr::Raw);
    assert!(matches!(f.transport, Some(TransportRepr::Tcp(_))));
}

#[test]
fn vlan_tag_is_skipped() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .single_vlan(etherparse::VlanId::try_new(77).unwrap())
        .ipv4([1, 2, 3, 4], [5, 6, 7, 8], 9)
        .udp(1, 2)
        .write(&mut out, b"x")
        .unwrap();
    let f = decode(LinkType::Ethernet, &out);
    let LinkRepr::Ethernet(e) = &f.link else {
        panic!()
    };
    assert_eq!((e.vlan, e.ethertype), (Some(77), 0x0800));
    assert!(matches!(f.transport, Some(TransportRepr::Udp(_))));
}

#[test]
fn truncation_messages_are_readable() {
    let frame = tcp_syn_frame();
    let f = decode(LinkType::Ethernet, &frame[..28]);
    assert_eq!(
        f.error.map(|e| e.to_string()).as_deref(),
        Some("frame truncated at IPv4 header: 14 of 20 bytes")
    );
    let f = decode(LinkType::Ethernet, &frame[..10]);
    assert_eq!(
        f.error.map(|e| e.to_string()).as_deref(),
        Some("frame truncated at Ethernet header: 10 of 14 bytes")
    );
    let f = decode(LinkType::Ethernet, &frame[..40]);
    assert!(matches!(
        f.transport,
        Some(TransportRepr::Truncated {
            protocol: 6,
            ports: Some((52550, 47001))
        })
    ));
    assert!(f.error.is_some());
}

#[test]
fn every_cut_length_records_an_error_without_panicking() {
    let frames = [
        tcp_syn_frame(),
        tcp_data_frame(b"0123456789"),
        udp_frame(),
        arp_frame(),
        icmp_unreachable_frame(),
    ];
    for frame in &frames {
        for cut in 0..frame.len() {
            let f = decode(LinkType::Ethernet, &frame[..cut]);
            assert!(
                f.error.is_some(),
                "cut at {cut} of {} gave no error",
                frame.len()
            );
        }
        let ip = &frame[14..];
        for cut in 0..ip.len() {
            let _ = decode(LinkType::RawIp, &ip[..cut]);
            let mut sll2 = vec![
                0x08, 0x00, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0,
            ];
            sll2.extend_from_slice(&ip[..cut]);
            for len in 0..sll2.len() {
                let _ = decode(LinkType::LinuxSll2, &sll2[..len]);
                let _ = decode(LinkType::LinuxSll, &sll2[..len]);
                let _ = decode(LinkType::Null, &sll2[..len]);
            }
        }
    }
}

/// Deterministic xorshift64 generator for the garbage test.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let templates = [tcp_syn_frame(), udp_frame(), icmp_unreachable_frame()];
    let links = [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::RawIp,
    ];
    for i in 0..20_000u64 {
        let len = (rng.next() % 120) as usize;
        let data: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            // Mutate a valid frame so the deeper layers get exercised.
            let mut d = templates[(i % 3) as usize].clone();
            for _ in 0..(1 + rng.next() % 4) {
                let at = (rng.next() as usize) % d.len();
                d[at] = rng.next() as u8;
            }
            d.truncate((rng.next() as usize) % (d.len() + 1));
            d
        };
        for link in links {
            let _ = decode(link, &data);
        }
    }
}

/// Frames of the example captures (Ethernet, real loopback traffic).
fn example_frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for lab in [
        "chat",
        "multi_client",
        "rst",
        "rst_attack",
        "segment",
        "syn_craft",
        "udp",
        "websocket",
    ] {
        let path = format!(
            "{}/tests/corpus/examples/{lab}.pcap",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
        );
        let bytes = std::fs::read(path).expect("example capture");
        let mut at = 24;
        while let Some(h) = bytes.get(at..at + 16) {
            let caplen = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
            let Some(data) = bytes.get(at + 16..at + 16 + caplen) else {
                break;
            };
            out.push(data.to_vec());
            at += 16 + caplen;
        }
    }
    out
}

#[test]
fn hand_decoded_ipv4_tcp_equals_the_general_decoder() {
    let mut rng = XorShift(0x5eed_fa57);
    let mut seeds = example_frames();
    assert!(seeds.len() > 200, "seed frames");
    seeds.extend([tcp_syn_frame(), tcp_data_frame(b"hello"), udp_frame()]);
    let same = |link: LinkType, d: &[u8]| {
        for keep in [false, true] {
            assert_eq!(
                // A used option list is emptied before it is filled.
                decode::decode_with(link, d, keep, true, vec![TcpOption::Mss(1)]),
                decode::decode_with(link, d, keep, false, Vec::new()),
                "{link:?} {d:02x?}"
            );
        }
    };
    for f in &seeds {
        same(LinkType::Ethernet, f);
    }
    for _ in 0..100_000 {
        let mut d = seeds[(rng.next() as usize) % seeds.len()].clone();
        for _ in 0..(1 + rng.next() % 3) {
            let at = (rng.next() as usize) % d.len().max(1);
            match rng.next() % 4 {
                // Mostly the IPv4 and TCP headers: lengths, flags, offsets.
                0 if d.len() > 14 => {
                    let at = 14 + at % 40.min(d.len() - 14);
                    d[at] = rng.next() as u8;
                }
                1 if !d.is_empty() => d[at] ^= 1 << (rng.next() % 8),
                2 => d.truncate(at),
                _ => d.extend((0..rng.next() % 8).map(|_| rng.next() as u8)),
            }
        }
        same(LinkType::Ethernet, &d);
        if d.len() > 14 {
            same(LinkType::RawIp, &d[14..]);
        }
    }
}

/// `TcpRepr::emit_ipv4` writes the bytes etherparse's builder writes, and they decode back.
#[test]
fn tcp_emit_matches_etherparse_and_parses_back() {
    use etherparse::TcpHeader;
    let (src, dst) = (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2));
    let option_sets: [&[TcpOption]; 5] = [
        &[],
        &[TcpOption::Mss(1460)],
        &[TcpOption::Mss(536), TcpOption::SackPermitted],
        &[
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps(7, 0xdead_beef),
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ],
        &[TcpOption::Timestamps(1, 2)],
    ];
    for (i, options) in option_sets.iter().enumerate() {
        for payload in [&b""[..], b"x", b"hello, world", &[0xff; 1001]] {
            let flags = TcpFlags(0x0ff >> i);
            let repr = TcpRepr {
                src_port: 40000 + i as u16,
                dst_port: 8888,
                seq: u32::MAX - i as u32,
                ack: 12345,
                data_offset: 0,
                flags,
                window: 64240,
                checksum: 0,
                urgent: 0,
                options: options.to_vec(),
                payload_len: 0,
            };
            let mut ours = Vec::new();
            repr.emit_ipv4(src, dst, payload, &mut ours).unwrap();

            let mut h = TcpHeader::new(repr.src_port, repr.dst_port, repr.seq, repr.window);
            h.acknowledgment_number = repr.ack;
            (h.fin, h.syn, h.rst, h.psh) = (
                flags.contains(TcpFlags::FIN),
                flags.contains(TcpFlags::SYN),
                flags.contains(TcpFlags::RST),
                flags.contains(TcpFlags::PSH),
            );
            (h.ack, h.urg, h.ece, h.cwr) = (
                flags.contains(TcpFlags::ACK),
                flags.contains(TcpFlags::URG),
                flags.contains(TcpFlags::ECE),
                flags.contains(TcpFlags::CWR),
            );
            let elements: Vec<TcpOptionElement> = options
                .iter()
                .map(|o| match o {
                    TcpOption::Mss(m) => TcpOptionElement::MaximumSegmentSize(*m),
                    TcpOption::SackPermitted => TcpOptionElement::SelectiveAcknowledgementPermitted,
                    TcpOption::Timestamps(a, b) => TcpOptionElement::Timestamp(*a, *b),
                    TcpOption::Nop => TcpOptionElement::Noop,
                    TcpOption::WindowScale(s) => TcpOptionElement::WindowScale(*s),
                    other => panic!("not in the table: {other:?}"),
                })
                .collect();
            h.set_options(&elements).unwrap();
            let mut theirs = Vec::new();
            PacketBuilder::ipv4(src.octets(), dst.octets(), 64)
                .tcp_header(h)
                .write(&mut theirs, payload)
                .unwrap();
            assert_eq!(
                ours,
                theirs[20..],
                "options {options:?}, {} bytes",
                payload.len()
            );

            let (back, rest) = decode_transport(6, &ours).unwrap();
            let TransportRepr::Tcp(back) = back else {
                panic!("not TCP")
            };
            assert_eq!(
                (back.flags, &back.options[..options.len()], rest),
                (flags, *options, payload)
            );
        }
    }
    let too_many = TcpRepr {
        options: vec![TcpOption::Timestamps(0, 0); 5],
        ..TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: 0,
            ack: 0,
            data_offset: 0,
            flags: TcpFlags::SYN,
            window: 0,
            checksum: 0,
            urgent: 0,
            options: Vec::new(),
            payload_len: 0,
        }
    };
    assert!(too_many.emit_ipv4(src, dst, b"", &mut Vec::new()).is_err());
}

#[test]
fn icmpv6_neighbour_discovery_and_odd_options() {
    // A Neighbor Solicitation for fe80::2 with a source link-layer address option.
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x80];
    ns.extend_from_slice(&[0; 13]);
    ns.push(2);
    ns.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 0x0a]);
    let r = crate::decode_icmpv6(&ns).expect("decodes");
    assert_eq!(r.target, Some("fe80::2".parse().unwrap()));
    assert_eq!(r.link_addr, Some([2, 0, 0, 0, 0, 0x0a]));
    assert!(r.len >= r.min_len());
    // A zero-length option ends the walk (RFC 4861 4.6); a cut message still decodes.
    let mut zero = ns.clone();
    zero[25] = 0;
    assert_eq!(
        crate::decode_icmpv6(&zero).expect("decodes").link_addr,
        None
    );
    for cut in 0..ns.len() {
        let r = crate::decode_icmpv6(&ns[..cut]);
        assert_eq!(r.is_some(), cut >= 4, "cut at {cut}");
    }
    // An echo request and its identifier and sequence number.
    let echo = crate::decode_icmpv6(&[128, 0, 0, 0, 0x12, 0x34, 0, 7]).expect("echo");
    assert_eq!(echo.echo(), Some((0x1234, 7)));
}

#[test]
fn pktap_header_is_checked_before_the_inner_frame() {
    let mut h = vec![0u8; 108];
    h[0] = 108;
    h[4] = 1;
    h[8] = 1;
    let frame = [h.clone(), vec![0u8; 14]].concat();
    assert_eq!(
        crate::pktap_inner(&frame).map(|(l, b)| (l, b.len())),
        Ok((LinkType::Ethernet, 14))
    );
    for cut in 0..108 {
        assert!(crate::pktap_inner(&frame[..cut]).is_err(), "cut {cut}");
    }
    let mut nested = frame.clone();
    nested[8..12].copy_from_slice(&258u32.to_le_bytes());
    assert!(
        crate::pktap_inner(&nested).is_err(),
        "a PKTAP inside PKTAP is refused"
    );
    let _ = decode(LinkType::Pktap, &nested);
}

/// ARP with other address sizes decodes as tshark reads it; the MAC and IPv4 views
/// are only for the usual sizes.
#[test]
fn arp_of_any_address_size() {
    let arp = |htype: u16, hlen: u8, plen: u8| {
        let mut b = htype.to_be_bytes().to_vec();
        b.extend_from_slice(&[8, 0, hlen, plen, 0, 1]);
        for (i, n) in [hlen, plen, hlen, plen].into_iter().enumerate() {
            b.extend(std::iter::repeat_n(i as u8 + 1, usize::from(n)));
        }
        b
    };
    let a = decode_arp(&arp(1, 8, 4)).unwrap();
    assert!(!a.hw_is_mac() && a.proto_is_ipv4());
    assert_eq!(
        (a.addr(0), a.sender_ip),
        (&[1u8; 8][..], Ipv4Addr::new(2, 2, 2, 2))
    );
    assert_eq!(a.addr(3), &[4u8; 4]);
    let a = decode_arp(&arp(6, 6, 16)).unwrap();
    assert!(a.hw_is_mac() && !a.proto_is_ipv4());
    assert_eq!((a.target_mac, a.addr(3).len()), ([3; 6], 16));
    let a = decode_arp(&arp(1, 0, 4)).unwrap();
    assert_eq!(
        (a.addr(0), a.target_ip),
        (&[][..], Ipv4Addr::new(4, 4, 4, 4))
    );
    let short = arp(1, 6, 4);
    assert!(matches!(
        decode_arp(&short[..20]),
        Err(WireError::Truncated { need: 28, .. })
    ));
    assert!(decode_arp(&short[..7]).is_err());
}

/// IPv4 total lengths read against the frame's length on the wire, as tshark does.
#[test]
fn ipv4_total_length_against_the_frame() {
    let frame = udp_frame();
    let with_total = |total: u16| {
        let mut f = frame.clone();
        f[16..18].copy_from_slice(&total.to_be_bytes());
        f
    };
    let udp_len = |f: &Frame| match &f.transport {
        Some(TransportRepr::Udp(u)) => Some(u.length),
        _ => None,
    };
    let ip_len = |f: &Frame| match &f.net {
        Some(NetRepr::Ip(ip)) => Some(ip.total_len),
        _ => None,
    };
    let whole = frame.len() as u32;
    // 0: a TSO super-packet; the frame's length stands in.
    let f = decode_captured(LinkType::Ethernet, &with_total(0), whole, true, Vec::new());
    assert_eq!(
        (ip_len(&f), udp_len(&f), f.error),
        (Some(whole as u16 - 14), Some(20), None)
    );
    // Beyond the frame, which the capture holds whole: cut to the frame, no error.
    let f = decode_captured(
        LinkType::Ethernet,
        &with_total(2000),
        whole,
        true,
        Vec::new(),
    );
    assert_eq!((ip_len(&f), f.error), (Some(2000), None));
    // Beyond the frame, which the snap length cut: the cut shows.
    let f = decode_captured(
        LinkType::Ethernet,
        &with_total(2000)[..40],
        whole,
        true,
        Vec::new(),
    );
    assert!(matches!(f.error, Some(WireError::Truncated { .. })));
    // Below the header length: tshark stops at the IPv4 header.
    let f = decode_captured(LinkType::Ethernet, &with_total(10), whole, true, Vec::new());
    assert_eq!(
        f.error.as_ref().map(ToString::to_string).as_deref(),
        Some("Bogus IP length (10, less than header length 20)")
    );
    assert_eq!((f.net, f.error.map(|e| e.protocol())), (None, Some("IPv4")));
}
