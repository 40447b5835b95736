//! A chat typed at a terminal over a connection (`--interactive`): lines typed are sent,
//! lines received are shown, `q` or the end of input closes cleanly.

use crate::sockets::TcpConn;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a quitting side waits for the other side's FIN before closing anyway.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// One line of a chat, for the conversation the chat returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatEntry {
    /// "sent" or "received".
    pub dir: &'static str,
    /// The line, without its newline.
    pub text: String,
    /// Seconds since the chat started.
    pub time: f64,
}

/// Shows one line to the user (shared with the thread that prints received lines).
pub type Say = Arc<dyn Fn(&str) + Send + Sync>;

/// Where typed lines come from: `Some(line)` for each, then `None` at the end of input.
pub type Lines = mpsc::Receiver<Option<String>>;

/// The lines of standard input, read on a thread.
pub fn stdin_lines() -> Lines {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || forward(std::io::stdin().lock(), &tx));
    rx
}

/// The lines of `input`, read on a thread (a terminal stand-in).
pub fn reader_lines(input: impl BufRead + Send + 'static) -> Lines {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || forward(input, &tx));
    rx
}

fn forward(input: impl BufRead, tx: &mpsc::Sender<Option<String>>) {
    for line in input.lines() {
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
}

/// Runs the chat on `conn` until `q`, end of input, or the peer closing: `lines` gives the
/// typed lines (made once the chat is announced), `say` shows a line to the user. Returns
/// the conversation in order.
pub fn run_chat(conn: &TcpConn, lines: impl FnOnce() -> Lines, say: Say) -> Vec<ChatEntry> {
    let started = Instant::now();
    let entry = move |dir, text: &str| ChatEntry {
        dir,
        text: text.to_string(),
        time: started.elapsed().as_secs_f64(),
    };
    let log = Arc::new(Mutex::new(Vec::new()));
    let peer_closed = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    conn.set_timeout(Duration::from_millis(50));
    say(&format!(
        "connected: {} <-> {}. Type a line and press Enter to send it; q quits.",
        conn.local_addr(),
        conn.peer_addr()
    ));

    let reader = {
        let (conn, log, peer_closed, stop, say) = (
            conn.clone(),
            Arc::clone(&log),
            Arc::clone(&peer_closed),
            Arc::clone(&stop),
            Arc::clone(&say),
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
                            .push(entry("received", &text));
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

    let rx = lines();
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
                    .push(entry("sent", &line)),
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
