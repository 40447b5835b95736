//! Hostile lab scripts and inputs: each case runs the real binary on a script or input
//! written to break one of labrun's promises, and asserts the promise holds (exit code,
//! message with the script position, elapsed time, memory, files left behind).

mod common;

#[path = "hostile/capture.rs"]
mod capture;
