//! Opening a capture file (pcap or pcapng, see `blocks`) without blocking
//! and reading it frame by frame, each frame with its link type and comments.

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::PcapFileError;
use super::blocks::{self, Damage, Format, Input, Step};
use super::filter::Filter;
use crate::wire::LinkType;

/// An open capture file (pcap or pcapng) whose link type labrun decodes.
pub struct CaptureFile {
    input: Input<File>,
    format: Format,
    path: PathBuf,
    /// The link type of the file (of its first interface in a pcapng file).
    pub link: LinkType,
    /// The DLT number of the file (of its first interface in a pcapng file).
    pub dlt: i32,
    filter: Option<Filter>,
    /// Frames handed over so far.
    frames: u64,
}

/// One frame of a capture file, borrowed from the reader's buffer.
pub struct Frame<'a> {
    /// Seconds since the epoch.
    pub ts_sec: i64,
    /// Nanoseconds within the second.
    pub ts_nsec: u32,
    /// The frame's length on the wire.
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The link type of the interface it was captured on.
    pub link: LinkType,
    /// Its pcapng comments (`opt_comment`), in the file's order; none in a pcap file.
    pub comments: Vec<Cow<'a, str>>,
}

/// libpcap's name of a DLT, for the message about a link type labrun does not decode.
fn dlt_name(dlt: u32) -> &'static str {
    match dlt {
        0 => "NULL",
        1 => "EN10MB",
        6 => "IEEE802",
        9 => "PPP",
        12 | 14 | 101 => "RAW",
        50 => "PPP_SERIAL",
        104 => "C_HDLC",
        105 => "IEEE802_11",
        108 => "LOOP",
        113 => "LINUX_SLL",
        119 => "PRISM_HEADER",
        127 => "IEEE802_11_RADIO",
        147..=162 => "USER",
        189 => "USB_LINUX",
        192 => "PPI",
        195 => "IEEE802_15_4_WITHFCS",
        201 => "BLUETOOTH_HCI_H4_WITH_PHDR",
        220 => "USB_LINUX_MMAPPED",
        227 => "CAN_SOCKETCAN",
        228 => "IPV4",
        229 => "IPV6",
        249 => "USBPCAP",
        252 => "WIRESHARK_UPPER_PDU",
        258 => "PKTAP",
        263 => "BLUETOOTH_LE_LL",
        276 => "LINUX_SLL2",
        _ => "unknown",
    }
}

/// What a file is when it is not a regular file ("a FIFO", "a character device", ...);
/// `None` for a regular file.
#[cfg(unix)]
pub fn not_regular(kind: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// How long a FIFO or pipe may stay silent before labrun gives up on it: a capture
/// piped in (`tcpdump -w - | labrun analyze /dev/stdin`) starts with its header at once.
pub const FIFO_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Opens `path` for libpcap without ever blocking: a regular file as is, a FIFO or pipe
/// only once its writer has sent something (within [`FIFO_WAIT`]), anything else
/// (a device such as /dev/zero, a socket, a directory) refused by its kind before a
/// byte is read.
#[cfg(unix)]
fn open_input(path: &Path) -> Result<std::fs::File, PcapFileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |message: String| PcapFileError::Open {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(
            |e| match std::fs::metadata(path).map(|m| not_regular(m.file_type())) {
                Ok(Some(kind)) => refuse(format!("not a regular file ({kind})")),
                _ => refuse(e.to_string()),
            },
        )?;
    let kind = file
        .metadata()
        .map_err(|e| refuse(e.to_string()))?
        .file_type();
    match not_regular(kind) {
        None => {}
        Some("a FIFO") => wait_for_writer(&file).map_err(refuse)?,
        Some("a directory") => return Err(refuse("it is a directory".into())),
        Some(kind) => return Err(refuse(format!("not a regular file ({kind})"))),
    }
    // Blocking reads from here on: libpcap reads with stdio.
    set_blocking(&file).map_err(|e| refuse(e.to_string()))?;
    Ok(file)
}

#[cfg(unix)]
/// Waits up to [`FIFO_WAIT`] for a FIFO's first bytes.
fn wait_for_writer(file: &std::fs::File) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let mut pfd = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = std::time::Instant::now() + FIFO_WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd, for the length given.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.to_string());
        }
        if pfd.revents & libc::POLLIN != 0 {
            return Ok(());
        }
        if pfd.revents & libc::POLLHUP != 0 {
            return Err(
                "not a regular file (a FIFO whose writer closed without sending a capture)".into(),
            );
        }
        if r == 0 {
            return Err(format!(
                "not a regular file (a FIFO with no writer: nothing arrived within {})",
                crate::util::fmt_duration(FIFO_WAIT)
            ));
        }
    }
}

#[cfg(unix)]
fn set_blocking(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// What a file is when it is not a regular file; `None` for a regular file.
#[cfg(not(unix))]
pub fn not_regular(kind: std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else {
        Some("not a file")
    }
}

/// Opens `path` if it is a regular file (pipes and devices are refused by kind).
#[cfg(not(unix))]
fn open_input(path: &Path) -> Result<std::fs::File, PcapFileError> {
    let refuse = |message: String| PcapFileError::Open {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| refuse(e.to_string()))?;
    let kind = file
        .metadata()
        .map_err(|e| refuse(e.to_string()))?
        .file_type();
    match not_regular(kind) {
        None => Ok(file),
        Some("a directory") => Err(refuse("it is a directory".into())),
        Some(kind) => Err(refuse(format!("not a regular file ({kind})"))),
    }
}

fn link_error(path: &Path, dlt: u32) -> PcapFileError {
    PcapFileError::LinkType {
        path: path.to_path_buf(),
        dlt: i32::try_from(dlt).unwrap_or(i32::MAX),
        name: dlt_name(dlt).to_string(),
    }
}

impl CaptureFile {
    /// Opens `path` and applies the BPF `filter`, if any. Only a regular file, or a FIFO
    /// whose writer is sending, is read (see [`open_input`]): nothing here can block for
    /// long. A pcapng file's blocks before its first interface are read here, for its
    /// link type; a file with no interface at all (a section header alone) has no
    /// frames and is taken as Ethernet.
    pub fn open(path: &Path, filter: Option<&str>) -> Result<CaptureFile, PcapFileError> {
        let open_error = |message: String| PcapFileError::Open {
            path: path.to_path_buf(),
            message,
        };
        let mut input = Input::new(open_input(path)?);
        let mut format = blocks::start(&mut input).map_err(|d| match d {
            Damage::Header(m) | Damage::Record(m) => open_error(m),
            Damage::Io(e) => open_error(e.to_string()),
        })?;
        while matches!(&format, Format::PcapNg { interfaces, .. } if interfaces.is_empty()) {
            match blocks::next(&mut input, &mut format) {
                Ok(Step::Other) => {}
                Ok(Step::End | Step::Frame(_)) => break,
                Err(Damage::Header(m) | Damage::Record(m)) => return Err(open_error(m)),
                Err(Damage::Io(e)) => return Err(open_error(e.to_string())),
            }
        }
        let dlt = match &format {
            Format::Pcap { dlt, .. } => *dlt,
            Format::PcapNg { interfaces, .. } => interfaces.first().map_or(1, |i| i.dlt),
        };
        let link = LinkType::from_dlt(dlt).ok_or_else(|| link_error(path, dlt))?;
        let filter = filter.map(|f| Filter::new(f, dlt)).transpose()?;
        Ok(CaptureFile {
            input,
            format,
            path: path.to_path_buf(),
            link,
            dlt: i32::try_from(dlt).unwrap_or(i32::MAX),
            filter,
            frames: 0,
        })
    }

    /// Calls `each` for every frame (that passes the filter), in order, and returns how
    /// many there were. A damaged file ends with [`PcapFileError::Read`] after the frames
    /// before the damage were handed over; a pcapng interface of a link type labrun does
    /// not decode ends it with [`PcapFileError::LinkType`].
    pub fn for_each<E>(
        &mut self,
        mut each: impl FnMut(&Frame<'_>) -> Result<(), E>,
    ) -> Result<u64, E>
    where
        E: From<PcapFileError>,
    {
        let mut n = 0u64;
        loop {
            let record = match blocks::next(&mut self.input, &mut self.format) {
                Ok(Step::Frame(r)) => r,
                Ok(Step::Other) => continue,
                Ok(Step::End) => return Ok(n),
                Err(d) => {
                    let message = match d {
                        Damage::Header(m) | Damage::Record(m) => m,
                        Damage::Io(e) => e.to_string(),
                    };
                    return Err(PcapFileError::Read {
                        path: self.path.clone(),
                        frames: self.frames,
                        message,
                    }
                    .into());
                }
            };
            let (dlt, link) = match &self.format {
                Format::Pcap { .. } => (u32::try_from(self.dlt).unwrap_or(1), self.link),
                Format::PcapNg { interfaces, .. } => {
                    let dlt = interfaces.get(record.interface).map_or(1, |i| i.dlt);
                    let link =
                        LinkType::from_dlt(dlt).ok_or_else(|| link_error(&self.path, dlt))?;
                    (dlt, link)
                }
            };
            if let Some(f) = &mut self.filter {
                if !f.matches(dlt, record.data)? {
                    continue;
                }
            }
            self.frames += 1;
            n += 1;
            each(&Frame {
                ts_sec: record.ts_sec,
                ts_nsec: record.ts_nsec,
                orig_len: record.orig_len,
                data: record.data,
                link,
                comments: record.comments,
            })?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Frames = Vec<(i64, u32, u32, Vec<u8>, Vec<String>)>;

    /// Every frame and the error message.
    fn read(path: &Path) -> (Frames, Option<String>) {
        let mut file = CaptureFile::open(path, None).expect("open");
        let mut frames = Vec::new();
        let r = file.for_each(|f| -> Result<(), PcapFileError> {
            let comments = f.comments.iter().map(|c| c.to_string()).collect();
            frames.push((f.ts_sec, f.ts_nsec, f.orig_len, f.data.to_vec(), comments));
            Ok(())
        });
        (frames, r.err().map(|e| e.to_string()))
    }

    fn read_bytes(bytes: &[u8]) -> (Frames, Option<String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.pcap");
        std::fs::write(&path, bytes).expect("write");
        read(&path)
    }

    fn w32(big: bool, v: u32) -> [u8; 4] {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn w16(big: bool, v: u16) -> [u8; 2] {
        if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// A pcap file: magic, version, snaplen, and records (sec, frac, caplen, len, data bytes).
    fn pcap(
        big: bool,
        magic: u32,
        version: (u16, u16),
        snaplen: u32,
        records: &[(u32, u32, u32, u32, usize)],
    ) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend(w32(big, magic));
        f.extend(w16(big, version.0));
        f.extend(w16(big, version.1));
        f.extend([0; 8]);
        f.extend(w32(big, snaplen));
        f.extend(w32(big, 1));
        for (i, &(sec, frac, caplen, len, bytes)) in records.iter().enumerate() {
            for v in [sec, frac, caplen, len] {
                f.extend(w32(big, v));
            }
            f.extend((0..bytes).map(|b| (b + i) as u8));
        }
        f
    }

    /// A pcapng block: type, body, and the two lengths around it.
    fn block(big: bool, kind: u32, body: &[u8]) -> Vec<u8> {
        let len = 12 + body.len().next_multiple_of(4);
        let mut b = Vec::new();
        b.extend(w32(big, kind));
        b.extend(w32(big, len as u32));
        b.extend(body);
        b.resize(len - 4, 0);
        b.extend(w32(big, len as u32));
        b
    }

    fn option(big: bool, code: u16, value: &[u8]) -> Vec<u8> {
        let mut o = Vec::new();
        o.extend(w16(big, code));
        o.extend(w16(big, value.len() as u16));
        o.extend(value);
        o.resize(4 + value.len().next_multiple_of(4), 0);
        o
    }

    fn shb(big: bool) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(w32(big, 0x1a2b_3c4d));
        body.extend(w16(big, 1));
        body.extend(w16(big, 0));
        body.extend([0xff; 8]);
        block(big, 0x0a0d_0d0a, &body)
    }

    /// An interface of link type `dlt` with timestamp resolution option `tsresol`.
    fn idb(big: bool, dlt: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(w16(big, dlt));
        body.extend([0, 0]);
        body.extend(w32(big, 0));
        if let Some(r) = tsresol {
            body.extend(option(big, 9, &[r]));
            body.extend(option(big, 0, &[]));
        }
        block(big, 1, &body)
    }

    fn epb(big: bool, iface: u32, ts: u64, data: &[u8], comments: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(w32(big, iface));
        body.extend(w32(big, (ts >> 32) as u32));
        body.extend(w32(big, ts as u32));
        body.extend(w32(big, data.len() as u32));
        body.extend(w32(big, data.len() as u32 + 4));
        body.extend(data);
        body.resize(20 + data.len().next_multiple_of(4), 0);
        if !comments.is_empty() {
            for c in comments {
                body.extend(option(big, 1, c.as_bytes()));
            }
            body.extend(option(big, 0, &[]));
        }
        block(big, 6, &body)
    }

    #[test]
    fn pcap_in_both_byte_orders_and_precisions() {
        let good = [
            (1, 5, 60, 60, 60),
            (0x8000_0000, 999_999, 0, 0, 0),
            (2, 7, 3, 1500, 3),
            (3, 4_300, 40, 40, 40),
        ];
        for big in [false, true] {
            for (magic, scale) in [(0xa1b2_c3d4, 1000), (0xa1b2_3c4d, 1)] {
                // The snapshot length does not limit a record (as in Wireshark).
                for snaplen in [0, 40, 65535] {
                    let (frames, err) = read_bytes(&pcap(big, magic, (2, 4), snaplen, &good));
                    assert_eq!((frames.len(), &err), (4, &None));
                    assert_eq!(frames[1].0, 0x8000_0000);
                    assert_eq!(frames[3].1, 4_300 * scale);
                    assert_eq!((frames[2].2, frames[2].3.len()), (1500, 3));
                }
                // pcap 2.x versions other than 2.4 are read; 1.x is refused.
                let (frames, _) = read_bytes(&pcap(big, magic, (2, 3), 0, &good));
                assert_eq!(frames.len(), 4);
                let dir = tempfile::tempdir().expect("tempdir");
                let old = dir.path().join("old.pcap");
                std::fs::write(&old, pcap(big, magic, (1, 0), 0, &good)).expect("write");
                let err = CaptureFile::open(&old, None).err().expect("refused");
                assert!(err.to_string().contains("pcap version 1.0"), "{err}");
            }
        }
    }

    #[test]
    fn damage_ends_after_the_frames_before_it() {
        let good = [(1, 1, 60, 60, 60), (2, 2, 60, 60, 60), (3, 3, 60, 60, 60)];
        let whole = pcap(false, 0xa1b2_c3d4, (2, 4), 0, &good);
        for cut in [whole.len() - 1, whole.len() - 60, whole.len() - 70] {
            let (frames, err) = read_bytes(&whole[..cut]);
            assert_eq!(frames.len(), 2, "cut at {cut}");
            let err = err.expect("damaged");
            assert!(
                err.contains("damaged after frame 2: the file ends inside"),
                "{err}"
            );
        }
        let huge = [(1, 1, 60, 60, 60), (1, 2, 300_000, 300_000, 300_000)];
        let (frames, err) = read_bytes(&pcap(false, 0xa1b2_c3d4, (2, 4), 0, &huge));
        assert_eq!(frames.len(), 1);
        assert!(
            err.expect("damaged")
                .contains("more than the largest frame")
        );
    }

    #[test]
    fn pcapng_interfaces_resolutions_and_comments() {
        for big in [false, true] {
            let mut f = shb(big);
            f.extend(idb(big, 1, None));
            f.extend(idb(big, 101, Some(9)));
            f.extend(epb(big, 0, 1_500_000_250, &[1; 20], &["first", "second"]));
            f.extend(epb(big, 1, 2_000_000_007, &[2; 21], &[]));
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("t.pcapng");
            std::fs::write(&path, &f).expect("write");
            let mut file = CaptureFile::open(&path, None).expect("open");
            assert_eq!((file.link, file.dlt), (LinkType::Ethernet, 1));
            let mut links = Vec::new();
            file.for_each(|fr| -> Result<(), PcapFileError> {
                links.push(fr.link);
                Ok(())
            })
            .expect("read");
            assert_eq!(links, [LinkType::Ethernet, LinkType::RawIp]);
            let (frames, err) = read(&path);
            assert_eq!(err, None);
            assert_eq!(frames[0].0, 1500);
            assert_eq!(frames[0].1, 250_000);
            assert_eq!((frames[0].2, frames[0].3.len()), (24, 20));
            assert_eq!(frames[0].4, ["first", "second"]);
            assert_eq!((frames[1].0, frames[1].1), (2, 7));
            assert!(frames[1].4.is_empty());
            // Cut inside the second packet block.
            let (frames, err) = read_bytes(&f[..f.len() - 8]);
            assert_eq!(frames.len(), 1);
            assert!(err.expect("damaged").contains("damaged after frame 1"));
        }
    }

    #[test]
    fn pcapng_without_interfaces_and_unknown_link_types() {
        let (frames, err) = read_bytes(&shb(false));
        assert_eq!((frames.len(), err), (0, None));
        let mut usb = shb(false);
        usb.extend(idb(false, 220, None));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("usb.pcapng");
        std::fs::write(&path, &usb).expect("write");
        let err = CaptureFile::open(&path, None).err().expect("refused");
        assert!(
            err.to_string()
                .contains("link type 220 (USB_LINUX_MMAPPED)"),
            "{err}"
        );
        // A second interface labrun does not decode ends the reading at its first frame.
        let mut mixed = shb(false);
        mixed.extend(idb(false, 1, None));
        mixed.extend(idb(false, 220, None));
        mixed.extend(epb(false, 0, 1, &[0; 14], &[]));
        mixed.extend(epb(false, 1, 2, &[0; 14], &[]));
        let (frames, err) = read_bytes(&mixed);
        assert_eq!(frames.len(), 1);
        assert!(err.expect("refused").contains("link type 220"));
    }

    #[test]
    fn garbage_and_cut_headers_are_one_line() {
        for (bytes, want) in [
            (&b""[..], "the file is empty"),
            (
                &b"\xd4\xc3\xb2\xa1\x02\x00"[..],
                "cut short inside its header",
            ),
            (
                &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
                "unknown file format",
            ),
            (
                &b"\x0a\x0d\x0d\x0a\x1c\x00"[..],
                "the file ends inside a block header",
            ),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("t");
            std::fs::write(&path, bytes).expect("write");
            let err = CaptureFile::open(&path, None)
                .err()
                .expect("refused")
                .to_string();
            assert!(err.contains(want) && !err.contains('\n'), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_read_without_reopening() {
        let records: Vec<_> = (0..5_000u32).map(|i| (i, i, 99, 99, 99)).collect();
        let bytes = pcap(false, 0xa1b2_3c4d, (2, 4), 0, &records);
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: no mkfifo");
            return;
        }
        let writer = {
            let fifo = fifo.clone();
            let bytes = bytes.clone();
            std::thread::spawn(move || std::fs::write(fifo, bytes))
        };
        let (frames, err) = read(&fifo);
        writer.join().expect("writer").expect("write");
        assert_eq!((frames.len(), err), (5_000, None));
        assert_eq!(read_bytes(&bytes).0, frames);
    }

    /// Random damage to pcap and pcapng files: never a panic, never a hang, every
    /// error one line, and never more frames than the file holds bytes for.
    #[test]
    fn damaged_files_end_in_one_line() {
        let mut ng = shb(false);
        ng.extend(idb(false, 1, Some(9)));
        ng.extend(idb(false, 276, None));
        for i in 0..40u32 {
            ng.extend(epb(
                false,
                i % 2,
                u64::from(i) << 20,
                &[i as u8; 60],
                &["note"],
            ));
        }
        let records: Vec<_> = (0..40u32).map(|i| (i, i, 60, 60, 60)).collect();
        let seeds = [
            ng,
            pcap(false, 0xa1b2_c3d4, (2, 4), 0, &records),
            pcap(true, 0xa1b2_3c4d, (2, 4), 0, &records),
        ];
        let iters: u64 = std::env::var("LABRUN_FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(2_000, |n: u64| n / 50);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        for i in 0..iters {
            let mut bytes = seeds[(i % 3) as usize].clone();
            for _ in 0..=next() % 8 {
                let at = (next() % bytes.len() as u64) as usize;
                match next() % 4 {
                    0 => bytes[at] = next() as u8,
                    1 => bytes.truncate(at),
                    2 => bytes[at] ^= 0x80,
                    _ => bytes
                        .splice(at..at, [0xff, 0xff, 0x00, 0x00])
                        .for_each(drop),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            std::fs::write(&path, &bytes).expect("write");
            let file = CaptureFile::open(&path, None);
            let err = match file {
                Err(e) => Some(e.to_string()),
                Ok(mut f) => {
                    let mut n = 0usize;
                    let r = f.for_each(|_| -> Result<(), PcapFileError> {
                        n += 1;
                        Ok(())
                    });
                    assert!(n * 16 <= bytes.len());
                    r.err().map(|e| e.to_string())
                }
            };
            if let Some(e) = err {
                assert!(!e.contains('\n') && !e.is_empty(), "{e}");
            }
        }
    }

    #[test]
    fn frames_across_blocks() {
        let records: Vec<_> = (0..20_000u32).map(|i| (i, i, 99, 99, 99)).collect();
        let (frames, err) = read_bytes(&pcap(false, 0xa1b2_3c4d, (2, 4), 0, &records));
        assert_eq!((frames.len(), err), (20_000, None));
        assert!(frames.iter().enumerate().all(|(i, f)| f.1 == i as u32));
    }
}
