//! The records of a capture file, pcap or pcapng, parsed with `pcap-parser`
//! out of one large buffer: a block of the file is read at once and every
//! frame is handed over as a slice of it, with no copy and no allocation
//! per frame. What the file says is judged as Wireshark judges it (a frame
//! longer than 262 144 bytes, a block whose lengths disagree, a file cut
//! inside a record are damage; a record longer than the snapshot length is
//! not).

use std::borrow::Cow;
use std::io::{ErrorKind, Read};

use pcap_parser::nom;
use pcap_parser::pcapng::{self, Block};
use pcap_parser::{
    LegacyPcapBlock, PcapError, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified,
};

/// Wireshark's largest frame for the link types labrun decodes
/// (`WTAP_MAX_PACKET_SIZE_STANDARD`).
pub const MAX_FRAME: u32 = 262_144;
/// The largest pcapng block taken: a frame of [`MAX_FRAME`] bytes with room
/// for its options (Wireshark's limit is 16 MiB).
const MAX_BLOCK: u32 = 16 * 1024 * 1024;
/// Bytes read from the file at once: room for the longest pcap record, and
/// small enough to stay in a core's L2 cache with the output buffer.
const BLOCK: usize = 2 * MAX_FRAME as usize;
/// The pcap file header.
pub const PCAP_HEADER: usize = 24;
/// A pcapng block's type and length.
const NG_HEAD: usize = 8;
const SHB_MAGIC: u32 = 0x0a0d_0d0a;
/// The pcapng option holding a comment (`opt_comment`).
const OPT_COMMENT: u16 = 1;

/// The file read block by block.
pub struct Input<R> {
    reader: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> Input<R> {
    /// Wraps `reader`; nothing is read yet.
    pub fn new(reader: R) -> Self {
        Input {
            reader,
            buf: vec![0; BLOCK],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// The unread bytes in the buffer.
    pub fn rest(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Marks `n` bytes as read.
    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Makes at least `want` unread bytes available, unless the file ends
    /// first; returns how many there are.
    pub fn want(&mut self, want: usize) -> std::io::Result<usize> {
        if self.end - self.start >= want || self.eof {
            return Ok(self.end - self.start);
        }
        if want > self.buf.len() {
            self.buf.resize(want, 0);
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        while self.end < want {
            match self
                .reader
                .read(self.buf.get_mut(self.end..).unwrap_or(&mut []))
            {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(k) => self.end += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end)
    }
}

/// One frame as the file gives it.
pub struct Record<'a> {
    /// Seconds since the epoch.
    pub ts_sec: i64,
    /// Nanoseconds within the second.
    pub ts_nsec: u32,
    /// The frame's length on the wire.
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The interface the frame was captured on (pcapng; 0 in a pcap file).
    pub interface: usize,
    /// The frame's comments (pcapng `opt_comment`), in the file's order.
    pub comments: Vec<Cow<'a, str>>,
}

/// A pcapng interface: its link type and how its timestamps count.
#[derive(Debug, Clone, Copy)]
pub struct Interface {
    /// The DLT number.
    pub dlt: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset: i64,
    /// The snapshot length (0: none).
    snaplen: u32,
}

/// How the file's records are laid out.
#[derive(Debug, Clone)]
pub enum Format {
    /// Classic pcap from its file header.
    Pcap {
        /// Records in big-endian byte order.
        big_endian: bool,
        /// Nanosecond timestamps.
        nanos: bool,
        /// Kuznetzov's modified format (24-byte record headers).
        modified: bool,
        /// The file's DLT.
        dlt: u32,
    },
    /// pcapng: the current section's byte order and interfaces.
    PcapNg {
        /// The section is big-endian.
        big_endian: bool,
        /// The section's interfaces, in order.
        interfaces: Vec<Interface>,
    },
}

/// What went wrong, in plain words (the caller adds the file and frame).
#[derive(Debug)]
pub enum Damage {
    /// The file is not a capture at all, or its header is unusable.
    Header(String),
    /// The file is damaged at the next record.
    Record(String),
    /// Reading failed.
    Io(std::io::Error),
}

/// What one step of reading found.
pub enum Step<'a> {
    /// A frame.
    Frame(Record<'a>),
    /// A block without a frame (an interface, statistics, a name table, a new section).
    Other,
    /// The file ended cleanly.
    End,
}

fn u32_at(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    })
}

/// Reads the file header (pcap) or first section header (pcapng) and
/// consumes it.
pub fn start<R: Read>(input: &mut Input<R>) -> Result<Format, Damage> {
    let have = input.want(PCAP_HEADER).map_err(Damage::Io)?;
    let head = input.rest();
    if have == 0 {
        return Err(Damage::Header(
            "the file is empty (not a pcap or pcapng capture)".into(),
        ));
    }
    if head.len() >= 4 && u32_at(head, 0, false) == Some(SHB_MAGIC) {
        let format = Format::PcapNg {
            big_endian: false,
            interfaces: Vec::new(),
        };
        return Ok(format);
    }
    if have < PCAP_HEADER {
        let known = head.len() >= 4
            && matches!(
                u32_at(head, 0, false),
                Some(0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1 | 0xa1b2_cd34)
            );
        return Err(Damage::Header(if known {
            format!("the file is cut short inside its header ({have} of {PCAP_HEADER} bytes)")
        } else {
            "not a pcap or pcapng capture (unknown file format)".into()
        }));
    }
    let header = match pcap_parser::parse_pcap_header(head) {
        Ok((_, h)) => h,
        Err(_) => {
            return Err(Damage::Header(
                "not a pcap or pcapng capture (unknown file format)".into(),
            ));
        }
    };
    if header.version_major != 2 {
        return Err(Damage::Header(format!(
            "pcap version {}.{} is not one labrun reads (2.x)",
            header.version_major, header.version_minor
        )));
    }
    let format = Format::Pcap {
        big_endian: header.is_bigendian(),
        nanos: header.is_nanosecond_precision(),
        modified: header.is_modified_format(),
        dlt: u32::try_from(header.network.0).unwrap_or(u32::MAX),
    };
    input.consume(PCAP_HEADER);
    Ok(format)
}

/// Reads the next record or block.
pub fn next<'a, R: Read>(input: &'a mut Input<R>, format: &mut Format) -> Result<Step<'a>, Damage> {
    match format {
        Format::Pcap {
            big_endian,
            nanos,
            modified,
            ..
        } => next_pcap(input, *big_endian, *nanos, *modified),
        Format::PcapNg {
            big_endian,
            interfaces,
        } => next_ng(input, big_endian, interfaces),
    }
}

fn next_pcap<R: Read>(
    input: &mut Input<R>,
    big: bool,
    nanos: bool,
    modified: bool,
) -> Result<Step<'_>, Damage> {
    let head = if modified { 24 } else { 16 };
    let have = input.want(head).map_err(Damage::Io)?;
    if have == 0 {
        return Ok(Step::End);
    }
    if have < head {
        return Err(Damage::Record(format!(
            "the file ends inside a record header ({have} of {head} bytes)"
        )));
    }
    let caplen = u32_at(input.rest(), 8, big).unwrap_or(0);
    if caplen > MAX_FRAME {
        return Err(Damage::Record(format!(
            "a record claims {caplen} captured bytes, more than the largest frame ({MAX_FRAME})"
        )));
    }
    let whole = head + caplen as usize;
    let have = input.want(whole).map_err(Damage::Io)?;
    if have < whole {
        return Err(Damage::Record(format!(
            "the file ends inside a frame ({} of its {caplen} bytes)",
            have - head
        )));
    }
    let parse = if modified {
        parse_pcap_frame_modified
    } else if big {
        parse_pcap_frame_be
    } else {
        parse_pcap_frame
    };
    let start = input.start;
    let rest = input.buf.get(start..input.end).unwrap_or(&[]);
    let Ok((
        _,
        LegacyPcapBlock {
            ts_sec,
            ts_usec,
            origlen,
            data,
            ..
        },
    )) = parse(rest)
    else {
        return Err(Damage::Record("a record does not parse".into()));
    };
    input.start = start + whole;
    let frac = u64::from(ts_usec) * if nanos { 1 } else { 1000 };
    Ok(Step::Frame(Record {
        ts_sec: i64::from(ts_sec),
        ts_nsec: u32::try_from(frac).unwrap_or(0),
        orig_len: origlen,
        data,
        interface: 0,
        comments: Vec::new(),
    }))
}

fn next_ng<'a, R: Read>(
    input: &'a mut Input<R>,
    big: &mut bool,
    interfaces: &mut Vec<Interface>,
) -> Result<Step<'a>, Damage> {
    let have = input.want(NG_HEAD).map_err(Damage::Io)?;
    if have == 0 {
        return Ok(Step::End);
    }
    if have < NG_HEAD {
        return Err(Damage::Record(format!(
            "the file ends inside a block header ({have} of {NG_HEAD} bytes)"
        )));
    }
    let rest = input.rest();
    let kind = u32_at(rest, 0, false).unwrap_or(0);
    if kind == SHB_MAGIC {
        // A section sets its own byte order with its byte-order magic.
        let have = input.want(12).map_err(Damage::Io)?;
        let bom = input.rest().get(8..12).unwrap_or(&[]);
        *big = match bom {
            [0x1a, 0x2b, 0x3c, 0x4d] => true,
            [0x4d, 0x3c, 0x2b, 0x1a] => false,
            _ if have < 12 => {
                return Err(Damage::Record(
                    "the file ends inside a section header".into(),
                ));
            }
            _ => {
                return Err(Damage::Record(
                    "a section header has no valid byte-order magic".into(),
                ));
            }
        };
    }
    let len = u32_at(input.rest(), 4, *big).unwrap_or(0);
    if len < 12 || len % 4 != 0 || len > MAX_BLOCK {
        return Err(Damage::Record(format!(
            "a block claims a length of {len} bytes"
        )));
    }
    let len = len as usize;
    let have = input.want(len).map_err(Damage::Io)?;
    if have < len {
        return Err(Damage::Record(format!(
            "the file ends inside a block ({have} of its {len} bytes)"
        )));
    }
    let start = input.start;
    input.start = start + len;
    let bytes = input.buf.get(start..start + len).unwrap_or(&[]);
    let parsed = if *big {
        pcapng::parse_block_be(bytes)
    } else {
        pcapng::parse_block_le(bytes)
    };
    let block = match parsed {
        Ok((_, b)) => b,
        Err(e) => return Err(Damage::Record(block_error(kind, &e))),
    };
    match block {
        Block::SectionHeader(shb) => {
            if shb.major_version != 1 {
                return Err(Damage::Record(format!(
                    "a section of pcapng version {}.{} (labrun reads 1.x)",
                    shb.major_version, shb.minor_version
                )));
            }
            interfaces.clear();
            Ok(Step::Other)
        }
        Block::InterfaceDescription(idb) => {
            let units = idb.ts_resolution().ok_or_else(|| {
                Damage::Record(format!(
                    "interface {} has an invalid timestamp resolution",
                    interfaces.len()
                ))
            })?;
            interfaces.push(Interface {
                dlt: u32::from(idb.linktype.0 as u16),
                units,
                offset: idb.ts_offset(),
                snaplen: idb.snaplen,
            });
            Ok(Step::Other)
        }
        Block::EnhancedPacket(epb) => {
            let if_id = epb.if_id as usize;
            let Some(iface) = interfaces.get(if_id) else {
                return Err(Damage::Record(format!(
                    "a packet names interface {if_id}, but the section describes {}",
                    interfaces.len()
                )));
            };
            if epb.caplen > MAX_FRAME {
                return Err(Damage::Record(format!(
                    "a packet claims {} captured bytes, more than the largest frame ({MAX_FRAME})",
                    epb.caplen
                )));
            }
            let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            let (ts_sec, ts_nsec) = time(ts, iface);
            let data = epb.data.get(..epb.caplen as usize).unwrap_or(epb.data);
            let comments = epb
                .options
                .iter()
                .filter(|o| o.code.0 == OPT_COMMENT)
                .map(|o| match &o.value {
                    Cow::Borrowed(b) => {
                        let v = b.get(..usize::from(o.len)).unwrap_or(b);
                        String::from_utf8_lossy(v)
                    }
                    Cow::Owned(b) => {
                        let v = b.get(..usize::from(o.len)).unwrap_or(b);
                        Cow::Owned(String::from_utf8_lossy(v).into_owned())
                    }
                })
                .collect();
            Ok(Step::Frame(Record {
                ts_sec,
                ts_nsec,
                orig_len: epb.origlen,
                data,
                interface: if_id,
                comments,
            }))
        }
        Block::SimplePacket(spb) => {
            let Some(iface) = interfaces.first() else {
                return Err(Damage::Record(
                    "a simple packet block comes before any interface".into(),
                ));
            };
            let mut caplen = spb.origlen.min(u32::try_from(spb.data.len()).unwrap_or(0));
            if iface.snaplen != 0 {
                caplen = caplen.min(iface.snaplen);
            }
            let data = spb.data.get(..caplen as usize).unwrap_or(spb.data);
            Ok(Step::Frame(Record {
                ts_sec: 0,
                ts_nsec: 0,
                orig_len: spb.origlen,
                data,
                interface: 0,
                comments: Vec::new(),
            }))
        }
        _ => Ok(Step::Other),
    }
}

/// A pcapng timestamp in seconds and nanoseconds.
fn time(ts: u64, iface: &Interface) -> (i64, u32) {
    let units = iface.units.max(1);
    let sec = i64::try_from(ts / units).unwrap_or(i64::MAX);
    let frac = u128::from(ts % units) * 1_000_000_000 / u128::from(units);
    (
        sec.saturating_add(iface.offset),
        u32::try_from(frac).unwrap_or(0),
    )
}

fn block_error(kind: u32, e: &nom::Err<PcapError<&[u8]>>) -> String {
    let what = match kind {
        SHB_MAGIC => "a section header",
        0x0000_0001 => "an interface description",
        0x0000_0006 => "an enhanced packet block",
        0x0000_0003 => "a simple packet block",
        _ => "a block",
    };
    let why = match e {
        nom::Err::Incomplete(_) => "is shorter than its contents".to_string(),
        nom::Err::Error(PcapError::HeaderNotRecognized) => "is not recognized".to_string(),
        nom::Err::Error(_) | nom::Err::Failure(_) => "is malformed".to_string(),
    };
    format!("{what} {why}")
}
