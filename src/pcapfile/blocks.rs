//! Classic pcap records read straight from the file in large blocks.
//!
//! libpcap reads each record with two `fread` calls through a 4 KiB stdio
//! buffer and copies the frame once more into its own buffer; on a
//! million-frame file that is a tenth of `--fields`' time. This reader takes
//! only files and records that libpcap would hand over unchanged (pcap 2.4,
//! microsecond or nanosecond magic, a record no longer than the snapshot
//! length) and stops at the first one it does not take, so that libpcap can
//! go on from there with its own rules and messages.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use crate::wire::LinkType;

/// libpcap's largest snapshot length for the link types labrun decodes.
const MAX_SNAPLEN: u32 = 262_144;
/// Bytes read from the file at once: room for the longest record, and
/// small enough to stay in a core's L2 cache with the output buffer.
const BLOCK: usize = 2 * MAX_SNAPLEN as usize;
const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;

/// How the records of a file are laid out, from its file header.
#[derive(Debug, Clone, Copy)]
struct Layout {
    big_endian: bool,
    /// Not the host's byte order.
    swapped: bool,
    nanos: bool,
    /// Longest record taken: the snapshot length, at most [`MAX_SNAPLEN`].
    max_caplen: u32,
}

impl Layout {
    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        })
    }
}

/// Reads the file header; `None` when the file is anything but a plain
/// pcap 2.4 file that libpcap passes through unchanged.
fn layout(header: &[u8], link: LinkType) -> Option<Layout> {
    let magic: [u8; 4] = header.get(..4)?.try_into().ok()?;
    let (big_endian, nanos) = match u32::from_le_bytes(magic) {
        0xa1b2_c3d4 => (false, false),
        0xa1b2_3c4d => (false, true),
        0xd4c3_b2a1 => (true, false),
        0x4d3c_b2a1 => (true, true),
        _ => return None,
    };
    let swapped = big_endian != cfg!(target_endian = "big");
    let l = Layout {
        big_endian,
        swapped,
        nanos,
        max_caplen: 0,
    };
    let version = l.u32_at(header, 4)?;
    let (major, minor) = if big_endian {
        (version >> 16, version & 0xffff)
    } else {
        (version & 0xffff, version >> 16)
    };
    if (major, minor) != (2, 4) {
        return None;
    }
    // libpcap fixes up the cooked headers of byte-swapped files (CAN frames).
    if swapped && matches!(link, LinkType::LinuxSll | LinkType::LinuxSll2) {
        return None;
    }
    let snaplen = l.u32_at(header, 16)?;
    let max_caplen = if snaplen == 0 {
        MAX_SNAPLEN
    } else {
        snaplen.min(MAX_SNAPLEN)
    };
    Some(Layout { max_caplen, ..l })
}

/// One frame's record header, as libpcap reports it with nanosecond precision.
#[derive(Debug, Clone, Copy)]
struct Record {
    ts_sec: i64,
    ts_nsec: u32,
    caplen: usize,
    len: u32,
}

fn record(l: &Layout, b: &[u8]) -> Option<Record> {
    // libpcap keeps the time fields of a file in the host's byte order as
    // signed 32-bit values, those of a byte-swapped file as unsigned ones,
    // and scales microseconds in a long; labrun then takes a nanosecond
    // field outside 0..2^32 as 0.
    let (sec, frac) = (l.u32_at(b, 0)?, l.u32_at(b, 4)?);
    let (sec, frac) = if l.swapped {
        (i64::from(sec), i64::from(frac))
    } else {
        (i64::from(sec as i32), i64::from(frac as i32))
    };
    let nsec = if l.nanos { frac } else { frac * 1000 };
    let caplen = l.u32_at(b, 8)?;
    if caplen > l.max_caplen {
        return None;
    }
    Some(Record {
        ts_sec: sec,
        ts_nsec: u32::try_from(nsec).unwrap_or(0),
        caplen: usize::try_from(caplen).ok()?,
        len: l.u32_at(b, 12)?,
    })
}

/// Why [`read_records`] stopped.
#[derive(Debug)]
pub enum Stop<E> {
    /// The file ended cleanly after the last record.
    End,
    /// The file (or its next record) is not one this reader takes as is;
    /// libpcap should go on after the frames already handed over.
    HandOver,
    /// The callback failed.
    Failed(E),
}

/// Reads every record of the pcap file at `path`, calling
/// `each(ts_sec, ts_nsec, orig_len, bytes)`, and counts the frames handed
/// over in `frames`. Reads nothing at all from a file it does not take, nor
/// from anything but a regular file.
pub fn read_records<E>(
    path: &Path,
    link: LinkType,
    frames: &mut u64,
    mut each: impl FnMut(i64, u32, u32, &[u8]) -> Result<(), E>,
) -> Stop<E> {
    // Only a regular file can be opened a second time from its start: a
    // pipe or FIFO (`<(tcpdump -w -)`) would lose what libpcap has read.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Stop::HandOver;
    }
    let Ok(mut file) = File::open(path) else {
        return Stop::HandOver;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Stop::HandOver;
    }
    let mut buf = vec![0u8; BLOCK];
    let Ok(mut filled) = fill(&mut file, &mut buf, 0) else {
        return Stop::HandOver;
    };
    if filled < FILE_HEADER {
        return Stop::HandOver;
    }
    let Some(l) = buf.get(..FILE_HEADER).and_then(|h| layout(h, link)) else {
        return Stop::HandOver;
    };
    let mut at = FILE_HEADER;
    loop {
        let rest = buf.get(at..filled).unwrap_or(&[]);
        if rest.len() >= RECORD_HEADER {
            let Some(r) = record(&l, rest) else {
                return Stop::HandOver;
            };
            let end = RECORD_HEADER + r.caplen;
            if let Some(data) = rest.get(RECORD_HEADER..end) {
                if let Err(e) = each(r.ts_sec, r.ts_nsec, r.len, data) {
                    return Stop::Failed(e);
                }
                *frames += 1;
                at += end;
                continue;
            }
        }
        // The next record is not all in the block: move what there is of it
        // to the front and read on (a record always fits in a block).
        let tail = rest.len();
        buf.copy_within(at..filled, 0);
        at = 0;
        filled = match fill(&mut file, &mut buf, tail) {
            Ok(n) => n,
            Err(_) => return Stop::HandOver,
        };
        if filled == tail {
            // The end of the file: clean, or inside a record.
            return if tail == 0 { Stop::End } else { Stop::HandOver };
        }
    }
}

/// Reads into `buf[from..]` until it is full or the file ends; returns the
/// number of valid bytes in `buf`.
fn fill(file: &mut File, buf: &mut [u8], from: usize) -> std::io::Result<usize> {
    let mut n = from;
    while n < buf.len() {
        match file.read(buf.get_mut(n..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
