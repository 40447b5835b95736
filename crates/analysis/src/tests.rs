//! Analyzer tests on hand-built frames: numbering, columns and field text.

use etherparse::{PacketBuilder, TcpOptionElement};

use super::*;

const CLIENT: [u8; 4] = [127, 0, 0, 1];
const SERVER: [u8; 4] = [127, 0, 0, 1];

fn frame(ts_nsec: u32, data: Vec<u8>) -> RawFrame {
    RawFrame {
        ts_sec: 1_700_000_000,
        ts_nsec,
        orig_len: data.len() as u32,
        data,
    }
}

#[allow(clippy::too_many_arguments)]
fn seg(
    sport: u16,
    dport: u16,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    opts: &[TcpOptionElement],
    win: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(CLIENT, SERVER, 64)
        .tcp(sport, dport, seq, win);
    if syn {
        b = b.syn();
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    if !payload.is_empty() {
        b = b.psh();
    }
    let mut out = Vec::new();
    b.options(opts).unwrap().write(&mut out, payload).unwrap();
    out
}

fn handshake() -> Vec<RawFrame> {
    use TcpOptionElement::*;
    let syn_opts = |ts: (u32, u32)| {
        [
            MaximumSegmentSize(65495),
            SelectiveAcknowledgementPermitted,
            Timestamp(ts.0, ts.1),
            Noop,
            WindowScale(10),
        ]
    };
    let ts = |a, b| [Noop, Noop, Timestamp(a, b)];
    vec![
        frame(
            0,
            seg(
                52550,
                47001,
                1000,
                None,
                true,
                &syn_opts((986897326, 0)),
                65495,
                &[],
            ),
        ),
        frame(
            110_000,
            seg(
                47001,
                52550,
                5000,
                Some(1001),
                true,
                &syn_opts((7, 986897326)),
                65483,
                &[],
            ),
        ),
        frame(
            200_000,
            seg(
                52550,
                47001,
                1001,
                Some(5001),
                false,
                &ts(986897327, 7),
                64,
                &[],
            ),
        ),
        frame(
            300_000,
            seg(
                52550,
                47001,
                1001,
                Some(5001),
                false,
                &ts(986897328, 7),
                64,
                &[b'a'; 21],
            ),
        ),
    ]
}

#[test]
fn handshake_columns_and_fields() {
    let trace = Trace::analyze(LinkType::Ethernet, &handshake());
    let p = &trace.packets;
    assert_eq!(
        p[0].info,
        "52550 → 47001 [SYN] Seq=0 Win=65495 Len=0 MSS=65495 SACK_PERM TSval=986897326 TSecr=0 WS=1024"
    );
    assert_eq!(
        p[1].info,
        "47001 → 52550 [SYN, ACK] Seq=0 Ack=1 Win=65483 Len=0 MSS=65495 SACK_PERM TSval=7 TSecr=986897326 WS=1024"
    );
    assert_eq!(
        p[2].info,
        "52550 → 47001 [ACK] Seq=1 Ack=1 Win=65536 Len=0 TSval=986897327 TSecr=7"
    );
    assert_eq!(
        p[3].info,
        "52550 → 47001 [PSH, ACK] Seq=1 Ack=1 Win=65536 Len=21 TSval=986897328 TSecr=7"
    );
    assert_eq!(p[3].protocol, "TCP");
    assert_eq!(p[0].field("tcp.ack").as_deref(), Some("0"));
    assert_eq!(
        p[1].field("frame.time_relative").as_deref(),
        Some("0.000110000")
    );
    assert_eq!(p[3].field("tcp.flags.str").as_deref(), Some("·······AP···"));
    assert_eq!(p[3].field("tcp.nxtseq").as_deref(), Some("22"));
    assert_eq!(p[3].field("tcp.window_size").as_deref(), Some("65536"));
    assert_eq!(p[3].field("eth.src").as_deref(), Some("00:00:00:00:00:00"));
    assert_eq!(p[3].field("_ws.col.Info"), p[3].field("_ws.col.info"));
    assert_eq!(p[3].field("udp.srcport"), None);
    assert_eq!(p[3].field("no.such.field"), None);
    assert_eq!(p.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2, 3, 4]);

    let s = &trace.streams[0];
    assert!(s.handshake_complete());
    assert_eq!((s.client_isn, s.server_isn), (Some(1000), Some(5000)));
    assert_eq!(s.client.port(), 52550);
    assert_eq!(s.frames, [1, 2, 3, 4]);
}

#[test]
fn every_supported_field_is_answered_for_tcp() {
    let trace = Trace::analyze(LinkType::Ethernet, &handshake());
    let p = &trace.packets[0];
    for f in CSV_FIELDS {
        if !f.starts_with("udp.") {
            assert!(p.field(f).is_some(), "{f}");
        }
    }
    assert_eq!(p.field("tcp.options.mss_val").as_deref(), Some("65495"));
    assert_eq!(
        p.field("tcp.options.wscale.multiplier").as_deref(),
        Some("1024")
    );
    assert_eq!(p.field("tcp.window_size_scalefactor"), None);
    assert_eq!(
        trace.packets[2]
            .field("tcp.window_size_scalefactor")
            .as_deref(),
        Some("1024")
    );
}

#[test]
fn undecodable_frames_become_packets_with_errors() {
    let mut a = Analyzer::new(LinkType::Ethernet);
    let p = a.push(&frame(0, vec![1, 2, 3]));
    assert_eq!(p.number, 1);
    assert_eq!(
        p.error.as_deref(),
        Some("frame truncated at Ethernet header: 3 of 14 bytes")
    );
    let p = a.push(&frame(5, vec![0xff; 40]));
    assert_eq!(p.number, 2);
    assert_eq!(p.time_relative, 5);
    assert!(a.streams().is_empty());
}

#[test]
fn formatting_helpers() {
    assert_eq!(fmt_seconds(110_000), "0.000110000");
    assert_eq!(fmt_seconds(12_345_678_901), "12.345678901");
    assert_eq!(fmt_seconds(-1_000), "-0.000001000");
    assert_eq!(
        fmt_mac(&[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]),
        "aa:bb:cc:dd:ee:ff"
    );
}

#[test]
fn udp_and_streaming_memory_stays_per_connection() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(CLIENT, SERVER, 64)
        .udp(52550, 47001)
        .write(&mut out, b"twelve bytes")
        .unwrap();
    let mut a = Analyzer::new(LinkType::Ethernet);
    for i in 0..10_000u32 {
        let p = a.push(&frame(i, out.clone()));
        assert_eq!(p.info, "52550 → 47001 Len=12");
        assert_eq!(p.protocol, "UDP");
    }
    assert!(a.streams().is_empty());
    assert!(a.finish().is_empty());
}

#[test]
fn one_reused_record_equals_fresh_records() {
    // Every example capture (TCP, UDP, ICMP, ARP frames in turn), and the
    // same frames cut short, so that each kind follows each other kind.
    let mut frames = Vec::new();
    for lab in [
        "chat",
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
            frames.push(data.to_vec());
            frames.push(data[..data.len() * 2 / 3].to_vec());
            at += 16 + caplen;
        }
    }
    for keep in [true, false] {
        let (mut fresh, mut reused) = (
            Analyzer::new(LinkType::Ethernet),
            Analyzer::new(LinkType::Ethernet),
        );
        for a in [&mut fresh, &mut reused] {
            a.keep_payload(keep);
            a.keep_columns(keep);
        }
        let mut record = Packet::default();
        for (i, f) in frames.iter().enumerate() {
            let p = fresh.push_bytes(i as i64, 7, f.len() as u32, f);
            reused.push_into(i as i64, 7, f.len() as u32, f, &mut record);
            assert_eq!(p, record, "frame {}", i + 1);
        }
    }
}

#[test]
fn field_names_are_listed_once() {
    for name in SUPPORTED_FIELDS.iter().chain(CSV_FIELDS) {
        assert!(Field::from_name(name).is_some(), "{name}");
    }
    assert_eq!(
        Field::from_name("_ws.col.Info"),
        Field::from_name("_ws.col.info")
    );
    assert_eq!(Field::from_name("tcp.nonsense"), None);
}

/// A first IPv4 fragment cut by the snap length: tshark cannot reassemble it and
/// dissects its TCP or UDP header as it stands (raw numbers, no length or analysis).
#[test]
fn a_first_fragment_cut_short_shows_its_transport_header() {
    let fragment = |protocol: u8, l4: &[u8], snap: usize| {
        let mut ip = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x20, 0, 64, protocol, 0, 0];
        let total = (20 + l4.len()) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[8, 0]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(l4);
        let orig_len = f.len() as u32;
        f.truncate(snap);
        RawFrame {
            ts_sec: 0,
            ts_nsec: 0,
            orig_len,
            data: f,
        }
    };
    let mut tcp = vec![
        0x9c, 0x41, 0x27, 0x0f, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x18, 0x03, 0xe8,
    ];
    tcp.extend_from_slice(&[0; 1464]);
    let mut udp = vec![0x9c, 0x40, 0x1e, 0x61, 0x0c, 0x08, 0, 0];
    udp.extend_from_slice(&[0; 1472]);
    let frames = [
        fragment(6, &tcp, 96),
        fragment(17, &udp, 96),
        fragment(17, &udp, 2000),
    ];
    let trace = Trace::analyze(LinkType::Ethernet, frames.iter());
    let [t, u, whole] = &trace.packets[..] else {
        panic!()
    };
    assert_eq!(t.protocol, "TCP");
    assert_eq!(t.info, "40001 → 9999 [PSH, ACK] Seq=1000 Ack=0 Win=1000");
    assert_eq!(t.field("tcp.seq").as_deref(), Some("1000"));
    assert_eq!(t.field("tcp.len"), None);
    assert_eq!(t.field("tcp.stream").as_deref(), Some("0"));
    assert_eq!(
        (u.protocol, u.info.as_str()),
        ("UDP", "40000 → 7777 Len=3072")
    );
    // A fragment held whole goes to reassembly, which never completes here.
    assert_eq!(whole.protocol, "IPv4");
    assert!(whole.udp.is_none());
}
