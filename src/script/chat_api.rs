//! Script API: a chat typed at the terminal over a connection (`--interactive`).

use super::{ApiResult, api_error, run_handle};
use crate::sockets::TcpConn;
use rhai::plugin::*;
use rhai::{Array, Engine, Map};
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn register(engine: &mut Engine) {
    engine.register_global_module(exported_module!(chat_module).into());
}

/// How long a quitting side waits for the other side's FIN before closing anyway.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

fn entry(dir: &str, text: &str, started: Instant) -> Dynamic {
    let mut m = Map::new();
    m.insert("dir".into(), dir.into());
    m.insert("text".into(), text.into());
    m.insert(
        "time".into(),
        Dynamic::from_float(started.elapsed().as_secs_f64()),
    );
    Dynamic::from_map(m)
}

fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// Runs the terminal chat on `conn` until `q`, end of input, or the peer closing.
fn run_chat(conn: &TcpConn) -> Array {
    let started = Instant::now();
    let log = Arc::new(Mutex::new(Array::new()));
    let peer_closed = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    conn.set_timeout(Duration::from_millis(50));
    say(&format!(
        "connected: {} <-> {}. Type a line and press Enter to send it; q quits.",
        conn.local_addr(),
        conn.peer_addr()
    ));

    let reader = {
        let (conn, log, peer_closed, stop) = (
            conn.clone(),
            Arc::clone(&log),
            Arc::clone(&peer_closed),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match conn.recv_until(b"\n", 1 << 16) {
                    Ok(bytes) if bytes.is_empty() => {
                        say("(the other side closed the connection)");
                        peer_closed.store(true, Ordering::SeqCst);
                        break;
                    }
                    Ok(bytes) => {
                        let text = String::from_utf8_lossy(&bytes)
                            .trim_end_matches(['\n', '\r'])
                            .to_string();
                        say(&format!("{}> {text}", conn.peer_addr()));
                        log.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(entry("received", &text, started));
                    }
                    Err(e) if e.is_timeout() => {}
                    // The run stops (its time limit, Ctrl-C): the chat ends below.
                    Err(e) if e.is_stop() => break,
                    Err(e) => {
                        say(&format!("(receive failed: {e})"));
                        peer_closed.store(true, Ordering::SeqCst);
                        break;
                    }
                }
            }
        })
    };

    let (tx, rx) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(l) => {
                    if tx.send(Some(l)).is_err() {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = tx.send(None);
    });

    let mut quit_first = false;
    loop {
        if peer_closed.load(Ordering::SeqCst) || crate::clock::check().is_err() {
            break;
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(line)) if line.trim() == "q" => {
                quit_first = true;
                break;
            }
            Ok(Some(line)) => match conn.send(format!("{line}\n").as_bytes()) {
                Ok(_) => log
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(entry("sent", &line, started)),
                Err(e) => {
                    say(&format!("(send failed: {e})"));
                    break;
                }
            },
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                quit_first = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if quit_first {
        // A clean close: our FIN first, then wait for the other side's FIN.
        say("(closing: waiting for the other side to close too)");
        let _ = conn.shutdown_write();
        let t = Instant::now();
        while !peer_closed.load(Ordering::SeqCst)
            && t.elapsed() < CLOSE_WAIT
            && crate::clock::check().is_ok()
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    stop.store(true, Ordering::SeqCst);
    let _ = reader.join();
    conn.close();
    say("(chat ended)");
    std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()))
}

#[export_module]
mod chat_module {
    use super::*;

    /// The role this run plays at the terminal (`--interactive --role R`): "server",
    /// "client", or "" when the lab runs by itself.
    #[rhai_fn(return_raw)]
    pub fn interactive(ctx: NativeCallContext) -> ApiResult<String> {
        let handle = run_handle(&ctx)?;
        let role = handle.lock().choice.interactive;
        Ok(role.map(|r| r.as_str().to_string()).unwrap_or_default())
    }

    /// A chat typed at the terminal over `conn`: each line typed is sent, each line
    /// received is printed as it arrives; `q` (or end of input) closes the connection
    /// cleanly, and so does the other side closing. Returns the conversation:
    /// `[#{ dir: "sent" | "received", text, time }]`.
    #[rhai_fn(return_raw)]
    pub fn chat(ctx: NativeCallContext, conn: TcpConn) -> ApiResult<Array> {
        let handle = run_handle(&ctx)?;
        if conn.is_closed() {
            return Err(api_error("chat", "the connection is already closed"));
        }
        let progress = handle.lock().progress.clone();
        progress.set_hidden(true);
        let log = run_chat(&conn);
        progress.set_hidden(false);
        Ok(log)
    }
}
