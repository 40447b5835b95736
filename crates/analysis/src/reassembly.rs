//! TCP reassembly of one direction: segments put back in sequence order, bytes already
//! delivered counted once, segments beyond a gap waiting (up to a byte limit) for it to
//! fill. Follow TCP Stream and the HTTP/WebSocket decoder both use it.

use std::collections::BTreeMap;

use labrun_wire::SeqNumber;

/// `a` is strictly ahead of `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    SeqNumber(a).ahead_of(SeqNumber(b))
}

/// How a segment's bytes join the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Leading bytes of the segment that were already delivered.
    pub skip: usize,
    /// Bytes given up between the stream so far and this segment (only when waiting
    /// segments are forced out).
    pub gap: u32,
}

/// One direction being put back together; `T` is a segment with its payload.
#[derive(Debug)]
pub struct Reassembler<T> {
    /// Sequence number of the next byte expected.
    next: Option<u32>,
    /// Segments ahead of a gap, by sequence number.
    pending: BTreeMap<u32, T>,
    pending_bytes: usize,
    max_pending: usize,
}

impl<T: AsRef<[u8]>> Reassembler<T> {
    /// A reassembler that keeps at most `max_pending` bytes waiting behind a gap; past
    /// that the gap is given up and the waiting segments are delivered.
    pub fn new(max_pending: usize) -> Self {
        Reassembler {
            next: None,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            max_pending,
        }
    }

    /// True when segments still wait behind a gap.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Adds a segment starting at `seq` and announcing `len` bytes (its payload may be
    /// shorter when the capture cut it). `deliver` is called for each segment whose new
    /// bytes are now in order, this one and waiting ones, in stream order; it returns
    /// whether the stream moved past the segment (false when it kept none of it).
    pub fn add(
        &mut self,
        seq: u32,
        len: u32,
        segment: T,
        deliver: &mut impl FnMut(T, Delivery) -> bool,
    ) {
        let next = *self.next.get_or_insert(seq);
        let end = seq.wrapping_add(len);
        if !after(end, next) {
            return; // Retransmission of bytes already delivered.
        }
        let skip = if after(seq, next) {
            let size = segment.as_ref().len();
            if self.pending_bytes.saturating_add(size) <= self.max_pending {
                self.pending_bytes += size;
                self.pending.insert(seq, segment);
                return;
            }
            // Too much waits: give the gap up and deliver it all, in order.
            self.drain(true, deliver);
            0
        } else {
            next.wrapping_sub(seq) as usize
        };
        if deliver(segment, Delivery { skip, gap: 0 }) {
            self.next = Some(end);
        }
        self.drain(false, deliver);
    }

    /// Ends the stream: segments still waiting behind a gap are delivered.
    pub fn finish(&mut self, deliver: &mut impl FnMut(T, Delivery) -> bool) {
        self.drain(true, deliver);
    }

    /// Delivers the waiting segments that are in order now (all of them when `force`).
    fn drain(&mut self, force: bool, deliver: &mut impl FnMut(T, Delivery) -> bool) {
        loop {
            let next = self.next.unwrap_or(0);
            let Some((&seq, _)) = self.pending.iter().next() else {
                return;
            };
            if after(seq, next) && !force {
                return;
            }
            let Some(segment) = self.pending.remove(&seq) else {
                return;
            };
            let size = segment.as_ref().len();
            self.pending_bytes -= size;
            let end = seq.wrapping_add(u32::try_from(size).unwrap_or(u32::MAX));
            if !after(end, next) {
                continue;
            }
            let delivery = if after(seq, next) {
                Delivery {
                    skip: 0,
                    gap: seq.wrapping_sub(next),
                }
            } else {
                Delivery {
                    skip: next.wrapping_sub(seq) as usize,
                    gap: 0,
                }
            };
            if deliver(segment, delivery) {
                self.next = Some(end);
            }
        }
    }
}
