//! Sharing one sandbox between two labrun processes (the interactive chat's two
//! terminals): the first publishes its hosts' namespaces on a Unix socket, the second
//! receives the descriptors (SCM_RIGHTS) and makes its sockets and captures inside them.
//!
//! Rootless, the namespaces belong to the first process's user namespace, so the second
//! joins that user namespace first, while it is still single-threaded.

use super::{Netns, Sandbox, SandboxError};
use std::io::{self, Read};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Most descriptors one message carries (a user namespace and the hosts).
const MAX_FDS: usize = 8;

/// One host as published: name, address, MAC, interface, namespace.
#[derive(Debug, Clone)]
pub struct SharedHost {
    /// Its name in scripts and reports.
    pub name: String,
    /// Its IPv4 address on the lab link.
    pub ip: Ipv4Addr,
    /// Its MAC address, as text.
    pub mac: String,
    /// Its interface on the lab link.
    pub iface: String,
    /// Its network namespace.
    pub netns: Arc<Netns>,
}

/// The sandbox this process joined, if it did.
static JOINED: Mutex<Vec<SharedHost>> = Mutex::new(Vec::new());

/// Where the rendezvous socket of `lab` lives for the user `uid`: a predictable path, in a
/// directory both labruns check is private to the user (see [`publish`] and [`join`]).
pub fn rendezvous_path(uid: u32, lab: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("labrun-{uid}"))
        .join(format!("{lab}.sock"))
}

/// [`rendezvous_path`] for this process's user: call before entering a user namespace,
/// where the user id reads as 0.
pub fn own_rendezvous_path(lab: &str) -> PathBuf {
    // SAFETY: getuid has no preconditions.
    rendezvous_path(unsafe { libc::getuid() }, lab)
}

fn io_err(action: &str) -> impl FnOnce(io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io {
        action: action.to_string(),
        source,
    }
}

/// Keeps a sandbox published while it lives; removes the socket file when dropped.
#[derive(Debug)]
pub struct Published {
    /// The sandbox being shared.
    pub sandbox: Arc<Sandbox>,
    path: PathBuf,
}

impl Drop for Published {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Publishes `sandbox` at `path` for a second labrun process; serves every process that
/// connects until the returned guard is dropped.
pub fn publish(sandbox: Arc<Sandbox>, path: &Path) -> Result<Published, SandboxError> {
    if let Some(dir) = path.parent() {
        // The path is predictable (the second labrun must find it): the directory is
        // accepted only when it is this user's own, mode 0700, and not a symlink.
        crate::private_dir::ensure_private(dir).map_err(io_err("use the rendezvous directory"))?;
    }
    if UnixStream::connect(path).is_ok() {
        return Err(SandboxError::Config(format!(
            "another labrun already shares its lab network at {} (is a chat server already running?)",
            path.display()
        )));
    }
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).map_err(io_err("listen on the rendezvous socket"))?;
    let mut text = String::from("labrun-sandbox 1\n");
    let mut fds: Vec<RawFd> = Vec::new();
    let userns =
        std::fs::File::open("/proc/self/ns/user").map_err(io_err("open the user namespace"))?;
    fds.push(userns.as_raw_fd());
    for h in &sandbox.hosts {
        text.push_str(&format!(
            "{} {} {} {}\n",
            h.name,
            h.ip,
            crate::analysis::fmt_mac(&h.mac),
            h.iface
        ));
        fds.push(h.netns.as_raw_fd());
    }
    let keep = Arc::clone(&sandbox);
    std::thread::Builder::new()
        .name("labrun-rendezvous".into())
        .spawn(move || {
            let _alive = (keep, userns);
            for stream in listener.incoming().flatten() {
                let _ = send_fds(&stream, text.as_bytes(), &fds);
            }
        })
        .map_err(io_err("start the rendezvous thread"))?;
    Ok(Published {
        sandbox,
        path: path.to_path_buf(),
    })
}

/// Joins the sandbox published at `path`: enters its user namespace when this process is
/// not root (call while single-threaded, first thing in `main`) and keeps its hosts for
/// [`joined_hosts`].
pub fn join(path: &Path) -> Result<(), SandboxError> {
    // Only a socket in this user's private directory can come from this user's labrun:
    // another user's socket there would hand this process namespaces of theirs.
    if let Some(dir) = path.parent() {
        crate::private_dir::check_private(dir).map_err(|source| {
            let action = if source.kind() == io::ErrorKind::NotFound {
                format!(
                    "reach the chat server's lab network at {} — start `labrun labs/chat.rhai --interactive --role server` in another terminal first",
                    path.display()
                )
            } else {
                "trust the rendezvous directory".to_string()
            };
            SandboxError::Io { action, source }
        })?;
    }
    let stream = UnixStream::connect(path).map_err(|source| SandboxError::Io {
        action: format!(
            "reach the chat server's lab network at {} — start `labrun labs/chat.rhai --interactive --role server` in another terminal first",
            path.display()
        ),
        source,
    })?;
    let (text, mut fds) = recv_fds(&stream).map_err(io_err("receive the lab network"))?;
    let mut lines = text.lines();
    if lines.next() != Some("labrun-sandbox 1") || fds.is_empty() {
        return Err(SandboxError::Config(
            "the rendezvous socket did not answer like labrun".into(),
        ));
    }
    let userns = fds.remove(0);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // SAFETY: setns(2) on a user-namespace descriptor we were handed; the process is
        // still single-threaded, as CLONE_NEWUSER requires.
        if unsafe { libc::setns(userns.as_raw_fd(), libc::CLONE_NEWUSER) } != 0 {
            return Err(SandboxError::Enter {
                source: io::Error::last_os_error(),
                hint: "\n  both chat terminals must run labrun as the same user".into(),
            });
        }
        // The process's own network namespace belongs to the machine's user namespace,
        // where it has no rights now: give it one of its own to come back to after
        // working inside a lab host.
        // SAFETY: unshare(2) with CLONE_NEWNET, still single-threaded; no memory involved.
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return Err(SandboxError::Namespace {
                source: io::Error::last_os_error(),
                hint: String::new(),
            });
        }
    }
    let mut hosts = Vec::new();
    for (line, fd) in lines.zip(fds) {
        let parts: Vec<&str> = line.split(' ').collect();
        let [name, ip, mac, iface] = parts[..] else {
            return Err(SandboxError::Config(format!(
                "bad host line from the rendezvous: {line}"
            )));
        };
        let ip = ip
            .parse()
            .map_err(|_| SandboxError::Config(format!("bad address from the rendezvous: {ip}")))?;
        hosts.push(SharedHost {
            name: name.to_string(),
            ip,
            mac: mac.to_string(),
            iface: iface.to_string(),
            netns: Arc::new(Netns::from_fd(fd)?),
        });
    }
    *crate::util::lock(&JOINED) = hosts;
    Ok(())
}

/// The hosts of the sandbox this process joined with [`join`]; empty when it joined none.
pub fn joined_hosts() -> Vec<SharedHost> {
    crate::util::lock(&JOINED).clone()
}

fn send_fds(stream: &UnixStream, payload: &[u8], fds: &[RawFd]) -> io::Result<()> {
    let n = std::mem::size_of_val(fds);
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(n as u32) } as usize;
    let mut control = vec![0u8; space];
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    // SAFETY: a zeroed msghdr is valid; every pointer set below outlives the sendmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = space as _;
    // SAFETY: the control buffer is CMSG_SPACE(n) bytes, enough for one header and n bytes.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() {
            return Err(io::Error::other("no room for the descriptors"));
        }
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(n as u32) as _;
        std::ptr::copy_nonoverlapping(fds.as_ptr() as *const u8, libc::CMSG_DATA(cmsg), n);
        if libc::sendmsg(stream.as_raw_fd(), &msg, 0) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn recv_fds(stream: &UnixStream) -> io::Result<(String, Vec<OwnedFd>)> {
    let mut payload = vec![0u8; 4096];
    let n_max = MAX_FDS * std::mem::size_of::<RawFd>();
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(n_max as u32) } as usize;
    let mut control = vec![0u8; space];
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    // SAFETY: a zeroed msghdr is valid; every pointer set below outlives the recvmsg call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = space as _;
    // SAFETY: recvmsg writes at most the buffer sizes given in msg.
    let got = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if got < 0 {
        return Err(io::Error::last_os_error());
    }
    payload.truncate(usize::try_from(got).unwrap_or(0));
    let mut fds = Vec::new();
    // SAFETY: walking the control messages recvmsg filled in, within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg);
                let len = (*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..len / std::mem::size_of::<RawFd>() {
                    let mut fd: RawFd = 0;
                    std::ptr::copy_nonoverlapping(
                        data.add(i * std::mem::size_of::<RawFd>()),
                        &mut fd as *mut RawFd as *mut u8,
                        std::mem::size_of::<RawFd>(),
                    );
                    fds.push(OwnedFd::from_raw_fd(fd));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    let mut rest = Vec::new();
    let _ = (&*stream).read_to_end(&mut rest);
    Ok((String::from_utf8_lossy(&payload).into_owned(), fds))
}
