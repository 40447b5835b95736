//! Anonymous network namespaces held only by a file descriptor.

use super::SandboxError;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

/// A network namespace, alive exactly as long as this value (and any socket or thread
/// still inside it).
///
/// It is anonymous: no `ip netns` entry, no bind mount, only an open descriptor of
/// `/proc/thread-self/ns/net`. When the process ends, however it ends (SIGKILL included),
/// the kernel closes the descriptor and the namespace and its interfaces disappear.
#[derive(Debug)]
pub struct Netns {
    fd: OwnedFd,
    id: u64,
}

impl Netns {
    /// A new, empty network namespace (only a `lo`, down).
    ///
    /// A short-lived thread unshares its network namespace, opens it and exits; the
    /// calling thread is not moved.
    pub fn new() -> Result<Netns, SandboxError> {
        let thread = std::thread::Builder::new()
            .name("labrun-netns".into())
            .spawn(|| -> Result<File, SandboxError> {
                // SAFETY: unshare(2) with CLONE_NEWNET only changes this short-lived thread's
                // network namespace; no memory is involved.
                if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                    let source = io::Error::last_os_error();
                    return Err(SandboxError::Namespace {
                        hint: super::privilege_hint(&source),
                        source,
                    });
                }
                current_file().map_err(|source| SandboxError::Io {
                    action: "open the new network namespace".into(),
                    source,
                })
            })
            .map_err(|source| SandboxError::Io {
                action: "start a thread to create a network namespace".into(),
                source,
            })?;
        let file = thread
            .join()
            .map_err(|_| SandboxError::Thread("namespace creation".into()))??;
        Netns::from_file(file)
    }

    /// The network namespace of the calling thread.
    pub fn current() -> Result<Netns, SandboxError> {
        let file = current_file().map_err(|source| SandboxError::Io {
            action: "open the current network namespace".into(),
            source,
        })?;
        Netns::from_file(file)
    }

    /// A namespace from a descriptor another process handed over (SCM_RIGHTS).
    pub fn from_fd(fd: OwnedFd) -> Result<Netns, SandboxError> {
        Netns::from_file(File::from(fd))
    }

    fn from_file(file: File) -> Result<Netns, SandboxError> {
        let id = file
            .metadata()
            .map_err(|source| SandboxError::Io {
                action: "inspect a network namespace".into(),
                source,
            })?
            .ino();
        Ok(Netns {
            fd: file.into(),
            id,
        })
    }

    /// The namespace's inode number: the `N` in `net:[N]` that `readlink /proc/PID/ns/net`
    /// shows for every thread inside it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Runs `f` on the calling thread inside this namespace, then switches the thread back
    /// to the namespace it was in, also when `f` panics (the panic then continues).
    ///
    /// Sockets and captures opened in `f` stay in this namespace after it returns; threads
    /// spawned in `f` start in this namespace.
    pub fn enter<T>(&self, f: impl FnOnce() -> T) -> Result<T, SandboxError> {
        let home = current_file().map_err(|source| SandboxError::Io {
            action: "open the current network namespace".into(),
            source,
        })?;
        setns(self.fd.as_fd()).map_err(|source| SandboxError::Enter {
            hint: super::privilege_hint(&source),
            source,
        })?;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let back = setns(home.as_fd());
        match (result, back) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(source)) => Err(SandboxError::Restore(source)),
            (Err(panic), _) => std::panic::resume_unwind(panic),
        }
    }
}

impl AsFd for Netns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Netns {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

/// Opens the calling thread's network namespace (close-on-exec, so children never hold it).
fn current_file() -> io::Result<File> {
    File::open("/proc/thread-self/ns/net")
}

/// Moves the calling thread into the network namespace `fd`.
fn setns(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: setns(2) on a valid namespace descriptor; affects only the calling thread.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
