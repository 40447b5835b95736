//! A headless browser as a lab client, started inside a lab host's namespace so it
//! reaches nothing but the lab, with its own temporary profile.
//!
//! It dies with labrun: `PR_SET_PDEATHSIG` kills it if labrun is killed (even by
//! SIGKILL), it leads its own process group so its helpers go with it, and
//! [`Browser::close`] (also run on drop) kills the group and removes the profile.

use super::{WsError, WsResult};
use crate::network::Host;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Flags that make Chromium a quiet, isolated, headless client.
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
];

/// Finds the browser named by `--browser`: `chromium` (also found as chromium-browser,
/// google-chrome) or a path to its executable.
pub fn find_browser(name: &str) -> WsResult<PathBuf> {
    let candidates: Vec<&str> = match name {
        "chromium" | "chrome" => vec![
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
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

#[derive(Debug)]
struct Inner {
    child: Option<Child>,
    profile: PathBuf,
}

/// A running headless browser (cheap to clone; clones share the process).
#[derive(Debug, Clone)]
pub struct Browser {
    inner: Arc<Mutex<Inner>>,
    pid: u32,
}

static PROFILES: AtomicU32 = AtomicU32::new(0);

impl Browser {
    /// Starts the browser `program` inside `host`'s namespace, opening `url`.
    pub fn launch(host: &Host, program: &Path, url: &str) -> WsResult<Browser> {
        let profile = std::env::temp_dir().join(format!(
            "labrun-browser-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&profile).map_err(|e| {
            WsError::Browser(format!(
                "cannot create the profile {}: {e}",
                profile.display()
            ))
        })?;
        let log = std::fs::File::create(profile.join("browser.log"))
            .map_err(|e| WsError::Browser(format!("cannot create the browser log: {e}")))?;
        let log2 = log
            .try_clone()
            .map_err(|e| WsError::Browser(format!("cannot create the browser log: {e}")))?;
        let mut cmd = Command::new(program);
        cmd.args(CHROMIUM_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .env("HOME", &profile);
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
        // Started inside the host's namespace: the browser and its helpers live there.
        let child = host
            .within("browser", || cmd.spawn())?
            .map_err(|e| WsError::Browser(format!("cannot start {}: {e}", program.display())))?;
        let pid = child.id();
        Ok(Browser {
            inner: Arc::new(Mutex::new(Inner {
                child: Some(child),
                profile,
            })),
            pid,
        })
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
        std::fs::read_to_string(inner.profile.join("browser.log")).unwrap_or_default()
    }

    /// Kills the browser and its helpers, waits for it, removes its profile. Idempotent.
    pub fn close(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(mut child) = inner.child.take() {
            #[cfg(unix)]
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: signals the process group this browser leads (setpgid in pre_exec).
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&inner.profile);
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            #[cfg(unix)]
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: as in `Browser::close`.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&self.profile);
        }
    }
}
