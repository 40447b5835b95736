//! WebSocket for labs (RFC 6455, framing and handshake by tungstenite): a server that
//! serves a page over HTTP/1.1 and upgrades `/ws` on the same port, labrun's own client,
//! a minimal plain-HTTP client for comparisons, and a headless browser started inside a
//! lab host's namespace.
//!
//! Every blocking call has a deadline. Sockets are made through [`crate::network::Host`],
//! so they live in the host's namespace and obey labrun's rule of where traffic may go.

mod browser;
mod client;
mod conn;
mod http;
mod server;

pub use browser::{Browser, CHROMIUM_FAMILY, MAX_RUNNING as MAX_BROWSERS, check_url, find_browser};
pub use client::{HttpReply, connect, http_request};
pub use conn::{WsConn, WsEvent};
pub use server::{WsServer, page_html};

use crate::sockets::SockError;
use std::time::Duration;

/// How often server threads look at their stop flag and poll their sockets.
pub const POLL: Duration = Duration::from_millis(20);

/// The WebSocket layer's error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WsError {
    /// A socket call failed (connect refused, reset, ...).
    #[error(transparent)]
    Sock(#[from] SockError),
    /// A deadline passed.
    #[error("{op}: timed out after {} ({what})", crate::util::fmt_duration(*.after))]
    Timeout {
        /// The call that waited.
        op: String,
        /// What it waited for.
        what: String,
        /// How long it waited.
        after: Duration,
    },
    /// The WebSocket protocol failed (bad handshake, bad frame, closed connection).
    #[error("{op}: {message}")]
    Protocol {
        /// The call that failed.
        op: String,
        /// What went wrong.
        message: String,
    },
    /// The call was misused (bad URL, closed connection, ...).
    #[error("{op}: {message}")]
    Usage {
        /// The call that failed.
        op: String,
        /// What went wrong.
        message: String,
    },
    /// The browser could not be started.
    #[error("browser: {0}")]
    Browser(String),
    /// The run had to stop (its time limit, Ctrl-C) while `op` waited.
    #[error("{op}: {stop}")]
    Stopped {
        /// The call that waited.
        op: String,
        /// Why the run stopped.
        stop: crate::clock::Stop,
    },
}

impl WsError {
    /// A misuse of `op`.
    pub fn usage(op: &str, message: impl Into<String>) -> WsError {
        WsError::Usage {
            op: op.to_string(),
            message: message.into(),
        }
    }

    /// A protocol failure in `op`.
    pub fn protocol(op: &str, message: impl std::fmt::Display) -> WsError {
        WsError::Protocol {
            op: op.to_string(),
            message: message.to_string(),
        }
    }

    /// True when a deadline passed.
    pub fn is_timeout(&self) -> bool {
        match self {
            WsError::Timeout { .. } => true,
            WsError::Sock(e) => e.is_timeout(),
            _ => false,
        }
    }
}

/// Shorthand for this layer's results.
pub type WsResult<T> = Result<T, WsError>;

/// The next wait of `op` before `deadline`, in slices that end at once when the run must
/// stop ([`crate::clock::slice`]); `Ok(None)` once `deadline` passed.
fn next_wait(op: &str, deadline: std::time::Instant) -> WsResult<Option<Duration>> {
    crate::clock::slice(deadline).map_err(|stop| WsError::Stopped {
        op: op.to_string(),
        stop,
    })
}

/// Splits `ws://ip:port/path` or `http://ip:port/path` into its scheme, address and path.
/// Only literal addresses are accepted: labs never resolve names.
pub fn parse_url(op: &str, url: &str) -> WsResult<(String, std::net::SocketAddr, String)> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        WsError::usage(
            op,
            format!("`{url}` is not a URL like ws://10.77.0.2:8888/ws"),
        )
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let default_port = match scheme {
        "ws" | "http" => 80,
        other => {
            return Err(WsError::usage(
                op,
                format!("scheme `{other}` is not supported (ws:// or http://; no TLS in labs)"),
            ));
        }
    };
    let addr = authority
        .parse()
        .or_else(|_| {
            authority
                .parse::<std::net::IpAddr>()
                .map(|ip| std::net::SocketAddr::new(ip, default_port))
        })
        .map_err(|_| {
            WsError::usage(
                op,
                format!("`{authority}` in `{url}` is not an address like 10.77.0.2:8888 (labs use addresses, not names)"),
            )
        })?;
    Ok((scheme.to_string(), addr, path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_address_and_path() {
        let (s, a, p) = parse_url("x", "ws://10.77.0.2:8888/ws").unwrap();
        assert_eq!(
            (s.as_str(), a.to_string(), p.as_str()),
            ("ws", "10.77.0.2:8888".into(), "/ws")
        );
        let (_, a, p) = parse_url("x", "http://127.0.0.1").unwrap();
        assert_eq!((a.port(), p.as_str()), (80, "/"));
        assert!(parse_url("x", "wss://1.2.3.4/").is_err());
        assert!(parse_url("x", "ws://example.com/").is_err());
        assert!(parse_url("x", "nonsense").is_err());
    }
}
