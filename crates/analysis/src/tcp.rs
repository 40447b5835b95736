//! TCP conversation tracking: stream indices, relative sequence numbers and
//! window scaling, following Wireshark 4.0's rules.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;

use super::seq_analysis::{self, SegmentIn, SeqFlow};
use super::side::Side;
use super::story::{StorySegment, StreamStory};
use super::verdict::{self, SeqVerdict};
use super::winscale::WinScale;
use labrun_wire::{TcpFlags, TcpRepr};

/// Summary of one TCP connection (one Wireshark `tcp.stream`), for reports
/// that explain the handshake and the close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpStream {
    /// Wireshark's `tcp.stream` index.
    pub index: u32,
    /// The SYN sender if a SYN was seen, else the first sender.
    pub client: SocketAddr,
    /// The other endpoint.
    pub server: SocketAddr,
    /// Client initial sequence number (raw), from its SYN.
    pub client_isn: Option<u32>,
    /// Server initial sequence number (raw), from its SYN-ACK.
    pub server_isn: Option<u32>,
    /// Frame numbers of every segment of the stream, in capture order (empty when
    /// the analyzer was told not to keep them, see `Analyzer::keep_frame_lists`).
    pub frames: Vec<u64>,
    /// Frame of the client's first SYN.
    pub syn_frame: Option<u64>,
    /// Frame of the server's first SYN-ACK.
    pub syn_ack_frame: Option<u64>,
    /// Frame of the client's ACK completing the three-way handshake.
    pub handshake_ack_frame: Option<u64>,
    /// Frame of the client's first FIN.
    pub client_fin_frame: Option<u64>,
    /// Frame of the server's first FIN.
    pub server_fin_frame: Option<u64>,
    /// Frames carrying RST, with true when the client sent it.
    pub rst_frames: Vec<(u64, bool)>,
    /// True when this stream started by reusing the ports of an earlier stream.
    pub port_reused: bool,
    /// Capture time of the first segment, nanoseconds since the epoch.
    pub first_ts: i128,
    /// Capture time of the last segment, nanoseconds since the epoch.
    pub last_ts: i128,
    /// Handshake, close, RST causes and bytes each way.
    pub story: StreamStory,
}

impl TcpStream {
    /// True once the three-way handshake has been seen completely.
    pub fn handshake_complete(&self) -> bool {
        self.syn_frame.is_some()
            && self.syn_ack_frame.is_some()
            && self.handshake_ack_frame.is_some()
    }
}

#[derive(Debug, Clone, Copy)]
struct Flow {
    base_seq: Option<u32>,
    win_scale: WinScale,
}

impl Flow {
    fn new() -> Self {
        Flow {
            base_seq: None,
            win_scale: WinScale::Unknown,
        }
    }

    /// The segment's window as the receiver reads it, computed before this segment's own
    /// options apply: unscaled in a SYN, unknown until the handshake settled the scale.
    fn window_size(&self, tcp: &TcpRepr) -> Option<u32> {
        if tcp.flags.contains(TcpFlags::SYN) {
            return Some(u32::from(tcp.window));
        }
        match self.win_scale {
            WinScale::Unknown => None,
            WinScale::NoScaling => Some(u32::from(tcp.window)),
            WinScale::Shift(s) => Some(u32::from(tcp.window) << s),
        }
    }
}

#[derive(Debug)]
struct Conn {
    stream: usize,
    first_sender: SocketAddr,
    flows: [Flow; 2],
    seq: [SeqFlow; 2],
    /// Time of the most recent SYN (0 = none), for the first RTT.
    ts_mru_syn: i128,
    /// Time from SYN to the first ACK (0 = not known yet).
    first_rtt: i128,
}

/// Result of the analysis of one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentAnalysis {
    pub stream: u32,
    pub seq: u32,
    pub ack: u32,
    pub nxtseq: u32,
    pub window_size: Option<u32>,
    /// Scale state of the sending direction after this segment.
    pub win_scale: WinScale,
    /// Base used for the acknowledgment direction (for SACK edges).
    pub ack_base: Option<u32>,
    pub port_reused: bool,
    pub analysis: SeqVerdict,
}

/// Tracks open TCP conversations. Memory grows with the number of
/// connections, not with the number of packets (apart from each stream's
/// frame list).
#[derive(Debug, Default)]
pub(crate) struct TcpTracker {
    conns: HashMap<(SocketAddr, SocketAddr), Conn, super::fxhash::FxBuild>,
    streams: Vec<TcpStream>,
    /// False to leave [`TcpStream::frames`] empty (constant memory per stream).
    pub skip_frame_lists: bool,
    /// True to leave the stream summaries as they were opened: no frame
    /// lists, handshake and close frames, times or stories (field exports).
    pub skip_summaries: bool,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Sequence number `seq` relative to `base`, modulo 2^32.
pub fn relative(seq: u32, base: u32) -> u32 {
    seq.wrapping_sub(base)
}

impl TcpTracker {
    /// Stream summaries in index order.
    pub fn streams(&self) -> &[TcpStream] {
        &self.streams
    }

    /// Consumes the tracker, returning the stream summaries.
    pub fn into_streams(self) -> Vec<TcpStream> {
        self.streams
    }

    /// A new stream for the connection `src` → `dst` opened.
    fn new_conn(
        streams: &mut Vec<TcpStream>,
        src: SocketAddr,
        dst: SocketAddr,
        port_reused: bool,
    ) -> Conn {
        let index = u32::try_from(streams.len()).unwrap_or(u32::MAX);
        streams.push(TcpStream {
            index,
            client: src,
            server: dst,
            client_isn: None,
            server_isn: None,
            frames: Vec::new(),
            syn_frame: None,
            syn_ack_frame: None,
            handshake_ack_frame: None,
            client_fin_frame: None,
            server_fin_frame: None,
            rst_frames: Vec::new(),
            port_reused,
            first_ts: 0,
            last_ts: 0,
            story: StreamStory::default(),
        });
        Conn {
            stream: streams.len() - 1,
            first_sender: src,
            flows: [Flow::new(), Flow::new()],
            seq: [SeqFlow::default(), SeqFlow::default()],
            ts_mru_syn: 0,
            first_rtt: 0,
        }
    }

    /// The `tcp.stream` of a segment from `src` to `dst` that is not analyzed (its header
    /// came from a first IP fragment): the stream is found or opened, nothing is learnt.
    pub fn stream_of(&mut self, src: SocketAddr, dst: SocketAddr, tcp: &TcpRepr) -> u32 {
        let (conn, _) = Self::conn_for(&mut self.conns, &mut self.streams, src, dst, tcp);
        u32::try_from(conn.stream).unwrap_or(u32::MAX)
    }

    /// The `tcp.stream` of a TCP header quoted in an ICMP error (only its ports are known):
    /// its connection is found or opened, nothing is learnt.
    pub fn stream_of_quoted(&mut self, src: SocketAddr, dst: SocketAddr) -> u32 {
        let conn = self
            .conns
            .entry(key(src, dst))
            .or_insert_with(|| Self::new_conn(&mut self.streams, src, dst, false));
        u32::try_from(conn.stream).unwrap_or(u32::MAX)
    }

    /// Analyzes one segment sent from `src` to `dst` in frame `number`.
    ///
    /// The steps follow Wireshark's `dissect_tcp`: find the stream, update the direction's
    /// base sequence number and window scale, run the sequence analysis, express the numbers
    /// relative to the bases, and add the segment to the stream's summary.
    pub fn process(
        &mut self,
        number: u64,
        ts: i128,
        src: SocketAddr,
        dst: SocketAddr,
        tcp: &TcpRepr,
    ) -> SegmentAnalysis {
        let (conn, port_reused) = Self::conn_for(&mut self.conns, &mut self.streams, src, dst, tcp);
        let dir = conn.direction(src);
        conn.learn_base_seqs(dir, tcp);
        let window_size = conn.flows[dir].window_size(tcp);
        conn.learn_window_scale(dir, tcp);
        conn.note_rtt(ts, tcp.flags);
        let mut analysis = conn.analyze_sequence(dir, number, ts, tcp);
        if port_reused {
            analysis.flags |= verdict::flags::REUSED_PORTS;
        }
        let numbers = conn.relative_numbers(dir, tcp);

        let stream_pos = conn.stream;
        if !self.skip_summaries {
            if let Some(st) = self.streams.get_mut(stream_pos) {
                if !self.skip_frame_lists {
                    st.frames.push(number);
                }
                record_segment(st, number, ts, src, dst, tcp, &numbers, &analysis);
            }
        }
        SegmentAnalysis {
            stream: u32::try_from(stream_pos).unwrap_or(u32::MAX),
            seq: numbers.seq,
            ack: numbers.ack,
            nxtseq: numbers.nxtseq,
            window_size,
            win_scale: conn.flows[dir].win_scale,
            ack_base: numbers.ack_base,
            port_reused,
            analysis,
        }
    }

    /// The connection a segment belongs to, with one hash lookup: a new 4-tuple, or a SYN
    /// with a new ISN on a known one ("TCP Port numbers reused"), opens a new stream. The
    /// flag is true in the second case.
    fn conn_for<'a>(
        conns: &'a mut HashMap<(SocketAddr, SocketAddr), Conn, super::fxhash::FxBuild>,
        streams: &mut Vec<TcpStream>,
        src: SocketAddr,
        dst: SocketAddr,
        tcp: &TcpRepr,
    ) -> (&'a mut Conn, bool) {
        match conns.entry(key(src, dst)) {
            Entry::Vacant(v) => (v.insert(Self::new_conn(streams, src, dst, false)), false),
            Entry::Occupied(o) => {
                let conn = o.into_mut();
                let fwd = conn.flows[conn.direction(src)];
                let reused = tcp.flags.contains(TcpFlags::SYN)
                    && !tcp.flags.contains(TcpFlags::ACK)
                    && fwd.base_seq.is_some_and(|b| b != tcp.seq);
                if reused {
                    *conn = Self::new_conn(streams, src, dst, true);
                }
                (conn, reused)
            }
        }
    }
}

/// A segment's numbers relative to its stream's bases, as Wireshark shows them.
#[derive(Debug, Clone, Copy)]
struct RelativeNumbers {
    seq: u32,
    ack: u32,
    nxtseq: u32,
    /// Base of the acknowledged direction (for SACK edges).
    ack_base: Option<u32>,
}

impl Conn {
    /// 0 when `src` sent the stream's first segment, else 1.
    fn direction(&self, src: SocketAddr) -> usize {
        usize::from(src != self.first_sender)
    }

    /// Sets the base sequence numbers the segment reveals (`tcp_analyze_sequence_number`):
    /// the sender's from its SYN (or seq - 1 mid-stream), the other side's from the ACK.
    fn learn_base_seqs(&mut self, dir: usize, tcp: &TcpRepr) {
        let [fwd, rev] = self.flow_pair(dir);
        if fwd.base_seq.is_none() {
            fwd.base_seq = Some(if tcp.flags.contains(TcpFlags::SYN) {
                tcp.seq
            } else {
                tcp.seq.wrapping_sub(1)
            });
        }
        if rev.base_seq.is_none() && tcp.flags.contains(TcpFlags::ACK) {
            rev.base_seq = Some(tcp.ack.wrapping_sub(1));
        }
    }

    /// Applies a SYN's window scale option (`verify_tcp_window_scaling`): scaling holds
    /// only when both SYNs carry the option.
    fn learn_window_scale(&mut self, dir: usize, tcp: &TcpRepr) {
        if !tcp.flags.contains(TcpFlags::SYN) {
            return;
        }
        let has_ack = tcp.flags.contains(TcpFlags::ACK);
        let [fwd, rev] = self.flow_pair(dir);
        if let Some(shift) = tcp.options.iter().find_map(|o| match o {
            labrun_wire::TcpOption::WindowScale(s) => Some(*s),
            _ => None,
        }) {
            fwd.win_scale = WinScale::Shift(shift.min(14));
        }
        if fwd.win_scale == WinScale::Unknown {
            fwd.win_scale = WinScale::NoScaling;
            rev.win_scale = WinScale::NoScaling;
        } else if has_ack && rev.win_scale == WinScale::NoScaling {
            fwd.win_scale = WinScale::NoScaling;
        }
    }

    /// Remembers the time of a SYN and, at the first ACK after it, the first round trip
    /// (the out-of-order threshold of the sequence analysis).
    fn note_rtt(&mut self, ts: i128, flags: TcpFlags) {
        let syn = flags.contains(TcpFlags::SYN);
        let has_ack = flags.contains(TcpFlags::ACK);
        if syn && !has_ack {
            self.ts_mru_syn = ts;
        }
        if !syn && has_ack && self.ts_mru_syn != 0 && self.first_rtt == 0 {
            self.first_rtt = ts - self.ts_mru_syn;
        }
    }

    /// Retransmissions, duplicate ACKs, window events, ... of the segment.
    fn analyze_sequence(&mut self, dir: usize, number: u64, ts: i128, tcp: &TcpRepr) -> SeqVerdict {
        let rev_win_scale = match self.flows[1 - dir].win_scale {
            WinScale::Unknown => -1,
            WinScale::NoScaling => -2,
            WinScale::Shift(s) => i32::from(s),
        };
        let input = SegmentIn {
            number,
            ts,
            seq: tcp.seq,
            ack: tcp.ack,
            seglen: tcp.payload_len,
            flags: tcp.flags,
            window: u32::from(tcp.window),
            rev_win_scale,
            ooo_threshold: if self.first_rtt == 0 {
                3_000_000
            } else {
                self.first_rtt
            },
        };
        let [s0, s1] = &mut self.seq;
        let (fwd_seq, rev_seq) = if dir == 0 { (s0, s1) } else { (s1, s0) };
        seq_analysis::analyze(fwd_seq, rev_seq, &input)
    }

    /// The segment's seq, ack and next seq relative to the bases.
    fn relative_numbers(&self, dir: usize, tcp: &TcpRepr) -> RelativeNumbers {
        let flags = tcp.flags;
        let fwd_base = self.flows[dir].base_seq.unwrap_or(tcp.seq);
        let ack_base = self.flows[1 - dir].base_seq;
        let seq = relative(tcp.seq, fwd_base);
        let ack = match (flags.contains(TcpFlags::ACK), ack_base) {
            (true, Some(b)) => relative(tcp.ack, b),
            _ => tcp.ack,
        };
        // SYN and FIN take one sequence number between them, as in Wireshark's
        // `tcp.nxtseq` (a SYN+FIN segment counts once).
        let nxtseq = seq
            .wrapping_add(tcp.payload_len)
            .wrapping_add(u32::from(flags.intersects(TcpFlags::SYN | TcpFlags::FIN)));
        RelativeNumbers {
            seq,
            ack,
            nxtseq,
            ack_base,
        }
    }

    /// The sending direction's flow and the other one, both mutable.
    fn flow_pair(&mut self, dir: usize) -> [&mut Flow; 2] {
        let [f0, f1] = &mut self.flows;
        if dir == 0 { [f0, f1] } else { [f1, f0] }
    }
}

/// Adds a segment to its stream's summary: times, handshake and close frames, and the story.
#[allow(clippy::too_many_arguments)]
fn record_segment(
    st: &mut TcpStream,
    number: u64,
    ts: i128,
    src: SocketAddr,
    dst: SocketAddr,
    tcp: &TcpRepr,
    numbers: &RelativeNumbers,
    analysis: &SeqVerdict,
) {
    let ends = &st.story.ends;
    if ends[0].segments + ends[1].segments == 0 {
        st.first_ts = ts;
    }
    st.last_ts = ts;
    update_summary(st, number, src, dst, tcp);
    let from = if src == st.client {
        Side::Client
    } else {
        Side::Server
    };
    st.story.add(&StorySegment {
        number,
        from,
        flags: tcp.flags,
        seq_raw: tcp.seq,
        ack_raw: tcp.ack,
        rel_seq: numbers.seq,
        len: tcp.payload_len,
        window: tcp.window,
        options: &tcp.options,
        analysis_flags: analysis.flags,
    });
}

fn update_summary(
    st: &mut TcpStream,
    number: u64,
    src: SocketAddr,
    dst: SocketAddr,
    tcp: &TcpRepr,
) {
    let f = tcp.flags;
    let syn = f.contains(TcpFlags::SYN);
    let ack = f.contains(TcpFlags::ACK);
    if syn && !ack && st.syn_frame.is_none() {
        st.syn_frame = Some(number);
        st.client = src;
        st.server = dst;
        st.client_isn = Some(tcp.seq);
    }
    let from_client = src == st.client;
    if syn && ack && !from_client && st.syn_ack_frame.is_none() {
        st.syn_ack_frame = Some(number);
        st.server_isn = Some(tcp.seq);
    }
    if !syn
        && ack
        && from_client
        && st.handshake_ack_frame.is_none()
        && st.syn_ack_frame.is_some()
        && st
            .server_isn
            .is_some_and(|isn| tcp.ack == isn.wrapping_add(1))
    {
        st.handshake_ack_frame = Some(number);
    }
    if f.contains(TcpFlags::FIN) {
        let slot = if from_client {
            &mut st.client_fin_frame
        } else {
            &mut st.server_fin_frame
        };
        if slot.is_none() {
            *slot = Some(number);
        }
    }
    if f.contains(TcpFlags::RST) {
        st.rst_frames.push((number, from_client));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labrun_wire::TcpOption;

    fn seg(seq: u32, ack: u32, flags: TcpFlags, len: u32, opts: Vec<TcpOption>) -> TcpRepr {
        TcpRepr {
            src_port: 0,
            dst_port: 0,
            seq,
            ack,
            data_offset: 5,
            flags,
            window: 100,
            checksum: 0,
            urgent: 0,
            options: opts,
            payload_len: len,
        }
    }

    fn addrs() -> (SocketAddr, SocketAddr) {
        (
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        )
    }

    const ACK: TcpFlags = TcpFlags::ACK;
    const FIN: TcpFlags = TcpFlags::FIN;
    const PSH: TcpFlags = TcpFlags::PSH;
    const RST: TcpFlags = TcpFlags::RST;
    const SYN: TcpFlags = TcpFlags::SYN;

    #[test]
    fn relative_wraps() {
        assert_eq!(relative(5, u32::MAX - 4), 10);
        assert_eq!(relative(0, u32::MAX), 1);
        assert_eq!(relative(100, 100), 0);
    }

    #[test]
    fn handshake_near_wrap() {
        let (c, s) = addrs();
        let mut t = TcpTracker::default();
        let isn_c = u32::MAX - 10;
        let isn_s = u32::MAX;
        let a = t.process(
            1,
            1_000_000,
            c,
            s,
            &seg(isn_c, 0, SYN, 0, vec![TcpOption::WindowScale(7)]),
        );
        assert_eq!((a.seq, a.ack, a.nxtseq), (0, 0, 1));
        let a = t.process(
            2,
            2_000_000,
            s,
            c,
            &seg(
                isn_s,
                isn_c.wrapping_add(1),
                SYN | ACK,
                0,
                vec![TcpOption::WindowScale(2)],
            ),
        );
        assert_eq!((a.seq, a.ack, a.nxtseq), (0, 1, 1));
        let a = t.process(
            3,
            3_000_000,
            c,
            s,
            &seg(
                isn_c.wrapping_add(1),
                isn_s.wrapping_add(1),
                PSH | ACK,
                40,
                vec![],
            ),
        );
        assert_eq!((a.seq, a.ack, a.nxtseq), (1, 1, 41));
        assert_eq!(a.window_size, Some(100 << 7));
        let a = t.process(
            4,
            4_000_000,
            c,
            s,
            &seg(
                isn_c.wrapping_add(41),
                isn_s.wrapping_add(1),
                FIN | ACK,
                0,
                vec![],
            ),
        );
        assert_eq!((a.seq, a.nxtseq), (41, 42));
        let st = &t.streams()[0];
        assert!(st.handshake_complete());
        assert_eq!(st.client, c);
        assert_eq!(st.client_fin_frame, Some(4));
    }

    #[test]
    fn missing_syn_starts_at_one() {
        let (c, s) = addrs();
        let mut t = TcpTracker::default();
        let a = t.process(1, 1_000_000, c, s, &seg(5000, 9000, PSH | ACK, 3, vec![]));
        assert_eq!((a.seq, a.ack, a.nxtseq, a.window_size), (1, 1, 4, None));
        let a = t.process(2, 2_000_000, s, c, &seg(9000, 5003, ACK, 0, vec![]));
        assert_eq!((a.seq, a.ack), (1, 4));
    }

    #[test]
    fn rst_without_ack_shows_raw_ack_and_new_syn_reuses_ports() {
        let (c, s) = addrs();
        let mut t = TcpTracker::default();
        t.process(1, 1_000_000, c, s, &seg(100, 77, SYN, 0, vec![]));
        let a = t.process(2, 2_000_000, c, s, &seg(101, 0, RST, 0, vec![]));
        assert_eq!((a.seq, a.ack), (1, 0));
        let a = t.process(3, 3_000_000, c, s, &seg(7000, 0, SYN, 0, vec![]));
        assert_eq!((a.stream, a.seq), (1, 0));
        assert!(a.port_reused);
        // Retransmitted SYN with the same ISN stays in the stream.
        let a = t.process(4, 4_000_000, c, s, &seg(7000, 0, SYN, 0, vec![]));
        assert_eq!(a.stream, 1);
        assert!(!a.port_reused);
    }

    #[test]
    fn scaling_needs_both_sides() {
        let (c, s) = addrs();
        let mut t = TcpTracker::default();
        t.process(
            1,
            1_000_000,
            c,
            s,
            &seg(10, 0, SYN, 0, vec![TcpOption::WindowScale(7)]),
        );
        t.process(2, 2_000_000, s, c, &seg(20, 11, SYN | ACK, 0, vec![]));
        let a = t.process(3, 3_000_000, c, s, &seg(11, 21, ACK, 0, vec![]));
        assert_eq!(a.window_size, Some(100));
    }
}
