//! The browser and temporary files (issue 13, points 1-3): `host.browser(url)` starts a
//! browser only with `--browser`, only for an http:// or ws:// URL of a lab host (checked
//! before launch, so no option or outside address reaches Chromium), and every temporary
//! file lives in a private directory that is gone after the run, killed or not. Also the
//! interactive chat's predictable rendezvous directory, refused when it is not private.

use crate::common;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const LABRUN: &str = env!("CARGO_BIN_EXE_labrun");

/// A run of the real binary with its own private TMPDIR.
struct Run {
    output: Output,
    elapsed: Duration,
    tmp: tempfile::TempDir,
}

impl Run {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn text(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.output.stdout),
            self.stderr()
        )
    }

    /// What the run left in its TMPDIR (the report goes elsewhere).
    fn left_in_tmpdir(&self) -> Vec<String> {
        entries(&self.tmp.path().join("t"))
    }
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_else(|e| vec![format!("cannot read {}: {e}", dir.display())])
}

/// A fresh directory holding `t/` (the run's TMPDIR, mode 0700) and `out/` (its report).
fn sandbox_dirs() -> tempfile::TempDir {
    use std::os::unix::fs::DirBuilderExt;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(tmp.path().join("t"))
        .unwrap();
    tmp
}

fn labrun(script: &str, args: &[&str]) -> Run {
    let tmp = sandbox_dirs();
    let start = Instant::now();
    let output = Command::new(LABRUN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LABRUN_FORMATS", "none")
        .env("TMPDIR", tmp.path().join("t"))
        .arg(script)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        output,
        elapsed: start.elapsed(),
        tmp,
    }
}

/// Asserts a refusal: exit 2, the message at `at` (file:line:col) containing `says`, in
/// well under the time a browser would take, and nothing left in TMPDIR.
fn assert_refused(run: &Run, at: &str, says: &str) {
    assert_eq!(run.output.status.code(), Some(2), "{}", run.text());
    let err = run.stderr();
    let line = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(line.starts_with(&format!("error: {at}: ")), "{line}");
    assert!(line.contains(says), "{line}");
    assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    assert_eq!(run.left_in_tmpdir(), Vec::<String>::new());
}

fn chromium_ready(what: &str) -> bool {
    if !common::is_root() {
        common::skip_or_fail(&format!(
            "{what}: the sandbox needs root here (run the tests as root)"
        ));
        return false;
    }
    if labrun::websocket::find_browser("chromium").is_err() {
        common::skip_or_fail(&format!(
            "{what}: chromium is not installed (apt-get install chromium)"
        ));
        return false;
    }
    true
}

#[test]
fn browser_without_the_browser_flag_is_refused() {
    let run = labrun(
        "tests/hostile/browser_without_flag.rhai",
        &["--network", "loopback"],
    );
    assert_refused(
        &run,
        "tests/hostile/browser_without_flag.rhai:4:20",
        "labrun starts one only when run with --browser chromium",
    );
}

#[test]
fn the_reaper_argument_is_in_no_help_text() {
    for args in [&["--help"][..], &["run", "--help"], &["help"]] {
        let out = Command::new(LABRUN).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage"), "{args:?}: {text}");
        assert!(!text.to_lowercase().contains("reaper"), "{args:?}: {text}");
    }
}

#[test]
fn an_option_instead_of_a_url_never_reaches_chromium() {
    if !chromium_ready("an option as the browser's URL") {
        return;
    }
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("ran");
    // In the sandbox, where the old code ran the prefix as root outside the namespace.
    let run = labrun(
        "tests/hostile/browser_option_url.rhai",
        &[
            "--browser",
            "chromium",
            "--",
            &format!("marker={}", marker.display()),
        ],
    );
    assert_refused(
        &run,
        "tests/hostile/browser_option_url.rhai:5:20",
        "is an option, not a URL",
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(!marker.exists(), "the renderer command ran: {}", run.text());
}

#[test]
fn a_file_url_is_refused() {
    let run = labrun(
        "tests/hostile/browser_file_url.rhai",
        &["--network", "loopback", "--browser", "chromium"],
    );
    assert_refused(
        &run,
        "tests/hostile/browser_file_url.rhai:3:20",
        "the browser opens only http:// or ws:// URLs of the lab's hosts",
    );
}

#[test]
fn a_url_outside_the_lab_is_refused_like_connect() {
    let run = labrun(
        "tests/hostile/browser_outside_target.rhai",
        &["--network", "loopback", "--browser", "chromium"],
    );
    assert_refused(
        &run,
        "tests/hostile/browser_outside_target.rhai:4:20",
        "192.0.2.1 is not a lab host: labrun sends only to loopback or to hosts it created itself",
    );
}

#[test]
fn a_url_smuggling_a_second_argument_is_refused() {
    let run = labrun(
        "tests/hostile/browser_smuggled_option.rhai",
        &["--network", "loopback", "--browser", "chromium"],
    );
    assert_refused(
        &run,
        "tests/hostile/browser_smuggled_option.rhai:3:20",
        "contains ' '",
    );
}

#[test]
fn the_websocket_lab_with_chromium_leaves_nothing_in_tmpdir() {
    if !chromium_ready("the WebSocket lab with Chromium") {
        return;
    }
    let run = labrun(
        "labs/websocket.rhai",
        &[
            "--browser",
            "chromium",
            "--student",
            "20215120807 Li Yihang",
        ],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("15 of 15 checks passed"),
        "{}",
        run.text()
    );
    // No profile, no org.chromium.Chromium.*: the reaper may still be finishing.
    let deadline = Instant::now() + Duration::from_secs(2);
    while !run.left_in_tmpdir().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(run.left_in_tmpdir(), Vec::<String>::new());
    assert_eq!(
        processes_pointing_into(&run.tmp.path().join("t")),
        Vec::<u32>::new()
    );
}

/// Live (not zombie) processes whose environment names a path inside `dir`.
fn processes_pointing_into(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    live_pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| {
                    env.split(|&b| b == 0)
                        .any(|v| String::from_utf8_lossy(v).contains(&needle))
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Live (not zombie) processes in process group `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    live_pids()
        .into_iter()
        .filter(|pid| stat_fields(*pid).is_some_and(|f| f.get(2) == Some(&pgid.to_string())))
        .collect()
}

/// The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    Some(rest.split(' ').map(str::to_string).collect())
}

fn live_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| stat_fields(*pid).is_some_and(|f| f[0] != "Z" && f[0] != "X"))
        .collect()
}

/// A child process killed (SIGKILL) and reaped when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_run_killed_while_the_browser_runs_leaves_nothing() {
    use std::io::{BufRead, BufReader};
    if !chromium_ready("SIGKILL while Chromium runs") {
        return;
    }
    let dirs = sandbox_dirs();
    let tmpdir: PathBuf = dirs.path().join("t");
    let mut child = Command::new(LABRUN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", &tmpdir)
        .args(["tests/hostile/browser_killed.rhai", "--browser", "chromium"])
        .arg("--out")
        .arg(dirs.path().join("out"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Whatever fails below, the run does not outlive the test.
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(stdout).lines();
    let pgid: u32 = loop {
        match lines.next() {
            Some(Ok(l)) => {
                if let Some(p) = l.strip_prefix("browser up: pgid ") {
                    break p.trim().parse().unwrap();
                }
            }
            other => panic!("the browser never came up: {other:?}"),
        }
    };
    // The browser is up and working in the private directory.
    let browser_dirs = entries(&tmpdir);
    assert_eq!(browser_dirs.len(), 1, "{browser_dirs:?}");
    assert!(
        browser_dirs[0].starts_with("labrun-browser-"),
        "{browser_dirs:?}"
    );
    let members = group_members(pgid);
    assert!(members.len() > 1, "chromium's group: {members:?}");
    let mut watched = members.clone();
    watched.extend(processes_pointing_into(&tmpdir));

    child.0.kill().unwrap(); // SIGKILL
    let killed = Instant::now();
    let _ = child.0.wait();
    let deadline = killed + Duration::from_secs(2);
    let alive = |pids: &[u32]| -> Vec<u32> {
        let live = live_pids();
        pids.iter().copied().filter(|p| live.contains(p)).collect()
    };
    loop {
        let left = entries(&tmpdir);
        let group = group_members(pgid);
        let watched_alive = alive(&watched);
        let pointing = processes_pointing_into(&tmpdir);
        if left.is_empty() && group.is_empty() && watched_alive.is_empty() && pointing.is_empty() {
            eprintln!("all gone {:?} after SIGKILL", killed.elapsed());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "2 s after SIGKILL: left in TMPDIR {left:?}, chromium group {group:?}, \
             processes of the run {watched_alive:?}, pointing into TMPDIR {pointing:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the interactive chat's `role` with TMPDIR where `plant` prepared the rendezvous
/// directory `labrun-<uid>`.
fn rendezvous_run(role: &str, plant: impl Fn(&Path)) -> Run {
    let tmp = sandbox_dirs();
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    plant(&tmp.path().join("t").join(format!("labrun-{uid}")));
    let start = Instant::now();
    let output = Command::new(LABRUN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LABRUN_FORMATS", "none")
        .env("TMPDIR", tmp.path().join("t"))
        .args([
            "tests/hostile/rendezvous_planted.rhai",
            "--interactive",
            "--role",
            role,
        ])
        .arg("--out")
        .arg(tmp.path().join("out"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        output,
        elapsed: start.elapsed(),
        tmp,
    }
}

#[test]
fn a_planted_rendezvous_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    if !common::is_root() {
        return common::skip_or_fail("the shared sandbox needs root here (run the tests as root)");
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let open = |d: &Path| {
        std::fs::create_dir(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    };
    let link = |d: &Path| std::os::unix::fs::symlink(elsewhere.path(), d).unwrap();
    for (role, plant, says) in [
        (
            "server",
            &open as &dyn Fn(&Path),
            "has mode 777: others may enter it",
        ),
        ("server", &link, "is a symlink, not a directory of labrun's"),
        ("client", &open, "has mode 777: others may enter it"),
        ("client", &link, "is a symlink, not a directory of labrun's"),
    ] {
        let run = rendezvous_run(role, plant);
        assert_eq!(run.output.status.code(), Some(2), "{role}: {}", run.text());
        let err = run.stderr();
        assert!(err.contains(says), "{role}: {err}");
        if role == "server" {
            assert!(
                err.contains("tests/hostile/rendezvous_planted.rhai:4:11:"),
                "{err}"
            );
        }
        assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
        assert_eq!(entries(elsewhere.path()), Vec::<String>::new());
    }
}

#[test]
fn browsers_are_bounded() {
    if !chromium_ready("many browsers") {
        return;
    }
    let run = labrun(
        "tests/hostile/browser_many.rhai",
        &["--browser", "chromium"],
    );
    assert_eq!(run.output.status.code(), Some(2), "{}", run.text());
    let err = run.stderr();
    assert!(
        err.contains("tests/hostile/browser_many.rhai:7:30: browser: 2 browsers already run: close() one first (at most 2 at once)"),
        "{err}"
    );
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
    let deadline = Instant::now() + Duration::from_secs(2);
    while !run.left_in_tmpdir().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(run.left_in_tmpdir(), Vec::<String>::new());
}
