//! One memory budget shared by all the captures of a run.
//!
//! Each live capture pins a kernel ring buffer and keeps a copy of every frame it stores.
//! Without a common cap a script that starts captures in a loop exhausts the machine's
//! memory (300 rings of 64 MiB reached 23 GB); with one, the capture that would pass the
//! budget is refused with a clear error, and a capture that fills it stops storing frames
//! (counted as lost, so the report says the analysis is incomplete).

use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes the captures of one run may hold at once: rings plus stored frames.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    used: AtomicU64,
}

impl MemoryBudget {
    /// The default budget of a run: 512 MiB, room for 40 captures running at once with
    /// their default 8 MiB rings and a bulk transfer's frames (a lab needs a few MiB).
    pub const DEFAULT: u64 = 512 << 20;

    /// A budget of `limit` bytes, none of it used.
    pub const fn new(limit: u64) -> MemoryBudget {
        MemoryBudget {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    pub fn try_take(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    /// Gives `bytes` taken earlier back to the budget.
    pub fn give_back(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// Bytes in use now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }

    /// The budget's size in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::new(MemoryBudget::DEFAULT)
    }
}

/// What one stored frame costs the budget: its bytes plus the record around them.
#[cfg(feature = "live-capture")]
pub fn frame_cost(len: usize) -> u64 {
    const RECORD: u64 = 64;
    u64::try_from(len)
        .unwrap_or(u64::MAX)
        .saturating_add(RECORD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_up_to_the_limit_and_no_further() {
        let b = MemoryBudget::new(100);
        assert!(b.try_take(60));
        assert!(!b.try_take(41));
        assert_eq!(b.used(), 60);
        assert!(b.try_take(40));
        assert!(!b.try_take(1));
        b.give_back(50);
        assert!(b.try_take(50));
        assert!(!b.try_take(u64::MAX));
        b.give_back(u64::MAX);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn racing_takers_never_pass_the_limit() {
        let b = std::sync::Arc::new(MemoryBudget::new(1000));
        let taken: u64 = (0..8)
            .map(|_| {
                let b = std::sync::Arc::clone(&b);
                std::thread::spawn(move || (0..100).filter(|_| b.try_take(7)).count() as u64 * 7)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(taken, b.used());
        assert!(taken <= 1000 && taken > 1000 - 7);
    }
}
