//! The socket layer's error: an OS error as a lab shows it (name, errno, message).

use std::fmt;
use std::io;

/// An error from a socket call, kept as the application saw it so a lab can show it.
///
/// Scripts receive it as the value thrown by the failing call (`try { .. } catch (e) { e.name }`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SockError {
    /// The socket operation that failed, e.g. `"connect"`, `"recv"`.
    pub op: String,
    /// Symbolic errno name, e.g. `"ECONNREFUSED"`, or `"ETIMEDOUT"` for labrun's own deadline.
    pub name: String,
    /// The raw OS error number (0 when the error did not come from the OS).
    pub errno: i64,
    /// Human-readable explanation, including the addresses involved.
    pub message: String,
}

impl fmt::Display for SockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errno != 0 {
            write!(
                f,
                "{}: {} ({}, errno {})",
                self.op, self.message, self.name, self.errno
            )
        } else {
            write!(f, "{}: {} ({})", self.op, self.message, self.name)
        }
    }
}

impl SockError {
    /// Wraps an OS error from `op`; `context` names the endpoints involved.
    pub fn from_io(op: &str, err: &io::Error, context: &str) -> Self {
        let errno = err.raw_os_error().unwrap_or(0);
        let name = error_name(err);
        let base = strip_os_suffix(&err.to_string());
        let message = if context.is_empty() {
            base
        } else {
            format!("{base} ({context})")
        };
        SockError {
            op: op.to_string(),
            name,
            errno: i64::from(errno),
            message,
        }
    }

    /// A deadline expired: labrun's own timeout, not an OS error.
    pub fn timeout(op: &str, what: &str) -> Self {
        SockError {
            op: op.to_string(),
            name: "ETIMEDOUT".to_string(),
            errno: i64::from(ETIMEDOUT),
            message: what.to_string(),
        }
    }

    /// The run had to stop (its time limit, Ctrl-C) while `op` waited.
    pub fn stopped(op: &str, stop: crate::clock::Stop) -> Self {
        let (name, errno) = match stop {
            crate::clock::Stop::TimeLimit(_) => ("ETIME", ETIME),
            _ => ("EINTR", EINTR),
        };
        SockError {
            op: op.to_string(),
            name: name.to_string(),
            errno: i64::from(errno),
            message: stop.to_string(),
        }
    }

    /// A misuse of the API (closed socket, bad address), not an OS error.
    pub fn usage(op: &str, what: impl Into<String>) -> Self {
        SockError {
            op: op.to_string(),
            name: "EINVAL".to_string(),
            errno: 0,
            message: what.into(),
        }
    }

    /// True when the run had to stop while the call waited ([`SockError::stopped`]).
    pub fn is_stop(&self) -> bool {
        self.errno != 0 && (self.name == "ETIME" || self.name == "EINTR")
    }

    /// True when the error means "the deadline passed" (SO_RCVTIMEO/SO_SNDTIMEO or ours).
    pub fn is_timeout(&self) -> bool {
        self.name == "ETIMEDOUT" || self.name == "EAGAIN" || self.name == "EWOULDBLOCK"
    }
}

/// `io::Error`'s text ends with " (os error N)"; the errno is shown separately.
fn strip_os_suffix(text: &str) -> String {
    match text.rfind(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text.to_string(),
    }
}

/// ETIMEDOUT's number on this platform (labrun's own deadlines report it).
#[cfg(unix)]
const ETIMEDOUT: i32 = libc::ETIMEDOUT;
/// ETIMEDOUT's number on this platform (labrun's own deadlines report it).
#[cfg(not(unix))]
const ETIMEDOUT: i32 = 10060;

/// ETIME's number on this platform (a wait ended by the run's time limit reports it).
#[cfg(unix)]
const ETIME: i32 = libc::ETIME;
/// ETIME's number on this platform (a wait ended by the run's time limit reports it).
#[cfg(not(unix))]
const ETIME: i32 = 62;

/// EINTR's number on this platform (a wait ended by Ctrl-C reports it).
#[cfg(unix)]
const EINTR: i32 = libc::EINTR;
/// EINTR's number on this platform (a wait ended by Ctrl-C reports it).
#[cfg(not(unix))]
const EINTR: i32 = 10004;

/// The symbolic errno name of an OS error, e.g. `ECONNREFUSED`.
#[cfg(unix)]
fn error_name(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(n) if n != 0 => errno_name(n).to_string(),
        _ => format!("{:?}", err.kind()),
    }
}

/// The symbolic errno name of an OS error, from its kind (Windows reports WSA codes).
#[cfg(not(unix))]
fn error_name(err: &io::Error) -> String {
    use io::ErrorKind as K;
    match err.kind() {
        K::ConnectionRefused => "ECONNREFUSED",
        K::ConnectionReset => "ECONNRESET",
        K::ConnectionAborted => "ECONNABORTED",
        K::BrokenPipe => "EPIPE",
        K::TimedOut => "ETIMEDOUT",
        K::WouldBlock => "EAGAIN",
        K::AddrInUse => "EADDRINUSE",
        K::AddrNotAvailable => "EADDRNOTAVAIL",
        K::NotConnected => "ENOTCONN",
        K::PermissionDenied => "EACCES",
        K::InvalidInput => "EINVAL",
        _ => "EOTHER",
    }
    .to_string()
}

/// The symbolic name of the errno values a network lab meets.
#[cfg(unix)]
pub fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EBADF => "EBADF",
        libc::EACCES => "EACCES",
        libc::EINVAL => "EINVAL",
        libc::EPIPE => "EPIPE",
        libc::EAGAIN => "EAGAIN",
        libc::EINPROGRESS => "EINPROGRESS",
        libc::EALREADY => "EALREADY",
        libc::ENOTSOCK => "ENOTSOCK",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EPROTOTYPE => "EPROTOTYPE",
        libc::ENOPROTOOPT => "ENOPROTOOPT",
        libc::EADDRINUSE => "EADDRINUSE",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENETDOWN => "ENETDOWN",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ECONNRESET => "ECONNRESET",
        libc::ENOBUFS => "ENOBUFS",
        libc::EISCONN => "EISCONN",
        libc::ENOTCONN => "ENOTCONN",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EHOSTDOWN => "EHOSTDOWN",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::ENOMEM => "ENOMEM",
        libc::ENOSPC => "ENOSPC",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENETRESET => "ENETRESET",
        libc::ESHUTDOWN => "ESHUTDOWN",
        _ => "EOTHER",
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn names_the_errors_labs_show() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let s = SockError::from_io("connect", &e, "to 127.0.0.1:9");
        assert_eq!(s.name, "ECONNREFUSED");
        assert_eq!(s.errno, i64::from(libc::ECONNREFUSED));
        assert_eq!(
            s.to_string(),
            format!(
                "connect: Connection refused (to 127.0.0.1:9) (ECONNREFUSED, errno {})",
                libc::ECONNREFUSED
            )
        );
        assert_eq!(errno_name(libc::EPIPE), "EPIPE");
        assert_eq!(errno_name(libc::ECONNRESET), "ECONNRESET");
        // Running out of descriptors is named as such, not as a generic error.
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        let s = SockError::from_io("udp", &e, "");
        assert_eq!(
            (s.name.as_str(), s.errno),
            ("EMFILE", i64::from(libc::EMFILE))
        );
    }
}
