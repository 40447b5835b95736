//! IPv4 fragment reassembly, as Wireshark does it by default: the frame
//! carrying the last missing fragment shows the whole datagram's transport
//! header (the earlier fragments stay "Fragmented IP protocol").

use std::collections::HashMap;
use std::net::IpAddr;

/// Most datagrams waiting for fragments at once; beyond it the oldest
/// half-built datagrams are forgotten, so memory stays bounded.
const MAX_PENDING: usize = 1024;
/// Largest IPv4 datagram payload.
const MAX_DATAGRAM: usize = 65_535;

/// Identifies the fragments of one datagram (RFC 791).
type Key = (IpAddr, IpAddr, u16, u8);

#[derive(Debug, Default)]
struct Pending {
    /// (offset, bytes) of every fragment received.
    parts: Vec<(usize, Vec<u8>)>,
    /// Total payload length, known once the last fragment (MF clear) arrived.
    total: Option<usize>,
    /// Frame numbers of the fragments, in arrival order.
    frames: Vec<u64>,
}

/// A datagram put back together from its fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// The whole IP payload.
    pub payload: Vec<u8>,
    /// The frames whose fragments make up the datagram, in arrival order.
    pub frames: Vec<u64>,
}

/// Collects IPv4 fragments until a datagram is complete.
#[derive(Debug, Default)]
pub(crate) struct Defragmenter {
    pending: HashMap<Key, Pending>,
}

impl Defragmenter {
    /// Adds one fragment (`offset` in bytes, `more` = the MF flag) and
    /// returns the datagram when this fragment completes it.
    pub fn add(
        &mut self,
        key: Key,
        number: u64,
        offset: usize,
        more: bool,
        bytes: &[u8],
    ) -> Option<Reassembled> {
        if offset.saturating_add(bytes.len()) > MAX_DATAGRAM {
            return None;
        }
        if self.pending.len() >= MAX_PENDING && !self.pending.contains_key(&key) {
            self.pending.clear();
        }
        let entry = self.pending.entry(key).or_default();
        entry.parts.push((offset, bytes.to_vec()));
        entry.frames.push(number);
        if !more {
            entry.total = Some(offset + bytes.len());
        }
        let total = entry.total?;
        let mut covered = vec![false; total];
        let mut payload = vec![0u8; total];
        for (off, data) in &entry.parts {
            let end = (off + data.len()).min(total);
            if let (Some(dst), Some(flags)) =
                (payload.get_mut(*off..end), covered.get_mut(*off..end))
            {
                let n = dst.len();
                dst.copy_from_slice(data.get(..n).unwrap_or(&[]));
                flags.iter_mut().for_each(|c| *c = true);
            }
        }
        if !covered.iter().all(|c| *c) {
            return None;
        }
        let done = self.pending.remove(&key)?;
        Some(Reassembled {
            payload,
            frames: done.frames,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        (
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            7,
            17,
        )
    }

    #[test]
    fn out_of_order_fragments_complete_on_the_last_missing_one() {
        let mut d = Defragmenter::default();
        assert!(d.add(key(), 1, 8, false, b"world!!!").is_none());
        let r = d.add(key(), 2, 0, true, b"hello, w").unwrap();
        assert_eq!(r.payload, b"hello, wworld!!!");
        assert_eq!(r.frames, [1, 2]);
        assert!(d.pending.is_empty());
    }

    #[test]
    fn gaps_and_oversize_never_complete() {
        let mut d = Defragmenter::default();
        assert!(d.add(key(), 1, 0, true, b"abcdefgh").is_none());
        assert!(d.add(key(), 2, 16, false, b"xx").is_none());
        assert!(d.add(key(), 3, 65_530, false, b"0123456789").is_none());
    }
}
