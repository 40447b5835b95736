//! The normaliser on hand-made traces: two "runs" of one conversation that differ only in
//! what changes from run to run must normalise to the same packets and text.

use super::*;
use crate::analysis::RawFrame;
use crate::wire::LinkType;
use etherparse::{PacketBuilder, TcpOptionElement};

const CLIENT: [u8; 4] = [10, 77, 0, 1];
const SERVER: [u8; 4] = [10, 77, 0, 2];

/// What differs between two runs of the same conversation.
struct Run {
    port: u16,
    client_isn: u32,
    server_isn: u32,
    client_ts: u32,
    server_ts: u32,
    start_ns: u32,
    gap_ns: u32,
}

const RUN_A: Run = Run {
    port: 41461,
    client_isn: 3_588_019_299,
    server_isn: 2_929_784_553,
    client_ts: 1_222_766_618,
    server_ts: 1_212_573_973,
    start_ns: 1_000,
    gap_ns: 31_186,
};

const RUN_B: Run = Run {
    port: 33171,
    client_isn: 4_294_967_000, // wraps past 2^32 within the conversation
    server_isn: 3_489_463_182,
    client_ts: 211_478_681,
    server_ts: 369_493_485,
    start_ns: 500_000,
    gap_ns: 3_716_426,
};

/// One segment: from the client?, seq, ack, SYN?, timestamps, payload.
type Seg = (bool, u32, Option<u32>, bool, (u32, u32), &'static [u8]);

fn frame(ts_nsec: u32, from_client: bool, port: u16, seg: &Seg) -> RawFrame {
    let (_, seq, ack, syn, ts, payload) = *seg;
    let (src, dst, sport, dport) = if from_client {
        (CLIENT, SERVER, port, 8888)
    } else {
        (SERVER, CLIENT, 8888, port)
    };
    let mut b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .tcp(sport, dport, seq, 64240);
    if syn {
        b = b.syn();
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    if !payload.is_empty() {
        b = b.psh();
    }
    let opts = [
        TcpOptionElement::Noop,
        TcpOptionElement::Noop,
        TcpOptionElement::Timestamp(ts.0, ts.1),
    ];
    let mut data = Vec::new();
    b.options(&opts).unwrap().write(&mut data, payload).unwrap();
    RawFrame {
        ts_sec: 1_700_000_000,
        ts_nsec,
        orig_len: data.len() as u32,
        data,
    }
}

/// Handshake, five bytes from the client and their ACK, with `r`'s volatile values. The
/// client's TSval ticks once between frames 3 and 4 in every run, as a kernel's might.
fn conversation(r: &Run) -> Trace {
    let (c, s) = (r.client_isn, r.server_isn);
    let segs: [Seg; 5] = [
        (true, c, None, true, (r.client_ts, 0), b""),
        (
            false,
            s,
            Some(c.wrapping_add(1)),
            true,
            (r.server_ts, r.client_ts),
            b"",
        ),
        (
            true,
            c.wrapping_add(1),
            Some(s.wrapping_add(1)),
            false,
            (r.client_ts, r.server_ts),
            b"",
        ),
        (
            true,
            c.wrapping_add(1),
            Some(s.wrapping_add(1)),
            false,
            (r.client_ts + 1, r.server_ts),
            b"hello",
        ),
        (
            false,
            s.wrapping_add(1),
            Some(c.wrapping_add(6)),
            false,
            (r.server_ts + 2, r.client_ts + 1),
            b"",
        ),
    ];
    let frames: Vec<RawFrame> = segs
        .iter()
        .enumerate()
        .map(|(i, seg)| frame(r.start_ns + i as u32 * r.gap_ns, seg.0, r.port, seg))
        .collect();
    Trace::analyze(LinkType::Ethernet, frames.iter())
}

fn csv(trace: &Trace) -> String {
    let mut out = Vec::new();
    crate::report::write_packets_csv(&mut out, trace).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn two_runs_normalise_to_the_same_packets() {
    let (a, b) = (conversation(&RUN_A), conversation(&RUN_B));
    assert_ne!(csv(&a), csv(&b));
    let na = Normaliser::new([&a]).trace(&a);
    let nb = Normaliser::new([&b]).trace(&b);
    assert_eq!(csv(&na), csv(&nb));
    assert_eq!(
        crate::report::packet_table(&na.packets, crate::i18n::Lang::En),
        crate::report::packet_table(&nb.packets, crate::i18n::Lang::En)
    );
    assert_eq!(
        crate::report::flow_graph(
            &na.packets.iter().collect::<Vec<_>>(),
            &na.streams[0],
            crate::i18n::Lang::Zh
        ),
        crate::report::flow_graph(
            &nb.packets.iter().collect::<Vec<_>>(),
            &nb.streams[0],
            crate::i18n::Lang::Zh
        ),
    );
}

#[test]
fn ports_isns_and_tsvals_map_as_documented() {
    let t = conversation(&RUN_A);
    let n = Normaliser::new([&t]).trace(&t);
    let tcp = |i: usize| n.packets[i].tcp.clone().unwrap();
    // The ephemeral port is the first canonical port; the server's port stays.
    assert_eq!((tcp(0).src_port, tcp(0).dst_port), (FIRST_PORT, 8888));
    // Each direction's ISN becomes its canonical ISN, in order of first appearance, and the
    // raw arithmetic holds: ack = ISN + 1, then ISN + 1 + 5.
    assert_eq!(tcp(0).seq_raw, 100_000_000);
    assert_eq!((tcp(1).seq_raw, tcp(1).ack_raw), (200_000_000, 100_000_001));
    assert_eq!((tcp(3).seq_raw, tcp(3).ack_raw), (100_000_001, 200_000_001));
    assert_eq!(tcp(4).ack_raw, 100_000_006);
    // Relative numbers are untouched.
    assert_eq!((tcp(3).seq, tcp(3).len, tcp(4).ack), (1, 5, 6));
    // TSval: the direction's base plus the frame's synthetic time in ms; TSecr: the
    // canonical TSval it echoes.
    let ts = |i: usize| tcp(i).options.timestamps.unwrap();
    assert_eq!(ts(0), (1_000_000, 0));
    assert_eq!(ts(1), (2_000_001, 1_000_000));
    assert_eq!(ts(2), (1_000_002, 2_000_001));
    assert_eq!(ts(3), (1_000_003, 2_000_001));
    assert_eq!(ts(4), (2_000_004, 1_000_003));
    // Frame n at (n − 1) ms; the Info column is recomputed from the new values.
    let p = &n.packets[4];
    assert_eq!(p.field("frame.time_relative").unwrap(), "0.004000000");
    assert_eq!(
        p.info,
        "8888 → 50000 [ACK] Seq=1 Ack=6 Win=64240 Len=0 TSval=2000004 TSecr=1000003"
    );
    // The stream summary too.
    let s = &n.streams[0];
    assert_eq!(s.client.port(), FIRST_PORT);
    assert_eq!(
        (s.client_isn, s.server_isn),
        (Some(100_000_000), Some(200_000_000))
    );
    assert_eq!((s.first_ts, s.last_ts), (0, 4_000_000));
}

#[test]
fn text_tokens_are_replaced_only_as_whole_numbers() {
    let t = conversation(&RUN_A);
    let n = Normaliser::new([&t]);
    assert_eq!(
        n.text("client 10.77.0.1:41461, ISN 3588019299 + 1 = 3588019300 (raw); TSval 1222766619"),
        "client 10.77.0.1:50000, ISN 100000000 + 1 = 100000001 (raw); TSval 1000003"
    );
    // Not whole tokens, or not volatile: untouched.
    assert_eq!(
        n.text("414610 x41461 41461x 3588019299a 1460 64240 1 0.41461"),
        "414610 x41461 41461x 3588019299a 1460 64240 1 0.50000"
    );
    assert_eq!(n.text("über 41461 ü"), "über 50000 ü");
}

#[test]
fn spaces_the_lab_chose_stay() {
    // A crafted SYN with ISN 1000 (below 65536): its numbers are the lab's and stay; its
    // port is in the ephemeral range and is mapped like any other.
    let mut r = RUN_A;
    r.port = 40001;
    r.client_isn = 1000;
    let t = conversation(&r);
    let norm = Normaliser::new([&t]);
    let n = norm.trace(&t);
    let tcp = |i: usize| n.packets[i].tcp.clone().unwrap();
    assert_eq!(tcp(0).seq_raw, 1000);
    assert_eq!((tcp(1).seq_raw, tcp(1).ack_raw), (100_000_000, 1001));
    assert_eq!(tcp(0).src_port, FIRST_PORT);
    assert_eq!(norm.text("seq 1000, ack 1001"), "seq 1000, ack 1001");
}

#[test]
fn fragment_ids_count_from_one() {
    let mut t = conversation(&RUN_A);
    for (i, p) in t.packets.iter_mut().enumerate() {
        let ip = p.ip.as_mut().unwrap();
        ip.id = 0x1234 + i as u16;
        // Frame 2 stands in for a fragment.
        ip.mf = i == 1;
    }
    let norm = Normaliser::new([&t]);
    let n = norm.trace(&t);
    let ids: Vec<u16> = n
        .packets
        .iter()
        .map(|p| p.ip.as_ref().unwrap().id)
        .collect();
    assert_eq!(ids, [0x8000, 0x0001, 0x8001, 0x8002, 0x8003]);
    assert_eq!(n.packets[1].field("ip.id").unwrap(), "0x0001");
    assert_eq!(norm.text("id 0x1235 and 0x1234"), "id 0x0001 and 0x8000");
}

#[test]
fn the_header_hides_date_and_kernel() {
    let n = Normaliser::default();
    let h = Header {
        date: "2026-01-01 10:00:00".into(),
        kernel: "Linux 6.1.0".into(),
        deterministic: true,
        ..Header::default()
    };
    let h = n.header(&h);
    assert_eq!(
        (h.date.as_str(), h.kernel.as_str()),
        (NORMALISED, NORMALISED)
    );
}

#[test]
fn base64_matches_rfc_4648() {
    let base64 = |b: &[u8]| data_encoding::BASE64.encode(b);
    assert_eq!(base64(b"the sample nonce"), SAMPLE_KEY);
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
}
