//! Two threads for a field export: one reads, decodes and analyzes frames
//! into batches of records, the other (the caller's) formats them. The two
//! halves cost about the same, so on two cores the export takes about half
//! the time. The records are reused batch after batch: no allocation per
//! frame, and memory stays at a few batches.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{AnalyzeError, CaptureFile};
use crate::analysis::{Analyzer, Packet};

/// Records handed from one thread to the other at once.
const BATCH: usize = 1024;
/// Batches in circulation: one being filled, one being written, the rest
/// waiting in either channel.
const BATCHES: usize = 4;

/// A run of analyzed frames: the first `len` records are filled.
#[derive(Default)]
struct Batch {
    packets: Vec<Packet>,
    len: usize,
}

/// Why the analyzing thread stopped early.
enum Stop {
    /// The capture file is damaged.
    Read(AnalyzeError),
    /// The writing side is gone (its error is the one reported).
    Closed,
}

impl From<AnalyzeError> for Stop {
    fn from(e: AnalyzeError) -> Self {
        Stop::Read(e)
    }
}

/// Runs every frame of `file` through `analyzer` on a second thread and
/// calls `each`, on this thread and in capture order, for every record
/// `wanted` keeps. The records before a damaged part of the file are all
/// handed to `each` before the read error is returned; an error of `each`
/// stops the reading and is returned.
pub fn for_each_record<E: From<AnalyzeError>>(
    file: &mut CaptureFile,
    mut analyzer: Analyzer,
    wanted: impl Fn(&Packet) -> bool + Send,
    mut each: impl FnMut(&Packet) -> Result<(), E>,
) -> Result<(), E> {
    let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES);
    for _ in 0..BATCHES {
        let batch = Batch {
            packets: (0..BATCH).map(|_| Packet::default()).collect(),
            len: 0,
        };
        let _ = empty_tx.send(batch);
    }
    std::thread::scope(|scope| {
        let reader =
            scope.spawn(move || analyze(file, &mut analyzer, &wanted, &full_tx, &empty_rx));
        let mut written: Result<(), E> = Ok(());
        for batch in &full_rx {
            let records = batch.packets.get(..batch.len).unwrap_or(&[]);
            written = records.iter().try_for_each(&mut each);
            if written.is_err() {
                break;
            }
            let _ = empty_tx.send(batch);
        }
        // Closing both channels stops the analyzing thread if it still runs.
        drop(full_rx);
        drop(empty_tx);
        let read = match reader.join() {
            Ok(read) => read,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        written?;
        match read {
            Err(Stop::Read(e)) => Err(e.into()),
            Ok(()) | Err(Stop::Closed) => Ok(()),
        }
    })
}

/// The analyzing thread: fills batches and sends them, the last one partly
/// filled, until the file ends, is damaged, or the writing side is gone.
fn analyze(
    file: &mut CaptureFile,
    analyzer: &mut Analyzer,
    wanted: &impl Fn(&Packet) -> bool,
    full: &SyncSender<Batch>,
    empty: &Receiver<Batch>,
) -> Result<(), Stop> {
    let mut batch = empty.recv().map_err(|_| Stop::Closed)?;
    let read = file.for_each(|sec, nsec, len, data| -> Result<(), Stop> {
        let Some(record) = batch.packets.get_mut(batch.len) else {
            return Err(Stop::Closed);
        };
        analyzer.push_into(sec, nsec, len, data, record);
        if wanted(record) {
            batch.len += 1;
        }
        if batch.len == batch.packets.len() {
            full.send(std::mem::take(&mut batch))
                .map_err(|_| Stop::Closed)?;
            batch = empty.recv().map_err(|_| Stop::Closed)?;
            batch.len = 0;
        }
        Ok(())
    });
    if batch.len > 0 {
        full.send(batch).map_err(|_| Stop::Closed)?;
    }
    read.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::LinkType;

    /// A pcap file of `frames` 60-byte records, cut after `keep` bytes.
    fn capture(frames: u32, keep: Option<usize>) -> (tempfile::TempDir, std::path::PathBuf) {
        let mut f = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            f.extend(v.to_le_bytes());
        }
        for i in 0..frames {
            for v in [i, 0, 60, 60] {
                f.extend(v.to_le_bytes());
            }
            f.extend([0u8; 60]);
        }
        f.truncate(keep.unwrap_or(f.len()));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.pcap");
        std::fs::write(&path, f).expect("write");
        (dir, path)
    }

    fn numbers(
        path: &std::path::Path,
        stop_at: Option<u64>,
    ) -> (Vec<u64>, Result<(), AnalyzeError>) {
        let mut file = CaptureFile::open(path, None).expect("open");
        let mut seen = Vec::new();
        let r = for_each_record(
            &mut file,
            Analyzer::new(LinkType::Ethernet),
            |p| p.number % 2 == 1,
            |p| {
                if Some(p.number) == stop_at {
                    return Err(AnalyzeError::UnknownField("stop".into()));
                }
                seen.push(p.number);
                Ok(())
            },
        );
        (seen, r)
    }

    #[test]
    fn every_wanted_record_in_order_across_batches() {
        let (_dir, path) = capture(5000, None);
        let (seen, r) = numbers(&path, None);
        assert!(r.is_ok());
        assert_eq!(seen, (1..=5000).step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn records_before_damage_then_the_read_error() {
        // Cut inside the header of frame 4001.
        let (_dir, path) = capture(5000, Some(24 + 4000 * 76 + 7));
        let (seen, r) = numbers(&path, None);
        assert_eq!(seen, (1..=4000).step_by(2).collect::<Vec<_>>());
        assert!(
            matches!(r, Err(AnalyzeError::Read { frames: 4000, .. })),
            "{r:?}"
        );
    }

    #[test]
    fn an_error_of_the_writing_side_stops_the_reading() {
        let (_dir, path) = capture(50_000, None);
        let (seen, r) = numbers(&path, Some(3001));
        assert_eq!(seen.len(), 1500);
        assert!(matches!(r, Err(AnalyzeError::UnknownField(_))));
    }
}
