//! The lab sandbox leaves nothing behind: after a run, a script error, Ctrl-C or SIGKILL
//! in the middle of a lab, `ip netns list`, `ip link` and the process list are as before.
//! Also: the sandbox and its captures work for an ordinary user (rootless).

#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn labrun_bin() -> &'static str {
    env!("CARGO_BIN_EXE_labrun")
}

fn root_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What must be the same before and after a run.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    netns: String,
    links: String,
    procs: Vec<String>,
}

fn snapshot(marker: &str) -> Snapshot {
    let run = |args: &[&str]| {
        let o = Command::new(args[0]).args(&args[1..]).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let procs = run(&["ps", "-eo", "args"])
        .lines()
        .filter(|l| l.contains(marker) && !l.contains("ps -eo"))
        .map(str::to_string)
        .collect();
    Snapshot {
        netns: common::host_state::netns_list(),
        links: common::host_state::root_links(),
        procs,
    }
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// The network namespaces a process holds through open file descriptors.
fn held_netns(pid: u32) -> usize {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    entries
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t.to_string_lossy().starts_with("net:["))
        .count()
}

fn spawn(script: &Path, out: &Path) -> Child {
    Command::new(labrun_bin())
        .current_dir(root_dir())
        .arg(script)
        .args(["--network", "sandbox", "--out"])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(child: &mut Child, limit: Duration) -> Output {
    let t = Instant::now();
    while t.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap();
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    Output {
        status: child.wait().unwrap(),
        stdout: out.into_bytes(),
        stderr: err.into_bytes(),
    }
}

/// Starts a lab that builds the sandbox and then waits; returns once the sandbox exists.
fn start_waiting_lab(dir: &Path, out: &Path) -> Child {
    let s = script(
        dir,
        "waiting.rhai",
        "let net = network();\nlet cap = net.client.capture(\"tcp\");\nlet l = net.server.listen(7000);\n\
         let c = net.client.connect(`${net.server.ip}:7000`);\nstep(\"ready\");\nloop { sleep(50); }\n",
    );
    let mut child = spawn(&s, out);
    let t = Instant::now();
    while held_netns(child.id()) < 2 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the lab never built its sandbox"
        );
        assert!(child.try_wait().unwrap().is_none(), "the lab ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let it get past connect.
    std::thread::sleep(Duration::from_millis(300));
    child
}

#[test]
fn nothing_survives_any_exit() {
    if !common::is_root() {
        return common::skip_or_fail("creating network namespaces for the check needs root");
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().to_string_lossy().into_owned();
    let before = snapshot(&marker);

    // A normal run.
    let ok = script(
        dir.path(),
        "ok.rhai",
        "let net = network();\nlet l = net.server.listen(7000);\nlet c = net.client.connect(`${net.server.ip}:7000`);\n\
         let s = l.accept();\nc.send(\"hi\");\nexpect_eq(s.recv(), \"hi\", \"delivered\");\n",
    );
    let out = wait_for(
        &mut spawn(&ok, &dir.path().join("ok")),
        Duration::from_secs(20),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(snapshot(&marker), before, "after a run");

    // A script error after the sandbox was built.
    let bad = script(
        dir.path(),
        "bad.rhai",
        "let net = network();\nthrow \"boom\";\n",
    );
    let out = wait_for(
        &mut spawn(&bad, &dir.path().join("bad")),
        Duration::from_secs(20),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(snapshot(&marker), before, "after a script error");

    // Ctrl-C in the middle: the report is still written.
    let mut child = start_waiting_lab(dir.path(), &dir.path().join("int"));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = wait_for(&mut child, Duration::from_secs(20));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("int/report.md").is_file(),
        "report after Ctrl-C"
    );
    assert_eq!(snapshot(&marker), before, "after SIGINT");

    // SIGKILL in the middle: no handler runs, the kernel must clean up.
    let mut child = start_waiting_lab(dir.path(), &dir.path().join("kill"));
    child.kill().unwrap();
    let _ = wait_for(&mut child, Duration::from_secs(20));
    assert_eq!(snapshot(&marker), before, "after SIGKILL");
}

#[test]
fn segment_lab_runs_as_an_ordinary_user() {
    if !common::is_root() {
        return common::skip_or_fail("creating a test user needs root");
    }
    let user = "labrun-student";
    let _ = Command::new("useradd")
        .args(["--no-create-home", "--shell", "/bin/sh", user])
        .output();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    Command::new("chown")
        .args([user, dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    // The binary and the labs must be reachable by the user.
    let bin = dir.path().join("labrun");
    std::fs::copy(labrun_bin(), &bin).unwrap();
    Command::new("cp")
        .args(["-r", root_dir().join("labs").to_str().unwrap()])
        .arg(dir.path())
        .status()
        .unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    let o = Command::new("runuser")
        .args(["-u", user, "--"])
        .arg(&bin)
        .arg(dir.path().join("labs/segment.rhai"))
        .arg("--out")
        .arg(&out)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if text.contains("user namespaces") && o.status.code() == Some(2) {
        return common::skip_or_fail(&format!(
            "this system forbids unprivileged user namespaces: {text}"
        ));
    }
    assert_eq!(o.status.code(), Some(0), "{text}");
    let csv = std::fs::read_to_string(out.join("packets.csv")).unwrap();
    let lens: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter(|l| l.contains("10.77.0.1,10.77.0.2"))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            cols.get(14).copied()
        })
        .filter(|len| *len != "0")
        .collect();
    assert_eq!(lens, ["1460", "1460", "30"], "{csv}");
    // The report belongs to the user, not to root.
    let meta = std::fs::metadata(out.join("report.md")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_ne!(
        meta.uid(),
        0,
        "the report is owned by the user who ran labrun"
    );
}
