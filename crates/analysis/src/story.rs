//! What happened to a TCP connection, in the words of a lab manual: how it
//! opened, how it closed, who closed first, why each RST was sent, and how
//! many bytes went each way. Built segment by segment (constant memory per
//! stream) by the tracker, so live lab captures and `labrun analyze` share it.

use super::side::Side;
use labrun_wire::{SeqNumber, TcpFlags};

/// How the connection was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeKind {
    /// SYN, SYN-ACK, ACK.
    Normal,
    /// The client sent its SYN this many times before the handshake went on.
    SynRetried(u32),
    /// Both ends sent a SYN without ACK (RFC 793 simultaneous open).
    SimultaneousOpen,
    /// The SYN was answered with RST: nobody listened on the port.
    Refused,
    /// A SYN was seen but the handshake did not complete in the capture.
    Incomplete,
    /// The capture started after the handshake.
    NotCaptured,
}

impl HandshakeKind {
    /// A short name for scripts and tables, e.g. `"syn retried"`.
    pub fn short(&self) -> &'static str {
        match self {
            HandshakeKind::Normal => "normal",
            HandshakeKind::SynRetried(_) => "syn retried",
            HandshakeKind::SimultaneousOpen => "simultaneous open",
            HandshakeKind::Refused => "refused",
            HandshakeKind::Incomplete => "incomplete",
            HandshakeKind::NotCaptured => "not captured",
        }
    }
}

/// How the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// FIN, ACK, FIN, ACK.
    FourWay,
    /// FIN, FIN+ACK (the ACK of the first FIN rides on the second), ACK.
    ThreeWay,
    /// Both FINs crossed: each was sent before the other arrived.
    Simultaneous,
    /// After the first FIN the other end still sent data, then closed.
    HalfClose,
    /// Ended by a RST.
    Reset,
    /// Only one end sent a FIN in the capture.
    OneSided,
    /// Neither FIN nor RST was captured.
    Open,
}

impl CloseKind {
    /// A short name for scripts and tables, e.g. `"three-way"`.
    pub fn short(&self) -> &'static str {
        match self {
            CloseKind::FourWay => "four-way",
            CloseKind::ThreeWay => "three-way",
            CloseKind::Simultaneous => "simultaneous",
            CloseKind::HalfClose => "half-close",
            CloseKind::Reset => "reset",
            CloseKind::OneSided => "one-sided",
            CloseKind::Open => "open",
        }
    }
}

/// The likely reason a RST was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RstCause {
    /// Answer to a SYN for a port nobody listens on (connect gets ECONNREFUSED).
    ClosedPort,
    /// The sender closed with SO_LINGER 0 instead of a FIN.
    AbortiveClose,
    /// The sender closed while data it had received was still unread
    /// (the wire looks the same as an abortive close right after data).
    UnreadData,
    /// Data arrived after the sender had closed (the other end gets EPIPE next).
    DataAfterClose,
    /// The sender gave the connection up after keep-alive probes nobody answered (its own
    /// next call fails with ETIMEDOUT).
    Timeout,
    /// None of the above patterns.
    Unknown,
}

impl RstCause {
    /// A short name for scripts and tables, e.g. `"closed port"`.
    pub fn short(&self) -> &'static str {
        match self {
            RstCause::ClosedPort => "closed port",
            RstCause::AbortiveClose => "abortive close",
            RstCause::UnreadData => "unread data",
            RstCause::DataAfterClose => "data after close",
            RstCause::Timeout => "timeout",
            RstCause::Unknown => "unknown",
        }
    }
}

/// One RST and its likely cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RstInfo {
    /// Frame number.
    pub frame: u64,
    /// Who sent it.
    pub from: Side,
    /// Whether the ACK flag was set.
    pub with_ack: bool,
    /// Likely cause.
    pub cause: RstCause,
}

/// Options an end announced in its SYN (or SYN-ACK).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SynOptions {
    /// Frame of the SYN.
    pub frame: u64,
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift.
    pub wscale: Option<u8>,
    /// SACK permitted.
    pub sack_perm: bool,
    /// Timestamps option present.
    pub timestamps: bool,
    /// Window field of the SYN.
    pub window: u16,
}

/// A FIN and the segment that acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinInfo {
    /// Frame of the (first) FIN.
    pub frame: u64,
    /// Raw sequence number just after the FIN (seq + len + 1).
    pub end_raw: u32,
    /// Frame that first acknowledged it, and whether that segment carried a FIN too.
    pub acked_by: Option<(u64, bool)>,
    /// True when the FIN's own ACK field already covered the other end's FIN.
    pub acks_peer_fin: bool,
}

/// Per-end counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndStats {
    /// Segments sent.
    pub segments: u64,
    /// Segments carrying data.
    pub data_segments: u64,
    /// Application bytes sent (highest relative sequence reached, so
    /// retransmissions count once).
    pub bytes: u64,
    /// SYNs without ACK sent.
    pub syns: u32,
    /// Bytes sent after the other end's FIN.
    pub bytes_after_peer_fin: u64,
}

/// The story of one stream, accumulated segment by segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStory {
    /// Client, server counters.
    pub ends: [EndStats; 2],
    /// SYN options of client and server.
    pub syn_options: [Option<SynOptions>; 2],
    /// First FIN of client and server.
    pub fins: [Option<FinInfo>; 2],
    /// Every RST with its likely cause.
    pub rsts: Vec<RstInfo>,
    /// True when a SYN-ACK was seen.
    pub saw_syn_ack: bool,
    /// True when the handshake completed.
    pub handshake_done: bool,
    /// Who sent the last segment carrying data.
    pub last_data_from: Option<Side>,
    /// Frames flagged by the sequence analysis, by anomaly, in order of first appearance.
    pub anomalies: Vec<(Anomaly, u64)>,
    /// Highest relative sequence end seen per end (for `bytes`).
    max_end: [u32; 2],
    /// Keep-alive probes each end sent since the other end last sent anything.
    unanswered_keepalives: [u32; 2],
}

/// One segment as the story needs it.
pub(crate) struct StorySegment<'a> {
    pub number: u64,
    pub from: Side,
    pub flags: TcpFlags,
    pub seq_raw: u32,
    pub ack_raw: u32,
    pub rel_seq: u32,
    pub len: u32,
    pub window: u16,
    pub options: &'a [labrun_wire::TcpOption],
    pub analysis_flags: u32,
}

fn covers(ack: u32, end: u32) -> bool {
    SeqNumber(ack).ge(SeqNumber(end))
}

impl StreamStory {
    /// Counters of one end.
    pub fn end(&self, side: Side) -> &EndStats {
        &self.ends[side.index()]
    }

    /// The first FIN of one end.
    pub fn fin(&self, side: Side) -> Option<&FinInfo> {
        self.fins[side.index()].as_ref()
    }

    /// The SYN options of one end.
    pub fn syn_options(&self, side: Side) -> Option<&SynOptions> {
        self.syn_options[side.index()].as_ref()
    }

    /// Adds one segment.
    pub(crate) fn add(&mut self, s: &StorySegment<'_>) {
        use labrun_wire::TcpOption;
        let me = s.from.index();
        let peer = s.from.peer().index();
        let syn = s.flags.contains(TcpFlags::SYN);
        let ack = s.flags.contains(TcpFlags::ACK);
        let fin = s.flags.contains(TcpFlags::FIN);
        let rst = s.flags.contains(TcpFlags::RST);
        self.ends[me].segments += 1;
        self.unanswered_keepalives[peer] = 0;
        if s.analysis_flags & crate::verdict::flags::KEEP_ALIVE != 0 {
            self.unanswered_keepalives[me] += 1;
        }
        if syn {
            if !ack {
                self.ends[me].syns += 1;
            } else {
                self.saw_syn_ack = true;
            }
            if self.syn_options[me].is_none() {
                let mut o = SynOptions {
                    frame: s.number,
                    window: s.window,
                    ..SynOptions::default()
                };
                for opt in s.options {
                    match opt {
                        TcpOption::Mss(v) => o.mss = Some(*v),
                        TcpOption::WindowScale(v) => o.wscale = Some(*v),
                        TcpOption::SackPermitted => o.sack_perm = true,
                        TcpOption::Timestamps(..) => o.timestamps = true,
                        _ => {}
                    }
                }
                self.syn_options[me] = Some(o);
            }
        } else if ack && self.saw_syn_ack && !rst {
            self.handshake_done = true;
        }
        if s.len > 0 && !rst {
            self.ends[me].data_segments += 1;
            let end = s.rel_seq.wrapping_add(s.len);
            if self.max_end[me] == 0 || SeqNumber(end).ahead_of(SeqNumber(self.max_end[me])) {
                self.max_end[me] = end;
            }
            self.ends[me].bytes = u64::from(self.max_end[me].saturating_sub(1));
            self.last_data_from = Some(s.from);
            if self.fins[peer].is_some() {
                self.ends[me].bytes_after_peer_fin += u64::from(s.len);
            }
        }
        // Acknowledgment of the peer's FIN.
        if ack {
            if let Some(f) = self.fins[peer].as_mut() {
                if f.acked_by.is_none() && covers(s.ack_raw, f.end_raw) {
                    f.acked_by = Some((s.number, fin));
                }
            }
        }
        if fin && self.fins[me].is_none() {
            let acks_peer_fin = ack
                && self.fins[peer]
                    .as_ref()
                    .is_some_and(|f| covers(s.ack_raw, f.end_raw));
            self.fins[me] = Some(FinInfo {
                frame: s.number,
                end_raw: s.seq_raw.wrapping_add(s.len).wrapping_add(1),
                acked_by: None,
                acks_peer_fin,
            });
        }
        if rst {
            let cause = self.rst_cause(s.from, ack);
            self.rsts.push(RstInfo {
                frame: s.number,
                from: s.from,
                with_ack: ack,
                cause,
            });
        }
        for (bit, anomaly) in ANOMALY_FLAGS {
            if s.analysis_flags & bit != 0 {
                match self.anomalies.iter_mut().find(|(a, _)| *a == anomaly) {
                    Some((_, c)) => *c += 1,
                    None => self.anomalies.push((anomaly, 1)),
                }
            }
        }
    }

    fn rst_cause(&self, from: Side, with_ack: bool) -> RstCause {
        let me = from.index();
        let peer = from.peer().index();
        if !self.saw_syn_ack && !self.handshake_done && self.ends[peer].syns > 0 && with_ack {
            return RstCause::ClosedPort;
        }
        if self.fins[me].is_some() && self.ends[peer].bytes_after_peer_fin > 0 {
            return RstCause::DataAfterClose;
        }
        if self.unanswered_keepalives[me] > 0 {
            return RstCause::Timeout;
        }
        if self.fins[me].is_none() && with_ack && self.handshake_done {
            return if self.last_data_from == Some(from.peer()) {
                RstCause::UnreadData
            } else {
                RstCause::AbortiveClose
            };
        }
        RstCause::Unknown
    }

    /// How the connection was opened.
    pub fn handshake_kind(&self) -> HandshakeKind {
        let [c, s] = &self.ends;
        if c.syns == 0 && s.syns == 0 && !self.saw_syn_ack {
            return HandshakeKind::NotCaptured;
        }
        if c.syns > 0 && s.syns > 0 {
            return HandshakeKind::SimultaneousOpen;
        }
        if !self.saw_syn_ack && self.rsts.iter().any(|r| r.cause == RstCause::ClosedPort) {
            return HandshakeKind::Refused;
        }
        if !self.handshake_done {
            return HandshakeKind::Incomplete;
        }
        if c.syns > 1 {
            HandshakeKind::SynRetried(c.syns)
        } else {
            HandshakeKind::Normal
        }
    }

    /// Who closed first (first FIN or RST), if anyone did.
    pub fn closed_first(&self) -> Option<Side> {
        let mut events: Vec<(u64, Side)> = Vec::new();
        for side in [Side::Client, Side::Server] {
            if let Some(f) = self.fin(side) {
                events.push((f.frame, side));
            }
        }
        if let Some(r) = self.rsts.first() {
            events.push((r.frame, r.from));
        }
        events
            .iter()
            .min_by_key(|(frame, _)| *frame)
            .map(|(_, s)| *s)
    }

    /// How the connection ended.
    pub fn close_kind(&self) -> CloseKind {
        let (c, s) = (self.fin(Side::Client), self.fin(Side::Server));
        let (Some(c), Some(s)) = (c, s) else {
            if !self.rsts.is_empty() {
                return CloseKind::Reset;
            }
            return if c.is_some() || s.is_some() {
                CloseKind::OneSided
            } else {
                CloseKind::Open
            };
        };
        if let Some(r) = self.rsts.first() {
            if r.frame < c.frame.max(s.frame) {
                return CloseKind::Reset;
            }
        }
        let (first, second, first_side) = if c.frame <= s.frame {
            (c, s, Side::Client)
        } else {
            (s, c, Side::Server)
        };
        if !second.acks_peer_fin {
            return CloseKind::Simultaneous;
        }
        if self.end(first_side.peer()).bytes_after_peer_fin > 0 {
            return CloseKind::HalfClose;
        }
        match first.acked_by {
            Some((_, true)) => CloseKind::ThreeWay,
            _ => CloseKind::FourWay,
        }
    }
}

/// Something Wireshark's TCP sequence analysis flags on a segment, counted per stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anomaly {
    /// A segment sent again.
    Retransmission,
    /// Retransmitted after duplicate ACKs.
    FastRetransmission,
    /// Retransmitted although the receiver had acknowledged it.
    SpuriousRetransmission,
    /// Arrived before a segment with a lower sequence number.
    OutOfOrder,
    /// A gap: the segment before this one was not captured.
    PreviousSegmentNotCaptured,
    /// An ACK for data the capture never saw.
    AckedUnseenSegment,
    /// The same ACK again, with no data and no window change.
    DuplicateAck,
    /// The receiver announced a window of 0.
    ZeroWindow,
    /// One byte sent into a zero window.
    ZeroWindowProbe,
    /// A keep-alive probe (one byte below the next sequence number).
    KeepAlive,
    /// The sender filled the receiver's window.
    WindowFull,
    /// Only the window changed.
    WindowUpdate,
}

/// Sequence-analysis flags counted as anomalies, in the order reports list them.
/// The anomalies Wireshark's sequence analysis flagged in `flags` (a [`crate::SeqVerdict`]'s
/// bits), in a fixed order.
pub fn anomalies_in(flags: u32) -> impl Iterator<Item = Anomaly> {
    ANOMALY_FLAGS
        .into_iter()
        .filter(move |(bit, _)| flags & bit != 0)
        .map(|(_, a)| a)
}

const ANOMALY_FLAGS: [(u32, Anomaly); 12] = {
    use super::verdict::flags::*;
    [
        (RETRANSMISSION, Anomaly::Retransmission),
        (FAST_RETRANSMISSION, Anomaly::FastRetransmission),
        (SPURIOUS_RETRANSMISSION, Anomaly::SpuriousRetransmission),
        (OUT_OF_ORDER, Anomaly::OutOfOrder),
        (LOST_PACKET, Anomaly::PreviousSegmentNotCaptured),
        (ACK_LOST_PACKET, Anomaly::AckedUnseenSegment),
        (DUPLICATE_ACK, Anomaly::DuplicateAck),
        (ZERO_WINDOW, Anomaly::ZeroWindow),
        (ZERO_WINDOW_PROBE, Anomaly::ZeroWindowProbe),
        (KEEP_ALIVE, Anomaly::KeepAlive),
        (WINDOW_FULL, Anomaly::WindowFull),
        (WINDOW_UPDATE, Anomaly::WindowUpdate),
    ]
};
