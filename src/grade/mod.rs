//! Grading a class folder: whose capture each submission is (the student ID from its file
//! name or a roster must be in its payload) and which submissions are copies of each other
//! (identical files, a shared TCP connection, another student's ID, the same run nonce).
//! No script here: the scores come from the lab run by `runner` ([`class`] drives it); this
//! reads the captures once more for what identifies them.

pub mod class;
pub mod out;
#[cfg(target_os = "linux")]
pub mod programs;

use crate::analysis::Analyzer;
use crate::pcapfile::CaptureFile;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The largest capture graded: a bigger file costs its row, not the class.
pub const MAX_CAPTURE_BYTES: u64 = 256 * 1024 * 1024;

/// The payload bytes kept per capture for the ID and nonce search.
const MAX_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;

/// Why a folder or a roster cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    /// The roster file cannot be read.
    #[error("cannot read the roster {path}: {error}")]
    Roster {
        /// The roster given.
        path: PathBuf,
        /// Why (not a `source`: the message already says it, once).
        error: std::io::Error,
    },
    /// A roster line is not `id,name`.
    #[error("{path}:{line}: a roster line is `id,name`, got {text:?}")]
    RosterLine {
        /// The roster given.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// The line.
        text: String,
    },
    /// A capture cannot be fingerprinted.
    #[error("{0}")]
    Capture(String),
    /// The lab cannot grade: missing, without a grading part, an unknown argument, a run
    /// that failed or checked nothing; the message says which.
    #[error("{0}")]
    Lab(String),
    /// A folder of submissions cannot be read.
    #[error("cannot read the folder {path}: {error}")]
    Folder {
        /// The folder given.
        path: PathBuf,
        /// Why (not a `source`: the message already says it, once).
        error: std::io::Error,
    },
    /// A feedback file cannot be written.
    #[error("cannot write {path}: {error}")]
    Feedback {
        /// The file.
        path: PathBuf,
        /// Why (not a `source`: the message already says it, once).
        error: std::io::Error,
    },
}

/// A class roster: student ID → name.
pub type Roster = BTreeMap<String, String>;

/// Reads a roster CSV of `id,name` lines (a header line whose first field is not an ID, and
/// blank lines, are skipped).
pub fn read_roster(path: &Path) -> Result<Roster, GradeError> {
    let text = std::fs::read_to_string(path).map_err(|error| GradeError::Roster {
        path: path.to_path_buf(),
        error,
    })?;
    let mut roster = Roster::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((id, name)) = line.split_once(',') else {
            return Err(GradeError::RosterLine {
                path: path.to_path_buf(),
                line: i + 1,
                text: line.to_string(),
            });
        };
        let id = id.trim().trim_matches('"');
        if id_in(id).as_deref() != Some(id) {
            if i == 0 {
                continue;
            }
            return Err(GradeError::RosterLine {
                path: path.to_path_buf(),
                line: i + 1,
                text: line.to_string(),
            });
        }
        roster.insert(id.to_string(), name.trim().trim_matches('"').to_string());
    }
    Ok(roster)
}

/// The first run of at least 6 digits in `text`: a student ID (`20215120807_li.pcap`).
pub fn id_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .map(str::to_string)
}

/// The student a submission belongs to: the roster's ID that its file name holds, else the
/// ID in its file name; with the roster's name when there is one.
pub fn student_of(file_name: &str, roster: &Roster) -> Option<(String, String)> {
    let digits: Vec<&str> = file_name
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() >= 6)
        .collect();
    if let Some(id) = digits.iter().find(|d| roster.contains_key(**d)) {
        return Some((id.to_string(), roster[*id].clone()));
    }
    digits.first().map(|d| (d.to_string(), String::new()))
}

/// What identifies one capture: its bytes, its connections and what its payload carries.
#[derive(Debug, Default, Clone)]
pub struct Fingerprint {
    /// SHA-256 of the file.
    pub digest: [u8; 32],
    /// Each SYN as `src:port > dst:port isn N`.
    pub connections: BTreeSet<String>,
    /// Each SYN's TCP timestamp value (TSval), with its 4-tuple.
    pub timestamps: BTreeSet<String>,
    /// The TCP and UDP payloads, in frame order, up to 8 MiB.
    pub payload: Vec<u8>,
    /// labrun run nonces in the payload (`#` and eight hex digits).
    pub nonces: BTreeSet<String>,
}

impl Fingerprint {
    /// Whether the payload carries `text`.
    pub fn carries(&self, text: &str) -> bool {
        !text.is_empty()
            && self
                .payload
                .windows(text.len())
                .any(|w| w == text.as_bytes())
    }
}

/// Reads the capture at `path` and fingerprints it.
pub fn fingerprint(path: &Path) -> Result<Fingerprint, GradeError> {
    use sha2::Digest;
    let bytes = std::fs::read(path).map_err(|e| GradeError::Capture(e.to_string()))?;
    let mut fp = Fingerprint {
        digest: sha2::Sha256::digest(&bytes).into(),
        ..Fingerprint::default()
    };
    drop(bytes);
    let mut file = CaptureFile::open(path, None).map_err(|e| GradeError::Capture(e.to_string()))?;
    let mut analyzer = Analyzer::new(file.link);
    file.for_each::<crate::pcapfile::PcapFileError>(|f| {
        analyzer.set_link(f.link);
        let p = analyzer.push_bytes(f.ts_sec, f.ts_nsec, f.orig_len, f.data);
        if let (Some(tcp), Some(ip)) = (&p.tcp, &p.ip) {
            if tcp.flags.contains(crate::wire::TcpFlags::SYN) {
                let tuple = format!("{}:{} > {}:{}", ip.src, tcp.src_port, ip.dst, tcp.dst_port);
                fp.connections
                    .insert(format!("{tuple} isn {}", tcp.seq_raw));
                if let Some((tsval, _)) = tcp.options.timestamps {
                    fp.timestamps.insert(format!("{tuple} tsval {tsval}"));
                }
            }
        }
        if (p.tcp.is_some() || p.udp.is_some()) && fp.payload.len() < MAX_PAYLOAD_BYTES {
            let room = MAX_PAYLOAD_BYTES - fp.payload.len();
            fp.payload
                .extend_from_slice(&p.payload[..p.payload.len().min(room)]);
        }
        Ok(())
    })
    .map_err(|e| GradeError::Capture(e.to_string()))?;
    fp.nonces = nonces(&fp.payload);
    Ok(fp)
}

/// The labrun run nonces in `payload`: `#` followed by exactly eight lowercase hex digits.
fn nonces(payload: &[u8]) -> BTreeSet<String> {
    let hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    let mut out = BTreeSet::new();
    for (i, _) in payload.iter().enumerate().filter(|(_, b)| **b == b'#') {
        let rest = &payload[i + 1..];
        if rest.len() >= 8
            && rest[..8].iter().all(hex)
            && rest.get(8).is_none_or(|b| !hex(b))
            && rest[..8] != *b"00000000"
        {
            out.insert(String::from_utf8_lossy(&rest[..8]).into_owned());
        }
    }
    out
}

/// One submission as the folder's flags see it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The file name.
    pub file: String,
    /// The student ID it belongs to, if its name (or the roster) says.
    pub id: Option<String>,
    /// Its fingerprint; None when the capture could not be read.
    pub fingerprint: Option<Fingerprint>,
}

/// The flags of each entry (same order): whose capture it is and which other submissions
/// it copies, each naming the other submission.
pub fn flags(entries: &[Entry], roster: &Roster) -> Vec<Vec<String>> {
    // Every ID known: the roster's and the submissions', with who owns it.
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for id in roster.keys() {
        owners.insert(id, id);
    }
    for e in entries {
        if let Some(id) = &e.id {
            owners.insert(id, &e.file);
        }
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut out = Vec::new();
            let Some(fp) = &e.fingerprint else {
                return out;
            };
            match &e.id {
                None => out.push("no student ID in the file name".to_string()),
                Some(id) if !fp.carries(id) => {
                    out.push(format!("the student ID {id} is not in the capture's data"));
                }
                Some(_) => {}
            }
            for (id, owner) in &owners {
                if Some(*id) != e.id.as_deref() && fp.carries(id) {
                    out.push(format!("carries another student's ID {id} ({owner})"));
                }
            }
            let mut identical = Vec::new();
            for (j, other) in entries.iter().enumerate() {
                let Some(ofp) = other.fingerprint.as_ref().filter(|_| j != i) else {
                    continue;
                };
                if ofp.digest == fp.digest {
                    identical.push(other.file.as_str());
                    continue;
                }
                if !fp.connections.is_disjoint(&ofp.connections) {
                    out.push(format!(
                        "shares a connection with {} (same ports and ISNs)",
                        other.file
                    ));
                } else if !fp.timestamps.is_disjoint(&ofp.timestamps) {
                    out.push(format!(
                        "shares a connection with {} (same TCP timestamps)",
                        other.file
                    ));
                }
                if let Some(n) = fp.nonces.intersection(&ofp.nonces).next() {
                    out.push(format!("same run nonce {n} as {}", other.file));
                }
            }
            if !identical.is_empty() {
                out.push(format!("identical to {}", identical.join(", ")));
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_file_names_and_the_roster() {
        assert_eq!(id_in("20215120807_li.pcap").as_deref(), Some("20215120807"));
        assert_eq!(id_in("lab2-v3.pcap"), None);
        let roster: Roster = [("20215120807".to_string(), "Li Yihang".to_string())].into();
        assert_eq!(
            student_of("2024_20215120807.pcap", &roster),
            Some(("20215120807".into(), "Li Yihang".into()))
        );
        assert_eq!(
            student_of("20219999999.pcap", &roster),
            Some(("20219999999".into(), String::new()))
        );
    }

    #[test]
    fn nonces_are_eight_hex_digits_after_a_hash() {
        let n = nonces(b"2021 Li #1a2b3c4d\n#00000000 #1a2b3c4d5 #zz");
        assert_eq!(n.into_iter().collect::<Vec<_>>(), ["1a2b3c4d"]);
    }

    #[test]
    fn copies_name_the_other_submission() {
        let fp = |payload: &str, conn: &str, digest: u8| Fingerprint {
            digest: [digest; 32],
            connections: [conn.to_string()].into(),
            payload: payload.as_bytes().to_vec(),
            nonces: nonces(payload.as_bytes()),
            ..Fingerprint::default()
        };
        let entries = [
            Entry {
                file: "111111.pcap".into(),
                id: Some("111111".into()),
                fingerprint: Some(fp("111111 A #0000abcd", "c1", 1)),
            },
            Entry {
                file: "222222.pcap".into(),
                id: Some("222222".into()),
                fingerprint: Some(fp("111111 A #0000abcd", "c1", 2)),
            },
            Entry {
                file: "333333.pcap".into(),
                id: Some("333333".into()),
                fingerprint: Some(fp("333333 C", "c3", 3)),
            },
        ];
        let f = flags(&entries, &Roster::new());
        assert!(f[2].is_empty(), "{:?}", f[2]);
        assert!(f[0].iter().any(|x| x.contains("222222.pcap")), "{:?}", f[0]);
        let joined = f[1].join("; ");
        assert!(joined.contains("the student ID 222222 is not"), "{joined}");
        assert!(joined.contains("another student's ID 111111 (111111.pcap)"));
        assert!(joined.contains("shares a connection with 111111.pcap"));
        assert!(joined.contains("same run nonce 0000abcd as 111111.pcap"));
    }
}
