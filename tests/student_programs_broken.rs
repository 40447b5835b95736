//! Broken student programs through the chat lab: a server that never replies, one that
//! exits at once, one that closes with RST, one that busy-loops, one that forks
//! repeatedly, a client that never connects, and labrun killed with SIGKILL while a
//! program runs. Each run ends within its deadline with exit 1 or 2, a check or message
//! naming the fault, and no process left behind.

#![cfg(target_os = "linux")]

mod common;

use common::lab::{LabRun, run_lab};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The longest any of these runs may take (the lab's own waits are 5 to 10 s).
const DEADLINE: Duration = Duration::from_secs(40);

fn ready() -> bool {
    if !common::is_root() {
        common::skip_or_fail("the sandbox and its capture need root here (run the tests as root)");
        return false;
    }
    if !common::have_program("python3") {
        common::skip_or_fail("python3 is not installed");
        return false;
    }
    true
}

/// A directory the unprivileged program user can read, holding `name` with `source`.
fn program(name: &str, source: &str) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    (dir, path)
}

/// Processes whose command line holds `token`.
fn processes_with(token: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|&b| b == 0).any(|arg| arg == token.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// Runs the chat lab with the program `source` as `role`, checking the deadline, the exit
/// code and that nothing of it is left; returns the run.
fn run_broken(role: &str, token: &str, source: &str) -> LabRun {
    let (_dir, path) = program(&format!("{token}.py"), source);
    let command = format!("python3 {} {{port}} {token}", path.display());
    let flag = format!("--{role}");
    let started = Instant::now();
    let run = run_lab("labs/chat.rhai", &[&flag, &command]);
    let took = started.elapsed();
    assert!(took < DEADLINE, "took {took:?}: {}", run.text());
    let code = run.output.status.code();
    assert!(matches!(code, Some(1 | 2)), "exit {code:?}: {}", run.text());
    assert_eq!(
        processes_with(token),
        Vec::<u32>::new(),
        "left behind: {}",
        run.text()
    );
    run
}

fn assert_failed(run: &LabRun, check: &str) {
    let text = run.text();
    assert!(
        text.lines()
            .any(|l| l.contains("FAIL") && l.contains(check)),
        "no failed check {check:?}: {text}"
    );
}

#[test]
fn a_server_that_never_replies() {
    if !ready() {
        return;
    }
    let run = run_broken(
        "server",
        "never-replies",
        "import socket, sys, time\n\
         s = socket.socket()\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('', int(sys.argv[1])))\n\
         s.listen(1)\n\
         conn, _ = s.accept()\n\
         time.sleep(3600)\n",
    );
    assert_failed(
        &run,
        "the student's server answered with its own ID and name",
    );
    let md = run.read("report.md");
    assert!(
        md.contains("The student's server sent nothing within 5 s"),
        "{md}"
    );
    assert!(
        md.contains(
            "Exit status: killed by SIGKILL (labrun stopped it: the lab had finished with it)."
        ),
        "{md}"
    );
}

#[test]
fn a_server_that_exits_at_once() {
    if !ready() {
        return;
    }
    let run = run_broken(
        "server",
        "exits-at-once",
        "import sys\nprint('no time to listen')\nsys.exit(3)\n",
    );
    assert_failed(&run, "the student's server listens on TCP port 8888");
    let md = run.read("report.md");
    assert!(
        md.contains("Nothing listens on port 8888; the student's server: exited with code 3"),
        "{md}"
    );
    assert!(md.contains("no time to listen"), "{md}");
}

#[test]
fn a_server_that_closes_with_rst() {
    if !ready() {
        return;
    }
    let run = run_broken(
        "server",
        "rst-close",
        "import os, socket, struct, sys\n\
         s = socket.socket()\n\
         s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('', int(sys.argv[1])))\n\
         s.listen(1)\n\
         conn, _ = s.accept()\n\
         conn.recv(1024)\n\
         conn.sendall((os.environ['LABRUN_STUDENT_ID'] + ' ' + os.environ['LABRUN_STUDENT_NAME'] + '\\n').encode())\n\
         conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
         conn.close()\n",
    );
    assert_failed(&run, "no RST: the connection ended with FINs");
    // The answer itself was right: only the close is at fault.
    assert!(
        run.text()
            .lines()
            .any(|l| l.contains("PASS") && l.contains("answered with its own ID and name")),
        "{}",
        run.text()
    );
}

#[test]
fn a_server_that_busy_loops() {
    if !ready() {
        return;
    }
    let run = run_broken("server", "busy-loop", "while True:\n    pass\n");
    assert_failed(&run, "the student's server listens on TCP port 8888");
    let md = run.read("report.md");
    assert!(md.contains("the student's server: still running"), "{md}");
    assert!(md.contains("Exit status: killed by SIG"), "{md}");
}

#[test]
fn a_server_that_forks_repeatedly() {
    if !ready() {
        return;
    }
    let run = run_broken(
        "server",
        "fork-bomb",
        "import os\n\
         while True:\n\
         \x20   try:\n\
         \x20       os.fork()\n\
         \x20   except OSError:\n\
         \x20       pass\n",
    );
    assert_failed(&run, "the student's server listens on TCP port 8888");
}

#[test]
fn a_client_that_never_connects() {
    if !ready() {
        return;
    }
    let run = run_broken(
        "client",
        "never-connects",
        "import sys\nprint('forgot to connect')\nsys.exit(1)\n",
    );
    assert_failed(&run, "the student's client connected to the server");
    assert_failed(
        &run,
        "the student's client ended by itself with exit code 0",
    );
    assert!(
        run.read("report.md")
            .contains("Exit status: exited with code 1.")
    );
}

#[test]
fn killing_labrun_with_sigkill_leaves_no_program_behind() {
    if !ready() {
        return;
    }
    let token = "outlives-labrun";
    let (_dir, path) = program(
        &format!("{token}.py"),
        "import os, socket, sys, time\n\
         os.fork()\n\
         s = socket.socket()\n\
         time.sleep(3600)\n",
    );
    let out = tempfile::tempdir().unwrap();
    let mut labrun = std::process::Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LABRUN_FORMATS", "none")
        .args(["labs/chat.rhai", "--server"])
        .arg(format!("python3 {} {{port}} {token}", path.display()))
        .arg("--out")
        .arg(out.path().join("report"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while processes_with(token).len() < 2 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        processes_with(token).len(),
        2,
        "the program and its child run"
    );
    labrun.kill().unwrap();
    labrun.wait().unwrap();
    let t = Instant::now();
    while !processes_with(token).is_empty() && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        processes_with(token),
        Vec::<u32>::new(),
        "left behind after SIGKILL"
    );
}
