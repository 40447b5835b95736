//! The terminal's progress indicators (indicatif): the run's spinner and the scan's bar.
//! Only the binary draws on the terminal; the library reports through
//! [`labrun::progress::Progress`].

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use labrun::progress::{Progress, SharedProgress};
use std::sync::Arc;
use std::time::Duration;

/// An indicatif bar or spinner as a [`Progress`]; drawn on stderr only when that is a
/// terminal.
#[derive(Debug)]
struct Term(ProgressBar);

/// The spinner of a lab run: `{spinner} {elapsed} {msg}`, invisible until the run
/// starts it.
pub fn spinner() -> SharedProgress {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    Arc::new(Term(bar))
}

/// A bar of `len` things done one by one (`labrun grade --programs`: submissions), with
/// the time left; drawn on stderr only when that is a terminal.
#[cfg(target_os = "linux")]
pub fn count_bar(len: u64, what: &str) -> SharedProgress {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {what}  ETA {{eta}}"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Arc::new(Term(bar))
}

/// The bar of `labrun scan`: ports done of `len`, ports per second and time left.
pub fn port_bar(len: u64) -> SharedProgress {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} ports  {rate}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} ports/s", state.per_sec());
                },
            ),
    );
    Arc::new(Term(bar))
}

impl Progress for Term {
    fn start(&self, message: String) {
        self.0.set_draw_target(ProgressDrawTarget::stderr());
        // `{elapsed}` counts from here, as when the run made its spinner itself.
        self.0.reset_elapsed();
        self.0.set_message(message);
        self.0.enable_steady_tick(Duration::from_millis(100));
    }
    fn set_message(&self, message: String) {
        self.0.set_message(message);
    }
    fn set_length(&self, len: u64) {
        self.0.set_length(len);
    }
    fn set_position(&self, pos: u64) {
        self.0.set_position(pos);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn suspend(&self, f: &mut dyn FnMut()) {
        self.0.suspend(f);
    }
    fn set_hidden(&self, hidden: bool) {
        self.0.set_draw_target(if hidden {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        });
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}
