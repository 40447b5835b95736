//! Real kernel sockets for labs (socket2 underneath), each call bounded by a deadline.
//!
//! Handles are cheap to clone (`Arc`) so a script can pass them around; closing one
//! closes the socket for every copy, as closing a file descriptor would.

mod error;
mod tcp;
mod udp;

pub use error::SockError;
#[cfg(unix)]
pub use error::errno_name;
pub use tcp::{
    KernelSamples, MAX_SAMPLES, SamplerStop, TcpConn, TcpListener, TcpOptions, lock_samples,
};
pub use udp::{Datagram, UdpSock};

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Default deadline of every blocking socket call (every deadline is also capped by the
/// run's time limit, see [`crate::clock`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Shorthand for this layer's results.
pub type SockResult<T> = Result<T, SockError>;

/// Parses `"ip:port"` (IPv6 as `"[::1]:80"`) into an address, naming `op` on failure.
///
/// An IPv4-mapped IPv6 address (`[::ffff:127.0.0.1]:8888`) is the IPv4 address it maps,
/// so it is checked and connected to as IPv4.
pub fn parse_addr(op: &str, text: &str) -> SockResult<SocketAddr> {
    let addr: SocketAddr = text.parse().map_err(|_| {
        SockError::usage(
            op,
            format!("`{text}` is not an address like 127.0.0.1:8888 or [::1]:8888"),
        )
    })?;
    Ok(SocketAddr::new(addr.ip().to_canonical(), addr.port()))
}

/// Maps a timed-out OS error (EAGAIN from SO_RCVTIMEO) to labrun's own timeout error.
fn io_err(op: &str, err: &std::io::Error, context: &str, timeout: Duration) -> SockError {
    match err.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => SockError::timeout(
            op,
            &format!(
                "timed out after {} ({context})",
                crate::util::fmt_duration(timeout)
            ),
        ),
        _ => SockError::from_io(op, err, context),
    }
}

/// The next wait of `op` before `deadline`, in slices that end at once when the run must
/// stop ([`crate::clock::slice`]); `Ok(None)` once `deadline` passed.
fn next_wait(op: &str, deadline: std::time::Instant) -> SockResult<Option<Duration>> {
    crate::clock::slice(deadline).map_err(|stop| SockError::stopped(op, stop))
}

/// True for the error a socket timeout (SO_RCVTIMEO, SO_SNDTIMEO) gives.
fn is_wait_over(err: &std::io::Error) -> bool {
    // On Unix an expired SO_RCVTIMEO/SO_SNDTIMEO is EAGAIN; ETIMEDOUT is the connection
    // timing out (keepalive or retransmissions gave up), a real error to report.
    #[cfg(unix)]
    return err.kind() == std::io::ErrorKind::WouldBlock;
    #[cfg(not(unix))]
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
