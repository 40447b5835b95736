//! Hostile lab scripts and inputs (issue 13, "Lab scripts are untrusted code"): each case
//! runs the real binary on a script in `tests/hostile/` and asserts the outcome (exit code,
//! message with file:line:col, elapsed time, files left behind). One module per area.

mod common;

#[path = "hostile/browser.rs"]
mod browser;
