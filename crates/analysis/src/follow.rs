//! Follow TCP Stream: the application bytes of a connection in order, each
//! direction put back together by sequence number (retransmissions and
//! overlaps count once, out-of-order segments wait for the gap to fill).

use super::reassembly::{Delivery, Reassembler};
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

/// Reassembles the application data of one stream.
#[derive(Debug)]
pub struct Follow {
    dirs: [Reassembler<Vec<u8>>; 2],
    chunks: Vec<Chunk>,
    bytes: usize,
    limit: usize,
    /// Bytes given up: beyond the limit, cut by the snap length, or never filled gaps.
    pub missing: u64,
}

impl Follow {
    /// Follows a stream, keeping at most `limit` bytes in total.
    pub fn new(limit: usize) -> Follow {
        Follow {
            dirs: [
                Reassembler::new(MAX_PENDING_BYTES),
                Reassembler::new(MAX_PENDING_BYTES),
            ],
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
        let Follow {
            dirs,
            chunks,
            bytes,
            limit,
            missing,
        } = self;
        dirs[i].add(seq, len, data.to_vec(), &mut |segment, d| {
            keep(chunks, bytes, missing, *limit, from, &segment, d)
        });
    }

    /// Ends the stream: data still waiting behind a gap is delivered.
    pub fn finish(&mut self) {
        for (i, from) in [(0, Side::Client), (1, Side::Server)] {
            let Follow {
                dirs,
                chunks,
                bytes,
                limit,
                missing,
            } = self;
            dirs[i]
                .finish(&mut |segment, d| keep(chunks, bytes, missing, *limit, from, &segment, d));
        }
    }
}

/// Appends the new bytes of a segment from `from` to `chunks`, up to `limit` bytes in
/// all; the rest, and the gap before it, count as missing.
fn keep(
    chunks: &mut Vec<Chunk>,
    bytes: &mut usize,
    missing: &mut u64,
    limit: usize,
    from: Side,
    segment: &[u8],
    d: Delivery,
) -> bool {
    // The stream moves past every segment, kept or not.
    *missing += u64::from(d.gap);
    let data = segment.get(d.skip..).unwrap_or(&[]);
    let room = limit.saturating_sub(*bytes);
    let kept = data.get(..room.min(data.len())).unwrap_or(&[]);
    *missing += (data.len() - kept.len()) as u64;
    if kept.is_empty() {
        return true;
    }
    *bytes += kept.len();
    match chunks.last_mut() {
        Some(c) if c.from == from => c.data.extend_from_slice(kept),
        _ => chunks.push(Chunk {
            from,
            data: kept.to_vec(),
        }),
    }
    true
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
