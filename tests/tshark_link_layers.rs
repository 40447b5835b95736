//! Frames from the captures people really have, compared field by field with tshark:
//! 802.1Q and QinQ tags, an IEEE 802.3/LLC frame, IPv6 extension headers, and raw IP
//! files with LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229), and ICMPv6 (echo, neighbour
//! discovery, errors) with its Protocol and Info columns.

mod common;

use common::pcapfile::{OutFrame, write_pcap};
use common::tshark::assert_cli_same_as_tshark;
use etherparse::{Icmpv6Type, PacketBuilder};
use labrun::analysis::SUPPORTED_FIELDS;

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn skip_reason() -> Option<&'static str> {
    (!common::have_program("tshark")).then_some("tshark is not installed")
}

/// Every field labrun lists, compared with tshark on `frames` written with link type `dlt`.
fn compare(name: &str, dlt: u32, frames: Vec<Vec<u8>>) {
    compare_fields(name, dlt, frames, SUPPORTED_FIELDS);
}

/// `fields` compared with tshark on `frames` written with link type `dlt`.
fn compare_fields(name: &str, dlt: u32, frames: Vec<Vec<u8>>, fields: &[&str]) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join(format!("{name}.pcap"));
    let frames: Vec<OutFrame> = frames
        .into_iter()
        .enumerate()
        .map(|(i, f)| OutFrame::full(1_000_000 + 1000 * i as u64, f))
        .collect();
    write_pcap(&path, dlt, &frames);
    let rows = assert_cli_same_as_tshark(&path, fields);
    assert_eq!(rows, frames.len(), "{name}: every frame compared");
}

/// An Ethernet/IPv4/TCP SYN with a VLAN tag of `vid` (one tag, or two for QinQ).
fn tagged_syn(tags: &[(u16, u16)]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(40000, 8888, 1000, 64240)
        .syn()
        .write(&mut out, &[])
        .expect("build");
    // Insert the tags (TPID, TCI) after the MAC addresses, outermost first.
    let mut tagged = out[..12].to_vec();
    for (tpid, vid) in tags {
        tagged.extend_from_slice(&tpid.to_be_bytes());
        tagged.extend_from_slice(&vid.to_be_bytes());
    }
    tagged.extend_from_slice(&out[12..]);
    tagged
}

/// An IEEE 802.3 frame (a length instead of a type) carrying LLC and a spanning-tree BPDU.
fn llc_stp() -> Vec<u8> {
    let mut f = vec![0x01, 0x80, 0xc2, 0, 0, 0];
    f.extend_from_slice(&MAC_A);
    let bpdu: [u8; 35] = [
        0, 0, 0, 0, 0, 0x80, 0, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x80, 0, 2, 0, 0, 0, 0, 0x0a,
        0x80, 0x01, 0, 0, 0x14, 0, 0x02, 0, 0x0f, 0,
    ];
    let llc = [0x42, 0x42, 0x03];
    f.extend_from_slice(&u16::try_from(llc.len() + bpdu.len()).unwrap().to_be_bytes());
    f.extend_from_slice(&llc);
    f.extend_from_slice(&bpdu);
    f.resize(60, 0);
    f
}

/// IPv6 with a hop-by-hop options header (next header 0) and then UDP or TCP.
fn ipv6_with_hop_by_hop(ethernet: bool, tcp: bool) -> Vec<u8> {
    let mut upper = Vec::new();
    let b = PacketBuilder::ipv6(V6_A, V6_B, 64);
    if tcp {
        b.tcp(40001, 8080, 5000, 1000)
            .syn()
            .write(&mut upper, &[])
            .expect("build");
    } else {
        b.udp(40002, 7777)
            .write(&mut upper, b"query")
            .expect("build");
    }
    // upper = IPv6 header (40 bytes) + transport; splice in an 8-byte hop-by-hop header
    // with a PadN option, and point the fixed header's next header at it.
    let (fixed, transport) = upper.split_at(40);
    let mut ip = fixed.to_vec();
    let proto = ip[6];
    ip[6] = 0;
    let len = u16::from_be_bytes([ip[4], ip[5]]) + 8;
    ip[4..6].copy_from_slice(&len.to_be_bytes());
    ip.extend_from_slice(&[proto, 0, 1, 4, 0, 0, 0, 0]);
    ip.extend_from_slice(transport);
    if !ethernet {
        return ip;
    }
    let mut f = MAC_B.to_vec();
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&0x86ddu16.to_be_bytes());
    f.extend_from_slice(&ip);
    f
}

fn raw_ipv4_udp() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(40003, 7777)
        .write(&mut out, b"20215120807")
        .expect("build");
    out
}

#[test]
fn vlan_qinq_and_802_3_frames_match_tshark() {
    if let Some(reason) = skip_reason() {
        return common::skip_or_fail(reason);
    }
    compare(
        "vlan",
        1,
        vec![
            tagged_syn(&[(0x8100, 10)]),
            tagged_syn(&[(0x88a8, 100), (0x8100, 10)]),
            tagged_syn(&[(0x8100, 0x2000 | 20), (0x8100, 30)]),
        ],
    );
    // Spanning tree is not one of the protocols labrun names in the Info and Protocol
    // columns; every other field must agree (`eth.type` empty: the field is a length).
    let fields: Vec<&str> = SUPPORTED_FIELDS
        .iter()
        .copied()
        .filter(|f| !f.starts_with("_ws.col"))
        .collect();
    compare_fields("llc", 1, vec![llc_stp(), llc_stp()], &fields);
}

#[test]
fn ipv6_extension_headers_match_tshark() {
    if let Some(reason) = skip_reason() {
        return common::skip_or_fail(reason);
    }
    compare(
        "ipv6-ext",
        1,
        vec![
            ipv6_with_hop_by_hop(true, true),
            ipv6_with_hop_by_hop(true, false),
        ],
    );
}

#[test]
fn raw_ip_link_types_228_and_229_are_read() {
    if let Some(reason) = skip_reason() {
        return common::skip_or_fail(reason);
    }
    compare("linktype-ipv4", 228, vec![raw_ipv4_udp(), raw_ipv4_udp()]);
    compare(
        "linktype-ipv6",
        229,
        vec![
            ipv6_with_hop_by_hop(false, true),
            ipv6_with_hop_by_hop(false, false),
        ],
    );
}

/// An Ethernet/IPv6/ICMPv6 message of `icmp_type`/`code` with bytes 4..8 `rest` and the
/// message body `body`, from `src` to `dst` (the checksum computed by the builder).
fn icmpv6(
    src: [u8; 16],
    dst: [u8; 16],
    icmp_type: u8,
    code: u8,
    rest: [u8; 4],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(src, dst, 255)
        .icmpv6(Icmpv6Type::Unknown {
            type_u8: icmp_type,
            code_u8: code,
            bytes5to8: rest,
        })
        .write(&mut out, body)
        .expect("build icmpv6");
    out
}

fn link_local(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfe;
    a[1] = 0x80;
    a[15] = last;
    a
}

/// A neighbour discovery body: an optional target address, then a link-layer address
/// option of `kind` (1 source, 2 target) when `mac` is given.
fn nd_body(target: Option<[u8; 16]>, kind: u8, mac: Option<[u8; 6]>) -> Vec<u8> {
    let mut b = target.map(|t| t.to_vec()).unwrap_or_default();
    if let Some(m) = mac {
        b.extend_from_slice(&[kind, 1]);
        b.extend_from_slice(&m);
    }
    b
}

#[test]
fn icmpv6_columns_match_tshark() {
    if let Some(reason) = skip_reason() {
        return common::skip_or_fail(reason);
    }
    let (a, b) = (link_local(1), link_local(2));
    let mut solicited = link_local(2);
    solicited[..2].copy_from_slice(&[0xff, 0x02]);
    let all_routers = {
        let mut r = [0u8; 16];
        r[..2].copy_from_slice(&[0xff, 0x02]);
        r[15] = 2;
        r
    };
    // The datagram an error message quotes: IPv6 + UDP to port 7777.
    let mut quoted = Vec::new();
    PacketBuilder::ipv6(a, b, 64)
        .udp(40000, 7777)
        .write(&mut quoted, b"hello")
        .expect("quoted");
    let echo = |id: u16, seq: u16| {
        let mut r = [0u8; 4];
        r[..2].copy_from_slice(&id.to_be_bytes());
        r[2..].copy_from_slice(&seq.to_be_bytes());
        r
    };
    let frames = vec![
        icmpv6(a, b, 128, 0, echo(0x1234, 1), b"abcdefgh"),
        icmpv6(b, a, 129, 0, echo(0x1234, 1), b"abcdefgh"),
        icmpv6(a, b, 129, 0, echo(0x0bad, 9), b""),
        icmpv6(
            a,
            solicited,
            135,
            0,
            [0; 4],
            &nd_body(Some(b), 1, Some(MAC_A)),
        ),
        icmpv6(a, solicited, 135, 0, [0; 4], &nd_body(Some(b), 1, None)),
        icmpv6(
            b,
            a,
            136,
            0,
            [0x60, 0, 0, 0],
            &nd_body(Some(b), 2, Some(MAC_B)),
        ),
        icmpv6(b, a, 136, 0, [0xe0, 0, 0, 0], &nd_body(Some(b), 2, None)),
        icmpv6(b, a, 136, 0, [0, 0, 0, 0], &nd_body(Some(b), 2, None)),
        icmpv6(
            a,
            all_routers,
            133,
            0,
            [0; 4],
            &nd_body(None, 1, Some(MAC_A)),
        ),
        icmpv6(b, a, 134, 0, [64, 0, 0x07, 0x08], &{
            let mut body = vec![0u8; 8];
            body.extend(nd_body(None, 1, Some(MAC_B)));
            body
        }),
        icmpv6(b, a, 1, 4, [0; 4], &quoted),
        icmpv6(b, a, 1, 3, [0; 4], &quoted),
        icmpv6(b, a, 1, 9, [0; 4], &quoted),
        icmpv6(b, a, 2, 0, 1280u32.to_be_bytes(), &quoted),
        icmpv6(b, a, 3, 0, [0; 4], &quoted),
        icmpv6(b, a, 3, 1, [0; 4], &quoted),
        icmpv6(b, a, 4, 1, 6u32.to_be_bytes(), &quoted),
        icmpv6(
            a,
            b,
            131,
            0,
            [0; 4],
            &a.iter().chain(&[0u8; 4]).copied().collect::<Vec<u8>>(),
        ),
        icmpv6(a, b, 137, 0, [0; 4], &[b, link_local(3)].concat()),
        icmpv6(a, b, 135, 0, [0; 4], &[0u8; 8]),
    ];
    compare("icmpv6", 1, frames);
}
