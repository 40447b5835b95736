//! HTTP/1.1 heads: the start line and header fields, as the WebSocket lab's server and
//! client read them and as the capture decoder finds them in a stream.

/// A parsed head: the start line and the header fields in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    /// `GET / HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start: String,
    /// Header fields as sent (name and value trimmed).
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// Parses the bytes of a head (up to and including the blank line); None if they are
    /// not UTF-8 or the start line has fewer than two words.
    pub fn parse(bytes: &[u8]) -> Option<Head> {
        let head = Head::from_text(std::str::from_utf8(bytes).ok()?);
        (head.start.split(' ').count() >= 2).then_some(head)
    }

    /// Splits head text into its start line and header fields, without judging the start
    /// line; lines without a colon are skipped, the first empty line ends the head.
    pub fn from_text(text: &str) -> Head {
        let mut lines = text.split("\r\n");
        let start = lines.next().unwrap_or("").to_string();
        let headers = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Head { start, headers }
    }

    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The n-th word of the start line (method, target, version / version, status).
    pub fn word(&self, n: usize) -> &str {
        self.start.split(' ').nth(n).unwrap_or("")
    }

    /// Content-Length, or 0.
    pub fn content_length(&self) -> usize {
        self.header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// True when the connection ends after this message.
    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || self.start.contains("HTTP/1.0")
    }
}

/// The value of header `name` in `headers` (case-insensitive), if present.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Position just after the blank line that ends a head, if `buf` holds one.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

#[cfg(test)]
mod tests {
    use super::{Head, head_end};

    #[test]
    fn heads_split_and_judge() {
        let raw = b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade:  websocket \r\nnocolon\r\n\r\nbody";
        let end = head_end(raw).unwrap();
        assert_eq!(&raw[end..], b"body");
        let h = Head::parse(&raw[..end]).unwrap();
        assert_eq!((h.word(0), h.word(1), h.word(9)), ("GET", "/ws", ""));
        assert_eq!(h.header("UPGRADE"), Some("websocket"));
        assert_eq!(h.headers.len(), 2);
        assert_eq!(h.content_length(), 0);
        assert!(Head::parse(b"HTTP/1.1\r\n\r\n").is_none());
        assert_eq!(Head::from_text("HTTP/1.1\r\n\r\n").start, "HTTP/1.1");
        assert!(Head::parse(b"\xff\xfe\r\n\r\n").is_none());
        assert!(Head::parse(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().closes());
    }
}
