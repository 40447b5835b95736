//! The chat lab as the manual's terminal chat: two labruns, each on its own pseudo-terminal,
//! share one sandbox; each side types two lines, the client types `q`, both write reports.

#![cfg(target_os = "linux")]

mod common;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A process running on its own pseudo-terminal, with everything it printed.
struct OnPty {
    child: Child,
    master: std::fs::File,
    screen: Arc<Mutex<String>>,
}

impl OnPty {
    fn spawn(args: &[&str], out: &Path) -> OnPty {
        OnPty::spawn_in(&[], args, out)
    }

    /// Runs `PREFIX... labrun ARGS... --out OUT` (a prefix such as `ip netns exec NS` runs it
    /// on another "machine").
    fn spawn_in(prefix: &[&str], args: &[&str], out: &Path) -> OnPty {
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty fills two descriptors; the null pointers ask for defaults.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: both descriptors were just opened by openpty and are owned here.
        let slave = unsafe { OwnedFd::from_raw_fd(slave) };
        let master = unsafe { std::fs::File::from_raw_fd(master) };
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(env!("CARGO_BIN_EXE_labrun"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_labrun")),
        };
        let child = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("LABRUN_FORMATS", "none")
            .args(args)
            .arg("--out")
            .arg(out)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        OnPty {
            child,
            master,
            screen,
        }
    }

    fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }

    fn wait_for(&self, text: &str) {
        let t = Instant::now();
        while !self.screen().contains(text) {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "never saw {text:?}; screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_line(&mut self, line: &str) {
        use std::io::Write;
        self.master
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
    }

    fn exit_code(&mut self) -> Option<i32> {
        let t = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            if t.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("still running; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
fn two_terminals_chat_and_both_reports_show_it() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut server = OnPty::spawn(
        &[
            "labs/chat.rhai",
            "--interactive",
            "--role",
            "server",
            "--student",
            "1 Server Side",
        ],
        &dir.path().join("server"),
    );
    server.wait_for("Waiting on 10.77.0.2:8888");
    let mut client = OnPty::spawn(
        &[
            "labs/chat.rhai",
            "--interactive",
            "--role",
            "client",
            "--student",
            "2 Client Side",
        ],
        &dir.path().join("client"),
    );
    server.wait_for("connected:");
    client.wait_for("connected:");

    server.type_line("hello from the server");
    client.wait_for("> hello from the server");
    client.type_line("hi from the client");
    server.wait_for("> hi from the client");
    server.type_line("second server line");
    client.wait_for("> second server line");
    client.type_line("second client line");
    server.wait_for("> second client line");
    client.type_line("q");

    assert_eq!(client.exit_code(), Some(0), "client:\n{}", client.screen());
    assert_eq!(server.exit_code(), Some(0), "server:\n{}", server.screen());
    server.wait_for("(the other side closed the connection)");

    for side in ["server", "client"] {
        let md = std::fs::read_to_string(dir.path().join(side).join("report.md")).unwrap();
        for line in [
            "hello from the server",
            "hi from the client",
            "second server line",
            "second client line",
        ] {
            assert!(md.contains(line), "{side} report lacks {line:?}:\n{md}");
        }
        assert!(md.contains("**SYN, ACK**"), "{md}");
        let rows = common::lab::read_csv(&dir.path().join(side).join("packets.csv"));
        let col = common::lab::col;
        let data: Vec<&str> = rows[1..]
            .iter()
            .map(|r| r[col("tcp.len")].as_str())
            .filter(|l| !l.is_empty() && *l != "0")
            .collect();
        assert_eq!(
            data.len(),
            4,
            "{side}: four lines, four data segments: {data:?}"
        );
        let streams: std::collections::BTreeSet<&str> = rows[1..]
            .iter()
            .map(|r| r[col("tcp.stream")].as_str())
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(streams.len(), 1, "{side}: one stream");
        let fins = rows[1..]
            .iter()
            .filter(|r| r[col("tcp.flags.str")].ends_with('F'))
            .count();
        assert_eq!(fins, 2, "{side}: the close is clean, one FIN each way");
    }
}

#[test]
fn two_machines_chat_at_their_terminals() {
    if !common::is_root() {
        return common::skip_or_fail("making two namespaces needs root");
    }
    let machines = common::two_machines::TwoMachines::new("ichat");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (machines.a.clone(), machines.b.clone());
    let mut server = OnPty::spawn_in(
        &["ip", "netns", "exec", &a],
        &[
            "labs/chat.rhai",
            "--interactive",
            "--network",
            "host",
            "--role",
            "server",
            "--peer",
            "10.78.0.2",
        ],
        &dir.path().join("server"),
    );
    server.wait_for("Waiting on 10.78.0.1:8888");
    let mut client = OnPty::spawn_in(
        &["ip", "netns", "exec", &b],
        &[
            "labs/chat.rhai",
            "--interactive",
            "--network",
            "host",
            "--role",
            "client",
            "--peer",
            "10.78.0.1",
        ],
        &dir.path().join("client"),
    );
    server.wait_for("connected:");
    client.wait_for("connected:");
    client.type_line("across the cable");
    server.wait_for("> across the cable");
    server.type_line("and back");
    client.wait_for("> and back");
    server.type_line("q");
    assert_eq!(server.exit_code(), Some(0), "server:\n{}", server.screen());
    assert_eq!(client.exit_code(), Some(0), "client:\n{}", client.screen());
    for side in ["server", "client"] {
        let md = std::fs::read_to_string(dir.path().join(side).join("report.md")).unwrap();
        assert!(
            md.contains("across the cable") && md.contains("and back"),
            "{side}:\n{md}"
        );
        assert!(md.contains("two machines: this one is the"), "{md}");
    }
}
