//! Follow TCP Stream: the application bytes of a connection in order, each
//! direction put back together by sequence number (retransmissions and
//! overlaps count once, out-of-order segments wait for the gap to fill).

use std::collections::BTreeMap;

use labrun_wire::SeqNumber;

use super::side::Side;

/// Most bytes waiting out of order per direction before gaps are given up.
const MAX_PENDING_BYTES: usize = 4 << 20;

/// A run of bytes sent by one end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Who sent them.
    pub from: Side,
    /// The bytes.
    pub data: Vec<u8>,
}

#[derive(Debug, Default)]
struct Direction {
    /// Relative sequence number of the next byte expected.
    next: Option<u32>,
    /// Out-of-order segments by relative sequence number.
    pending: BTreeMap<u32, Vec<u8>>,
    pending_bytes: usize,
}

/// Reassembles the application data of one stream.
#[derive(Debug)]
pub struct Follow {
    dirs: [Direction; 2],
    chunks: Vec<Chunk>,
    bytes: usize,
    limit: usize,
    /// Bytes given up: beyond the limit, cut by the snap length, or never filled gaps.
    pub missing: u64,
}

/// `a` is strictly ahead of `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    SeqNumber(a).ahead_of(SeqNumber(b))
}

impl Follow {
    /// Follows a stream, keeping at most `limit` bytes in total.
    pub fn new(limit: usize) -> Follow {
        Follow {
            dirs: [Direction::default(), Direction::default()],
            chunks: Vec::new(),
            bytes: 0,
            limit,
            missing: 0,
        }
    }

    /// The data so far, in the order it became contiguous.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Total bytes kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Adds a segment from `from` with relative sequence number `seq`, the
    /// payload length announced by the headers, and the captured `payload`.
    pub fn add(&mut self, from: Side, seq: u32, len: u32, payload: &[u8]) {
        if len == 0 {
            return;
        }
        let cut = (len as usize).saturating_sub(payload.len());
        self.missing += cut as u64;
        let data = payload
            .get(..(len as usize).min(payload.len()))
            .unwrap_or(&[]);
        let i = match from {
            Side::Client => 0,
            Side::Server => 1,
        };
        let next = *self.dirs[i].next.get_or_insert(seq);
        let end = seq.wrapping_add(len);
        if !after(end, next) {
            return; // Retransmission of data already delivered.
        }
        if after(seq, next) {
            let d = &mut self.dirs[i];
            if d.pending_bytes + data.len() > MAX_PENDING_BYTES {
                // Give the gap up: deliver what waits, in order.
                self.flush_pending(i, from, true);
            } else {
                d.pending_bytes += data.len();
                d.pending.insert(seq, data.to_vec());
                return;
            }
        }
        let skip = next.wrapping_sub(seq) as usize;
        let new = if after(seq, next) {
            data
        } else {
            data.get(skip..).unwrap_or(&[])
        };
        self.deliver(from, new);
        self.dirs[i].next = Some(end);
        self.flush_pending(i, from, false);
    }

    fn flush_pending(&mut self, i: usize, from: Side, force: bool) {
        loop {
            let next = self.dirs[i].next.unwrap_or(0);
            let Some((&seq, _)) = self.dirs[i].pending.iter().next() else {
                return;
            };
            if after(seq, next) && !force {
                return;
            }
            let Some(data) = self.dirs[i].pending.remove(&seq) else {
                return;
            };
            self.dirs[i].pending_bytes -= data.len();
            let end = seq.wrapping_add(u32::try_from(data.len()).unwrap_or(u32::MAX));
            if !after(end, next) {
                continue;
            }
            if after(seq, next) {
                self.missing += u64::from(seq.wrapping_sub(next));
                self.deliver(from, &data);
            } else {
                let skip = next.wrapping_sub(seq) as usize;
                self.deliver(from, data.get(skip..).unwrap_or(&[]));
            }
            self.dirs[i].next = Some(end);
        }
    }

    fn deliver(&mut self, from: Side, data: &[u8]) {
        let room = self.limit.saturating_sub(self.bytes);
        let keep = data.get(..room.min(data.len())).unwrap_or(&[]);
        self.missing += (data.len() - keep.len()) as u64;
        if keep.is_empty() {
            return;
        }
        self.bytes += keep.len();
        match self.chunks.last_mut() {
            Some(c) if c.from == from => c.data.extend_from_slice(keep),
            _ => self.chunks.push(Chunk {
                from,
                data: keep.to_vec(),
            }),
        }
    }

    /// Ends the stream: data still waiting behind a gap is delivered.
    pub fn finish(&mut self) {
        for (i, side) in [(0, Side::Client), (1, Side::Server)] {
            self.flush_pending(i, side, true);
        }
    }
}

/// The text view of followed data: printable ASCII and line breaks kept,
/// other bytes shown as `.`, each direction change announced on its own line.
pub fn follow_text(chunks: &[Chunk], client: &str, server: &str) -> String {
    let mut out = String::new();
    for c in chunks {
        let (from, to) = match c.from {
            Side::Client => (client, server),
            Side::Server => (server, client),
        };
        out.push_str(&format!("===== {from} → {to} ({} bytes)\n", c.data.len()));
        out.extend(c.data.iter().map(|&b| match b {
            b'\n' | b'\t' | 0x20..=0x7e => char::from(b),
            b'\r' => '\r',
            _ => '.',
        }));
        if !c.data.ends_with(b"\n") {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions_count_once_and_gaps_fill_in_order() {
        let mut f = Follow::new(1 << 20);
        f.add(Side::Client, 1, 5, b"hello");
        f.add(Side::Client, 1, 5, b"hello");
        f.add(Side::Client, 11, 5, b"world");
        f.add(Side::Server, 1, 3, b"ack");
        f.add(Side::Client, 6, 5, b", big");
        f.finish();
        let text: Vec<(Side, &[u8])> = f.chunks().iter().map(|c| (c.from, &c.data[..])).collect();
        assert_eq!(
            text,
            [
                (Side::Client, &b"hello"[..]),
                (Side::Server, b"ack"),
                (Side::Client, b", bigworld")
            ]
        );
        assert_eq!(f.missing, 0);
    }

    #[test]
    fn limits_and_snaplen_cuts_are_counted() {
        let mut f = Follow::new(4);
        f.add(Side::Client, 1, 10, b"abcdef");
        assert_eq!(f.bytes(), 4);
        assert_eq!(f.missing, 4 + 2);
        let t = follow_text(f.chunks(), "a", "b");
        assert_eq!(t, "===== a → b (4 bytes)\nabcd\n");
    }
}
