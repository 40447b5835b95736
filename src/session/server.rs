//! A TCP server for many clients at once (the manual's threaded server): each connection is
//! served on its own thread, line by line, calling a [`ConnHandler`] for the protocol.
//!
//! The handler is the script's functions in a run; an error it returns is kept with its
//! connection, so stopping the server reports it instead of losing it.

use super::{Session, SessionError};
use crate::network::Host;
use crate::sockets::{TcpConn, TcpListener, TcpOptions};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often server threads look at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// A connection with no traffic for this long is closed by the server.
const IDLE: Duration = Duration::from_secs(60);

/// The protocol of a [`LineServer`]: called on the connection's thread for each event.
/// An `Err` is the handler's error message, kept with the connection for the report.
pub trait ConnHandler: Send + Sync {
    /// A client connected.
    fn on_connect(&self, conn: &TcpConn) -> Result<(), String>;
    /// A client sent `line` (without its newline).
    fn on_line(&self, conn: &TcpConn, line: &str) -> Result<(), String>;
    /// The connection ends.
    fn on_close(&self, conn: &TcpConn) -> Result<(), String>;
}

/// One thing the server saw, for the report's "server's view".
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// "connect", "line", "close" or "error".
    pub event: &'static str,
    /// The client's address.
    pub conn: SocketAddr,
    /// The line received (or the error), "" for connect and close.
    pub line: String,
    /// Seconds since the server started.
    pub time: f64,
}

/// A running many-client server.
#[derive(Clone)]
pub struct LineServer {
    inner: Arc<ServerInner>,
}

impl std::fmt::Debug for LineServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Server({})", self.inner.addr)
    }
}

struct ServerInner {
    addr: SocketAddr,
    started: Instant,
    stop: AtomicBool,
    accepted: AtomicUsize,
    log: Mutex<Vec<LogEntry>>,
    errors: Mutex<Vec<String>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ServerInner {
    fn record(&self, event: &'static str, conn: SocketAddr, line: &str) {
        lock(&self.log).push(LogEntry {
            event,
            conn,
            line: line.to_string(),
            time: self.started.elapsed().as_secs_f64(),
        });
    }

    fn fail(&self, what: String) {
        lock(&self.errors).push(what);
    }
}

impl LineServer {
    /// Stops accepting, closes every connection, waits for the threads; returns the errors
    /// handlers raised since the last call (empty when all went well).
    pub fn shutdown(&self) -> Vec<String> {
        self.signal_stop();
        crate::util::join_all(&self.inner.threads);
        std::mem::take(&mut *lock(&self.inner.errors))
    }

    /// Tells the server's threads to stop without waiting for them: the run's teardown
    /// signals every server first, then waits for all of them at once.
    pub fn signal_stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
    }

    /// True once every thread of the server has finished.
    pub fn is_stopped(&self) -> bool {
        crate::util::all_finished(&self.inner.threads)
    }

    /// After [`LineServer::signal_stop`]: joins the threads that finished and returns the
    /// handler errors, plus one for threads still running (they are left behind).
    pub fn collect(&self) -> Vec<String> {
        let running = crate::util::join_finished(&self.inner.threads);
        let mut errors = std::mem::take(&mut *lock(&self.inner.errors));
        if running > 0 {
            errors.push(format!("{running} thread(s) did not stop in time"));
        }
        errors
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.inner.accepted.load(Ordering::SeqCst)
    }

    /// The server's view so far, in order.
    pub fn log(&self) -> Vec<LogEntry> {
        lock(&self.inner.log).clone()
    }

    /// Errors handlers raised so far (not taken: `shutdown` still reports them).
    pub fn errors(&self) -> Vec<String> {
        lock(&self.inner.errors).clone()
    }
}

fn call(server: &ServerInner, conn: &TcpConn, result: Result<(), String>) {
    if let Err(e) = result {
        server.fail(format!(
            "connection {} -> {}: {e}",
            conn.peer_addr(),
            conn.local_addr(),
        ));
    }
}

fn serve_connection(server: Arc<ServerInner>, handler: Arc<dyn ConnHandler>, conn: TcpConn) {
    let peer = conn.peer_addr();
    server.record("connect", peer, "");
    // The close is logged as the socket closes (a handler may close it), before the FIN
    // leaves: the client cannot act on the FIN, and be logged, before it.
    let log = Arc::clone(&server);
    conn.on_close(move || log.record("close", peer, ""));
    conn.set_timeout(POLL);
    call(&server, &conn, handler.on_connect(&conn));
    let mut last = Instant::now();
    while !conn.is_closed() && !server.stop.load(Ordering::SeqCst) {
        match conn.recv_until(b"\n", 1 << 16) {
            Ok(bytes) if bytes.is_empty() => break,
            Ok(bytes) => {
                last = Instant::now();
                let text = String::from_utf8_lossy(&bytes);
                let line = text.trim_end_matches(['\n', '\r']).to_string();
                server.record("line", peer, &line);
                call(&server, &conn, handler.on_line(&conn, &line));
                if !bytes.ends_with(b"\n") {
                    break;
                }
            }
            Err(e) if e.is_timeout() => {
                if last.elapsed() > IDLE {
                    server.fail(format!(
                        "connection {peer}: idle for {} s, closed by the server",
                        IDLE.as_secs()
                    ));
                    break;
                }
            }
            // The run stops (its time limit, Ctrl-C): so does the connection.
            Err(e) if e.is_stop() => break,
            Err(e) => {
                server.record("error", peer, &e.to_string());
                break;
            }
        }
    }
    call(&server, &conn, handler.on_close(&conn));
    conn.close();
}

fn accept_loop(server: Arc<ServerInner>, handler: Arc<dyn ConnHandler>, listener: TcpListener) {
    let serve = {
        let server = Arc::clone(&server);
        move |conn: TcpConn| {
            server.accepted.fetch_add(1, Ordering::SeqCst);
            serve_connection(Arc::clone(&server), Arc::clone(&handler), conn);
        }
    };
    listener.serve_each(
        "serve",
        || server.stop.load(Ordering::SeqCst),
        serve,
        |t| lock(&server.threads).push(t),
        |e| server.fail(e),
    );
}

impl Session {
    /// Serves TCP `port` on `host` for many clients at once with `handler`; teardown stops
    /// the server if the script does not.
    pub fn serve(
        &self,
        host: &Host,
        port: u16,
        handler: Arc<dyn ConnHandler>,
    ) -> Result<LineServer, SessionError> {
        let opts = TcpOptions {
            timeout: Some(POLL),
            ..TcpOptions::default()
        };
        let listener = host.listen(port, opts).map_err(SessionError::Sock)?;
        let inner = Arc::new(ServerInner {
            addr: listener.addr(),
            started: Instant::now(),
            stop: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
        });
        let srv = Arc::clone(&inner);
        let acceptor = std::thread::Builder::new()
            .name(format!("accept-{}", inner.addr))
            .spawn(move || accept_loop(srv, handler, listener))
            .map_err(SessionError::Thread)?;
        lock(&inner.threads).push(acceptor);
        let server = LineServer { inner };
        self.lock().servers.push(server.clone());
        Ok(server)
    }
}
