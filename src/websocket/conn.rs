//! One WebSocket connection, either end, over a kernel TCP socket.
//!
//! Each end is read by a thread of its own (the server's connection thread, or one started
//! for a client), which answers pings and close frames at once, as RFC 6455 asks, even
//! while the script is busy with the other end. A script sees the same calls on both
//! ends: `send`, `recv`, `ping`, `close`.

use super::{POLL, WsError, WsResult};
use crate::util::lock;
use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// Something that happened on a connection, in order, as this end saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct WsEvent {
    /// `"send"`, `"recv"`, `"ping"`, `"pong"`, `"close"` (sent), `"closed"` (received),
    /// `"end"` (the TCP connection ended) or `"error"`.
    pub kind: String,
    /// `"text"`, `"binary"`, `"ping"`, `"pong"`, `"close"` or "".
    pub message: String,
    /// Text of the message (binary payloads as lossy UTF-8; close: the reason).
    pub text: String,
    /// Payload length in bytes.
    pub len: usize,
    /// Close code (close events only).
    pub code: Option<u16>,
    /// Seconds since the connection opened.
    pub time: f64,
}

/// A message waiting to be read by the script.
#[derive(Debug, Clone)]
enum Inbound {
    Data {
        text: String,
        binary: Option<Vec<u8>>,
    },
    Close,
}

#[derive(Debug)]
struct State {
    /// None once the TCP socket is closed.
    ws: Option<WebSocket<TcpStream>>,
    inbox: VecDeque<Inbound>,
    pongs: usize,
    log: Vec<WsEvent>,
    peer_close: Option<(Option<u16>, String)>,
    ended: Option<String>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    changed: Condvar,
    local: SocketAddr,
    peer: SocketAddr,
    server_side: bool,
    opened: Instant,
    timeout: Mutex<Duration>,
}

/// A WebSocket connection (cheap to clone; clones share the connection).
#[derive(Debug, Clone)]
pub struct WsConn {
    inner: Arc<Inner>,
}

fn close_code(frame: &Option<CloseFrame>) -> (Option<u16>, String) {
    match frame {
        Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
        None => (None, String::new()),
    }
}

impl WsConn {
    /// Wraps an upgraded connection. A server thread reads `server_side` ends by calling
    /// [`WsConn::pump`]; call [`WsConn::spawn_reader`] for a client's end.
    pub fn new(ws: WebSocket<TcpStream>, server_side: bool, timeout: Duration) -> WsResult<WsConn> {
        let stream = ws.get_ref();
        let local = stream
            .local_addr()
            .map_err(|e| WsError::protocol("connect", e))?;
        let peer = stream
            .peer_addr()
            .map_err(|e| WsError::protocol("connect", e))?;
        Ok(WsConn {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    ws: Some(ws),
                    inbox: VecDeque::new(),
                    pongs: 0,
                    log: Vec::new(),
                    peer_close: None,
                    ended: None,
                }),
                changed: Condvar::new(),
                local,
                peer,
                server_side,
                opened: Instant::now(),
                timeout: Mutex::new(timeout),
            }),
        })
    }

    /// Starts a thread that reads this connection until it ends or every handle to it
    /// is dropped.
    pub fn spawn_reader(&self) -> WsResult<()> {
        let weak = Arc::downgrade(&self.inner);
        std::thread::Builder::new()
            .name(format!("ws-client-{}", self.inner.local))
            .spawn(move || {
                while let Some(inner) = weak.upgrade() {
                    if !(WsConn { inner }).pump(POLL) {
                        break;
                    }
                }
            })
            .map(|_| ())
            .map_err(|e| {
                WsError::usage("ws_connect", format!("cannot start the reader thread: {e}"))
            })
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer
    }

    /// True for the server's end of the connection.
    pub fn is_server_side(&self) -> bool {
        self.inner.server_side
    }

    /// The deadline of each blocking call.
    pub fn timeout(&self) -> Duration {
        *lock(&self.inner.timeout)
    }

    /// Changes the deadline of each blocking call.
    pub fn set_timeout(&self, t: Duration) {
        *lock(&self.inner.timeout) = t;
    }

    /// Everything this end sent and received so far.
    pub fn log(&self) -> Vec<WsEvent> {
        lock(&self.inner.state).log.clone()
    }

    /// The peer's close frame, once received: (code, reason).
    pub fn peer_close(&self) -> Option<(Option<u16>, String)> {
        lock(&self.inner.state).peer_close.clone()
    }

    /// True once the TCP connection under the WebSocket is closed.
    pub fn is_ended(&self) -> bool {
        lock(&self.inner.state).ws.is_none()
    }

    fn context(&self) -> String {
        format!("{} -> {}", self.inner.local, self.inner.peer)
    }

    fn record(
        &self,
        st: &mut State,
        kind: &str,
        message: &str,
        text: &str,
        len: usize,
        code: Option<u16>,
    ) {
        st.log.push(WsEvent {
            kind: kind.to_string(),
            message: message.to_string(),
            text: text.to_string(),
            len,
            code,
            time: self.inner.opened.elapsed().as_secs_f64(),
        });
    }

    /// Reads what arrives within `wait` (answering pings and close frames) and returns
    /// false once the connection has ended. Reader threads call this in a loop.
    pub fn pump(&self, wait: Duration) -> bool {
        // Wait for bytes on a duplicate of the socket without holding the lock, so a
        // writer never waits behind a blocked read.
        let probe = {
            let st = lock(&self.inner.state);
            match st.ws.as_ref() {
                None => return false,
                Some(ws) => ws.get_ref().try_clone().ok(),
            }
        };
        if let Some(p) = probe {
            let _ = p.set_read_timeout(Some(wait.max(Duration::from_millis(1))));
            let ready = p.peek(&mut [0u8; 1]);
            drop(p);
            if ready.is_err_and(|e| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut))
            {
                return true;
            }
        }
        let mut st = lock(&self.inner.state);
        // Read every message now available (several can arrive in one segment).
        while let Some(ws) = st.ws.as_mut() {
            let _ = ws
                .get_mut()
                .set_read_timeout(Some(Duration::from_millis(1)));
            match ws.read() {
                Ok(msg) => self.received(&mut st, msg),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    break;
                }
                Err(tungstenite::Error::ConnectionClosed) => {
                    self.end(&mut st, "closed after the closing handshake")
                }
                Err(tungstenite::Error::AlreadyClosed) => self.end(&mut st, "already closed"),
                Err(e) => {
                    let text = e.to_string();
                    self.record(&mut st, "error", "", &text, 0, None);
                    self.end(&mut st, &text);
                }
            }
        }
        let alive = st.ws.is_some();
        drop(st);
        self.inner.changed.notify_all();
        alive
    }

    fn received(&self, st: &mut State, msg: Message) {
        match msg {
            Message::Text(t) => {
                let text = t.to_string();
                self.record(st, "recv", "text", &text, text.len(), None);
                st.inbox.push_back(Inbound::Data { text, binary: None });
            }
            Message::Binary(b) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                self.record(st, "recv", "binary", &text, b.len(), None);
                st.inbox.push_back(Inbound::Data {
                    text,
                    binary: Some(b.to_vec()),
                });
            }
            Message::Ping(b) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                self.record(st, "ping", "ping", &text, b.len(), None);
                // tungstenite queued the pong; send it now rather than on the next write.
                if let Some(ws) = st.ws.as_mut() {
                    let _ = ws.flush();
                }
            }
            Message::Pong(b) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                self.record(st, "pong", "pong", &text, b.len(), None);
                st.pongs += 1;
            }
            Message::Close(frame) => {
                let (code, reason) = close_code(&frame);
                self.record(st, "closed", "close", &reason, reason.len(), code);
                st.peer_close = Some((code, reason));
                st.inbox.push_back(Inbound::Close);
                // The close reply goes out at once (tungstenite queued it).
                if let Some(ws) = st.ws.as_mut() {
                    match ws.flush() {
                        Err(tungstenite::Error::ConnectionClosed) => {
                            self.end(st, "closed after the closing handshake")
                        }
                        Err(e) if !matches!(&e, tungstenite::Error::Io(io) if io.kind() == ErrorKind::WouldBlock) => {
                            self.end(st, &e.to_string())
                        }
                        _ => {}
                    }
                }
            }
            Message::Frame(_) => {}
        }
    }

    /// Closes the TCP socket (a FIN): the side that does this first ends in TIME_WAIT.
    fn end(&self, st: &mut State, why: &str) {
        if st.ws.take().is_some() {
            st.ended = Some(why.to_string());
            self.record(st, "end", "", why, 0, None);
        }
    }

    /// Waits until `check` finds what it wants in the state (the reader thread fills it).
    fn wait<T>(
        &self,
        op: &str,
        what: &str,
        mut check: impl FnMut(&mut State) -> Option<T>,
    ) -> WsResult<T> {
        let timeout = self.timeout();
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.inner.state);
        loop {
            if let Some(t) = check(&mut st) {
                return Ok(t);
            }
            if st.ws.is_none() {
                let why = st.ended.clone().unwrap_or_default();
                return Err(WsError::protocol(
                    op,
                    format!(
                        "the connection ended ({why}) before {what} ({})",
                        self.context()
                    ),
                ));
            }
            let Some(wait) = super::next_wait(op, deadline)? else {
                return Err(WsError::Timeout {
                    op: op.to_string(),
                    what: format!("waiting for {what}, {}", self.context()),
                    after: timeout,
                });
            };
            st = self
                .inner
                .changed
                .wait_timeout(st, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn write(&self, op: &str, msg: Message) -> WsResult<()> {
        let timeout = self.timeout();
        let mut st = lock(&self.inner.state);
        let ctx = self.context();
        let Some(ws) = st.ws.as_mut() else {
            return Err(WsError::usage(
                op,
                format!("the connection {ctx} has ended"),
            ));
        };
        let _ = ws.get_mut().set_write_timeout(Some(capped(timeout)));
        match ws.send(msg) {
            Ok(()) => Ok(()),
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                Err(WsError::Timeout {
                    op: op.to_string(),
                    what: format!("sending, {ctx}"),
                    after: timeout,
                })
            }
            Err(e) => Err(WsError::protocol(op, format!("{e} ({ctx})"))),
        }
    }

    /// Sends a text message (one frame; masked when this is the client's end).
    pub fn send_text(&self, text: &str) -> WsResult<()> {
        self.write("send", Message::text(text))?;
        let mut st = lock(&self.inner.state);
        self.record(&mut st, "send", "text", text, text.len(), None);
        Ok(())
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> WsResult<()> {
        self.write("send", Message::binary(data.to_vec()))?;
        let mut st = lock(&self.inner.state);
        let text = String::from_utf8_lossy(data).into_owned();
        self.record(&mut st, "send", "binary", &text, data.len(), None);
        Ok(())
    }

    /// Receives the next data message: `Ok(Some(text))`, or `Ok(None)` when the peer's
    /// close frame came first (the close reply has then already been sent).
    pub fn recv(&self) -> WsResult<Option<(String, Option<Vec<u8>>)>> {
        self.wait("recv", "a message", |st| match st.inbox.pop_front() {
            Some(Inbound::Data { text, binary }) => Some(Some((text, binary))),
            Some(Inbound::Close) => Some(None),
            None if st.peer_close.is_some() => Some(None),
            None => None,
        })
        .or_else(|e| {
            // A connection that ended after the peer's close reads as closed, like a FIN.
            if self.peer_close().is_some() && !e.is_timeout() {
                Ok(None)
            } else {
                Err(e)
            }
        })
    }

    /// Sends a ping with `data` (at most 125 bytes) and waits for its pong; returns the
    /// round-trip time.
    pub fn ping(&self, data: &[u8]) -> WsResult<Duration> {
        if data.len() > 125 {
            return Err(WsError::usage(
                "ping",
                format!("a ping carries at most 125 bytes, got {}", data.len()),
            ));
        }
        let before = lock(&self.inner.state).pongs;
        let started = Instant::now();
        self.write("ping", Message::Ping(data.to_vec().into()))?;
        {
            let mut st = lock(&self.inner.state);
            let text = String::from_utf8_lossy(data).into_owned();
            self.record(&mut st, "ping sent", "ping", &text, data.len(), None);
        }
        self.wait("ping", "the pong", |st| (st.pongs > before).then_some(()))?;
        Ok(started.elapsed())
    }

    /// Starts or answers the closing handshake with `code` and `reason`, then waits until
    /// the TCP connection is closed: the server's end closes it at once after the close
    /// frames crossed (RFC 6455: the server closes TCP first and keeps the TIME_WAIT); the
    /// client's end waits for the server's FIN, then closes.
    pub fn close(&self, code: u16, reason: &str) -> WsResult<()> {
        {
            let mut st = lock(&self.inner.state);
            let answered = st.peer_close.is_some();
            let Some(ws) = st.ws.as_mut() else {
                return Ok(());
            };
            if !answered {
                let _ = ws.get_mut().set_write_timeout(Some(capped(self.timeout())));
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.to_string().into(),
                };
                match ws.close(Some(frame)) {
                    Ok(()) | Err(tungstenite::Error::ConnectionClosed) => {}
                    Err(e) => {
                        let ctx = self.context();
                        return Err(WsError::protocol("close", format!("{e} ({ctx})")));
                    }
                }
                let _ = ws.flush();
                self.record(&mut st, "close", "close", reason, reason.len(), Some(code));
            }
        }
        let done = self.wait("close", "the end of the closing handshake", |st| {
            st.ws.is_none().then_some(())
        });
        match done {
            Err(WsError::Protocol { .. }) if self.is_ended() => Ok(()),
            other => other,
        }
    }

    /// Closes the TCP socket at once, without a closing handshake.
    pub fn abort(&self) {
        let mut st = lock(&self.inner.state);
        self.end(&mut st, "closed by labrun");
    }
}

/// A write timeout capped by the run's time limit (never zero, which would mean none).
fn capped(timeout: Duration) -> Duration {
    crate::clock::cap(timeout).max(Duration::from_millis(1))
}
