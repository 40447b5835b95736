//! Running without root: labrun enters its own user namespace, like `unshare -rn`.

use super::SandboxError;
use super::netlink::Rtnl;
use std::io;

/// How the process got the privileges a lab needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Privilege {
    /// Root, or already holding CAP_SYS_ADMIN: nothing was changed.
    Privileged,
    /// An ordinary user: the process now runs as root of its own user namespace, in a new
    /// network namespace with `lo` up (the host's interfaces are out of reach).
    UserNamespace {
        /// The effective user id outside, mapped to 0 inside.
        uid: u32,
        /// The effective group id outside, mapped to 0 inside.
        gid: u32,
    },
    /// An ordinary user and no sandbox asked for: nothing was changed, and opening a
    /// capture may fail for lack of CAP_NET_RAW.
    Unprivileged,
}

/// CAP_SYS_ADMIN's bit in the capability sets.
const CAP_SYS_ADMIN: u32 = 21;

/// Readies this process for the lab network; call first thing in `main`, while it is
/// single-threaded. With `join`, it joins the sandbox another labrun shares there
/// ([`super::join`]); otherwise, when `need_sandbox`, an ordinary user enters labrun's own
/// user namespace ([`ensure_privileges`]).
pub fn prepare_process(
    join: Option<&std::path::Path>,
    need_sandbox: bool,
) -> Result<(), SandboxError> {
    match join {
        Some(path) => super::join(path),
        None => ensure_privileges(need_sandbox).map(drop),
    }
}

/// Gets the privileges for the lab network. Call it first thing in `main`, while the
/// process has a single thread (the kernel refuses a user namespace to a threaded process).
///
/// - root, or CAP_SYS_ADMIN already held: nothing to do;
/// - otherwise, when `need_sandbox`: `unshare(CLONE_NEWUSER | CLONE_NEWNET)`, `setgroups`
///   denied, uid and gid mapped to 0 (like `unshare -rn`), `lo` brought up. Afterwards
///   network namespaces, veth pairs, captures (`AF_PACKET`) and raw sockets all work;
/// - where the system forbids unprivileged user namespaces, the error says which setting
///   forbids it and what the student can do.
pub fn ensure_privileges(need_sandbox: bool) -> Result<Privilege, SandboxError> {
    // SAFETY: geteuid/getegid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == 0 || has_capability(CAP_SYS_ADMIN) {
        return Ok(Privilege::Privileged);
    }
    if !need_sandbox {
        return Ok(Privilege::Unprivileged);
    }
    let threads = thread_count();
    if threads > 1 {
        return Err(SandboxError::Threads(threads));
    }
    // SAFETY: unshare(2) with namespace flags only; the process is single-threaded, as
    // CLONE_NEWUSER requires.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) } != 0 {
        let source = io::Error::last_os_error();
        return Err(match source.raw_os_error() {
            Some(libc::EPERM | libc::ENOSPC | libc::EUSERS | libc::EACCES) => {
                SandboxError::UserNamespacesForbidden(forbidden_message(&source))
            }
            _ => SandboxError::UserNamespace {
                step: "unshare(CLONE_NEWUSER | CLONE_NEWNET)".into(),
                source,
            },
        });
    }
    let write = |path: &str, text: String| {
        std::fs::write(path, text).map_err(|source| SandboxError::UserNamespace {
            step: format!("write {path}"),
            source,
        })
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1"))?;
    let up = Rtnl::open()
        .map_err(super::netlink::NetlinkFailure::from)
        .and_then(|mut rtnl| rtnl.set_up(1, true));
    if let Err(e) = up {
        if e.source.raw_os_error() == Some(libc::EPERM) {
            // A user namespace without capabilities: AppArmor's restriction lets unshare
            // succeed and then denies every privileged operation.
            return Err(SandboxError::UserNamespacesForbidden(forbidden_message(
                &e.source,
            )));
        }
        return Err(SandboxError::netlink(
            "bring `lo` up in labrun's namespace",
            e,
        ));
    }
    Ok(Privilege::UserNamespace { uid, gid })
}

/// True when `cap` is in the process's effective capability set.
fn has_capability(cap: u32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|bits| bits & (1u64 << cap) != 0)
}

/// The process's thread count (1 when it cannot be read: unshare then tells the truth).
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(1)
}

fn read_setting(path: &str) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Why the system refused a user namespace, and the fixes that apply.
fn forbidden_message(source: &io::Error) -> String {
    let mut reasons = Vec::new();
    let mut sysctl_fixes = Vec::new();
    if read_setting("/proc/sys/kernel/unprivileged_userns_clone") == Some(0) {
        reasons.push("kernel.unprivileged_userns_clone = 0".to_string());
        sysctl_fixes.push("sudo sysctl -w kernel.unprivileged_userns_clone=1");
    }
    if read_setting("/proc/sys/user/max_user_namespaces") == Some(0) {
        reasons.push("user.max_user_namespaces = 0".to_string());
        sysctl_fixes.push("sudo sysctl -w user.max_user_namespaces=10000");
    }
    if read_setting("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == Some(1) {
        reasons.push(
            "kernel.apparmor_restrict_unprivileged_userns = 1 (AppArmor, as on Ubuntu 24.04)"
                .to_string(),
        );
        sysctl_fixes.push("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
    }
    let why = if reasons.is_empty() {
        "no kernel setting says so: a security policy (e.g. a container's seccomp profile) refused it".to_string()
    } else {
        reasons.join(", ")
    };
    let binary = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "labrun".into());
    let mut msg = format!(
        "this system does not let ordinary users create user namespaces ({why}; the kernel said: {source}).\n\
         labrun needs one to build its lab network without root. Fixes:\n\
         \x20 - run labrun as root: `sudo {binary} ...`"
    );
    for fix in sysctl_fixes {
        msg.push_str(&format!(
            "\n  - or, if you administer this machine, allow them: `{fix}`"
        ));
    }
    msg.push_str(&format!(
        "\n  - `sudo setcap cap_net_raw,cap_net_admin+ep {binary}` lets labrun capture without root on \
         loopback or a real interface (--network loopback or host), but does not enable the sandbox: \
         creating namespaces needs CAP_SYS_ADMIN"
    ));
    msg
}
