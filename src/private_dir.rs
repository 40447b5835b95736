//! Private temporary directories: a random name, mode 0700, never an existing path (as
//! `mkdtemp` makes them), removed when dropped and, when labrun is killed, by a reaper.
//!
//! Every temporary directory labrun makes under the temp dir comes from [`PrivateDir`]:
//! another local user cannot predict its name, pre-create it, or swap in a symlink that
//! would make a root run write elsewhere. The reaper is labrun's own executable started
//! with a hidden argument ([`REAPER_ARG`]); it ignores SIGINT/SIGTERM/SIGHUP, reads the
//! directories (and browser process groups) labrun registers on a pipe, and when the pipe
//! ends (labrun exited or was killed, even by SIGKILL) kills those groups and removes the
//! directories still there. Only the binary turns it on ([`enable_reaper`]).

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Every name labrun gives a directory in the temp dir starts with this.
pub const PREFIX: &str = "labrun-";

/// The hidden first argument that makes the labrun executable the reaper.
pub const REAPER_ARG: &str = "__labrun-reaper";

/// How long a removal keeps retrying while processes still write into the directory.
const REMOVE_PATIENCE: Duration = Duration::from_secs(2);

/// The temp dir (`$TMPDIR`, else /tmp) as an absolute path, as the reaper checks it.
fn temp_dir() -> io::Result<PathBuf> {
    let t = std::env::temp_dir();
    if t.is_absolute() {
        Ok(t)
    } else {
        Ok(std::env::current_dir()?.join(t))
    }
}

/// A directory only this user can enter, removed (with everything in it) when dropped.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Makes `$TMPDIR/labrun-<what>-<random>` (mode 0700) and registers it with the reaper.
    pub fn new(what: &str) -> io::Result<PrivateDir> {
        let dir = Self::create_in(&temp_dir()?, what)?;
        reaper_send(b'd', dir.path.as_os_str().as_bytes());
        Ok(dir)
    }

    /// Makes `<parent>/labrun-<what>-<random>`, mode 0700, refusing any existing path
    /// (not registered with the reaper).
    pub fn create_in(parent: &Path, what: &str) -> io::Result<PrivateDir> {
        let path = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{what}-"))
            .rand_bytes(12)
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(parent)?
            .keep();
        let dir = PrivateDir { path };
        // The umask can only narrow 0700; check anyway, as the name promises privacy.
        check_private(&dir.path)?;
        Ok(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the subdirectory `name` (mode 0700; an existing path is an error).
    pub fn subdir(&self, name: &str) -> io::Result<PathBuf> {
        use std::os::unix::fs::DirBuilderExt;
        let p = self.path.join(name);
        std::fs::DirBuilder::new().mode(0o700).create(&p)?;
        Ok(p)
    }

    /// Creates the new file `name` (mode 0600; an existing path, or a symlink, is an error).
    pub fn create_file(&self, name: &str) -> io::Result<std::fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(self.path.join(name))
    }

    /// Tells the reaper to kill process group `pgid` if labrun dies before [`Self::forget_group`].
    pub fn watch_group(&self, pgid: u32) {
        reaper_send(b'g', pgid.to_string().as_bytes());
    }

    /// The process group `pgid` is gone: the reaper must not signal it any more.
    pub fn forget_group(&self, pgid: u32) {
        reaper_send(b'h', pgid.to_string().as_bytes());
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        remove_patiently(&self.path);
        reaper_send(b'u', self.path.as_os_str().as_bytes());
    }
}

/// Checks that `dir` is a real directory (not a symlink) owned by this user, with no
/// access for group or others.
pub fn check_private(dir: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    let refuse = |why: &str| {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} {why}", dir.display()),
        ))
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symlink, not a directory of labrun's");
    }
    if !meta.is_dir() {
        return refuse("is not a directory");
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return refuse(&format!(
            "belongs to user {}, not to this user ({me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return refuse(&format!(
            "has mode {:o}: others may enter it (it must be 0700)",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

/// Makes `dir` (mode 0700) or accepts it only when it already is private to this user
/// (see [`check_private`]): for the few well-known paths two labrun processes must share.
pub fn ensure_private(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    check_private(dir)
}

/// Kills (SIGKILL) every process of this user whose environment points into `dir`, e.g.
/// `TMPDIR=<dir>/tmp`: what a program started there left running outside its process
/// group (Chromium's crash handler). `dir`'s random name makes the match exact.
pub fn kill_processes_in(dir: &Path) {
    let me = std::process::id();
    let dir = dir.as_os_str().as_bytes();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let inside = environ.split(|&b| b == 0).any(|var| {
            let value = match var.iter().position(|&b| b == b'=') {
                Some(i) => &var[i + 1..],
                None => return false,
            };
            value
                .strip_prefix(dir)
                .is_some_and(|rest| rest.is_empty() || rest[0] == b'/')
        });
        if let (true, Ok(pid)) = (inside, i32::try_from(pid)) {
            // SAFETY: kill(2) on a process whose environment names our private directory.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// Removes `dir` and everything in it without following symlinks, retrying for a while
/// when processes that are dying still create files in it.
fn remove_patiently(dir: &Path) {
    let start = Instant::now();
    loop {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return,
            Err(_) if start.elapsed() < REMOVE_PATIENCE => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(_) => return,
        }
    }
}

static REAPER_ON: AtomicBool = AtomicBool::new(false);
static REAPER: Mutex<Option<Reaper>> = Mutex::new(None);

#[derive(Debug)]
struct Reaper {
    pipe: std::process::ChildStdin,
    _child: std::process::Child,
}

/// Lets [`PrivateDir::new`] start the reaper (the binary calls this; a library user whose
/// executable is not labrun must not, as the reaper re-executes it).
pub fn enable_reaper() {
    REAPER_ON.store(true, Ordering::SeqCst);
}

/// Sends one record (`kind`, then `arg`, then NUL) to the reaper, starting it if needed.
/// Without a reaper (not enabled, or it cannot start) cleanup still happens on drop.
fn reaper_send(kind: u8, arg: &[u8]) {
    if !REAPER_ON.load(Ordering::SeqCst) || arg.contains(&0) {
        return;
    }
    let mut guard = REAPER.lock().unwrap_or_else(|p| p.into_inner());
    if guard.is_none() {
        *guard = start_reaper().ok();
    }
    if let Some(r) = guard.as_mut() {
        let mut rec = Vec::with_capacity(arg.len() + 2);
        rec.push(kind);
        rec.extend_from_slice(arg);
        rec.push(0);
        if r.pipe.write_all(&rec).is_err() {
            *guard = None;
        }
    }
}

fn start_reaper() -> io::Result<Reaper> {
    use std::process::{Command, Stdio};
    // /proc/self/exe is this very executable, even if its file was replaced since.
    let mut child = Command::new("/proc/self/exe")
        .arg(REAPER_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let pipe = child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no pipe to the reaper"))?;
    Ok(Reaper {
        pipe,
        _child: child,
    })
}

/// The reaper's whole life (`labrun __labrun-reaper`, stdin a pipe from labrun): collect
/// registrations until end of file, then kill the groups and remove the directories.
pub fn run_reaper() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
        // SAFETY: setting a signal to SIG_IGN installs no handler code.
        unsafe {
            libc::signal(sig, libc::SIG_IGN);
        }
    }
    close_inherited_fds();
    let mut input = Vec::new();
    let _ = io::stdin().lock().read_to_end(&mut input);
    let (dirs, groups) = registrations(&input);
    for pgid in groups {
        // SAFETY: kill(2) on a process group labrun started and registered (it leads the
        // group; the number cannot be reused while members of the group live).
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let Ok(temp) = temp_dir() else {
        return;
    };
    for dir in dirs {
        if reapable(&dir, &temp) {
            kill_processes_in(&dir);
            remove_patiently(&dir);
        }
    }
}

/// Closes every descriptor but stdin/stdout/stderr that labrun may have left inheritable.
fn close_inherited_fds() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: closing descriptors this process does not use (the directory iterator's
        // own descriptor is already closed, and closing it again only fails).
        unsafe {
            libc::close(fd);
        }
    }
}

/// The directories and process groups still registered after reading `input`.
fn registrations(input: &[u8]) -> (Vec<PathBuf>, Vec<i32>) {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut groups: Vec<i32> = Vec::new();
    // A record cut short by labrun's death has no NUL: ignore it.
    let complete = match input.iter().rposition(|&b| b == 0) {
        Some(i) => &input[..=i],
        None => &[][..],
    };
    for rec in complete.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let (kind, arg) = (rec[0], &rec[1..]);
        let path = || PathBuf::from(OsStr::from_bytes(arg));
        let pgid = || {
            std::str::from_utf8(arg)
                .ok()
                .and_then(|s| s.parse::<i32>().ok())
                .filter(|&p| p > 1)
        };
        match kind {
            b'd' => dirs.push(path()),
            b'u' => dirs.retain(|d| *d != path()),
            b'g' => groups.extend(pgid()),
            b'h' => {
                if let Some(p) = pgid() {
                    groups.retain(|&g| g != p);
                }
            }
            _ => {}
        }
    }
    (dirs, groups)
}

/// True when `dir` is one labrun made: directly in `temp`, named `labrun-...`, a real
/// directory of this user (a symlink swapped in is never followed).
fn reapable(dir: &Path, temp: &Path) -> bool {
    let named = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(PREFIX));
    named && dir.is_absolute() && dir.parent() == Some(temp) && check_private(dir).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_dir_is_0700_random_and_removed_on_drop() {
        let parent = tempfile::tempdir().unwrap();
        let a = PrivateDir::create_in(parent.path(), "browser").unwrap();
        let b = PrivateDir::create_in(parent.path(), "browser").unwrap();
        assert_ne!(a.path(), b.path());
        let name = a.path().file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with("labrun-browser-"), "{name}");
        assert!(name.len() >= "labrun-browser-".len() + 12, "{name}");
        let meta = std::fs::symlink_metadata(a.path()).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o777, 0o700);
        let p = a.path().to_path_buf();
        a.create_file("log").unwrap();
        std::fs::write(p.join("x"), b"x").unwrap();
        drop(a);
        assert!(!p.exists());
    }

    #[test]
    fn files_and_subdirs_refuse_existing_paths_and_symlinks() {
        let parent = tempfile::tempdir().unwrap();
        let dir = PrivateDir::create_in(parent.path(), "t").unwrap();
        let victim = parent.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("browser.log")).unwrap();
        assert!(dir.create_file("browser.log").is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        std::os::unix::fs::symlink(parent.path(), dir.path().join("tmp")).unwrap();
        assert!(dir.subdir("tmp").is_err());
        let made = dir.subdir("profile").unwrap();
        assert_eq!(std::fs::metadata(&made).unwrap().mode() & 0o777, 0o700);
        // Removal does not follow the symlinks inside.
        drop(dir);
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn the_old_predictable_names_cannot_be_planted() {
        // The old profile was $TMPDIR/labrun-browser-<pid>-<n>: an attacker could make it
        // in advance, as a directory or a symlink. Neither is ever used now: every
        // directory is a fresh one, made by mkdir, which fails on any existing path.
        let parent = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let planted = parent
            .path()
            .join(format!("labrun-browser-{}-0", std::process::id()));
        std::os::unix::fs::symlink(elsewhere.path(), &planted).unwrap();
        for _ in 0..20 {
            let d = PrivateDir::create_in(parent.path(), "browser").unwrap();
            assert_ne!(d.path(), planted);
            assert!(
                !std::fs::symlink_metadata(d.path())
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn ensure_private_refuses_symlinks_and_open_modes() {
        let parent = tempfile::tempdir().unwrap();
        let fresh = parent.path().join("labrun-1000");
        ensure_private(&fresh).unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o700);
        ensure_private(&fresh).unwrap();
        let open = parent.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = ensure_private(&open).unwrap_err().to_string();
        assert!(e.contains("mode 777"), "{e}");
        let link = parent.path().join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        let e = ensure_private(&link).unwrap_err().to_string();
        assert!(e.contains("symlink"), "{e}");
    }

    #[test]
    fn the_reaper_takes_only_complete_records_and_its_own_directories() {
        let input = b"d/tmp/labrun-a-1\0d/tmp/labrun-b-2\0g1234\0u/tmp/labrun-a-1\0g1\0gx\0g77\0h77\0d/tmp/labrun-c";
        let (dirs, groups) = registrations(input);
        assert_eq!(dirs, vec![PathBuf::from("/tmp/labrun-b-2")]);
        assert_eq!(groups, vec![1234]);

        let temp = tempfile::tempdir().unwrap();
        let own = PrivateDir::create_in(temp.path(), "x").unwrap();
        assert!(reapable(own.path(), temp.path()));
        assert!(!reapable(own.path(), Path::new("/elsewhere")));
        let other = temp.path().join("not-labrun");
        std::fs::create_dir(&other).unwrap();
        assert!(!reapable(&other, temp.path()));
        let link = temp.path().join("labrun-link");
        std::os::unix::fs::symlink(own.path(), &link).unwrap();
        assert!(!reapable(&link, temp.path()));
    }
}
