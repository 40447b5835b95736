//! The lab network in child processes: as root and as an ordinary user (through labrun's
//! own user namespace), the refusal where user namespaces are forbidden, and nothing left
//! behind after a SIGKILL.
//!
//! Runs without the test harness: the user namespace must be entered while the process has
//! a single thread, so this binary re-runs itself as the child (`--child MODE`).

mod common;

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("skipped: the lab network is Linux only");
}

#[cfg(target_os = "linux")]
mod linux {
    use super::common::host_state::{netns_list, root_links};
    use super::common::{is_root, lab_wire, skip_or_fail};
    use labrun::sandbox::{HostSpec, Privilege, Sandbox, SandboxConfig, ensure_privileges};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::Ipv4Addr;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    const USER: &str = "labrunsbx";
    /// Marks the children's command lines, to find any that survived.
    const MARKER: &str = "--labrun-sandbox-child";

    pub fn main() {
        let args: Vec<String> = std::env::args().collect();
        if args.get(1).map(String::as_str) == Some(MARKER) {
            let code = child(args.get(2).map(String::as_str).unwrap_or(""));
            std::process::exit(code);
        }
        if args.iter().any(|a| a == "--list") {
            return;
        }
        // `cargo test NAME` passes NAME on: run only when it matches this file.
        let filters: Vec<&String> = args
            .iter()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        if !filters.is_empty()
            && !filters
                .iter()
                .any(|f| "sandbox_process".contains(f.as_str()))
        {
            return;
        }
        if !is_root() {
            skip_or_fail("these tests create a user and change a kernel setting: they need root");
            return;
        }
        let exe = BinaryCopy::new();
        let user = TestUser::create();
        let as_root = None;
        let as_user = Some((user.uid, user.gid));
        run("wire as root", || wire(&exe.path, as_root, "Privileged"));
        run("wire as an ordinary user", || {
            wire(&exe.path, as_user, "UserNamespace")
        });
        run("SIGKILL as root leaves nothing", || {
            killed_leaves_nothing(&exe.path, as_root)
        });
        run("SIGKILL as an ordinary user leaves nothing", || {
            killed_leaves_nothing(&exe.path, as_user)
        });
        run("refusal names the setting and the fixes", || {
            refusal(&exe.path, as_user)
        });
    }

    fn run(name: &str, f: impl FnOnce()) {
        let t = Instant::now();
        f();
        println!("test sandbox_process: {name} ... ok ({:?})", t.elapsed());
    }

    /// The child side. Single-threaded until `ensure_privileges` returns.
    fn child(mode: &str) -> i32 {
        if mode == "limited" {
            let args: Vec<String> = std::env::args().skip(3).collect();
            return limited(
                args.first().map(String::as_str).unwrap_or(""),
                args.get(1).map(String::as_str).unwrap_or(""),
            );
        }
        let privilege = match ensure_privileges(true) {
            Ok(p) => p,
            Err(e) => {
                println!("error: {e}");
                return 3;
            }
        };
        let kind = match privilege {
            Privilege::Privileged => "Privileged",
            Privilege::UserNamespace { .. } => "UserNamespace",
            Privilege::Unprivileged => "Unprivileged",
        };
        println!("privilege {kind}");
        match mode {
            "wire" => {
                let sb = match Sandbox::build(&SandboxConfig::default()) {
                    Ok(sb) => sb,
                    Err(e) => {
                        println!("error: {e}");
                        return 4;
                    }
                };
                println!("setup {:?}", sb.setup_time);
                let r = lab_wire::client_to_server(&sb, 2950);
                let segs: Vec<String> = r.data_segments.iter().map(|n| n.to_string()).collect();
                println!("segments {}", segs.join(","));
                println!("arp {}", r.arp_frames);
                println!("received {}", r.received);
                0
            }
            "hold" => {
                let mut cfg = SandboxConfig::default();
                cfg.hosts
                    .push(HostSpec::new("attacker", Ipv4Addr::new(10, 77, 0, 66), 24));
                let sb = match Sandbox::build(&cfg) {
                    Ok(sb) => sb,
                    Err(e) => {
                        println!("error: {e}");
                        return 4;
                    }
                };
                let mut ids: Vec<String> =
                    sb.hosts.iter().map(|h| h.netns.id().to_string()).collect();
                ids.extend(sb.switch.as_ref().map(|s| s.id().to_string()));
                println!("ids {}", ids.join(","));
                println!("ready");
                std::thread::sleep(Duration::from_secs(60));
                0
            }
            _ => 5,
        }
    }

    fn child_command(exe: &Path, ids: Option<(u32, u32)>, mode: &str) -> Command {
        let mut cmd = Command::new(exe);
        cmd.arg(MARKER).arg(mode);
        cmd.current_dir(exe.parent().unwrap_or(Path::new("/")));
        cmd.env_remove("CI");
        if let Some((uid, gid)) = ids {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn output_of(exe: &Path, ids: Option<(u32, u32)>, mode: &str) -> (i32, String) {
        let out = child_command(exe, ids, mode)
            .output()
            .expect("run the child");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn wire(exe: &Path, ids: Option<(u32, u32)>, privilege: &str) {
        let (code, out) = output_of(exe, ids, "wire");
        assert_eq!(code, 0, "child failed:\n{out}");
        assert!(out.contains(&format!("privilege {privilege}")), "{out}");
        assert!(out.contains("segments 1460,1460,30\n"), "{out}");
        assert!(out.contains("received 2950"), "{out}");
        assert!(!out.contains("arp 0\n"), "{out}");
        let setup = out.lines().find(|l| l.starts_with("setup")).unwrap_or("");
        println!("  {setup}");
    }

    /// Every `net:[N]`/`user:[N]` a process holds (thread namespaces and open descriptors).
    fn held_namespaces() -> Vec<String> {
        let mut held = Vec::new();
        for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let pid = p.path();
            let mut links = Vec::new();
            for t in std::fs::read_dir(pid.join("task"))
                .into_iter()
                .flatten()
                .flatten()
            {
                links.push(t.path().join("ns/net"));
                links.push(t.path().join("ns/user"));
            }
            for fd in std::fs::read_dir(pid.join("fd"))
                .into_iter()
                .flatten()
                .flatten()
            {
                links.push(fd.path());
            }
            for l in links {
                if let Ok(t) = std::fs::read_link(&l) {
                    held.push(t.to_string_lossy().into_owned());
                }
            }
        }
        held
    }

    /// Processes whose command line carries the child marker.
    fn children_alive() -> Vec<String> {
        let mut found = Vec::new();
        for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            if let Ok(cmdline) = std::fs::read(p.path().join("cmdline")) {
                let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                if text.contains(MARKER) {
                    found.push(format!("{}: {text}", p.file_name().to_string_lossy()));
                }
            }
        }
        found
    }

    fn killed_leaves_nothing(exe: &Path, ids: Option<(u32, u32)>) {
        let links_before = root_links();
        let netns_before = netns_list();
        assert!(children_alive().is_empty(), "{:?}", children_alive());
        let mut child = child_command(exe, ids, "hold")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().expect("child stdout");
        let mut netns_ids = Vec::new();
        let mut user_ns = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("read the child");
            if let Some(list) = line.strip_prefix("ids ") {
                netns_ids = list.split(',').map(|s| format!("net:[{s}]")).collect();
            }
            if line.starts_with("error") {
                panic!("child failed: {line}");
            }
            if line == "ready" {
                break;
            }
        }
        assert_eq!(netns_ids.len(), 4, "three hosts and a switch");
        if ids.is_some() {
            let link = std::fs::read_link(format!("/proc/{}/ns/user", child.id()))
                .expect("child's user namespace");
            let mine = std::fs::read_link("/proc/self/ns/user").expect("my user namespace");
            assert_ne!(
                link, mine,
                "the ordinary user runs in its own user namespace"
            );
            user_ns = Some(link.to_string_lossy().into_owned());
        }
        let held = held_namespaces();
        for id in &netns_ids {
            assert!(held.contains(id), "{id} not held while the child runs");
        }
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");
        let held = held_namespaces();
        for id in netns_ids.iter().chain(user_ns.iter()) {
            assert!(!held.contains(id), "{id} survived the SIGKILL");
        }
        assert_eq!(
            root_links(),
            links_before,
            "links changed in the root namespace"
        );
        assert_eq!(netns_list(), netns_before, "`ip netns list` changed");
        assert!(children_alive().is_empty(), "{:?}", children_alive());
    }

    /// Runs the `wire` child as `ids` inside a user namespace whose
    /// `user.max_user_namespaces` is 0, so the child's own user namespace is refused.
    ///
    /// The limit is set in a throwaway user namespace, not on the machine: root here may
    /// lack CAP_SYS_RESOURCE (containers), and other processes keep theirs meanwhile.
    fn refusal(exe: &Path, ids: Option<(u32, u32)>) {
        let (uid, gid) = ids.expect("an ordinary user");
        let mut child = child_command(exe, None, "limited")
            .arg(uid.to_string())
            .arg(gid.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the child");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the child");
        assert_eq!(line.trim(), "unshared", "{line}");
        // Root of the machine maps the child's user namespace (uids 0..65536 as they are).
        for map in ["uid_map", "gid_map"] {
            std::fs::write(format!("/proc/{}/{map}", child.id()), "0 0 65536")
                .expect("write the child's id map");
        }
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"go\n").expect("tell the child to go on");
        drop(stdin);
        let mut out = String::new();
        stdout.read_to_string(&mut out).expect("read the child");
        let status = child.wait().expect("wait for the child");
        assert_eq!(status.code(), Some(3), "expected the refusal:\n{out}");
        for needle in [
            "does not let ordinary users create user namespaces",
            "user.max_user_namespaces = 0",
            "sudo ",
            "sudo sysctl -w user.max_user_namespaces=",
            "setcap cap_net_raw,cap_net_admin+ep",
            "creating namespaces needs CAP_SYS_ADMIN",
        ] {
            assert!(out.contains(needle), "`{needle}` missing from:\n{out}");
        }
        for l in out.lines() {
            println!("  {l}");
        }
    }

    /// The `limited` child: enters a new user namespace, waits for root to map it, sets
    /// the namespace's user-namespace limit to 0, becomes `uid`/`gid` and runs `wire`.
    fn limited(uid: &str, gid: &str) -> i32 {
        let (Ok(uid), Ok(gid)) = (uid.parse::<u32>(), gid.parse::<u32>()) else {
            return 6;
        };
        // SAFETY: namespace flag only; this process is single-threaded.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
            println!("error: unshare: {}", std::io::Error::last_os_error());
            return 7;
        }
        println!("unshared");
        let _ = std::io::stdout().flush();
        let mut go = String::new();
        if std::io::stdin().read_line(&mut go).is_err() || go.trim() != "go" {
            return 8;
        }
        if let Err(e) = std::fs::write("/proc/sys/user/max_user_namespaces", "0") {
            println!("error: cannot set the limit: {e}");
            return 9;
        }
        // SAFETY: plain id changes in a single-threaded process; results are checked.
        let dropped = unsafe {
            libc::setgroups(0, std::ptr::null()) == 0
                && libc::setgid(gid) == 0
                && libc::setuid(uid) == 0
        };
        if !dropped {
            println!(
                "error: cannot drop to {uid}: {}",
                std::io::Error::last_os_error()
            );
            return 10;
        }
        let Ok(exe) = std::env::current_exe() else {
            return 11;
        };
        let e = Command::new(exe).arg(MARKER).arg("wire").exec();
        println!("error: exec: {e}");
        12
    }

    /// An ordinary user for the test, removed on drop.
    struct TestUser {
        uid: u32,
        gid: u32,
        created: bool,
    }

    impl TestUser {
        fn create() -> TestUser {
            let exists = Command::new("id")
                .arg(USER)
                .output()
                .is_ok_and(|o| o.status.success());
            if !exists {
                let st = Command::new("useradd")
                    .args(["-M", "-N", "-s", "/usr/sbin/nologin", USER])
                    .status()
                    .expect("useradd");
                assert!(st.success(), "useradd failed");
            }
            let id = |flag: &str| -> u32 {
                let o = Command::new("id").args([flag, USER]).output().expect("id");
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse()
                    .expect("numeric id")
            };
            let (uid, gid) = (id("-u"), id("-g"));
            assert_ne!(uid, 0);
            TestUser {
                uid,
                gid,
                created: !exists,
            }
        }
    }

    impl Drop for TestUser {
        fn drop(&mut self) {
            if self.created {
                let _ = Command::new("userdel").arg(USER).status();
            }
        }
    }

    /// This test binary copied where an ordinary user can run it; removed on drop.
    struct BinaryCopy {
        dir: tempfile::TempDir,
        path: PathBuf,
    }

    impl BinaryCopy {
        fn new() -> BinaryCopy {
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod dir");
            let path = dir.path().join("sandbox_probe");
            std::fs::copy(std::env::current_exe().expect("current exe"), &path).expect("copy");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .expect("chmod exe");
            BinaryCopy { dir, path }
        }
    }

    impl Drop for BinaryCopy {
        fn drop(&mut self) {
            let _ = &self.dir;
        }
    }
}
