//! Opening a capture file with libpcap and reading it frame by frame.

use std::path::{Path, PathBuf};

use super::PcapFileError;
use super::blocks::{self, Stop};
use crate::wire::LinkType;

/// An open capture file (pcap or pcapng) whose link type labrun decodes.
pub struct CaptureFile {
    cap: pcap::Capture<pcap::Offline>,
    path: PathBuf,
    /// The link type frames are decoded with.
    pub link: LinkType,
    /// libpcap's DLT number of the file.
    pub dlt: i32,
    /// A BPF filter was set: every frame goes through libpcap.
    filtered: bool,
    /// Frames were read already (libpcap goes on from where it is).
    started: bool,
}

fn open_message(path: &Path, libpcap: &str) -> String {
    match std::fs::metadata(path) {
        Err(e) => e.to_string(),
        Ok(m) if m.is_dir() => "it is a directory".to_string(),
        Ok(m) if m.len() == 0 => "the file is empty (not a pcap or pcapng capture)".to_string(),
        Ok(_) if libpcap.contains("unknown file format") => {
            "not a pcap or pcapng capture (unknown file format)".to_string()
        }
        Ok(_) if libpcap.contains("truncated") => {
            format!("the file is cut short inside its header ({libpcap})")
        }
        Ok(_) => libpcap.to_string(),
    }
}

/// What a file is when it is not a regular file ("a FIFO", "a character device", ...);
/// `None` for a regular file.
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

impl CaptureFile {
    /// Opens `path` (nanosecond timestamps) and applies the BPF `filter`, if any. Only a
    /// regular file, or a FIFO whose writer is sending, is handed to libpcap (see
    /// [`open_input`]): nothing here can block for long.
    pub fn open(path: &Path, filter: Option<&str>) -> Result<CaptureFile, PcapFileError> {
        use std::os::fd::IntoRawFd;
        let input = open_input(path)?;
        let opened = if input.metadata().is_ok_and(|m| m.is_file()) {
            // By name, as libpcap closes a file it fails to read only when it opened it.
            drop(input);
            pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
        } else {
            // A FIFO that already holds data: this very descriptor, so no second open
            // can wait for a writer.
            let fd = input.into_raw_fd();
            // SAFETY: the descriptor is ours alone and handed over to libpcap.
            unsafe { pcap::Capture::from_raw_fd_with_precision(fd, pcap::Precision::Nano) }
        };
        let mut cap = opened.map_err(|e| PcapFileError::Open {
            path: path.to_path_buf(),
            message: open_message(path, &e.to_string()),
        })?;
        let dl = cap.get_datalink();
        let link = u32::try_from(dl.0)
            .ok()
            .and_then(LinkType::from_dlt)
            .ok_or_else(|| PcapFileError::LinkType {
                path: path.to_path_buf(),
                dlt: dl.0,
                name: dl.get_name().unwrap_or_else(|_| "unknown".to_string()),
            })?;
        if let Some(f) = filter {
            cap.filter(f, true).map_err(|e| PcapFileError::Filter {
                filter: f.to_string(),
                message: e.to_string(),
            })?;
        }
        Ok(CaptureFile {
            cap,
            path: path.to_path_buf(),
            link,
            dlt: dl.0,
            filtered: filter.is_some(),
            started: false,
        })
    }

    /// Calls `each(ts_sec, ts_nsec, orig_len, bytes)` for every frame, in order, and
    /// returns how many frames there were. A damaged file ends with
    /// [`PcapFileError::Read`] after the frames before the damage were handed over.
    /// A plain pcap file without a filter is read in large blocks
    /// (`blocks`) up to the first record libpcap must judge.
    pub fn for_each<E>(
        &mut self,
        mut each: impl FnMut(i64, u32, u32, &[u8]) -> Result<(), E>,
    ) -> Result<u64, E>
    where
        E: From<PcapFileError>,
    {
        let mut n = 0u64;
        if !self.filtered && !self.started {
            self.started = true;
            match blocks::read_records(&self.path, self.link, &mut n, &mut each) {
                Stop::End => return Ok(n),
                Stop::Failed(e) => return Err(e),
                Stop::HandOver => self.skip(n)?,
            }
        }
        self.started = true;
        loop {
            match self.cap.next_packet() {
                Ok(p) => {
                    n += 1;
                    let nsec = u32::try_from(p.header.ts.tv_usec).unwrap_or(0);
                    each(p.header.ts.tv_sec, nsec, p.header.len, p.data)?;
                }
                Err(pcap::Error::NoMorePackets) => return Ok(n),
                Err(e) => return Err(self.read_error(n, &e).into()),
            }
        }
    }

    /// Lets libpcap pass over the `n` frames the block reader handed over.
    fn skip(&mut self, n: u64) -> Result<(), PcapFileError> {
        for _ in 0..n {
            if let Err(e) = self.cap.next_packet() {
                return Err(self.read_error(n, &e));
            }
        }
        Ok(())
    }

    fn read_error(&self, frames: u64, e: &pcap::Error) -> PcapFileError {
        PcapFileError::Read {
            path: self.path.clone(),
            frames,
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Frames = Vec<(i64, u32, u32, Vec<u8>)>;

    /// Every frame and the error message, through the block reader (unless
    /// `libpcap_only`) or through libpcap alone.
    fn read(path: &Path, libpcap_only: bool) -> (Frames, Option<String>) {
        let mut file = CaptureFile::open(path, None).expect("open");
        file.started = libpcap_only;
        let mut frames = Vec::new();
        let r = file.for_each(|s, ns, len, data| -> Result<(), PcapFileError> {
            frames.push((s, ns, len, data.to_vec()));
            Ok(())
        });
        (frames, r.err().map(|e| e.to_string()))
    }

    /// A pcap file: magic, snaplen, and records (sec, frac, caplen, len, data bytes).
    fn pcap(
        big: bool,
        magic: u32,
        snaplen: u32,
        records: &[(u32, u32, u32, u32, usize)],
    ) -> Vec<u8> {
        let w32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut f = Vec::new();
        f.extend(w32(magic));
        f.extend(w16(2));
        f.extend(w16(4));
        f.extend([0; 8]);
        f.extend(w32(snaplen));
        f.extend(w32(1));
        for (i, &(sec, frac, caplen, len, bytes)) in records.iter().enumerate() {
            for v in [sec, frac, caplen, len] {
                f.extend(w32(v));
            }
            f.extend((0..bytes).map(|b| (b + i) as u8));
        }
        f
    }

    fn same_as_libpcap(bytes: &[u8]) -> (Frames, Option<String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.pcap");
        std::fs::write(&path, bytes).expect("write");
        let fast = read(&path, false);
        assert_eq!(fast, read(&path, true));
        fast
    }

    #[test]
    fn block_reader_matches_libpcap() {
        let good = [
            (1, 5, 60, 60, 60),
            (0x8000_0000, 999_999, 0, 0, 0),
            (2, 0xffff_ffff, 3, 1500, 3),
            (3, 4_300_000, 40, 40, 40),
            (0xffff_ffff, 0x8000_0001, 1, 1, 1),
        ];
        for big in [false, true] {
            for magic in [0xa1b2_c3d4, 0xa1b2_3c4d] {
                for snaplen in [0, 40, 65535, 0x7fff_ffff] {
                    let (frames, err) = same_as_libpcap(&pcap(big, magic, snaplen, &good));
                    if snaplen != 40 {
                        assert_eq!((frames.len(), err), (5, None));
                    }
                }
                // A record longer than the snapshot length, one longer than
                // libpcap's maximum, and files cut inside a record.
                let long = [
                    (1, 1, 60, 60, 60),
                    (1, 2, 100, 100, 100),
                    (1, 3, 10, 10, 10),
                ];
                let (frames, _) = same_as_libpcap(&pcap(big, magic, 64, &long));
                assert!(!frames.is_empty());
                let huge = [(1, 1, 60, 60, 60), (1, 2, 300_000, 300_000, 300_000)];
                let (frames, err) = same_as_libpcap(&pcap(big, magic, 0, &huge));
                assert_eq!((frames.len(), err.is_some()), (1, true));
                let whole = pcap(big, magic, 0, &good);
                for cut in [whole.len() - 1, whole.len() - 10, whole.len() - 20, 30] {
                    let (frames, err) = same_as_libpcap(&whole[..cut]);
                    assert!(err.is_some() && frames.len() < 5, "cut at {cut}");
                }
            }
        }
    }

    #[test]
    fn a_fifo_is_read_by_libpcap_alone() {
        let records: Vec<_> = (0..5_000u32).map(|i| (i, i, 99, 99, 99)).collect();
        let bytes = pcap(false, 0xa1b2_3c4d, 0, &records);
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
        let (frames, err) = read(&fifo, false);
        writer.join().expect("writer").expect("write");
        assert_eq!((frames.len(), err), (5_000, None));
        let regular = dir.path().join("t.pcap");
        std::fs::write(&regular, &bytes).expect("write");
        assert_eq!(read(&regular, false).0, frames);
    }

    #[test]
    fn frames_across_blocks() {
        let records: Vec<_> = (0..20_000u32).map(|i| (i, i, 99, 99, 99)).collect();
        let (frames, err) = same_as_libpcap(&pcap(false, 0xa1b2_3c4d, 0, &records));
        assert_eq!((frames.len(), err), (20_000, None));
    }
}
