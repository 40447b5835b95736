//! Progress reporting as a trait, so the scanner and the run state report progress
//! without owning a terminal widget: the binary draws it (a spinner or a bar), a library
//! user or a test passes [`NoProgress`].

use std::fmt::Debug;
use std::sync::Arc;

/// Something that shows how far a run or a scan has come.
///
/// Every method takes `&self`: one indicator is shared by the threads of a run.
pub trait Progress: Send + Sync + Debug {
    /// Shows the indicator with `message` and keeps it moving (a spinner ticking on its own).
    fn start(&self, message: String);
    /// Replaces the message shown next to the indicator.
    fn set_message(&self, message: String);
    /// Sets how many units of work there are (ports of a scan).
    fn set_length(&self, len: u64);
    /// Sets how many units are done.
    fn set_position(&self, pos: u64);
    /// Counts `n` more units done.
    fn inc(&self, n: u64);
    /// Hides the indicator while `f` prints, so the output is not torn by a redraw.
    fn suspend(&self, f: &mut dyn FnMut());
    /// Hides the indicator (`true`) until shown again (`false`), e.g. while a chat owns
    /// the terminal.
    fn set_hidden(&self, hidden: bool);
    /// Removes the indicator: the work is over.
    fn finish(&self);
}

/// Progress shared between threads.
pub type SharedProgress = Arc<dyn Progress>;

/// Shows nothing; output printed through [`Progress::suspend`] still appears.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _message: String) {}
    fn set_message(&self, _message: String) {}
    fn set_length(&self, _len: u64) {}
    fn set_position(&self, _pos: u64) {}
    fn inc(&self, _n: u64) {}
    fn suspend(&self, f: &mut dyn FnMut()) {
        f()
    }
    fn set_hidden(&self, _hidden: bool) {}
    fn finish(&self) {}
}

/// A [`NoProgress`] to share.
pub fn none() -> SharedProgress {
    Arc::new(NoProgress)
}
