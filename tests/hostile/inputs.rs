//! Sizes, report names and inputs (issue 13, points 6, 7 and 8).

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of labrun did.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    /// Peak resident memory of the child, in KiB (its own rusage, from wait4).
    max_rss_kib: i64,
    /// What the run left in its private TMPDIR.
    tmp_left: Vec<String>,
}

impl Ran {
    fn text(&self) -> String {
        format!(
            "exit {:?} after {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// Exit 2 with one `error:` line, no panic and no backtrace.
    fn assert_clean_error(&self) {
        assert_eq!(self.code, Some(2), "{}", self.text());
        assert!(self.stderr.contains("error: "), "{}", self.text());
        for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(!self.stderr.contains(bad), "{bad}: {}", self.text());
        }
        assert!(
            self.tmp_left.is_empty(),
            "left in TMPDIR: {:?}",
            self.tmp_left
        );
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn hostile(name: &str) -> PathBuf {
    root().join("tests/hostile").join(name)
}

/// Runs labrun with `args` in `cwd`, a private TMPDIR, and waits for it with wait4 to
/// read its own peak memory (RUSAGE_CHILDREN would mix in the other tests' children).
fn labrun_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S], setup: Option<fn() -> i32>) -> Ran {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labrun"));
    cmd.current_dir(cwd)
        .args(args)
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(f) = setup {
        use std::os::unix::process::CommandExt;
        // SAFETY: the hook only calls setrlimit, which is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                if f() == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
    }
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; the pointers are valid.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let elapsed = started.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let tmp_left = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    Ran {
        code,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        elapsed,
        max_rss_kib: usage.ru_maxrss,
        tmp_left,
    }
}

fn labrun<S: AsRef<OsStr>>(args: &[S]) -> Ran {
    labrun_in(root(), args, None)
}

/// Runs a hostile script on loopback with its report in a fresh folder.
fn run_script(name: &str, extra: &[&str]) -> (Ran, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let script = hostile(name);
    let report = out.path().join("report");
    let mut args: Vec<&OsStr> = vec![
        script.as_os_str(),
        OsStr::new("--network"),
        OsStr::new("loopback"),
        OsStr::new("--out"),
        report.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    (labrun(&args), out)
}

// ---- 6. sizes are checked before allocating ----

#[test]
fn pad_of_two_to_the_62_is_a_script_error() {
    let (ran, _out) = run_script("pad_overflow.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr
            .contains("pad_overflow.rhai:3:9: pad: 4611686018427387904 bytes is more than a script string may hold (16 MiB)"),
        "{}",
        ran.text()
    );
}

#[test]
fn pad_of_a_gigabyte_fails_before_allocating() {
    let (ran, _out) = run_script("pad_gigabyte.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains(
            "pad_gigabyte.rhai:3:9: pad: 1073741824 bytes is more than a script string may hold (16 MiB)"
        ),
        "{}",
        ran.text()
    );
    assert!(
        ran.max_rss_kib < 200 * 1024,
        "peak memory {} KiB",
        ran.max_rss_kib
    );
    assert!(ran.elapsed < Duration::from_secs(5), "{}", ran.text());
}

#[test]
fn recv_exact_of_a_terabyte_is_refused_before_reading() {
    let (ran, _out) = run_script("recv_exact_huge.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("recv_exact_huge.rhai:8:18: recv_exact: 1099511627776 bytes is more than a script string may hold (16 MiB)"),
        "{}",
        ran.text()
    );
    assert!(
        ran.max_rss_kib < 200 * 1024,
        "peak memory {} KiB",
        ran.max_rss_kib
    );
}
