//! Writing small classic pcap files (for captures built by hand).

use std::path::Path;

/// One frame to write: timestamp in microseconds, original length, captured bytes.
pub struct OutFrame {
    /// Microseconds since the epoch.
    pub ts_us: u64,
    /// Length on the wire.
    pub orig_len: u32,
    /// Captured bytes.
    pub data: Vec<u8>,
}

impl OutFrame {
    /// A frame captured whole.
    pub fn full(ts_us: u64, data: Vec<u8>) -> Self {
        let orig_len = u32::try_from(data.len()).expect("frame length");
        OutFrame {
            ts_us,
            orig_len,
            data,
        }
    }

    /// A frame cut to `caplen` bytes, as a small snap length would.
    pub fn cut(ts_us: u64, mut data: Vec<u8>, caplen: usize) -> Self {
        let orig_len = u32::try_from(data.len()).expect("frame length");
        data.truncate(caplen);
        OutFrame {
            ts_us,
            orig_len,
            data,
        }
    }
}

/// Writes a microsecond-resolution pcap file with the given DLT.
pub fn write_pcap(path: &Path, dlt: u32, frames: &[OutFrame]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&dlt.to_le_bytes());
    for f in frames {
        let sec = u32::try_from(f.ts_us / 1_000_000).expect("timestamp");
        let usec = u32::try_from(f.ts_us % 1_000_000).expect("timestamp");
        out.extend_from_slice(&sec.to_le_bytes());
        out.extend_from_slice(&usec.to_le_bytes());
        out.extend_from_slice(&u32::try_from(f.data.len()).expect("len").to_le_bytes());
        out.extend_from_slice(&f.orig_len.to_le_bytes());
        out.extend_from_slice(&f.data);
    }
    std::fs::write(path, out).expect("write pcap");
}
