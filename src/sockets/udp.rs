//! UDP sockets: bind, send_to, recv_from, each bounded by a deadline.

use super::{DEFAULT_TIMEOUT, SockError, SockResult, io_err, is_wait_over, next_wait};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One datagram as received: its bytes and who sent it.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// The payload.
    pub data: Vec<u8>,
    /// The sender's address.
    pub from: SocketAddr,
}

/// A bound UDP socket.
#[derive(Debug, Clone)]
pub struct UdpSock {
    inner: Arc<UdpInner>,
}

#[derive(Debug)]
struct UdpInner {
    socket: Mutex<Option<UdpSocket>>,
    local: SocketAddr,
    timeout: Mutex<Duration>,
}

impl UdpSock {
    /// Binds `addr` (port 0 picks a free port).
    pub fn bind(addr: SocketAddr) -> SockResult<Self> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
            .map_err(|e| SockError::from_io("udp", &e, ""))?;
        socket
            .bind(&SockAddr::from(addr))
            .map_err(|e| SockError::from_io("udp", &e, &format!("binding {addr}")))?;
        let local = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(addr);
        Ok(UdpSock {
            inner: Arc::new(UdpInner {
                socket: Mutex::new(Some(socket.into())),
                local,
                timeout: Mutex::new(DEFAULT_TIMEOUT),
            }),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// Changes the deadline of each blocking call (capped by the run's time limit).
    pub fn set_timeout(&self, timeout: Duration) {
        *super::lock(&self.inner.timeout) = timeout;
    }

    fn timeout(&self) -> Duration {
        *super::lock(&self.inner.timeout)
    }

    fn with_socket<T>(
        &self,
        op: &str,
        f: impl FnOnce(&UdpSocket) -> SockResult<T>,
    ) -> SockResult<T> {
        let guard = super::lock(&self.inner.socket);
        match guard.as_ref() {
            Some(s) => f(s),
            None => Err(SockError::usage(op, "the UDP socket is closed")),
        }
    }

    /// Sends one datagram to `to`; returns the byte count.
    pub fn send_to(&self, data: &[u8], to: SocketAddr) -> SockResult<usize> {
        let ctx = format!("{} -> {to}", self.inner.local);
        self.in_slices("send_to", &ctx, |s| s.send_to(data, to))
    }

    /// Waits for one datagram (up to `max` bytes; the rest of a longer one is discarded, as in C).
    pub fn recv_from(&self, max: usize) -> SockResult<Datagram> {
        let ctx = format!("waiting on {}", self.inner.local);
        let mut buf = vec![0u8; max.clamp(1, 65536)];
        let (n, from) = self.in_slices("recv_from", &ctx, |s| s.recv_from(&mut buf))?;
        buf.truncate(n);
        Ok(Datagram { data: buf, from })
    }

    /// Runs the blocking socket call `f` until it succeeds or the socket's timeout passes,
    /// each try bounded by a slice (the run's time limit or a Ctrl-C end the wait at once).
    fn in_slices<T>(
        &self,
        op: &str,
        ctx: &str,
        mut f: impl FnMut(&UdpSocket) -> std::io::Result<T>,
    ) -> SockResult<T> {
        let timeout = self.timeout();
        self.with_socket(op, |s| {
            // Counted from when the socket is ours: another thread may have held it.
            let deadline = Instant::now() + timeout;
            loop {
                let Some(wait) = next_wait(op, deadline)? else {
                    return Err(SockError::timeout(
                        op,
                        &format!(
                            "timed out after {} ({ctx})",
                            crate::util::fmt_duration(timeout)
                        ),
                    ));
                };
                s.set_read_timeout(Some(wait))
                    .and_then(|()| s.set_write_timeout(Some(wait)))
                    .map_err(|e| SockError::from_io(op, &e, ctx))?;
                match f(s) {
                    Ok(t) => return Ok(t),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted || is_wait_over(&e) => {}
                    Err(e) => return Err(io_err(op, &e, ctx, timeout)),
                }
            }
        })
    }

    /// Connects the socket to `to`: later `send`s go there, only its datagrams are received,
    /// and an ICMP error it answers with (port unreachable) surfaces as ECONNREFUSED.
    pub fn connect(&self, to: SocketAddr) -> SockResult<()> {
        let ctx = format!("{} -> {to}", self.inner.local);
        self.with_socket("connect", |s| {
            s.connect(to)
                .map_err(|e| SockError::from_io("connect", &e, &ctx))
        })
    }

    /// Sends one datagram to the connected address; returns the byte count.
    pub fn send(&self, data: &[u8]) -> SockResult<usize> {
        let ctx = format!("from {}", self.inner.local);
        self.in_slices("send", &ctx, |s| s.send(data))
    }

    /// Closes the socket.
    pub fn close(&self) {
        super::lock(&self.inner.socket).take();
    }
}
