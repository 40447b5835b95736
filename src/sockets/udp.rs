//! UDP sockets: bind, send_to, recv_from, each bounded by a deadline.

use super::{DEFAULT_TIMEOUT, SockError, SockResult, io_err};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

    /// Changes the deadline of each blocking call.
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
        let timeout = self.timeout();
        let ctx = format!("{} -> {to}", self.inner.local);
        self.with_socket("send_to", |s| {
            s.set_write_timeout(Some(timeout))
                .map_err(|e| SockError::from_io("send_to", &e, &ctx))?;
            s.send_to(data, to)
                .map_err(|e| io_err("send_to", &e, &ctx, timeout))
        })
    }

    /// Waits for one datagram (up to `max` bytes; the rest of a longer one is discarded, as in C).
    pub fn recv_from(&self, max: usize) -> SockResult<Datagram> {
        let timeout = self.timeout();
        let ctx = format!("waiting on {}", self.inner.local);
        self.with_socket("recv_from", |s| {
            s.set_read_timeout(Some(timeout))
                .map_err(|e| SockError::from_io("recv_from", &e, &ctx))?;
            let mut buf = vec![0u8; max.clamp(1, 65536)];
            let (n, from) = s
                .recv_from(&mut buf)
                .map_err(|e| io_err("recv_from", &e, &ctx, timeout))?;
            buf.truncate(n);
            Ok(Datagram { data: buf, from })
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
        let timeout = self.timeout();
        let ctx = format!("from {}", self.inner.local);
        self.with_socket("send", |s| {
            s.set_write_timeout(Some(timeout))
                .map_err(|e| SockError::from_io("send", &e, &ctx))?;
            s.send(data).map_err(|e| io_err("send", &e, &ctx, timeout))
        })
    }

    /// Closes the socket.
    pub fn close(&self) {
        super::lock(&self.inner.socket).take();
    }
}
