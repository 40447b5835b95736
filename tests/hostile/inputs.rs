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

// ---- 7. report names are reserved atomically ----

#[test]
fn racing_writers_each_get_their_own_report_name() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("reports/lab-20260101-120000");
    let threads: Vec<_> = (0..24)
        .map(|_| {
            let base = base.clone();
            std::thread::spawn(move || {
                labrun::report::write_report(&labrun::report::Report::default(), &base, false)
                    .map(|w| w.dir)
            })
        })
        .collect();
    let mut dirs: Vec<PathBuf> = threads
        .into_iter()
        .map(|t| t.join().unwrap().expect("every writer gets a report"))
        .collect();
    dirs.sort();
    dirs.dedup();
    assert_eq!(dirs.len(), 24, "{dirs:?}");
    for d in &dirs {
        assert!(d.join("report.md").is_file(), "{}", d.display());
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = std::iter::once("lab-20260101-120000".to_string())
        .chain((2..=24).map(|n| format!("lab-20260101-120000-{n}")))
        .collect();
    expected.sort();
    assert_eq!(names, expected, "no staging directory is left either");
}

#[test]
fn reserving_a_name_races_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("r");
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let base = base.clone();
            std::thread::spawn(move || labrun::report::reserve_dir(&base).unwrap())
        })
        .collect();
    let mut got: Vec<PathBuf> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 64);
    assert!(got.contains(&base));
    assert!(got.contains(&dir.path().join("r-64")));
}

#[test]
fn two_runs_in_the_same_second_both_keep_their_report() {
    let cwd = tempfile::tempdir().unwrap();
    let script = hostile("same_second.rhai");
    // Start just after a second begins, so both (about 20 ms each) end within it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let into = Duration::from_nanos(u64::from(now.subsec_nanos()));
    std::thread::sleep(Duration::from_millis(1050) - into);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (cwd, script) = (cwd.path().to_path_buf(), script.clone());
            std::thread::spawn(move || {
                labrun_in(
                    &cwd,
                    &[
                        script.as_os_str(),
                        OsStr::new("--network"),
                        OsStr::new("loopback"),
                    ],
                    None,
                )
            })
        })
        .collect();
    for r in runs {
        let ran = r.join().unwrap();
        assert_eq!(ran.code, Some(0), "{}", ran.text());
        assert!(ran.tmp_left.is_empty(), "{:?}", ran.tmp_left);
    }
    let mut names: Vec<String> = std::fs::read_dir(cwd.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for n in &names {
        let md = cwd.path().join("reports").join(n).join("report.md");
        assert!(md.is_file(), "{}", md.display());
    }
    if names[0].len() == "same_second-20260101-120000".len() {
        // Same second (the usual case): the second run got the -2 name.
        assert_eq!(names[1], format!("{}-2", names[0]), "{names:?}");
    }
}

#[test]
fn out_holding_a_report_is_refused_before_the_lab_runs() {
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("report.md"), "an earlier report\n").unwrap();
    let script = hostile("out_taken.rhai");
    let ran = labrun(&[
        script.as_os_str(),
        OsStr::new("--network"),
        OsStr::new("loopback"),
        OsStr::new("--out"),
        out.path().as_os_str(),
    ]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("refusing to overwrite") && ran.stderr.contains("report.md"),
        "{}",
        ran.text()
    );
    assert!(!ran.stdout.contains("the lab ran"), "{}", ran.text());
    assert!(ran.elapsed < Duration::from_millis(1000), "{}", ran.text());
    let names: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no capture or other file was added");
    assert_eq!(
        std::fs::read_to_string(out.path().join("report.md")).unwrap(),
        "an earlier report\n"
    );
}
