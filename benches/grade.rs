//! Benchmark of `labrun grade --dir` on a class of 200 submissions: the goal is under 10 s
//! on 2 cores, with every submission graded, fingerprinted and compared with every other.
//!
//! ```text
//! cargo bench --bench grade [-- SUBMISSIONS]
//! ```
//!
//! The submissions are copies of the chat lab's example capture (a real capture of the lab)
//! named after 200 student IDs, so every pair is flagged as identical: the slowest case of
//! the copy search. It prints the wall time and the time per submission, and fails when the
//! class takes 10 s or more.

use std::process::Command;
use std::time::Instant;

fn main() {
    // `cargo bench` passes `--bench`; only positional arguments count here.
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let root = env!("CARGO_MANIFEST_DIR");
    let example = std::path::Path::new(root).join("reports/examples/chat/capture.pcapng");
    let dir = tempfile::tempdir().expect("a temporary folder");
    for i in 0..n {
        let id = 20_210_000_000u64 + i as u64;
        std::fs::copy(&example, dir.path().join(format!("{id}.pcap"))).expect("copy");
    }
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(root)
        .args(["grade", "labs/chat.rhai", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run labrun");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = String::from_utf8_lossy(&out.stdout).lines().count() - 1;
    assert_eq!(rows, n, "one row per submission");
    println!(
        "grade --dir: {n} submissions in {:.2} s ({:.1} ms each)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / n as f64
    );
    assert!(
        took.as_secs_f64() < 10.0,
        "{n} submissions took {:.1} s (the goal is under 10 s)",
        took.as_secs_f64()
    );
}
