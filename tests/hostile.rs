//! Hostile lab scripts and inputs: each case runs the real binary on a script or input in
//! `tests/hostile/` written to break one of labrun's promises, and asserts the promise holds
//! (exit code, message with file:line:col, elapsed time, memory, files left behind).
//! One module per area.

#![cfg(target_os = "linux")]

mod common;

#[path = "hostile/run.rs"]
mod run;

#[path = "hostile/browser.rs"]
mod browser;
#[path = "hostile/capture.rs"]
mod capture;
#[path = "hostile/inputs.rs"]
mod inputs;
#[path = "hostile/limits.rs"]
mod limits;
#[cfg(target_os = "linux")]
#[path = "hostile/program.rs"]
mod program;
