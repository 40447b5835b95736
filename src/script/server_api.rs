//! Script API: a TCP server for many clients at once (the manual's threaded server).
//!
//! `host.serve(port, #{ on_connect: .., on_line: .., on_close: .. })` accepts connections on
//! a thread and serves each on its own thread, calling the script's functions for the
//! protocol. The engine is shared (Rhai's `sync` feature), each call has the engine's
//! limits, and an error in a handler is kept with its script position and connection:
//! `stop()` reports it instead of losing it.

use super::{ApiResult, api_error, run_handle, to_port};
use crate::network::Host;
use crate::runner::{RunHandle, ScriptEngine, from_eval};
use crate::sockets::{TcpConn, TcpListener, TcpOptions};
use rhai::plugin::*;
use rhai::{Array, Engine, FnPtr, INT, Map};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<ScriptServer>("Server");
    engine.register_global_module(exported_module!(server_module).into());
}

/// How often server threads look at the stop flag.
const POLL: Duration = Duration::from_millis(100);
/// A connection with no traffic for this long is closed by the server.
const IDLE: Duration = Duration::from_secs(60);

/// The protocol: script functions called for each connection.
#[derive(Clone, Default)]
struct Handlers {
    on_connect: Option<FnPtr>,
    on_line: Option<FnPtr>,
    on_close: Option<FnPtr>,
}

/// One thing the server saw, for the report's "server's view".
#[derive(Debug, Clone)]
struct LogEntry {
    event: &'static str,
    conn: SocketAddr,
    line: String,
    time: f64,
}

/// A running many-client server.
#[derive(Clone)]
pub struct ScriptServer {
    inner: Arc<ServerInner>,
}

impl std::fmt::Debug for ScriptServer {
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

impl ScriptServer {
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

    /// After [`ScriptServer::signal_stop`]: joins the threads that finished and returns the
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
}

fn handlers_from(map: &Map) -> ApiResult<Handlers> {
    let mut h = Handlers::default();
    for (k, v) in map {
        let f = v.clone().try_cast::<FnPtr>().ok_or_else(|| {
            api_error(
                "serve",
                format!(
                    "`{k}` must be a function (Fn(\"name\") or a closure), not {}",
                    v.type_name()
                ),
            )
        })?;
        match k.as_str() {
            "on_connect" => h.on_connect = Some(f),
            "on_line" => h.on_line = Some(f),
            "on_close" => h.on_close = Some(f),
            other => {
                return Err(api_error(
                    "serve",
                    format!("unknown handler `{other}` (known: on_connect, on_line, on_close)"),
                ));
            }
        }
    }
    Ok(h)
}

fn call(se: &ScriptEngine, server: &ServerInner, conn: &TcpConn, f: &FnPtr, args: Vec<Dynamic>) {
    // Runs on this server thread with the run's shared engine and compiled script.
    let result = f.call::<Dynamic>(&se.engine, &se.ast, args);
    if let Err(e) = result {
        server.fail(format!(
            "connection {} -> {}: {}",
            conn.peer_addr(),
            conn.local_addr(),
            from_eval(&se.file, &e)
        ));
    }
}

fn serve_connection(se: ScriptEngine, server: Arc<ServerInner>, handlers: Handlers, conn: TcpConn) {
    let peer = conn.peer_addr();
    server.record("connect", peer, "");
    // The close is logged as the socket closes (a handler may close it), before the FIN
    // leaves: the client cannot act on the FIN, and be logged, before it.
    let log = Arc::clone(&server);
    conn.on_close(move || log.record("close", peer, ""));
    conn.set_timeout(POLL);
    if let Some(f) = &handlers.on_connect {
        call(&se, &server, &conn, f, vec![Dynamic::from(conn.clone())]);
    }
    let mut last = Instant::now();
    while !conn.is_closed() && !server.stop.load(Ordering::SeqCst) {
        match conn.recv_until(b"\n", 1 << 16) {
            Ok(bytes) if bytes.is_empty() => break,
            Ok(bytes) => {
                last = Instant::now();
                let text = String::from_utf8_lossy(&bytes);
                let line = text.trim_end_matches(['\n', '\r']).to_string();
                server.record("line", peer, &line);
                if let Some(f) = &handlers.on_line {
                    call(
                        &se,
                        &server,
                        &conn,
                        f,
                        vec![Dynamic::from(conn.clone()), line.into()],
                    );
                }
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
    if let Some(f) = &handlers.on_close {
        call(&se, &server, &conn, f, vec![Dynamic::from(conn.clone())]);
    }
    conn.close();
}

fn accept_loop(
    se: ScriptEngine,
    server: Arc<ServerInner>,
    handlers: Handlers,
    listener: TcpListener,
) {
    let serve = {
        let server = Arc::clone(&server);
        move |conn: TcpConn| {
            server.accepted.fetch_add(1, Ordering::SeqCst);
            serve_connection(se.clone(), Arc::clone(&server), handlers.clone(), conn);
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

fn start(
    handle: &RunHandle,
    host: &Host,
    port: u16,
    handlers: Handlers,
) -> ApiResult<ScriptServer> {
    let se = handle
        .lock()
        .engine
        .clone()
        .ok_or_else(|| api_error("serve", "only available while a lab runs"))?;
    let opts = TcpOptions {
        timeout: Some(POLL),
        ..TcpOptions::default()
    };
    let listener = host.listen(port, opts).map_err(super::throw_sock)?;
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
        .spawn(move || accept_loop(se, srv, handlers, listener))
        .map_err(|e| api_error("serve", format!("cannot start the server thread: {e}")))?;
    lock(&inner.threads).push(acceptor);
    let server = ScriptServer { inner };
    handle.lock().servers.push(server.clone());
    Ok(server)
}

#[export_module]
mod server_module {
    use super::*;

    /// A server serving many connections at once; see `serve`.
    pub type Server = ScriptServer;

    /// Serves TCP `port` on this host for many clients at once, each connection on its own
    /// thread: `on_connect(conn)` when a client connects, `on_line(conn, line)` for each line
    /// it sends (without the newline), `on_close(conn)` at the end. Handlers are script
    /// functions: `Fn("on_line")` or closures. `stop()` ends it and reports handler errors.
    #[rhai_fn(return_raw)]
    pub fn serve(
        ctx: NativeCallContext,
        host: &mut Host,
        port: INT,
        handlers: Map,
    ) -> ApiResult<Server> {
        let handle = run_handle(&ctx)?;
        let handlers = handlers_from(&handlers)?;
        start(&handle, host, to_port("serve", port)?, handlers)
    }

    /// The server's address, "ip:port".
    #[rhai_fn(get = "addr", pure)]
    pub fn server_addr(s: &mut Server) -> String {
        s.inner.addr.to_string()
    }

    /// The server's port.
    #[rhai_fn(get = "port", pure)]
    pub fn server_port(s: &mut Server) -> INT {
        INT::from(s.inner.addr.port())
    }

    /// Connections accepted so far.
    #[rhai_fn(get = "connections", pure)]
    pub fn connections(s: &mut Server) -> INT {
        s.inner.accepted.load(Ordering::SeqCst) as INT
    }

    /// The server's view, in order: `#{ event: "connect" | "line" | "close" | "error",
    /// conn: "ip:port" of the client, line: "...", time: seconds since the server started }`.
    #[rhai_fn(get = "log", pure)]
    pub fn log(s: &mut Server) -> Array {
        lock(&s.inner.log)
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("event".into(), e.event.into());
                m.insert("conn".into(), e.conn.to_string().into());
                m.insert("line".into(), e.line.clone().into());
                m.insert("time".into(), Dynamic::from_float(e.time));
                Dynamic::from_map(m)
            })
            .collect()
    }

    /// Errors raised by handlers so far, each with its script position and connection.
    #[rhai_fn(get = "errors", pure)]
    pub fn errors(s: &mut Server) -> Array {
        lock(&s.inner.errors)
            .iter()
            .cloned()
            .map(Dynamic::from)
            .collect()
    }

    /// Stops the server (closing open connections) and waits for its threads; throws if a
    /// handler failed, naming the position in the script and the connection.
    #[rhai_fn(return_raw)]
    pub fn stop(s: &mut Server) -> ApiResult<()> {
        let errors = s.shutdown();
        match errors.first() {
            None => Ok(()),
            Some(first) => Err(api_error(
                "stop",
                format!(
                    "{} handler error(s) in the server on {}; the first: {first}",
                    errors.len(),
                    s.inner.addr
                ),
            )),
        }
    }
}
