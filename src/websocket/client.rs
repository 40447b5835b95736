//! labrun's own clients: a WebSocket client (tungstenite: masked frames, as RFC 6455
//! requires of clients) and a one-request plain HTTP client for comparisons.

use super::http::{self, Head};
use super::{WsConn, WsError, WsResult, parse_url};
use crate::network::Host;
use crate::sockets::TcpOptions;
use std::io::Write;
use std::time::{Duration, Instant};

/// Opens a WebSocket from `host` to `url` (`ws://ip:port/path`) within `timeout`.
pub fn connect(host: &Host, url: &str, timeout: Duration) -> WsResult<WsConn> {
    let (scheme, addr, _path) = parse_url("ws_connect", url)?;
    if scheme != "ws" {
        return Err(WsError::usage(
            "ws_connect",
            format!("`{url}` is not a ws:// URL"),
        ));
    }
    let opts = TcpOptions {
        timeout: Some(timeout),
        ..TcpOptions::default()
    };
    let tcp = host.connect(addr, opts)?;
    let (stream, _) = tcp.into_std("ws_connect")?;
    // The handshake's reads and writes end by the run's time limit too.
    let handshake = crate::clock::cap(timeout).max(Duration::from_millis(1));
    let _ = stream.set_read_timeout(Some(handshake));
    let _ = stream.set_write_timeout(Some(handshake));
    let (ws, response) = tungstenite::client(url, stream).map_err(|e| match e {
        tungstenite::HandshakeError::Interrupted(_) => WsError::Timeout {
            op: "ws_connect".into(),
            what: format!("waiting for the server's 101 from {addr}"),
            after: timeout,
        },
        tungstenite::HandshakeError::Failure(e) => {
            WsError::protocol("ws_connect", format!("the upgrade to {url} failed: {e}"))
        }
    })?;
    if response.status().as_u16() != 101 {
        return Err(WsError::protocol(
            "ws_connect",
            format!("the server answered {} instead of 101", response.status()),
        ));
    }
    let conn = WsConn::new(ws, false, timeout)?;
    conn.spawn_reader()?;
    Ok(conn)
}

/// The answer to one plain HTTP request.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// Status code, e.g. 200.
    pub status: u16,
    /// The response's head.
    pub head: Head,
    /// The response body.
    pub body: Vec<u8>,
    /// Bytes of the request (head and body) as sent.
    pub request_len: usize,
    /// Bytes of the response (head and body) as received.
    pub response_len: usize,
}

/// Sends one HTTP/1.1 request from `host` on a new connection (`Connection: close`, so
/// the server closes first) and reads the whole response.
pub fn http_request(
    host: &Host,
    method: &str,
    url: &str,
    body: &[u8],
    timeout: Duration,
) -> WsResult<HttpReply> {
    let (scheme, addr, path) = parse_url("http", url)?;
    if scheme != "http" {
        return Err(WsError::usage(
            "http",
            format!("`{url}` is not an http:// URL"),
        ));
    }
    let opts = TcpOptions {
        timeout: Some(timeout),
        ..TcpOptions::default()
    };
    let deadline = Instant::now() + timeout;
    let tcp = host.connect(addr, opts)?;
    let (mut stream, _) = tcp.into_std("http")?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    if !body.is_empty() || method == "POST" {
        request.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("Connection: close\r\n\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    let _ = stream.set_write_timeout(Some(
        crate::clock::cap(timeout).max(Duration::from_millis(1)),
    ));
    stream
        .write_all(&bytes)
        .map_err(|e| WsError::protocol("http", format!("sending the request to {addr}: {e}")))?;
    let response = http::read_to_end(&mut stream, deadline, "http")?;
    let end = http::head_end(&response)
        .ok_or_else(|| WsError::protocol("http", format!("{addr} sent no complete HTTP head")))?;
    let head = Head::parse(&response[..end])
        .ok_or_else(|| WsError::protocol("http", format!("{addr} did not answer HTTP")))?;
    let status = head.word(1).parse().unwrap_or(0);
    Ok(HttpReply {
        status,
        body: response[end..].to_vec(),
        head,
        request_len: bytes.len(),
        response_len: response.len(),
    })
}
