//! A headless browser as a lab client, started inside a lab host's namespace so it
//! reaches nothing but the lab, in a private temporary directory of its own.
//!
//! A script chooses only the URL, and [`check_url`] holds it to the rule every socket
//! obeys: `http://` or `ws://` to a literal address of a lab host (or loopback), checked
//! before anything starts, and passed after `--`. Starting with `http://` or `ws://`, it
//! is never read as an option, even by a launcher script that drops the `--` (Debian's
//! /usr/bin/chromium does). Without a namespace (loopback, two machines) the browser's
//! proxy leads nowhere, so a page's own requests reach only loopback and the lab hosts.
//! The browser gets a cleared environment and fixed arguments: its profile, caches,
//! crash dumps, HOME and TMPDIR all live in one [`PrivateDir`] (random name, mode 0700).
//!
//! It dies with labrun: `PR_SET_PDEATHSIG` kills it if labrun is killed (even by
//! SIGKILL), it leads its own process group so its helpers go with it, and
//! [`Browser::close`] (also run on drop) kills the group and every process whose
//! environment points into the private directory (the crash handler leaves the group),
//! then removes the directory; if labrun is killed, its reaper does the same.

use super::{WsError, WsResult};
use crate::network::Host;
#[cfg(unix)]
use crate::private_dir::PrivateDir;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Child;
#[cfg(unix)]
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// How many browsers one run may have running at once (each is a few hundred MB).
pub const MAX_RUNNING: usize = 2;

/// Flags that make Chromium a quiet, isolated, headless client.
#[cfg(unix)]
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--mute-audio",
    "--disable-breakpad",
];

/// Where a browser with no namespace of its own (loopback, two machines) sends every
/// connection that is neither to loopback nor to a lab host: a proxy address on loopback,
/// so a page's own requests cannot leave for other machines.
#[cfg(unix)]
const NOWHERE_PROXY: &str = "--proxy-server=http://127.0.0.1:9";

/// Checks a URL a script wants a browser to open, before anything starts: an `http://`
/// or `ws://` URL of printable ASCII whose host is a literal address the host may reach
/// under the run's traffic rule. Returns that address.
pub fn check_url(host: &Host, url: &str) -> WsResult<SocketAddr> {
    let refuse = |why: String| Err(WsError::usage("browser", why));
    if url.starts_with('-') {
        return refuse(format!(
            "`{url}` is an option, not a URL: a lab passes the browser a URL only (http:// or ws://)"
        ));
    }
    if let Some(c) = url.chars().find(|c| !c.is_ascii_graphic()) {
        return refuse(format!(
            "the URL {url:?} contains {c:?}: a URL for the browser has no spaces, control or non-ASCII characters"
        ));
    }
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    if scheme != "http" && scheme != "ws" {
        return refuse(format!(
            "`{url}`: the browser opens only http:// or ws:// URLs of the lab's hosts, like http://10.77.0.2:8888/"
        ));
    }
    let (_, addr, _) = super::parse_url("browser", url)?;
    host.check_target("browser", addr)?;
    Ok(addr)
}

/// The names a Chromium-family browser goes by, in the order they are looked for.
pub const CHROMIUM_FAMILY: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "microsoft-edge-stable",
];

/// Finds the browser named by `--browser`: `chromium` (also found as chromium-browser,
/// google-chrome, microsoft-edge) or a path to its executable.
pub fn find_browser(name: &str) -> WsResult<PathBuf> {
    let candidates: Vec<&str> = match name {
        "chromium" | "chrome" => CHROMIUM_FAMILY.to_vec(),
        other => vec![other],
    };
    for c in &candidates {
        let p = Path::new(c);
        if p.components().count() > 1 {
            if p.is_file() {
                return Ok(p.to_path_buf());
            }
            continue;
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let full = dir.join(c);
                if full.is_file() {
                    return Ok(full);
                }
            }
        }
    }
    Err(WsError::Browser(format!(
        "no `{name}` found (looked for {}); on Debian: apt-get install -y chromium",
        candidates.join(", ")
    )))
}

/// Without Unix no browser starts (its private directory could not be removed after a
/// kill), so there is never a directory to hold.
#[cfg(not(unix))]
#[derive(Debug)]
enum PrivateDir {}

#[cfg(not(unix))]
impl PrivateDir {
    fn path(&self) -> &Path {
        match *self {}
    }

    fn forget_group(&self, _pgid: u32) {
        match *self {}
    }
}

#[derive(Debug)]
struct Inner {
    child: Option<Child>,
    /// Profile, caches, HOME, TMPDIR and the log; removed when dropped.
    dir: Option<PrivateDir>,
    log: PathBuf,
}

impl Inner {
    /// Kills the browser's process group, waits for it, removes its directory.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            #[cfg(unix)]
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: signals the process group this browser leads (setpgid in pre_exec).
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.kill();
            // Before the wait: until then the pid cannot be reused, so the reaper never
            // holds the number of a group that is not this browser's.
            if let Some(dir) = &self.dir {
                dir.forget_group(child.id());
            }
            let _ = child.wait();
        }
        if let Some(dir) = self.dir.take() {
            // Chromium's crash handler leaves the process group; it still has our TMPDIR.
            #[cfg(unix)]
            crate::private_dir::kill_processes_in(dir.path());
            #[cfg(not(unix))]
            let _ = dir.path();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running headless browser (cheap to clone; clones share the process).
#[derive(Debug, Clone)]
pub struct Browser {
    inner: Arc<Mutex<Inner>>,
    pid: u32,
}

#[cfg(unix)]
fn io_err(what: &str) -> impl FnOnce(std::io::Error) -> WsError + '_ {
    move |e| WsError::Browser(format!("cannot create {what}: {e}"))
}

impl Browser {
    /// Refuses: a browser client needs Unix (see the module's comment).
    #[cfg(not(unix))]
    pub fn launch(host: &Host, program: &Path, url: &str) -> WsResult<Browser> {
        check_url(host, url)?;
        Err(WsError::Browser(format!(
            "cannot start {}: a browser client needs Linux (a private directory and a process group that die with labrun)",
            program.display()
        )))
    }

    /// Starts the browser `program` inside `host`'s namespace, opening `url` once
    /// [`check_url`] accepts it.
    #[cfg(unix)]
    pub fn launch(host: &Host, program: &Path, url: &str) -> WsResult<Browser> {
        check_url(host, url)?;
        let mut extra = Vec::new();
        if !host.has_context() {
            // No namespace keeps the browser in the lab: a proxy that leads nowhere does,
            // for everything but loopback (which Chromium never proxies) and the lab hosts.
            let own: Vec<String> = host.policy().own.iter().map(|ip| ip.to_string()).collect();
            extra.push(NOWHERE_PROXY.to_string());
            extra.push(format!("--proxy-bypass-list={}", own.join(";")));
            extra.push("--force-webrtc-ip-handling-policy=disable_non_proxied_udp".to_string());
        }
        // Started inside the host's namespace: the browser and its helpers live there.
        Browser::start(program, &extra, url, |cmd| {
            host.within("browser", || cmd.spawn())?
                .map_err(|e| WsError::Browser(format!("cannot start {}: {e}", program.display())))
        })
    }

    /// Starts the browser `program` in labrun's own network namespace with `extra` flags,
    /// opening `target` (a `file://` URL labrun made, never a script's): every connection
    /// goes to a proxy that leads nowhere and no name is ever resolved, so the page reaches
    /// nothing, not even loopback. Used to print a report to PDF.
    #[cfg(unix)]
    pub fn start_offline(program: &Path, extra: &[String], target: &str) -> WsResult<Browser> {
        let mut flags = vec![
            NOWHERE_PROXY.to_string(),
            "--proxy-bypass-list=<-loopback>".to_string(),
            "--host-resolver-rules=MAP * ~NOTFOUND".to_string(),
        ];
        flags.extend_from_slice(extra);
        Browser::start(program, &flags, target, |cmd| {
            cmd.spawn()
                .map_err(|e| WsError::Browser(format!("cannot start {}: {e}", program.display())))
        })
    }

    /// Starts `program` with the isolating flags, `extra`, then `--` and `target`, in a
    /// fresh private directory, through `spawn`.
    #[cfg(unix)]
    fn start(
        program: &Path,
        extra: &[String],
        target: &str,
        spawn: impl FnOnce(&mut Command) -> WsResult<Child>,
    ) -> WsResult<Browser> {
        let dir = PrivateDir::new("browser").map_err(io_err("the browser's private directory"))?;
        let sub = |name: &str| {
            dir.subdir(name)
                .map_err(io_err("the browser's directories"))
        };
        let (profile, tmp, cache, config, crash) = (
            sub("profile")?,
            sub("tmp")?,
            sub("cache")?,
            sub("config")?,
            sub("crash")?,
        );
        let log = dir
            .create_file("browser.log")
            .map_err(io_err("the browser log"))?;
        let log2 = log.try_clone().map_err(io_err("the browser log"))?;
        let mut cmd = Command::new(program);
        cmd.args(CHROMIUM_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--disk-cache-dir={}", cache.display()))
            .arg(format!("--crash-dumps-dir={}", crash.display()))
            .args(extra);
        cmd.arg("--")
            .arg(target)
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
            )
            .env("HOME", dir.path())
            .env("TMPDIR", &tmp)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_CACHE_HOME", &cache)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    if libc::setpgid(0, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = spawn(&mut cmd)?;
        let pid = child.id();
        dir.watch_group(pid);
        Ok(Browser {
            inner: Arc::new(Mutex::new(Inner {
                child: Some(child),
                log: dir.path().join("browser.log"),
                dir: Some(dir),
            })),
            pid,
        })
    }

    /// The browser's private directory (its profile, caches and log live there), while
    /// it has one.
    pub fn private_path(&self) -> Option<PathBuf> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.dir.as_ref().map(|d| d.path().to_path_buf())
    }

    /// Waits until the browser exits or `deadline` passes; its exit status, or `None` when
    /// it still runs at the deadline.
    pub fn wait_until(&self, deadline: std::time::Instant) -> Option<std::process::ExitStatus> {
        loop {
            {
                let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
                match inner.child.as_mut().map(|c| c.try_wait()) {
                    Some(Ok(Some(status))) => return Some(status),
                    Some(Ok(None)) => {}
                    _ => return None,
                }
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return None;
            }
            std::thread::sleep((deadline - now).min(std::time::Duration::from_millis(50)));
        }
    }

    /// The browser's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// True while the browser runs.
    pub fn running(&self) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match inner.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// What the browser printed (its log), for error messages.
    pub fn output(&self) -> String {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.dir.is_none() {
            return String::new();
        }
        std::fs::read_to_string(&inner.log).unwrap_or_default()
    }

    /// Kills the browser and its helpers, waits for it, removes its directory. Idempotent.
    pub fn close(&self) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::TargetPolicy;

    fn client() -> Host {
        let policy = Arc::new(TargetPolicy {
            own: vec![[10, 77, 0, 2].into()],
        });
        Host::new("client", [10, 77, 0, 1].into(), "veth0", policy)
    }

    #[test]
    fn only_http_and_ws_urls_of_lab_hosts_reach_the_browser() {
        let h = client();
        assert!(check_url(&h, "http://10.77.0.2:8888/").is_ok());
        assert!(check_url(&h, "ws://10.77.0.2:8888/ws").is_ok());
        assert!(check_url(&h, "http://127.0.0.1:9/").is_ok());
        assert!(check_url(&h, "http://[::1]:9/").is_ok());
        for (url, why) in [
            ("--renderer-cmd-prefix=/bin/sh -c id", "is an option"),
            ("-x", "is an option"),
            ("http://10.77.0.2:8888/ --foo", "contains ' '"),
            ("http://10.77.0.2:8888/\n--foo", "contains '\\n'"),
            ("http://10.77.0.2:8888/\u{e9}", "non-ASCII"),
            ("file:///etc/passwd", "only http:// or ws://"),
            ("javascript:alert(1)", "only http:// or ws://"),
            ("HTTP://10.77.0.2/", "only http:// or ws://"),
            ("https://10.77.0.2/", "only http:// or ws://"),
            ("http://192.0.2.1:8080/", "is not a lab host"),
            ("http://10.77.0.3/", "is not a lab host"),
            ("http://example.com/", "not an address"),
            ("http://127.0.0.1@192.0.2.1/", "not an address"),
            ("http://127.0.0.1:80\\@192.0.2.1/", "not an address"),
        ] {
            let e = check_url(&h, url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
    }
}
