//! Script API: a chat typed at the terminal over a connection (`--interactive`).

use super::{ApiResult, api_error, session};
use crate::sockets::TcpConn;
use rhai::plugin::*;
use rhai::{Array, Engine, Map};
use std::io::Write;
use std::sync::Arc;

pub fn register(engine: &mut Engine) {
    engine.register_global_module(exported_module!(chat_module).into());
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

#[export_module]
mod chat_module {
    use super::*;

    /// The role this run plays at the terminal (`--interactive --role R`): "server",
    /// "client", or "" when the lab runs by itself.
    #[rhai_fn(return_raw)]
    pub fn interactive(ctx: NativeCallContext) -> ApiResult<String> {
        let role = session(&ctx)?.interactive();
        Ok(role.map(|r| r.as_str().to_string()).unwrap_or_default())
    }

    /// A chat typed at the terminal over `conn`: each line typed is sent, each line
    /// received is printed as it arrives; `q` (or end of input) closes the connection
    /// cleanly, and so does the other side closing. Returns the conversation:
    /// `[#{ dir: "sent" | "received", text, time }]`.
    #[rhai_fn(return_raw)]
    pub fn chat(ctx: NativeCallContext, conn: TcpConn) -> ApiResult<Array> {
        let session = session(&ctx)?;
        if conn.is_closed() {
            return Err(api_error("chat", "the connection is already closed"));
        }
        let progress = session.lock().progress.clone();
        progress.set_hidden(true);
        let log = crate::session::run_chat(&conn, crate::session::stdin_lines, Arc::new(say));
        progress.set_hidden(false);
        Ok(log
            .into_iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("dir".into(), e.dir.into());
                m.insert("text".into(), e.text.into());
                m.insert("time".into(), Dynamic::from_float(e.time));
                Dynamic::from_map(m)
            })
            .collect())
    }
}
