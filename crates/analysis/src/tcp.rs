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

    /// Analyzes one segment sent from `src` to `dst` in frame `number`.
    pub fn process(
        &mut self,
        number: u64,
        ts: i128,
        src: SocketAddr,
        dst: SocketAddr,
        tcp: &TcpRepr,
    ) -> SegmentAnalysis {
        let flags = tcp.flags;
        let syn = flags.contains(TcpFlags::SYN);
        let has_ack = flags.contains(TcpFlags::ACK);
        let k = key(src, dst);

        // One hash lookup: a new 4-tuple, or a SYN with a new ISN on a known
        // one ("TCP Port numbers reused"), opens a new stream.
        let mut port_reused = false;
        let conn = match self.conns.entry(k) {
            Entry::Vacant(v) => v.insert(Self::new_conn(&mut self.streams, src, dst, false)),
            Entry::Occupied(o) => {
                let conn = o.into_mut();
                let dir = usize::from(src != conn.first_sender);
                let fwd = conn.flows.get(dir).copied().unwrap_or(Flow::new());
                if syn && !has_ack && fwd.base_seq.is_some_and(|b| b != tcp.seq) {
                    port_reused = true;
                    *conn = Self::new_conn(&mut self.streams, src, dst, true);
                }
                conn
            }
        };
        let dir = usize::from(src != conn.first_sender);
        let (fwd_i, rev_i) = (dir, 1 - dir);

        // Base sequence numbers (tcp_analyze_sequence_number).
        let mut flows = conn.flows;
        if flows[fwd_i].base_seq.is_none() {
            flows[fwd_i].base_seq = Some(if syn {
                tcp.seq
            } else {
                tcp.seq.wrapping_sub(1)
            });
        }
        if flows[rev_i].base_seq.is_none() && has_ack {
            flows[rev_i].base_seq = Some(tcp.ack.wrapping_sub(1));
        }

        // Window size, computed before this segment's options are applied.
        let window_size = if syn {
            Some(u32::from(tcp.window))
        } else {
            match flows[fwd_i].win_scale {
                WinScale::Unknown => None,
                WinScale::NoScaling => Some(u32::from(tcp.window)),
                WinScale::Shift(s) => Some(u32::from(tcp.window) << s),
            }
        };

        // Window scale option and verify_tcp_window_scaling.
        if syn {
            if let Some(shift) = tcp.options.iter().find_map(|o| match o {
                labrun_wire::TcpOption::WindowScale(s) => Some(*s),
                _ => None,
            }) {
                flows[fwd_i].win_scale = WinScale::Shift(shift.min(14));
            }
            if flows[fwd_i].win_scale == WinScale::Unknown {
                flows[fwd_i].win_scale = WinScale::NoScaling;
                flows[rev_i].win_scale = WinScale::NoScaling;
            } else if has_ack && flows[rev_i].win_scale == WinScale::NoScaling {
                flows[fwd_i].win_scale = WinScale::NoScaling;
            }
        }
        conn.flows = flows;

        // Sequence analysis (retransmissions, duplicate ACKs, ...).
        if syn && !has_ack {
            conn.ts_mru_syn = ts;
        }
        if !syn && has_ack && conn.ts_mru_syn != 0 && conn.first_rtt == 0 {
            conn.first_rtt = ts - conn.ts_mru_syn;
        }
        let rev_win_scale = match flows[rev_i].win_scale {
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
            flags,
            window: u32::from(tcp.window),
            rev_win_scale,
            ooo_threshold: if conn.first_rtt == 0 {
                3_000_000
            } else {
                conn.first_rtt
            },
        };
        let [s0, s1] = &mut conn.seq;
        let (fwd_seq, rev_seq) = if dir == 0 { (s0, s1) } else { (s1, s0) };
        let mut analysis = seq_analysis::analyze(fwd_seq, rev_seq, &input);
        if port_reused {
            analysis.flags |= verdict::flags::REUSED_PORTS;
        }

        let fwd_base = flows[fwd_i].base_seq.unwrap_or(tcp.seq);
        let rev_base = flows[rev_i].base_seq;
        let seq = relative(tcp.seq, fwd_base);
        let ack = match (has_ack, rev_base) {
            (true, Some(b)) => relative(tcp.ack, b),
            _ => tcp.ack,
        };
        let nxtseq = seq
            .wrapping_add(tcp.payload_len)
            .wrapping_add(u32::from(syn))
            .wrapping_add(u32::from(flags.contains(TcpFlags::FIN)));

        let stream_pos = conn.stream;
        let summary = (!self.skip_summaries)
            .then(|| self.streams.get_mut(stream_pos))
            .flatten();
        if let Some(st) = summary {
            let ends = &st.story.ends;
            if ends[0].segments + ends[1].segments == 0 {
                st.first_ts = ts;
            }
            st.last_ts = ts;
            if !self.skip_frame_lists {
                st.frames.push(number);
            }
            update_summary(st, number, src, dst, tcp);
            let from = if src == st.client {
                Side::Client
            } else {
                Side::Server
            };
            st.story.add(&StorySegment {
                number,
                from,
                flags,
                seq_raw: tcp.seq,
                ack_raw: tcp.ack,
                rel_seq: seq,
                len: tcp.payload_len,
                window: tcp.window,
                options: &tcp.options,
                analysis_flags: analysis.flags,
            });
        }
        SegmentAnalysis {
            stream: u32::try_from(stream_pos).unwrap_or(u32::MAX),
            seq,
            ack,
            nxtseq,
            window_size,
            win_scale: flows[fwd_i].win_scale,
            ack_base: rev_base,
            port_reused,
            analysis,
        }
    }
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
