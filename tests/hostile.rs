//! Hostile lab scripts and inputs (issue 13): each case runs the real binary on a script
//! from `tests/hostile/` or on a crafted input, and asserts the outcome — exit code,
//! message, elapsed time, files left behind, peak memory.

mod common;

#[path = "hostile/inputs.rs"]
mod inputs;
