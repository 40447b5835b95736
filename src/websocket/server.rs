//! The lab's web server: `GET /` serves a page whose JavaScript opens a WebSocket to `/ws`
//! on the same port, `POST /echo` answers with the request's body (the same exchange as
//! plain HTTP), and `/ws` upgrades (RFC 6455) to a connection the script plays.

use super::http;
use super::{POLL, WsConn, WsError, WsResult};
use crate::network::Host;
use crate::sockets::{DEFAULT_TIMEOUT, TcpConn, TcpListener, TcpOptions};
use crate::util::lock;
use std::collections::VecDeque;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A connection that sends nothing for this long is closed by the server.
const IDLE: Duration = Duration::from_secs(120);

/// One thing the server did, for the report's "server's view".
#[derive(Debug, Clone)]
pub struct ServerEvent {
    /// `"http"` (a request answered), `"upgrade"` (a WebSocket opened) or `"error"`.
    pub event: String,
    /// The client's address.
    pub conn: SocketAddr,
    /// E.g. `"GET / 200"`, `"POST /echo 200"`, `"GET /ws 101"`.
    pub line: String,
    /// Seconds since the server started.
    pub time: f64,
}

struct Inner {
    addr: SocketAddr,
    page: String,
    started: Instant,
    stop: AtomicBool,
    waiting: Mutex<VecDeque<WsConn>>,
    conns: Mutex<Vec<WsConn>>,
    changed: Condvar,
    log: Mutex<Vec<ServerEvent>>,
    errors: Mutex<Vec<String>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// A running WebSocket server (cheap to clone).
#[derive(Clone)]
pub struct WsServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for WsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WsServer({})", self.inner.addr)
    }
}

/// The default timeout capped by the run's time limit (never zero, which means none).
fn capped_default() -> Duration {
    crate::clock::cap(DEFAULT_TIMEOUT).max(Duration::from_millis(1))
}

/// A string as a JavaScript string literal, safe inside a `<script>` element.
fn js_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == ' ' || c == '.' || c == '-' || c == '_' {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out.push('"');
    out
}

/// The lab page for a student: it opens `ws://<this host>/ws`, sends the ID, sends the
/// name when the ID comes back, closes with 1000 "done" when the name comes back (binary
/// messages are only counted), then sends
/// the same two messages as plain HTTP `POST /echo` requests and sets its title to "done".
pub fn page_html(id: &str, name: &str) -> String {
    include_str!("page.html")
        .replace("\"{{ID}}\"", &js_string(id))
        .replace("\"{{NAME}}\"", &js_string(name))
}

impl Inner {
    fn record(&self, event: &str, conn: SocketAddr, line: String) {
        lock(&self.log).push(ServerEvent {
            event: event.to_string(),
            conn,
            line,
            time: self.started.elapsed().as_secs_f64(),
        });
        self.changed.notify_all();
    }

    fn fail(&self, what: String) {
        lock(&self.errors).push(what);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    kind: &str,
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    );
    let mut all = head.into_bytes();
    all.extend_from_slice(body);
    stream.set_write_timeout(Some(capped_default()))?;
    stream.write_all(&all)?;
    stream.flush()
}

/// Serves one TCP connection: HTTP requests until it closes, or one WebSocket.
fn serve(inner: Arc<Inner>, conn: TcpConn) {
    let peer = conn.peer_addr();
    let mut stream = match conn.into_std("serve") {
        Ok((s, _)) => s,
        Err(e) => return inner.fail(e.to_string()),
    };
    loop {
        let stop = || inner.stopping();
        let (len, head) = match http::peek_head(&stream, IDLE, &stop) {
            Ok(Some(h)) => h,
            Ok(None) => return,
            Err(e) => {
                inner.record("error", peer, e.to_string());
                return;
            }
        };
        let (method, path) = (head.word(0).to_string(), head.word(1).to_string());
        let upgrade = head
            .header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if upgrade && path == "/ws" {
            return upgrade_to_ws(inner, stream, peer);
        }
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        let body = http::read_exact(&mut stream, len, deadline, "serve")
            .and_then(|_| http::read_exact(&mut stream, head.content_length(), deadline, "serve"));
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                inner.record("error", peer, e.to_string());
                return;
            }
        };
        let close = head.closes();
        let (status, kind, reply) = match (method.as_str(), path.as_str()) {
            ("GET", "/") => (
                "200 OK",
                "text/html; charset=utf-8",
                inner.page.clone().into_bytes(),
            ),
            ("POST", "/echo") => ("200 OK", "text/plain; charset=utf-8", body),
            _ => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        };
        let written = respond(&mut stream, status, kind, &reply, close);
        inner.record(
            "http",
            peer,
            format!("{method} {path} {}", status.split(' ').next().unwrap_or("")),
        );
        if let Err(e) = written {
            inner.record("error", peer, format!("answering {method} {path}: {e}"));
            return;
        }
        if close {
            return; // Dropping the stream closes it: the server's FIN comes first.
        }
    }
}

fn upgrade_to_ws(inner: Arc<Inner>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_read_timeout(Some(capped_default()));
    let _ = stream.set_write_timeout(Some(capped_default()));
    let ws = match tungstenite::accept(stream) {
        Ok(ws) => ws,
        Err(e) => {
            inner.record("error", peer, format!("WebSocket upgrade failed: {e}"));
            return;
        }
    };
    let conn = match WsConn::new(ws, true, DEFAULT_TIMEOUT) {
        Ok(c) => c,
        Err(e) => return inner.fail(e.to_string()),
    };
    inner.record("upgrade", peer, "GET /ws 101".into());
    lock(&inner.conns).push(conn.clone());
    lock(&inner.waiting).push_back(conn.clone());
    inner.changed.notify_all();
    while !inner.stopping() && conn.pump(POLL) {}
    conn.abort();
}

fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    let srv = Arc::clone(&inner);
    listener.serve_each(
        "ws",
        || inner.stopping(),
        move |conn| serve(Arc::clone(&srv), conn),
        |t| lock(&inner.threads).push(t),
        |e| inner.fail(e),
    );
}

impl WsServer {
    /// Listens on `port` of `host` and serves `page` at `/`, `/echo` and `/ws`.
    pub fn start(host: &Host, port: u16, page: String) -> WsResult<WsServer> {
        let opts = TcpOptions {
            timeout: Some(POLL * 5),
            ..TcpOptions::default()
        };
        let listener = host.listen(port, opts)?;
        let inner = Arc::new(Inner {
            addr: listener.addr(),
            page,
            started: Instant::now(),
            stop: AtomicBool::new(false),
            waiting: Mutex::new(VecDeque::new()),
            conns: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            log: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let srv = Arc::clone(&inner);
        let acceptor = std::thread::Builder::new()
            .name(format!("ws-accept-{}", inner.addr))
            .spawn(move || accept_loop(srv, listener))
            .map_err(|e| {
                WsError::usage("ws_serve", format!("cannot start the server thread: {e}"))
            })?;
        lock(&inner.threads).push(acceptor);
        Ok(WsServer { inner })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// What the server did so far.
    pub fn log(&self) -> Vec<ServerEvent> {
        lock(&self.inner.log).clone()
    }

    /// Errors so far.
    pub fn errors(&self) -> Vec<String> {
        lock(&self.inner.errors).clone()
    }

    /// Waits up to `timeout` for the next WebSocket a client opened; returns the
    /// server's end of it.
    pub fn accept(&self, timeout: Duration) -> WsResult<WsConn> {
        let deadline = Instant::now() + timeout;
        let mut waiting = lock(&self.inner.waiting);
        loop {
            if let Some(c) = waiting.pop_front() {
                return Ok(c);
            }
            let wait = super::next_wait("accept", deadline)?;
            let Some(wait) = wait.filter(|_| !self.inner.stopping()) else {
                return Err(WsError::Timeout {
                    op: "accept".into(),
                    what: format!(
                        "no client opened a WebSocket to ws://{}/ws",
                        self.inner.addr
                    ),
                    after: timeout,
                });
            };
            waiting = self
                .inner
                .changed
                .wait_timeout(waiting, wait)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Waits up to `timeout` until `n` requests whose log line starts with `prefix`
    /// (e.g. `"POST /echo"`) were answered.
    pub fn wait_requests(&self, prefix: &str, n: usize, timeout: Duration) -> WsResult<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = lock(&self.inner.log)
                .iter()
                .filter(|e| e.line.starts_with(prefix))
                .count();
            if seen >= n {
                return Ok(());
            }
            let Some(wait) = super::next_wait("wait_requests", deadline)? else {
                return Err(WsError::Timeout {
                    op: "wait_requests".into(),
                    what: format!("{seen} of {n} `{prefix}` requests arrived"),
                    after: timeout,
                });
            };
            std::thread::sleep(wait.min(POLL));
        }
    }

    /// Stops accepting, closes open connections, waits for the threads; returns the
    /// errors seen since the last call.
    pub fn shutdown(&self) -> Vec<String> {
        self.signal_stop();
        crate::util::join_all(&self.inner.threads);
        for c in lock(&self.inner.conns).iter() {
            c.abort();
        }
        std::mem::take(&mut *lock(&self.inner.errors))
    }

    /// Tells the server's threads to stop without waiting for them (the run's teardown
    /// signals every server first, then waits for all at once).
    pub fn signal_stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.changed.notify_all();
    }

    /// True once every thread of the server has finished.
    pub fn is_stopped(&self) -> bool {
        crate::util::all_finished(&self.inner.threads)
    }

    /// After [`WsServer::signal_stop`]: joins the threads that finished, closes open
    /// connections, returns the errors, plus one for threads still running.
    pub fn collect(&self) -> Vec<String> {
        let running = crate::util::join_finished(&self.inner.threads);
        for c in lock(&self.inner.conns).iter() {
            c.abort();
        }
        let mut errors = std::mem::take(&mut *lock(&self.inner.errors));
        if running > 0 {
            errors.push(format!("{running} thread(s) did not stop in time"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_embeds_the_student_safely() {
        let page = page_html("2021", "Li \"</script>");
        assert!(page.contains("const ID = \"2021\""), "{page}");
        assert!(
            page.contains("Li \\u0022\\u003c\\u002fscript\\u003e"),
            "{page}"
        );
        assert!(!page.contains("</script>\""));
        assert!(!page.contains("{{ID}}"));
    }
}
