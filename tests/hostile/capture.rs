//! The captures of a run share one memory budget.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished labrun process did: its exit code, output and peak resident memory.
pub struct Measured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub max_rss_kib: i64,
    pub elapsed: Duration,
}

/// Runs `labrun ARGS...` from the project root and measures the process alone
/// (`wait4` on its pid, so other tests' processes do not count).
pub fn run_measured(args: &[&str]) -> Measured {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
    // Reaped below with wait4, which also gives the child's resource usage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start labrun");
    let pid = child.id() as libc::pid_t;
    let (mut out, mut err) = (child.stdout.unwrap(), child.stderr.unwrap());
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with valid pointers to locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Measured {
        code,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        max_rss_kib: usage.ru_maxrss,
        elapsed: started.elapsed(),
    }
}

fn can_sandbox() -> bool {
    if super::common::is_root() {
        return true;
    }
    super::common::skip_or_fail("capturing in the lab sandbox needs root");
    false
}

#[test]
fn three_hundred_captures_are_refused_at_the_budget() {
    if !can_sandbox() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    let m = run_measured(&[
        "tests/hostile/many_captures.rhai",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(m.code, 2, "stdout: {}\nstderr: {}", m.stdout, m.stderr);
    assert!(
        m.stderr.contains("tests/hostile/many_captures.rhai:6:26")
            && m.stderr.contains("capture memory budget"),
        "the error names the script position and the budget: {}",
        m.stderr
    );
    assert!(!m.stdout.contains("all 300 captures started"));
    // 64 rings of 8 MiB fill the 512 MiB budget; before the budget 300 rings took 23 GB.
    assert!(
        m.max_rss_kib < 900 * 1024,
        "peak resident memory {} MiB",
        m.max_rss_kib / 1024
    );
}

#[test]
fn forty_captures_fit_the_budget() {
    if !can_sandbox() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    let m = run_measured(&[
        "tests/hostile/forty_captures.rhai",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(m.code, 0, "stdout: {}\nstderr: {}", m.stdout, m.stderr);
    eprintln!(
        "40 captures: peak resident memory {} MiB in {:.2} s",
        m.max_rss_kib / 1024,
        m.elapsed.as_secs_f64()
    );
    assert!(
        m.max_rss_kib < 600 * 1024,
        "peak resident memory {} MiB",
        m.max_rss_kib / 1024
    );
    // Every capture was written and really holds the exchange.
    let pcaps = std::fs::read_dir(&report)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".pcap")
        })
        .count();
    assert_eq!(pcaps, 40);
}
