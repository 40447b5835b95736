//! Small helpers shared by the layers: formatting, joining threads, locking.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Locks `m`, taking the data even when a thread panicked while holding it: every
/// structure labrun guards stays consistent between statements, and a run must still
/// report what it has.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Formats a duration the way a person reads it: `5 s`, `250 ms`, `1.5 s`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{ms} ms")
    }
}

/// Joins every thread in `threads`, including ones added while joining (a server's
/// acceptor adds connection threads until it stops).
pub fn join_all(threads: &Mutex<Vec<std::thread::JoinHandle<()>>>) {
    loop {
        let next = lock(threads).pop();
        match next {
            Some(t) => {
                let _ = t.join();
            }
            None => break,
        }
    }
}

/// True once every thread in `threads` has finished (a server's acceptor adds no more
/// threads after it finished, so the answer is final).
pub fn all_finished(threads: &std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>) -> bool {
    threads
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .all(std::thread::JoinHandle::is_finished)
}

/// Joins the threads in `threads` that have finished; returns how many still run (they
/// stay in the list).
pub fn join_finished(threads: &std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>) -> usize {
    let done: Vec<_> = {
        let mut list = threads.lock().unwrap_or_else(|p| p.into_inner());
        let (done, running) = std::mem::take(&mut *list)
            .into_iter()
            .partition(std::thread::JoinHandle::is_finished);
        *list = running;
        done
    };
    for t in done {
        let _ = t.join();
    }
    threads.lock().unwrap_or_else(|p| p.into_inner()).len()
}

/// Why live capture, frame injection and BPF filters are missing from a build without
/// the `live-capture` feature (libpcap; Npcap on Windows).
pub const NO_LIVE_CAPTURE: &str = "this labrun was built without live capture (feature live-capture: libpcap, or Npcap on Windows)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(Duration::from_secs(5)), "5 s");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250 ms");
    }
}
