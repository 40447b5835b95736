//! Writing classic pcap files (nanosecond timestamps) that Wireshark and tshark open.

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
}
