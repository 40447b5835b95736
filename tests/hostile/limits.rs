//! Limits hold while waiting: the run's time limit ends blocking calls, a script cannot
//! catch its way past it, teardown of many servers is bounded, and Ctrl-C ends a long
//! wait at once and still writes the report.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn hostile(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hostile")
        .join(name)
}

/// `labrun SCRIPT --network loopback --out OUT ARGS` with a private TMPDIR.
fn labrun(script: &Path, out: &Path, tmp: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_labrun"));
    c.env("LABRUN_FORMATS", "none");
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", tmp)
        .arg(script)
        .args(["--network", "loopback", "--out"])
        .arg(out)
        .args(args);
    c
}

/// Runs to the end; the output and the wall time.
fn run_timed(script: &Path, out: &Path, tmp: &Path, args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let mut child = labrun(script, out, tmp, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(&mut child, Duration::from_secs(60));
    (out, t.elapsed())
}

/// Waits for the child (killing it after `limit`, so a broken limit fails, not hangs).
fn wait_bounded(child: &mut Child, limit: Duration) -> Output {
    let t = Instant::now();
    while t.elapsed() < limit && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_end(&mut stdout);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_end(&mut stderr);
    }
    Output {
        status,
        stdout,
        stderr,
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_empty(tmp: &Path) {
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left in the private TMPDIR: {left:?}");
}

/// A script stopped by `--time-limit 2`: exit 2 within 3.5 s, the message names the
/// call's file:line:col and the time limit.
fn assert_stopped_by_time_limit(name: &str, line: usize) {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let script = hostile(name);
    let (out, took) = run_timed(
        &script,
        &dir.path().join("report"),
        tmp.path(),
        &["--time-limit", "2"],
    );
    let err = text(&out.stderr);
    eprintln!("{name}: stopped after {took:?} (--time-limit 2)");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_millis(3500),
        "took {took:?}: {err}"
    );
    let at = format!("{}:{line}:", script.display());
    assert!(err.contains(&at), "want {at} in: {err}");
    assert!(err.contains("time limit of 2 s was reached"), "{err}");
    assert_empty(tmp.path());
}

#[test]
fn sleep_in_a_loop_stops_at_the_time_limit() {
    assert_stopped_by_time_limit("sleep_forever.rhai", 5);
}

#[test]
fn a_recv_with_a_huge_timeout_stops_at_the_time_limit() {
    assert_stopped_by_time_limit("recv_forever.rhai", 8);
}

#[test]
fn catching_the_error_in_a_loop_does_not_outlast_the_time_limit() {
    assert_stopped_by_time_limit("recv_caught_in_loop.rhai", 11);
}

#[test]
fn time_limit_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "-5", "86401", "soon"] {
        let (out, _) = run_timed(
            &hostile("sleep_forever.rhai"),
            &dir.path().join("r"),
            dir.path(),
            &[&format!("--time-limit={bad}")],
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--time-limit {bad}: {err}");
        assert!(err.contains("--time-limit"), "{err}");
        assert!(!dir.path().join("r").exists());
    }
}

#[test]
fn five_hundred_servers_are_stopped_together() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    let (out, took) = run_timed(&hostile("serve_500.rhai"), &out_dir, tmp.path(), &[]);
    let stdout = text(&out.stdout);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{err}");
    // The summary line ends with the script's own time, e.g. "(0.2 s)".
    let script_secs: f64 = stdout
        .lines()
        .find_map(|l| l.strip_suffix(" s)")?.rsplit_once('(')?.1.parse().ok())
        .unwrap_or_else(|| panic!("no summary line: {stdout}"));
    let teardown = took.as_secs_f64() - script_secs;
    eprintln!(
        "500 servers: script {script_secs:.1} s, whole run {:.2} s, teardown and report about {teardown:.2} s",
        took.as_secs_f64()
    );
    assert!(teardown < 5.0, "teardown took {teardown:.2} s");
    assert!(
        !err.contains("did not stop"),
        "every server stopped in time: {err}"
    );
    assert!(out_dir.join("report.md").is_file());
    assert_empty(tmp.path());
}

#[test]
fn first_ctrl_c_ends_a_long_recv_and_writes_the_report() {
    if !crate::common::is_root() {
        return crate::common::skip_or_fail("capturing on loopback needs root");
    }
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    let script = hostile("sigint_during_recv.rhai");
    let mut child = labrun(&script, &out_dir, tmp.path(), &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the script to reach its 60 s recv.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let t = Instant::now();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("waiting in recv") => break,
            Some(Ok(_)) => {}
            _ => {
                let out = wait_bounded(&mut child, Duration::from_secs(5));
                panic!("the lab ended before its recv: {}", text(&out.stderr));
            }
        }
        assert!(t.elapsed() < Duration::from_secs(20), "never reached recv");
    }
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    // SAFETY: signals the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = wait_bounded(&mut child, Duration::from_secs(20));
    let took = sent.elapsed();
    let err = text(&out.stderr);
    eprintln!("Ctrl-C during a 60 s recv: exited {took:?} after SIGINT");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(took < Duration::from_secs(1), "took {took:?}: {err}");
    let at = format!("{}:13:", script.display());
    assert!(err.contains(&at), "want {at} in: {err}");
    assert!(err.contains("interrupted (Ctrl-C)"), "{err}");
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(report.contains("traffic captured"), "{report}");
    let pcaps: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcapng"))
        .collect();
    assert!(!pcaps.is_empty(), "no capture in {}", out_dir.display());
    let bytes = std::fs::metadata(&pcaps[0]).unwrap().len();
    // pcapng: section and interface blocks (60 bytes), then an EPB of at least 32 bytes
    // plus the frame for each of the handshake's three segments.
    assert!(
        bytes > 60 + 3 * 32,
        "the capture holds the handshake: {bytes} bytes"
    );
    assert_empty(tmp.path());
}

#[test]
fn a_handler_blocked_at_the_end_does_not_hold_teardown() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    let (out, took) = run_timed(
        &hostile("handler_blocks_teardown.rhai"),
        &out_dir,
        tmp.path(),
        &[],
    );
    let err = text(&out.stderr);
    eprintln!("a handler sleeping 60 s at the end: the run took {took:?}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    // The handler was stopped, and the report says so.
    assert!(
        err.contains("warning: server on") && err.contains("stopped what it left running"),
        "{err}"
    );
    let report = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(report.contains("stopped what it left running"), "{report}");
    assert_empty(tmp.path());
}
