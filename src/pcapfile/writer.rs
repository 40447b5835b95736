//! Writing capture files that Wireshark and tshark open: classic pcap with nanosecond
//! timestamps, and pcapng, whose packets can carry the report's explanation as comments.

use crate::analysis::RawFrame;
use std::io::{self, Write};

/// Magic number of a nanosecond-resolution pcap file.
pub const PCAP_NSEC_MAGIC: u32 = 0xa1b2_3c4d;

/// Writes `frames` as a pcap file with link type `dlt` and snapshot length `snaplen`.
pub fn write_pcap<W: Write>(
    mut out: W,
    dlt: u32,
    snaplen: u32,
    frames: &[RawFrame],
) -> io::Result<()> {
    let mut header = Vec::with_capacity(24);
    header.extend_from_slice(&PCAP_NSEC_MAGIC.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&0i32.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&snaplen.to_le_bytes());
    header.extend_from_slice(&dlt.to_le_bytes());
    out.write_all(&header)?;
    for f in frames {
        let caplen = u32::try_from(f.data.len()).unwrap_or(u32::MAX);
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&(f.ts_sec as u32).to_le_bytes());
        rec[4..8].copy_from_slice(&f.ts_nsec.to_le_bytes());
        rec[8..12].copy_from_slice(&caplen.to_le_bytes());
        rec[12..16].copy_from_slice(&f.orig_len.max(caplen).to_le_bytes());
        out.write_all(&rec)?;
        out.write_all(&f.data)?;
    }
    out.flush()
}

/// Block type of a pcapng Section Header Block.
const SHB: u32 = 0x0A0D_0D0A;
/// Block type of an Interface Description Block.
const IDB: u32 = 0x0000_0001;
/// Block type of an Enhanced Packet Block.
const EPB: u32 = 0x0000_0006;
/// The byte-order magic of a section header.
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Option codes: end of options, comment, the interface's timestamp resolution.
const OPT_ENDOFOPT: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_TSRESOL: u16 = 9;

/// Appends option `code` with `value`, padded to 32 bits.
fn push_option(block: &mut Vec<u8>, code: u16, value: &[u8]) {
    let len = value.len().min(usize::from(u16::MAX));
    block.extend_from_slice(&code.to_le_bytes());
    block.extend_from_slice(&(len as u16).to_le_bytes());
    block.extend_from_slice(&value[..len]);
    block.resize(block.len() + (4 - len % 4) % 4, 0);
}

/// Writes one block: type, total length, `body`, total length again.
fn write_block<W: Write>(out: &mut W, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12).unwrap_or(u32::MAX);
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

/// Writes `frames` as a pcapng file (RFC draft-ietf-opsawg-pcapng): one section, one
/// interface with link type `dlt`, snapshot length `snaplen` and nanosecond timestamps
/// (`if_tsresol` 9), and one Enhanced Packet Block per frame; `comment(i)` is the text of
/// frame `i` (0-based), written as its `opt_comment`, which Wireshark shows as
/// `frame.comment` in the packet details and in Expert Info.
pub fn write_pcapng<'a, W: Write>(
    mut out: W,
    dlt: u32,
    snaplen: u32,
    frames: &[RawFrame],
    comment: impl Fn(usize) -> Option<&'a str>,
) -> io::Result<()> {
    let mut shb = Vec::with_capacity(16);
    shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    // Section length unknown (-1): the file is written as a stream.
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    write_block(&mut out, SHB, &shb)?;
    let mut idb = Vec::with_capacity(20);
    // The link type field is 16 bits; every DLT labrun captures fits.
    idb.extend_from_slice(&(dlt as u16).to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&snaplen.to_le_bytes());
    push_option(&mut idb, IF_TSRESOL, &[9]);
    push_option(&mut idb, OPT_ENDOFOPT, &[]);
    write_block(&mut out, IDB, &idb)?;
    let mut epb = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        epb.clear();
        let caplen = u32::try_from(f.data.len()).unwrap_or(u32::MAX);
        let ns = u64::try_from(f.ts_sec)
            .unwrap_or(0)
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(f.ts_nsec));
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ns >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ns as u32).to_le_bytes());
        epb.extend_from_slice(&caplen.to_le_bytes());
        epb.extend_from_slice(&f.orig_len.max(caplen).to_le_bytes());
        epb.extend_from_slice(&f.data);
        epb.resize(epb.len() + (4 - f.data.len() % 4) % 4, 0);
        if let Some(text) = comment(i).filter(|t| !t.is_empty()) {
            // An option's length is 16 bits: a longer comment is cut at a character boundary.
            let mut len = text.len().min(usize::from(u16::MAX) - 3);
            while !text.is_char_boundary(len) {
                len -= 1;
            }
            push_option(&mut epb, OPT_COMMENT, &text.as_bytes()[..len]);
            push_option(&mut epb, OPT_ENDOFOPT, &[]);
        }
        write_block(&mut out, EPB, &epb)?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_header_and_records() {
        let frames = vec![RawFrame {
            ts_sec: 1_700_000_000,
            ts_nsec: 123_456_789,
            orig_len: 60,
            data: vec![0xab; 4],
        }];
        let mut buf = Vec::new();
        write_pcap(&mut buf, 1, 65535, &frames).unwrap();
        assert_eq!(buf.len(), 24 + 16 + 4);
        assert_eq!(&buf[0..4], &PCAP_NSEC_MAGIC.to_le_bytes());
        assert_eq!(&buf[20..24], &1u32.to_le_bytes());
        assert_eq!(&buf[28..32], &123_456_789u32.to_le_bytes());
        assert_eq!(&buf[32..36], &4u32.to_le_bytes());
        assert_eq!(&buf[36..40], &60u32.to_le_bytes());
    }

    #[test]
    fn pcapng_blocks_are_aligned_and_carry_comments() {
        let frames = vec![
            RawFrame {
                ts_sec: 1,
                ts_nsec: 5,
                orig_len: 3,
                data: vec![1, 2, 3],
            };
            2
        ];
        let mut buf = Vec::new();
        write_pcapng(&mut buf, 1, 262_144, &frames, |i| {
            (i == 1).then_some("第二次握手")
        })
        .unwrap();
        let word = |at: usize| u32::from_le_bytes(buf[at..at + 4].try_into().unwrap());
        // Walk the blocks: each length is a multiple of 4 and repeated at its end.
        let mut at = 0;
        let mut kinds = Vec::new();
        while at < buf.len() {
            let len = word(at + 4) as usize;
            assert_eq!(len % 4, 0);
            assert_eq!(word(at + len - 4) as usize, len);
            kinds.push(word(at));
            at += len;
        }
        assert_eq!(kinds, [SHB, IDB, EPB, EPB]);
        assert_eq!(word(8), BYTE_ORDER_MAGIC);
        // if_tsresol 9 in the interface block.
        assert!(buf.windows(5).any(|w| w == [9, 0, 1, 0, 9]));
        // The timestamp is 1 s + 5 ns in nanoseconds, split high/low.
        let epb = 28 + 32;
        assert_eq!(word(epb + 12), 0);
        assert_eq!(word(epb + 16), 1_000_000_005);
        let comment = "第二次握手".as_bytes();
        assert!(buf.windows(comment.len()).any(|w| w == comment));
    }
}
