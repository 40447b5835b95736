//! The run's clock: the deadline every blocking call ends by, and the flags (Ctrl-C, the
//! end of the script) that end a wait at once.
//!
//! The runner installs one [`RunClock`] per lab run; the blocking layers (sockets,
//! capture waits, WebSocket, scans, `sleep`) reach it through [`check`], [`cap`] and
//! [`slice`] without it being passed down through every call. A blocking call waits in
//! slices of at most [`SLICE`], looking at the clock between them, so the deadline or a
//! Ctrl-C ends it within a slice. Without an installed clock (unit tests, `labrun scan`)
//! the functions change nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The longest a blocking call waits before it looks at the clock again.
pub const SLICE: Duration = Duration::from_millis(50);

/// Why a run must stop now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// The run's time limit (`--time-limit`) passed.
    #[error(
        "the time limit of {} was reached (--time-limit); labrun stopped the script",
        crate::util::fmt_duration(*.0)
    )]
    TimeLimit(Duration),
    /// Ctrl-C (SIGINT or SIGTERM).
    #[error("interrupted (Ctrl-C); the report holds what was captured so far")]
    Interrupted,
    /// The lab script finished and labrun is stopping what it left running.
    #[error("the lab script had finished; labrun stopped what it left running")]
    Ended,
}

/// The deadline and stop flags of one lab run.
#[derive(Debug)]
pub struct RunClock {
    started: Instant,
    limit: Duration,
    deadline: Instant,
    interrupt: Arc<AtomicBool>,
    ended: AtomicBool,
}

impl RunClock {
    /// A clock whose deadline is `limit` from now; `interrupt` is the flag Ctrl-C sets.
    pub fn new(limit: Duration, interrupt: Arc<AtomicBool>) -> RunClock {
        let now = Instant::now();
        RunClock {
            started: now,
            limit,
            deadline: now
                .checked_add(limit)
                .unwrap_or(now + Duration::from_secs(1 << 32)),
            interrupt,
            ended: AtomicBool::new(false),
        }
    }

    /// When the run began: the zero of the times a run reports (the link's events).
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The run's time limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Why the run must stop, if it must: Ctrl-C first, then the deadline, then the end
    /// of the script.
    pub fn check(&self) -> Result<(), Stop> {
        if self.interrupt.load(Ordering::Relaxed) {
            Err(Stop::Interrupted)
        } else if Instant::now() >= self.deadline {
            Err(Stop::TimeLimit(self.limit))
        } else if self.ended.load(Ordering::Relaxed) {
            Err(Stop::Ended)
        } else {
            Ok(())
        }
    }

    /// True once Ctrl-C was pressed (one atomic load, for checks at every operation).
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }

    /// Time left before the deadline.
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Marks the script as finished: waits still running (in server threads) end at once.
    pub fn end(&self) {
        self.ended.store(true, Ordering::Relaxed);
    }
}

static CURRENT: RwLock<Option<Arc<RunClock>>> = RwLock::new(None);

/// Keeps a clock installed; dropping it restores the one installed before.
#[derive(Debug)]
pub struct Installed {
    previous: Option<Arc<RunClock>>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        *CURRENT.write().unwrap_or_else(|p| p.into_inner()) = self.previous.take();
    }
}

/// Makes `clock` the one every blocking call obeys until the guard is dropped.
pub fn install(clock: Arc<RunClock>) -> Installed {
    let mut current = CURRENT.write().unwrap_or_else(|p| p.into_inner());
    Installed {
        previous: current.replace(clock),
    }
}

/// The installed clock, if a run is in progress.
pub fn current() -> Option<Arc<RunClock>> {
    CURRENT.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// When the current run began, if one is in progress.
pub fn run_started() -> Option<Instant> {
    current().map(|c| c.started())
}

/// Why the current run must stop, if it must (always `Ok` without a run).
pub fn check() -> Result<(), Stop> {
    current().map_or(Ok(()), |c| c.check())
}

/// `timeout` capped at the time the current run has left.
pub fn cap(timeout: Duration) -> Duration {
    current().map_or(timeout, |c| timeout.min(c.left()))
}

/// The next wait of a call that must end by `deadline` (its own timeout): at most
/// [`SLICE`], and never past the run's deadline. `Ok(None)` when `deadline` has passed;
/// `Err` when the run must stop (the time limit passed, Ctrl-C, or the script ended).
pub fn slice(deadline: Instant) -> Result<Option<Duration>, Stop> {
    let clock = current();
    if let Some(c) = &clock {
        c.check()?;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(None);
    }
    let run_left = clock.map_or(SLICE, |c| c.left());
    // A run with under a millisecond left gets one of the deadline's own: the next
    // check then reports the time limit.
    Ok(Some(
        left.min(SLICE).min(run_left.max(Duration::from_millis(1))),
    ))
}

/// Sleeps `d` in slices; `Err` as soon as the run must stop.
pub fn sleep(d: Duration) -> Result<(), Stop> {
    let deadline = Instant::now() + d;
    while let Some(step) = slice(deadline)? {
        std::thread::sleep(step);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_stops_at_its_deadline_or_on_interrupt() {
        let flag = Arc::new(AtomicBool::new(false));
        let c = RunClock::new(Duration::from_millis(30), Arc::clone(&flag));
        assert_eq!(c.check(), Ok(()));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.check(), Err(Stop::TimeLimit(Duration::from_millis(30))));
        flag.store(true, Ordering::Relaxed);
        assert_eq!(c.check(), Err(Stop::Interrupted));
        let c = RunClock::new(Duration::from_secs(60), Arc::new(AtomicBool::new(false)));
        c.end();
        assert_eq!(c.check(), Err(Stop::Ended));
    }

    #[test]
    fn a_huge_limit_does_not_overflow() {
        let c = RunClock::new(Duration::MAX, Arc::new(AtomicBool::new(false)));
        assert_eq!(c.check(), Ok(()));
    }
}
