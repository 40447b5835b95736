//! Two threads for a field export: one reads, decodes and analyzes frames
//! into batches of records, the other (the caller's) formats them. The two
//! halves cost about the same, so on two cores the export takes about half
//! the time. The records are reused batch after batch: no allocation per
//! frame, and memory stays at a few batches.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{AnalyzeError, CaptureFile};
use crate::analysis::{Analyzer, Packet};
use crate::pcapfile::PcapFileError;

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

impl From<PcapFileError> for Stop {
    fn from(e: PcapFileError) -> Self {
        Stop::Read(e.into())
    }
}

/// Runs every frame of `file` through `analyzer` on a second thread and
/// calls `each`, on this thread and in capture order, for every record
/// `wanted` keeps. The records before a damaged part of the file are all
/// handed to `each` before the read error is returned; an error of `each`
/// stops the reading and is returned. Where no thread can be started, all
/// of it runs on this thread.
pub fn for_each_record<E: From<AnalyzeError> + From<PcapFileError>>(
    file: &mut CaptureFile,
    mut analyzer: Analyzer,
    wanted: impl Fn(&Packet) -> bool + Sync,
    mut each: impl FnMut(&Packet) -> Result<(), E>,
) -> Result<(), E> {
    let threaded = std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES);
        let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES);
        let (file, analyzer, wanted) = (&mut *file, &mut analyzer, &wanted);
        let reader = std::thread::Builder::new()
            .name("labrun-analyze".to_string())
            .spawn_scoped(scope, move || {
                analyze(file, analyzer, wanted, &full_tx, &empty_rx)
            })
            .ok()?;
        for _ in 0..BATCHES {
            let batch = Batch {
                packets: (0..BATCH).map(|_| Packet::default()).collect(),
                len: 0,
            };
            let _ = empty_tx.send(batch);
        }
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
        Some(written.and(match read {
            Err(Stop::Read(e)) => Err(e.into()),
            Ok(()) | Err(Stop::Closed) => Ok(()),
        }))
    });
    threaded.unwrap_or_else(|| one_thread(file, &mut analyzer, &wanted, &mut each))
}

/// [`for_each_record`] on the caller's thread alone, one record at a time.
fn one_thread<E: From<AnalyzeError> + From<PcapFileError>>(
    file: &mut CaptureFile,
    analyzer: &mut Analyzer,
    wanted: &impl Fn(&Packet) -> bool,
    each: &mut impl FnMut(&Packet) -> Result<(), E>,
) -> Result<(), E> {
    let mut record = Packet::default();
    file.for_each(|f| -> Result<(), E> {
        analyzer.set_link(f.link);
        analyzer.push_into(f.ts_sec, f.ts_nsec, f.orig_len, f.data, &mut record);
        record
            .comments
            .extend(f.comments.iter().map(|c| c.to_string()));
        if wanted(&record) {
            each(&record)?;
        }
        Ok(())
    })
    .map(drop)
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
    let read = file.for_each(|f| -> Result<(), Stop> {
        let Some(record) = batch.packets.get_mut(batch.len) else {
            return Err(Stop::Closed);
        };
        analyzer.set_link(f.link);
        analyzer.push_into(f.ts_sec, f.ts_nsec, f.orig_len, f.data, record);
        record
            .comments
            .extend(f.comments.iter().map(|c| c.to_string()));
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

    /// The numbers of the odd frames handed over (until frame `stop_at`
    /// fails), on two threads and on one; both must agree.
    fn numbers(
        path: &std::path::Path,
        stop_at: Option<u64>,
    ) -> (Vec<u64>, Result<(), AnalyzeError>) {
        let run = |threads: bool| {
            let mut file = CaptureFile::open(path, None).expect("open");
            let mut analyzer = Analyzer::new(LinkType::Ethernet);
            let wanted = |p: &Packet| p.number % 2 == 1;
            let mut seen = Vec::new();
            let mut each = |p: &Packet| {
                if Some(p.number) == stop_at {
                    return Err(AnalyzeError::UnknownField("stop".into()));
                }
                seen.push(p.number);
                Ok(())
            };
            let r = if threads {
                for_each_record(&mut file, analyzer, wanted, each)
            } else {
                one_thread(&mut file, &mut analyzer, &wanted, &mut each)
            };
            (seen, r)
        };
        let (one, one_r) = run(false);
        let (two, two_r) = run(true);
        assert_eq!(one, two);
        assert_eq!(format!("{one_r:?}"), format!("{two_r:?}"));
        (two, two_r)
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
            matches!(
                r,
                Err(AnalyzeError::File(PcapFileError::Read { frames: 4000, .. }))
            ),
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
