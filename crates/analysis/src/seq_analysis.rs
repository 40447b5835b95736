//! Wireshark's TCP sequence analysis (retransmissions, duplicate ACKs,
//! window updates, zero windows, keep-alives, lost segments), ported rule by
//! rule from `tcp_analyze_sequence_number` so the Info prefixes match.

use super::verdict::SeqVerdict;
use super::verdict::flags::*;
use labrun_wire::{SeqNumber, TcpFlags};

/// Wireshark keeps at most this many unacknowledged segments per direction.
const MAX_UNACKED_SEGMENTS: usize = 1000;

#[derive(Debug, Clone, Copy)]
struct Unacked {
    seq: u32,
    nextseq: u32,
}

/// Sequence-analysis state of one direction (raw sequence numbers; 0 means
/// "not seen yet", exactly as in Wireshark).
#[derive(Debug, Clone)]
pub(crate) struct SeqFlow {
    nextseq: u32,
    nextseqtime: i128,
    lastack: u32,
    lastacktime: i128,
    maxseqtobeacked: u32,
    window: u32,
    dupacknum: i32,
    lastnondupack: u64,
    lastsegmentflags: u32,
    segments: Vec<Unacked>,
}

impl Default for SeqFlow {
    fn default() -> Self {
        SeqFlow {
            nextseq: 0,
            nextseqtime: 0,
            lastack: 0,
            lastacktime: 0,
            maxseqtobeacked: 0,
            window: u32::MAX,
            dupacknum: 0,
            lastnondupack: 0,
            lastsegmentflags: 0,
            segments: Vec::new(),
        }
    }
}

/// One segment's inputs to the analysis.
pub(crate) struct SegmentIn {
    pub number: u64,
    pub ts: i128,
    pub seq: u32,
    pub ack: u32,
    pub seglen: u32,
    pub flags: TcpFlags,
    pub window: u32,
    /// Scale shift of the receiving side (-1 unknown, -2 none).
    pub rev_win_scale: i32,
    /// Out-of-order threshold in ns (first RTT, or 3 ms).
    pub ooo_threshold: i128,
}

fn lt(a: u32, b: u32) -> bool {
    SeqNumber(a).lt(SeqNumber(b))
}
fn gt(a: u32, b: u32) -> bool {
    SeqNumber(a).gt(SeqNumber(b))
}
fn le(a: u32, b: u32) -> bool {
    SeqNumber(a).le(SeqNumber(b))
}

/// Runs the analysis of one segment travelling in the `fwd` direction.
pub(crate) fn analyze(fwd: &mut SeqFlow, rev: &mut SeqFlow, s: &SegmentIn) -> SeqVerdict {
    let mut v = SeqVerdict::default();
    let f = s.flags;
    let syn_fin_rst = TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST;
    let (seq, ack, seglen, window) = (s.seq, s.ack, s.seglen, s.window);

    'fwd: {
        if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
            v.flags |= ZERO_WINDOW_PROBE;
            break 'fwd;
        }
        if window == 0 && !f.intersects(syn_fin_rst) {
            v.flags |= ZERO_WINDOW;
        }
        if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && !f.contains(TcpFlags::RST) {
            v.flags |= LOST_PACKET;
        }
        if (seglen == 0 || seglen == 1)
            && seq == fwd.nextseq.wrapping_sub(1)
            && !f.intersects(syn_fin_rst)
        {
            v.flags |= KEEP_ALIVE;
        }
        if seglen == 0
            && window != 0
            && window != fwd.window
            && seq == fwd.nextseq
            && ack == fwd.lastack
            && !f.intersects(syn_fin_rst)
        {
            v.flags |= WINDOW_UPDATE;
        }
        if seglen > 0 && s.rev_win_scale != -1 && !f.intersects(syn_fin_rst) {
            let shift = u32::try_from(s.rev_win_scale.max(0)).unwrap_or(0);
            let edge = rev.lastack.wrapping_add(rev.window.wrapping_shl(shift));
            if seq.wrapping_add(seglen) == edge {
                v.flags |= WINDOW_FULL;
            }
        }
        let repeats = seglen == 0
            && window == fwd.window
            && seq == fwd.nextseq
            && ack == fwd.lastack
            && !f.intersects(syn_fin_rst);
        if repeats && window != 0 && rev.lastsegmentflags & KEEP_ALIVE != 0 {
            v.flags |= KEEP_ALIVE_ACK;
            break 'fwd;
        }
        if repeats && window == 0 && rev.lastsegmentflags & ZERO_WINDOW_PROBE != 0 {
            v.flags |= ZERO_WINDOW_PROBE_ACK;
            break 'fwd;
        }
        if repeats && window != 0 {
            fwd.dupacknum = if fwd.dupacknum == -1 {
                1
            } else {
                fwd.dupacknum.saturating_add(1)
            };
            v.flags |= DUPLICATE_ACK;
            v.dupack_num = u32::try_from(fwd.dupacknum).unwrap_or(0);
            v.dupack_frame = fwd.lastnondupack;
        }
    }

    // The duplicate-ACK count restarts when the acknowledgment number moves
    // (a window update repeating the same ACK does not restart it).
    if ack != fwd.lastack {
        fwd.lastnondupack = s.number;
        fwd.dupacknum = 0;
    }
    // An ACK beyond the highest contiguous sequence number seen in the
    // other direction acknowledges data that was not captured. When the
    // other side had sent past a gap, the boundary jumps to its nextseq and
    // the ACK is reported. When the boundary is already there, the ACK is
    // reported unless an earlier one was and the other side's acknowledgement
    // has not moved since (tshark 4.0, checked against real loopback captures
    // and tests/corpus/ack-unseen.pcap).
    if rev.maxseqtobeacked != 0 && gt(ack, rev.maxseqtobeacked) && f.contains(TcpFlags::ACK) {
        if rev.maxseqtobeacked != rev.nextseq {
            rev.maxseqtobeacked = rev.nextseq;
            v.flags |= ACK_LOST_PACKET;
        } else {
            if rev.dupacknum == 0 {
                v.flags |= ACK_LOST_PACKET;
            }
            rev.dupacknum = -1;
        }
    }

    'retrans: {
        if !(seglen > 0 || f.intersects(TcpFlags::SYN | TcpFlags::FIN)) {
            break 'retrans;
        }
        let mut seq_not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
        if v.flags & KEEP_ALIVE != 0 {
            break 'retrans;
        }
        if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
            seq_not_advanced = false;
        }
        if seglen > 0 && rev.lastack != 0 && le(seq.wrapping_add(seglen), rev.lastack) {
            v.flags |= SPURIOUS_RETRANSMISSION;
            break 'retrans;
        }
        let since_dupack = s.ts - rev.lastacktime;
        if seq_not_advanced && rev.dupacknum >= 2 && rev.lastack == seq && since_dupack < 20_000_000
        {
            v.flags |= FAST_RETRANSMISSION;
            break 'retrans;
        }
        let since_nextseq = s.ts - fwd.nextseqtime;
        let syn_fin = u32::from(f.intersects(TcpFlags::SYN | TcpFlags::FIN));
        if seq_not_advanced
            && since_nextseq < s.ooo_threshold
            && fwd.nextseq != seq.wrapping_add(seglen).wrapping_add(syn_fin)
        {
            v.flags |= OUT_OF_ORDER;
            break 'retrans;
        }
        if seq_not_advanced {
            v.flags |= RETRANSMISSION;
        }
    }

    let mut nextseq = seq.wrapping_add(seglen);
    if (seglen > 0 || f.intersects(TcpFlags::SYN | TcpFlags::FIN))
        && fwd.segments.len() < MAX_UNACKED_SEGMENTS
    {
        if f.intersects(TcpFlags::SYN | TcpFlags::FIN) {
            nextseq = nextseq.wrapping_add(1);
        }
        fwd.segments.push(Unacked { seq, nextseq });
    }
    let zwp = v.flags & ZERO_WINDOW_PROBE != 0;
    if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !zwp {
        fwd.nextseq = nextseq;
        fwd.nextseqtime = s.ts;
    }
    if (seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !zwp {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    fwd.window = window;
    fwd.lastack = ack;
    fwd.lastacktime = s.ts;
    fwd.lastsegmentflags = v.flags;

    // Forget the reverse segments this ACK covers.
    rev.segments.retain_mut(|u| {
        if ack == u.nextseq {
            false
        } else if gt(ack, u.seq) && le(ack, u.nextseq) {
            u.seq = ack;
            true
        } else {
            gt(u.nextseq, ack)
        }
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::info_prefix;

    fn seg(number: u64, seq: u32, ack: u32, seglen: u32, window: u32) -> SegmentIn {
        SegmentIn {
            number,
            ts: i128::from(number) * 10_000_000,
            seq,
            ack,
            seglen,
            flags: TcpFlags::ACK,
            window,
            rev_win_scale: -2,
            ooo_threshold: 3_000_000,
        }
    }

    #[test]
    fn duplicate_acks_count_from_last_new_ack() {
        let (mut a, mut b) = (SeqFlow::default(), SeqFlow::default());
        analyze(&mut a, &mut b, &seg(1, 1000, 5000, 100, 500));
        let v = analyze(&mut b, &mut a, &seg(2, 5000, 1100, 0, 300));
        assert_eq!(v.flags, 0);
        for n in 1..=3u32 {
            let v = analyze(&mut b, &mut a, &seg(2 + u64::from(n), 5000, 1100, 0, 300));
            assert_eq!(
                (v.flags, v.dupack_num, v.dupack_frame),
                (DUPLICATE_ACK, n, 2)
            );
            assert_eq!(info_prefix(&v), format!("[TCP Dup ACK 2#{n}] "));
        }
        let v = analyze(&mut b, &mut a, &seg(6, 5000, 1100, 0, 900));
        assert_eq!(v.flags, WINDOW_UPDATE);
    }

    #[test]
    fn retransmission_and_lost_segment() {
        let (mut a, mut b) = (SeqFlow::default(), SeqFlow::default());
        analyze(&mut a, &mut b, &seg(1, 1000, 5000, 100, 500));
        let v = analyze(&mut a, &mut b, &seg(2, 1200, 5000, 100, 500));
        assert_eq!(v.flags, LOST_PACKET);
        let v = analyze(&mut a, &mut b, &seg(3, 1000, 5000, 100, 500));
        assert_eq!(v.flags, RETRANSMISSION);
        assert_eq!(info_prefix(&v), "[TCP Retransmission] ");
    }

    #[test]
    fn acked_unseen_repeats_while_the_boundary_moves() {
        let flags = |a: &mut SeqFlow, b: &mut SeqFlow, n, ack| {
            analyze(b, a, &seg(n, 5000, ack, 0, 300)).flags
        };
        // Past data never sent: reported once, however far the ACKs climb.
        let (mut a, mut b) = (SeqFlow::default(), SeqFlow::default());
        analyze(&mut a, &mut b, &seg(1, 1000, 5000, 100, 500));
        assert_eq!(flags(&mut a, &mut b, 2, 1300), ACK_LOST_PACKET);
        assert_eq!(flags(&mut a, &mut b, 3, 1400), 0);
        // Past a gap in the data: again while the boundary moves up to nextseq.
        let (mut a, mut b) = (SeqFlow::default(), SeqFlow::default());
        analyze(&mut a, &mut b, &seg(1, 1000, 5000, 100, 500));
        assert_eq!(
            analyze(&mut a, &mut b, &seg(2, 1200, 5000, 100, 500)).flags,
            LOST_PACKET
        );
        assert_eq!(flags(&mut a, &mut b, 3, 1300), ACK_LOST_PACKET);
        assert_eq!(flags(&mut a, &mut b, 4, 1400), ACK_LOST_PACKET);
        assert_eq!(flags(&mut a, &mut b, 5, 1500), 0);
    }

    #[test]
    fn prefixes_come_out_in_tshark_order() {
        let v = SeqVerdict {
            flags: ZERO_WINDOW | ZERO_WINDOW_PROBE_ACK | REUSED_PORTS,
            ..SeqVerdict::default()
        };
        assert_eq!(
            info_prefix(&v),
            "[TCP ZeroWindowProbeAck] [TCP ZeroWindow] [TCP Port numbers reused] "
        );
    }
}
