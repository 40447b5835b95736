//! Opening a capture file with libpcap and reading it frame by frame.

use std::path::{Path, PathBuf};

use super::AnalyzeError;
use crate::wire::LinkType;

/// An open capture file (pcap or pcapng) whose link type labrun decodes.
pub struct CaptureFile {
    cap: pcap::Capture<pcap::Offline>,
    path: PathBuf,
    /// The link type frames are decoded with.
    pub link: LinkType,
    /// libpcap's DLT number of the file.
    pub dlt: i32,
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

impl CaptureFile {
    /// Opens `path` (nanosecond timestamps) and applies the BPF `filter`, if any.
    pub fn open(path: &Path, filter: Option<&str>) -> Result<CaptureFile, AnalyzeError> {
        let mut cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
            .map_err(|e| AnalyzeError::Open {
                path: path.to_path_buf(),
                message: open_message(path, &e.to_string()),
            })?;
        let dl = cap.get_datalink();
        let link = u32::try_from(dl.0)
            .ok()
            .and_then(LinkType::from_dlt)
            .ok_or_else(|| AnalyzeError::LinkType {
                path: path.to_path_buf(),
                dlt: dl.0,
                name: dl.get_name().unwrap_or_else(|_| "unknown".to_string()),
            })?;
        if let Some(f) = filter {
            cap.filter(f, true).map_err(|e| AnalyzeError::Filter {
                filter: f.to_string(),
                message: e.to_string(),
            })?;
        }
        Ok(CaptureFile {
            cap,
            path: path.to_path_buf(),
            link,
            dlt: dl.0,
        })
    }

    /// Calls `each(ts_sec, ts_nsec, orig_len, bytes)` for every frame, in order, and
    /// returns how many frames there were. A damaged file ends with
    /// [`AnalyzeError::Read`] after the frames before the damage were handed over.
    pub fn for_each<E>(
        &mut self,
        mut each: impl FnMut(i64, u32, u32, &[u8]) -> Result<(), E>,
    ) -> Result<u64, E>
    where
        E: From<AnalyzeError>,
    {
        let mut n = 0u64;
        loop {
            match self.cap.next_packet() {
                Ok(p) => {
                    n += 1;
                    let nsec = u32::try_from(p.header.ts.tv_usec).unwrap_or(0);
                    each(p.header.ts.tv_sec, nsec, p.header.len, p.data)?;
                }
                Err(pcap::Error::NoMorePackets) => return Ok(n),
                Err(e) => {
                    return Err(AnalyzeError::Read {
                        path: self.path.clone(),
                        frames: n,
                        message: e.to_string(),
                    }
                    .into());
                }
            }
        }
    }
}
