//! The safety limits every lab script runs under, set in one place.
//!
//! Rhai has no limits until they are set: without these, `loop {}` would hang labrun and a
//! runaway string could eat the machine's memory. Blocking native calls (recv, accept,
//! sleep, capture waits) are not covered by the operation count: each has its own
//! deadline, which the run's clock ([`crate::clock`]) caps at `max_duration`.

use std::time::Duration;

/// Limits applied to the Rhai engine of a lab run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Script operations (roughly: expressions evaluated) before the run is stopped.
    /// 200 million is far beyond any lab (the chat lab uses about 5,000) and an endless
    /// loop burns through it in about 4 s on a slow machine (20 million take 0.4 s here).
    pub max_operations: u64,
    /// Wall-clock time the script may run in total (`--time-limit`): checked at every
    /// operation, and every blocking call ends by then ([`crate::clock`]).
    pub max_duration: Duration,
    /// Time the script may compute without waiting on the network, a clock, or anything
    /// else native: an endless loop is stopped after this long whatever the CPU's speed
    /// (the operation count alone takes longer on a busy machine).
    pub max_busy: Duration,
    /// Depth of nested function calls (recursion).
    pub max_call_levels: usize,
    /// Depth of nested expressions, at top level and inside functions.
    pub max_expr_depth: usize,
    /// Longest string, in bytes (payloads of a few MB are fine).
    pub max_string_size: usize,
    /// Longest array (a packet list of a large capture fits).
    pub max_array_size: usize,
    /// Largest object map.
    pub max_map_size: usize,
    /// Modules a script may import.
    pub max_modules: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 200_000_000,
            max_duration: Duration::from_secs(300),
            max_busy: Duration::from_secs(6),
            max_call_levels: 64,
            max_expr_depth: 128,
            max_string_size: 16 << 20,
            max_array_size: 2_000_000,
            max_map_size: 100_000,
            max_modules: 64,
        }
    }
}

impl Limits {
    /// Applies the limits (except the wall clock, which the runner's progress hook and
    /// the blocking calls check through [`crate::clock`]).
    pub fn apply(&self, engine: &mut rhai::Engine) {
        engine.set_max_operations(self.max_operations);
        engine.set_max_call_levels(self.max_call_levels);
        engine.set_max_expr_depths(self.max_expr_depth, self.max_expr_depth);
        engine.set_max_string_size(self.max_string_size);
        engine.set_max_array_size(self.max_array_size);
        engine.set_max_map_size(self.max_map_size);
        engine.set_max_modules(self.max_modules);
    }
}

/// Checks, before anything is allocated, that `count` items of `item_size` bytes fit
/// within `limit` bytes (a limit of 0 means none); the error says how much was asked for
/// and names the limit, e.g. "1073741824 bytes is more than a script string may hold (16 MiB)".
pub fn check_size(
    count: usize,
    item_size: usize,
    limit: usize,
    what: &str,
) -> Result<usize, String> {
    let shown = |n: usize| {
        if n >= 1 << 20 && n % (1 << 20) == 0 {
            format!("{} MiB", n >> 20)
        } else {
            format!("{n} bytes")
        }
    };
    match count.checked_mul(item_size) {
        Some(bytes) if limit == 0 || bytes <= limit => Ok(bytes),
        Some(bytes) => Err(format!(
            "{bytes} bytes is more than {what} may hold ({})",
            shown(limit)
        )),
        None => Err(format!(
            "{count} × {item_size} bytes is more than {what} may hold ({})",
            shown(limit)
        )),
    }
}

/// Measures how long a script has been computing without a pause: the time between
/// progress checks counts as busy only when the checks come quickly one after another
/// (a native call that blocks, such as recv or sleep, leaves a gap and does not count).
#[derive(Debug, Clone, Copy)]
pub struct BusyClock {
    last: Option<std::time::Instant>,
    busy: Duration,
}

impl BusyClock {
    /// Gaps longer than this between checks mean the script was waiting, not computing.
    const WAIT: Duration = Duration::from_millis(50);

    /// A clock with nothing counted.
    pub const fn new() -> BusyClock {
        BusyClock {
            last: None,
            busy: Duration::ZERO,
        }
    }

    /// Records a check at `now`; returns the continuous computing time so far.
    pub fn tick(&mut self, now: std::time::Instant) -> Duration {
        if let Some(last) = self.last {
            let gap = now.saturating_duration_since(last);
            if gap < Self::WAIT {
                self.busy += gap;
            } else {
                self.busy = Duration::ZERO;
            }
        }
        self.last = Some(now);
        self.busy
    }
}

impl Default for BusyClock {
    fn default() -> Self {
        BusyClock::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn sizes_are_checked_before_allocating() {
        let l = Limits::default().max_string_size;
        assert_eq!(check_size(10, 1, l, "a script string"), Ok(10));
        let e = check_size(1 << 30, 1, l, "a script string").unwrap_err();
        assert_eq!(
            e,
            "1073741824 bytes is more than a script string may hold (16 MiB)"
        );
        assert!(check_size(usize::MAX, 2, l, "x").is_err());
        assert_eq!(check_size(usize::MAX, 1, 0, "x"), Ok(usize::MAX));
    }

    #[test]
    fn waiting_resets_the_busy_clock() {
        let mut c = BusyClock::new();
        let t0 = Instant::now();
        assert_eq!(c.tick(t0), Duration::ZERO);
        assert_eq!(
            c.tick(t0 + Duration::from_millis(10)),
            Duration::from_millis(10)
        );
        assert_eq!(
            c.tick(t0 + Duration::from_millis(20)),
            Duration::from_millis(20)
        );
        // A 5 s recv: not computing.
        assert_eq!(c.tick(t0 + Duration::from_secs(5)), Duration::ZERO);
    }
}
