//! Just enough HTTP/1.1 for the WebSocket lab: request and response heads (parsed by
//! `analysis::http`), read with deadlines from a standard stream.

pub use crate::analysis::http::{Head, head_end};

use super::{WsError, WsResult};
use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Largest request or response head accepted.
pub const MAX_HEAD: usize = 16 * 1024;

fn timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// The largest HTTP body labrun reads: a `Content-Length` above it is refused before
/// anything is allocated.
pub const MAX_BODY: usize = 16 << 20;

/// Reads exactly `n` bytes (at most [`MAX_BODY`]) before `deadline`.
pub fn read_exact(
    stream: &mut TcpStream,
    n: usize,
    deadline: Instant,
    op: &str,
) -> WsResult<Vec<u8>> {
    if n > MAX_BODY {
        return Err(WsError::Protocol {
            op: op.into(),
            message: format!("a body of {n} bytes is more than the 16 MiB labrun reads"),
        });
    }
    let mut out = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let Some(wait) = super::next_wait(op, deadline)? else {
            return Err(WsError::Timeout {
                op: op.into(),
                what: format!("{got} of {n} bytes arrived"),
                after: Duration::ZERO,
            });
        };
        let _ = stream.set_read_timeout(Some(wait));
        match stream.read(&mut out[got..]) {
            Ok(0) => {
                return Err(WsError::protocol(
                    op,
                    format!("the peer closed after {got} of {n} bytes"),
                ));
            }
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted || timed_out(&e) => {}
            Err(e) => return Err(WsError::protocol(op, e)),
        }
    }
    Ok(out)
}

/// Reads until the end of the stream (the peer's FIN) before `deadline`.
pub fn read_to_end(stream: &mut TcpStream, deadline: Instant, op: &str) -> WsResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let Some(wait) = super::next_wait(op, deadline)? else {
            return Err(WsError::Timeout {
                op: op.into(),
                what: "the end of the response".into(),
                after: Duration::ZERO,
            });
        };
        let _ = stream.set_read_timeout(Some(wait));
        match stream.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::Interrupted || timed_out(&e) => {}
            Err(e) => return Err(WsError::protocol(op, e)),
        }
    }
}

/// Waits for a complete head without consuming it (so a WebSocket library can read the
/// request itself). `Ok(None)`: the peer closed, or `stop` said to give up.
pub fn peek_head(
    stream: &TcpStream,
    idle: Duration,
    stop: &dyn Fn() -> bool,
) -> WsResult<Option<(usize, Head)>> {
    let started = Instant::now();
    let mut buf = vec![0u8; MAX_HEAD];
    let _ = stream.set_read_timeout(Some(super::POLL));
    loop {
        // The server stops, or the run does (its time limit, Ctrl-C).
        if stop() || crate::clock::check().is_err() {
            return Ok(None);
        }
        match stream.peek(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => {
                if let Some(end) = head_end(&buf[..n]) {
                    let head = Head::parse(&buf[..end])
                        .ok_or_else(|| WsError::protocol("serve", "the request is not HTTP"))?;
                    return Ok(Some((end, head)));
                }
                if n == buf.len() {
                    return Err(WsError::protocol(
                        "serve",
                        "request head larger than 16 KiB",
                    ));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted || timed_out(&e) => {}
            Err(e) => return Err(WsError::protocol("serve", e)),
        }
        if started.elapsed() > idle {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_and_bad_input_is_refused() {
        let h = Head::parse(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n").unwrap();
        assert_eq!(h.word(0), "GET");
        assert_eq!(h.word(1), "/ws");
        assert_eq!(h.header("upgrade"), Some("websocket"));
        assert_eq!(h.content_length(), 0);
        assert!(Head::parse(b"\xff\xfe").is_none());
        assert!(Head::parse(b"").is_none());
        assert_eq!(head_end(b"a\r\n\r\nb"), Some(5));
    }
}
