//! Script API: a TCP server for many clients at once (the manual's threaded server).
//!
//! `host.serve(port, #{ on_connect: .., on_line: .., on_close: .. })` accepts connections on
//! a thread and serves each on its own thread, calling the script's functions for the
//! protocol. The engine is shared (Rhai's `sync` feature), each call has the engine's
//! limits, and an error in a handler is kept with its script position and connection:
//! `stop()` reports it instead of losing it.

use super::lab_values::LabHost as Host;
use super::{ApiResult, ScriptEngine, api_error, from_eval, to_port};
use crate::session::{ConnHandler, LineServer, SessionError};
use crate::sockets::TcpConn;
use rhai::plugin::*;
use rhai::{Array, Engine, FnPtr, INT, Map};
use std::sync::Arc;

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<LineServer>("Server");
    engine.register_global_module(exported_module!(server_module).into());
}

/// The protocol: script functions called for each connection.
#[derive(Clone, Default)]
struct Handlers {
    on_connect: Option<FnPtr>,
    on_line: Option<FnPtr>,
    on_close: Option<FnPtr>,
}

/// The script's handlers with the run's shared engine and compiled script, called on the
/// server's connection threads.
struct ScriptHandler {
    se: ScriptEngine,
    handlers: Handlers,
}

impl ScriptHandler {
    fn call(&self, f: Option<&FnPtr>, args: Vec<Dynamic>) -> Result<(), String> {
        let Some(f) = f else { return Ok(()) };
        f.call::<Dynamic>(&self.se.engine, &self.se.ast, args)
            .map(|_| ())
            .map_err(|e| from_eval(&self.se.file, &e).to_string())
    }
}

impl ConnHandler for ScriptHandler {
    fn on_connect(&self, conn: &TcpConn) -> Result<(), String> {
        let f = self.handlers.on_connect.as_ref();
        self.call(f, vec![Dynamic::from(conn.clone())])
    }

    fn on_line(&self, conn: &TcpConn, line: &str) -> Result<(), String> {
        let f = self.handlers.on_line.as_ref();
        self.call(f, vec![Dynamic::from(conn.clone()), line.into()])
    }

    fn on_close(&self, conn: &TcpConn) -> Result<(), String> {
        let f = self.handlers.on_close.as_ref();
        self.call(f, vec![Dynamic::from(conn.clone())])
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

#[export_module]
mod server_module {
    use super::*;

    /// A server serving many connections at once; see `serve`.
    pub type Server = LineServer;

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
        let session = host.session.clone();
        let handlers = handlers_from(&handlers)?;
        let port = to_port("serve", port)?;
        let se = crate::script::script_engine(&ctx)?
            .ok_or_else(|| api_error("serve", "only available while a lab runs"))?;
        let handler = Arc::new(ScriptHandler { se, handlers });
        session
            .serve(&host.host, port, handler)
            .map_err(|e| match e {
                SessionError::Sock(e) => crate::script::throw_sock(e),
                e => api_error("serve", e),
            })
    }

    /// The server's address, "ip:port".
    #[rhai_fn(get = "addr", pure)]
    pub fn server_addr(s: &mut Server) -> String {
        s.addr().to_string()
    }

    /// The server's port.
    #[rhai_fn(get = "port", pure)]
    pub fn server_port(s: &mut Server) -> INT {
        INT::from(s.addr().port())
    }

    /// Connections accepted so far.
    #[rhai_fn(get = "connections", pure)]
    pub fn connections(s: &mut Server) -> INT {
        s.accepted() as INT
    }

    /// The server's view, in order: `#{ event: "connect" | "line" | "close" | "error",
    /// conn: "ip:port" of the client, line: "...", time: seconds since the server started }`.
    #[rhai_fn(get = "log", pure)]
    pub fn log(s: &mut Server) -> Array {
        s.log()
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
        s.errors().into_iter().map(Dynamic::from).collect()
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
                    s.addr()
                ),
            )),
        }
    }
}
