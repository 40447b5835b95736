//! The connect scan: a non-blocking `connect()` per port, many in flight at once, all
//! driven by one poller (mio: epoll on Linux, kqueue on BSD and macOS) on one thread.
//!
//! A connect that succeeds is an open port (the kernel completed the handshake; the
//! socket is then closed, FIN); ECONNREFUSED is a closed port (RST, or an ICMP port
//! unreachable: the socket API cannot tell them apart); no answer within the timeout,
//! after every retry, is a filtered port.

use super::timing::Schedule;
use super::{PortState, Reason, ScanOptions, ScanReport, ScanResult};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Connects started between two polls.
const BURST: usize = 256;
/// How long the scan may find no free socket or local port before it gives up.
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// File descriptors kept free for everything else the process does.
const SPARE_FDS: usize = 64;

/// What a connect attempt came to.
enum Outcome {
    /// Still connecting: wait for the poller.
    Pending(TcpStream),
    /// Decided.
    Done(PortState, Reason),
    /// No resources now (ephemeral ports or descriptors): try again shortly.
    Later,
}

/// Runs a connect scan of `ports` of `target` from the current network namespace.
pub fn scan(
    src: IpAddr,
    target: IpAddr,
    ports: &[u16],
    options: &ScanOptions,
) -> ScanResult<ScanReport> {
    let started = Instant::now();
    let window = options.max_in_flight.min(fd_budget());
    let mut sched = Schedule::new(
        ports,
        window,
        options.retries,
        options.max_timeout,
        (PortState::Filtered, Reason::NoResponse),
        options.progress.clone(),
    );
    let mut poll = Poll::new().map_err(|e| super::ScanError::io("create a poller", e))?;
    let mut events = Events::with_capacity(1024);
    let mut socks: Vec<Option<TcpStream>> = Vec::new();
    socks.resize_with(ports.len(), || None);
    let domain = Domain::for_address(SocketAddr::new(target, 0));
    let mut spare: Vec<Socket> = Vec::with_capacity(SPARE_SOCKETS);
    let mut stalled: Option<Instant> = None;
    loop {
        if options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
            || crate::clock::check().is_err()
        {
            return Err(super::ScanError::Interrupted);
        }
        let mut started_now = 0;
        let mut blocked = false;
        while started_now < BURST {
            let Some((i, t)) = sched.next_probe(Instant::now()) else {
                blocked = true;
                break;
            };
            started_now += 1;
            let to = SocketAddr::new(target, sched.port(i));
            match start(domain, to, &mut spare)? {
                Outcome::Done(state, reason) => {
                    stalled = None;
                    sched.answer(i, Some(t), state, reason, Instant::now());
                }
                Outcome::Pending(mut s) => {
                    stalled = None;
                    poll.registry()
                        .register(&mut s, Token(i), Interest::WRITABLE)
                        .map_err(|e| {
                            super::ScanError::io("register a socket with the poller", e)
                        })?;
                    socks[i] = Some(s);
                }
                Outcome::Later => {
                    sched.unsend(i);
                    blocked = true;
                    let since = *stalled.get_or_insert_with(Instant::now);
                    if since.elapsed() > STALL_LIMIT {
                        return Err(super::ScanError::io(
                            format!(
                                "start a connect to {to}: no socket or local port came free for {}",
                                crate::util::fmt_duration(STALL_LIMIT)
                            ),
                            io::Error::from(io::ErrorKind::AddrNotAvailable),
                        ));
                    }
                    break;
                }
            }
        }
        let timeout = if blocked {
            sched
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_millis(1))
                .min(Duration::from_millis(20))
        } else {
            Duration::ZERO
        };
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(super::ScanError::io("wait for connects", e)),
        }
        let now = Instant::now();
        for ev in events.iter() {
            let i = ev.token().0;
            let Some(s) = socks.get_mut(i).and_then(Option::take) else {
                continue;
            };
            match finished(&s) {
                Some((state, reason)) => {
                    let t = sched.tries(i);
                    sched.answer(i, Some(t), state, reason, now);
                    let mut s = s;
                    let _ = poll.registry().deregister(&mut s);
                }
                None => socks[i] = Some(s),
            }
        }
        for i in sched.expire(Instant::now()) {
            if let Some(mut s) = socks[i].take() {
                let _ = poll.registry().deregister(&mut s);
            }
        }
        if sched.finished() {
            break;
        }
    }
    let (ports, stats) = sched.finish(started.elapsed());
    Ok(ScanReport {
        target,
        source: src,
        scan_type: options.scan_type,
        ports,
        stats,
    })
}

/// Refused sockets kept for the next connects.
const SPARE_SOCKETS: usize = 64;

/// Starts connecting to `to` with a spare socket or a new non-blocking one.
///
/// A socket whose connect was refused goes back to `spare`: Linux lets a socket connect
/// again once its failed attempt is cleared, which saves creating and destroying a socket
/// per closed port (most of a loopback scan's cost besides the handshake itself).
fn start(domain: Domain, to: SocketAddr, spare: &mut Vec<Socket>) -> ScanResult<Outcome> {
    let addr = SockAddr::from(to);
    let mut reused = None;
    while let Some(s) = spare.pop() {
        let mut result = s.connect(&addr);
        if matches!(&result, Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED)) {
            // The first connect after a refusal only resets the socket; this one connects.
            result = s.connect(&addr);
        }
        match &result {
            // Still busy with its last attempt (an ICMP error that arrived while the kernel
            // held the socket is only a "soft" error: the SYN is retried): not reusable.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EALREADY | libc::EISCONN)) => {}
            _ => {
                reused = Some((s, result));
                break;
            }
        }
    }
    let (s, result) = match reused {
        Some(r) => r,
        None => {
            // SOCK_NONBLOCK at creation where the system has it (one call fewer per port);
            // macOS sets O_NONBLOCK afterwards.
            #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
            let opened = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP));
            #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
            let opened = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))
                .and_then(|s| s.set_nonblocking(true).map(|()| s));
            let s = match opened {
                Ok(s) => s,
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS)
                    ) =>
                {
                    return Ok(Outcome::Later);
                }
                Err(e) => return Err(super::ScanError::io("open a socket", e)),
            };
            let result = s.connect(&addr);
            (s, result)
        }
    };
    match result {
        Ok(()) => Ok(decide_connected(&s, to)),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {
            // On loopback the answer is often there already: no need to wait for it.
            match s.take_error() {
                Ok(Some(e)) => {
                    let outcome = decided(&e, to);
                    if e.raw_os_error() == Some(libc::ECONNREFUSED) && spare.len() < SPARE_SOCKETS {
                        spare.push(s);
                    }
                    outcome
                }
                _ => Ok(Outcome::Pending(TcpStream::from_std(s.into()))),
            }
        }
        // No free ephemeral port at the moment (Linux says EAGAIN).
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EADDRNOTAVAIL)) => {
            Ok(Outcome::Later)
        }
        Err(e) => decided(&e, to),
    }
}

/// The outcome of a connect that failed with `e`; an error that says nothing about the
/// port stops the scan.
fn decided(e: &io::Error, to: SocketAddr) -> ScanResult<Outcome> {
    match error_outcome(e) {
        Some((state, reason)) => Ok(Outcome::Done(state, reason)),
        None => Err(super::ScanError::io(
            format!("connect to {to}"),
            clone_error(e),
        )),
    }
}

fn clone_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(n) => io::Error::from_raw_os_error(n),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

/// The state of a socket the poller woke up for, or `None` if it is still connecting.
fn finished(s: &TcpStream) -> Option<(PortState, Reason)> {
    match s.take_error() {
        Ok(Some(e)) | Err(e) => {
            Some(error_outcome(&e).unwrap_or((PortState::Filtered, Reason::NoResponse)))
        }
        Ok(None) => match s.peer_addr() {
            Ok(peer) => {
                // The kernel may pick the scanned port itself as the source port on
                // loopback and connect the socket to itself: nothing listens there.
                if s.local_addr().ok() == Some(peer) {
                    Some((PortState::Closed, Reason::ConnRefused))
                } else {
                    Some((PortState::Open, Reason::SynAck))
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
            Err(e) => error_outcome(&e),
        },
    }
}

fn decide_connected(s: &Socket, to: SocketAddr) -> Outcome {
    let local = s.local_addr().ok().and_then(|a| a.as_socket());
    if local == Some(to) {
        Outcome::Done(PortState::Closed, Reason::ConnRefused)
    } else {
        Outcome::Done(PortState::Open, Reason::SynAck)
    }
}

/// What a connect error means for the port, if it says anything about it.
fn error_outcome(e: &io::Error) -> Option<(PortState, Reason)> {
    match e.raw_os_error()? {
        libc::ECONNREFUSED => Some((PortState::Closed, Reason::ConnRefused)),
        libc::EHOSTUNREACH => Some((PortState::Filtered, Reason::HostUnreach)),
        libc::ENETUNREACH => Some((PortState::Filtered, Reason::NetUnreach)),
        libc::EACCES | libc::EPERM => Some((PortState::Filtered, Reason::AdminProhibited)),
        libc::ETIMEDOUT => Some((PortState::Filtered, Reason::NoResponse)),
        _ => None,
    }
}

/// How many sockets may be open at once: the open-file limit (raised to its hard
/// maximum where allowed) minus a reserve.
fn fd_budget() -> usize {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return 256;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max.min(1 << 20),
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim.rlim_cur = raised.rlim_cur;
                }
            }
        }
        usize::try_from(lim.rlim_cur)
            .unwrap_or(usize::MAX)
            .saturating_sub(SPARE_FDS)
            .max(16)
    }
    #[cfg(not(unix))]
    {
        256
    }
}
