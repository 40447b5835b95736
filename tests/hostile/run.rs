//! Running labrun the way the hostile tests need: a private TMPDIR whose leftovers are
//! listed, and the child reaped with wait4 so its own peak memory is known.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of labrun did.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident memory of the child, in KiB (its own rusage, from wait4).
    pub max_rss_kib: i64,
    /// What the run left in its private TMPDIR.
    pub tmp_left: Vec<String>,
}

impl Ran {
    pub fn text(&self) -> String {
        format!(
            "exit {:?} after {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// Peak resident memory stayed under `mib` MiB.
    pub fn assert_peak_below_mib(&self, mib: i64) {
        assert!(
            self.max_rss_kib < mib * 1024,
            "peak memory {} KiB",
            self.max_rss_kib
        );
    }

    /// Exit 2 with one `error:` line, no panic and no backtrace.
    pub fn assert_clean_error(&self) {
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

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn hostile(name: &str) -> PathBuf {
    root().join("tests/hostile").join(name)
}

/// Runs labrun with `args` in `cwd`, a private TMPDIR, and waits for it with wait4 to
/// read its own peak memory (RUSAGE_CHILDREN would mix in the other tests' children).
pub fn labrun_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S], setup: Option<fn() -> i32>) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labrun"));
    cmd.current_dir(cwd).args(args);
    run_command(&mut cmd, setup)
}

/// Runs `cmd` (labrun, or a wrapper that execs it) as [`labrun_in`] does.
pub fn labrun_in_cmd(cmd: &mut Command) -> Ran {
    run_command(cmd, None)
}

// The child is reaped by wait4 (to read its own rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
pub fn run_command(cmd: &mut Command, setup: Option<fn() -> i32>) -> Ran {
    let tmp = tempfile::tempdir().unwrap();
    // No PDF or Word document: tests/report_formats.rs tests those.
    cmd.env("LABRUN_FORMATS", "none");
    cmd.env("TMPDIR", tmp.path())
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

pub fn labrun<S: AsRef<OsStr>>(args: &[S]) -> Ran {
    labrun_in(root(), args, None)
}
