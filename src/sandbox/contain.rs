//! Containing a program labrun did not write (a student's server or client): resource
//! limits, its own process group, death with labrun, and, when labrun is root of the
//! machine, an unprivileged user.
//!
//! Everything here happens in the child between `fork` and `exec`, with async-signal-safe
//! system calls only. The network part of the containment is the namespace the caller
//! starts the program in.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The user and group a contained program runs as when labrun is root: `nobody`.
pub const NOBODY: (u32, u32) = (65534, 65534);

/// The limits a contained program gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU seconds (RLIMIT_CPU): SIGXCPU at this, SIGKILL a second later.
    pub cpu_seconds: u64,
    /// Memory in bytes (RLIMIT_DATA: the heap and private writable mappings; address space
    /// a JVM or Go runtime only reserves is not counted, so they start under the limit).
    pub memory: u64,
    /// Processes and threads of the program's user beyond those it already has
    /// (RLIMIT_NPROC, which counts threads too).
    pub processes: u64,
    /// The largest file it may write, in bytes (RLIMIT_FSIZE).
    pub file_size: u64,
    /// Open descriptors (RLIMIT_NOFILE).
    pub open_files: u64,
}

impl Default for Limits {
    /// 10 CPU seconds, 1 GiB of memory, 64 more processes or threads (a JVM starts
    /// about 20), 16 MiB files, 256 descriptors: plenty for a chat server, fatal to a busy
    /// loop or a fork bomb.
    fn default() -> Self {
        Limits {
            cpu_seconds: 10,
            memory: 1 << 30,
            processes: 64,
            file_size: 16 << 20,
            open_files: 256,
        }
    }
}

/// Whom a contained program runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAs {
    /// An unprivileged user and group (labrun is root of the machine).
    User(u32, u32),
    /// labrun's own user: labrun is an ordinary user (in its own user namespace, where it
    /// has no other user to become).
    Same,
}

impl RunAs {
    /// `nobody` when labrun is root of the machine (uid 0 in the first user namespace),
    /// else labrun's own user.
    pub fn for_this_process() -> RunAs {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let initial = std::fs::read_to_string("/proc/self/uid_map")
            .map(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
            .unwrap_or(false);
        if root && initial {
            RunAs::User(NOBODY.0, NOBODY.1)
        } else {
            RunAs::Same
        }
    }

    /// The user id the program will have.
    pub fn uid(self) -> u32 {
        match self {
            RunAs::User(uid, _) => uid,
            // SAFETY: getuid has no preconditions.
            RunAs::Same => unsafe { libc::getuid() },
        }
    }
}

/// How many tasks (processes and their threads) user `uid` runs now: RLIMIT_NPROC counts
/// them all.
pub fn processes_of(uid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .map(|e| {
            std::fs::read_dir(e.path().join("task"))
                .map(|t| t.count() as u64)
                .unwrap_or(1)
        })
        .sum()
}

/// Makes `cmd` start contained: its own process group (so one signal reaches all it
/// forks), killed when labrun's thread that started it dies, as `run_as`, with no way to
/// gain privileges (set-uid programs included), and with `limits`.
pub fn contain(cmd: &mut Command, limits: Limits, run_as: RunAs) {
    let nproc = processes_of(run_as.uid()).saturating_add(limits.processes);
    let set = [
        (libc::RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
        (libc::RLIMIT_DATA, limits.memory, limits.memory),
        (libc::RLIMIT_NPROC, nproc, nproc),
        (libc::RLIMIT_FSIZE, limits.file_size, limits.file_size),
        (libc::RLIMIT_NOFILE, limits.open_files, limits.open_files),
        (libc::RLIMIT_CORE, 0, 0),
    ];
    // SAFETY: the closure runs in the child between fork and exec and makes only
    // async-signal-safe system calls (setpgid, setrlimit, setgroups, setgid, setuid,
    // prctl) on values computed before the fork; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            for (resource, soft, hard) in set {
                let lim = libc::rlimit {
                    rlim_cur: soft as libc::rlim_t,
                    rlim_max: hard as libc::rlim_t,
                };
                if libc::setrlimit(resource, &lim) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // While still root of the machine or of labrun's user namespace: root gets no
            // special powers back, and the bounding set is emptied.
            if limit_root() != 0 {
                return Err(io::Error::last_os_error());
            }
            if let RunAs::User(uid, gid) = run_as {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            // No capability survives: labrun's own user inside its user namespace is root
            // there, and a program of labrun's own user must not inherit that power.
            if clear_capabilities() != 0 {
                return Err(io::Error::last_os_error());
            }
            // After setuid, which clears the parent-death signal.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0
                || libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The highest capability number the bounding set is cleared up to (CAP_LAST_CAP is 40
/// on Linux 6.x; dropping an unknown one fails with EINVAL and is ignored).
const LAST_CAP: i32 = 63;

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const CAP_SETPCAP: u32 = 8;

/// `capget`/`capset`'s header.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

/// `capget`/`capset`'s data, one per 32 capabilities.
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const NO_CAPS: [CapData; 2] = [CapData {
    effective: 0,
    permitted: 0,
    inheritable: 0,
}; 2];

/// When the calling process holds CAP_SETPCAP (root, or root of labrun's user namespace):
/// locks "uid 0 has no special powers" in (securebits: no capabilities from being root at
/// exec, none kept or restored on uid changes) and empties the bounding set. 0, or -1 with
/// errno set. Async-signal-safe (system calls only), for a child between fork and exec.
fn limit_root() -> i32 {
    const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
    const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
    const SECBIT_NO_SETUID_FIXUP: libc::c_ulong = 1 << 2;
    const SECBIT_NO_SETUID_FIXUP_LOCKED: libc::c_ulong = 1 << 3;
    // SAFETY: capget and prctl with valid arguments and pointers to locals; they read or
    // change only this process's credentials.
    unsafe {
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let mut data = NO_CAPS;
        let has_setpcap = libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) == 0
            && data[0].effective & (1 << CAP_SETPCAP) != 0;
        if !has_setpcap {
            return 0;
        }
        let bits = SECBIT_NOROOT
            | SECBIT_NOROOT_LOCKED
            | SECBIT_NO_SETUID_FIXUP
            | SECBIT_NO_SETUID_FIXUP_LOCKED;
        if libc::prctl(libc::PR_SET_SECUREBITS, bits, 0, 0, 0) != 0 {
            return -1;
        }
        for cap in 0..=LAST_CAP {
            // An unknown capability number fails with EINVAL: nothing to drop.
            libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
        }
    }
    0
}

/// Clears the ambient, inheritable, permitted and effective capabilities of the calling
/// process. 0, or -1 with errno set. Async-signal-safe, for a child between fork and exec.
fn clear_capabilities() -> i32 {
    // SAFETY: prctl and capset with valid arguments and pointers to locals; dropping
    // capabilities only ever lowers this process's privileges.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        if libc::syscall(libc::SYS_capset, &mut header, NO_CAPS.as_ptr()) != 0 {
            return -1;
        }
    }
    0
}

/// True when a TCP socket of the calling thread's network namespace listens on `port`
/// (any address, IPv4 or IPv6): what `ss -ltn` shows, read from /proc/thread-self/net.
pub fn tcp_listening(port: u16) -> bool {
    ["tcp", "tcp6"].iter().any(|file| {
        std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
            .map(|table| listens_in(&table, port))
            .unwrap_or(false)
    })
}

/// True when a UDP socket of the calling thread's network namespace is bound to `port`
/// (any address, IPv4 or IPv6), read from /proc/thread-self/net.
pub fn udp_bound(port: u16) -> bool {
    ["udp", "udp6"].iter().any(|file| {
        std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
            .map(|table| in_state(&table, port, None))
            .unwrap_or(false)
    })
}

/// True when the /proc/net/tcp `table` has a socket in state LISTEN (0A) on `port`.
fn listens_in(table: &str, port: u16) -> bool {
    in_state(table, port, Some("0A"))
}

/// True when the /proc/net `table` (tcp, udp) has a socket on local `port`, in `state`
/// when given.
fn in_state(table: &str, port: u16, want: Option<&str>) -> bool {
    table.lines().skip(1).any(|line| {
        let mut cols = line.split_whitespace();
        let local = cols.nth(1).unwrap_or("");
        let state = cols.nth(1).unwrap_or("");
        let local_port = local
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        want.is_none_or(|w| w == state) && local_port == Some(port)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_is_found_in_the_proc_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue\n   0: 00000000:22B8 00000000:0000 0A 00000000:00000000\n   1: 0100007F:1F90 0100007F:A2C4 01 00000000:00000000\n";
        assert!(listens_in(table, 8888));
        assert!(!listens_in(table, 8080), "established, not listening");
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(tcp_listening(l.local_addr().unwrap().port()));
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(udp_bound(u.local_addr().unwrap().port()));
    }
}
