//! HTTP/1.1 heads: the start line and header fields, as the WebSocket lab's server and
//! client read them and as the capture decoder finds them in a stream; and the framing of
//! messages in a TCP stream with the Protocol and Info columns tshark 4.0 gives them
//! ([`dissect`], packet-http.c and req_resp_hdrs.c).

use crate::pdu::{Dissected, Need};

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

/// TCP ports tshark 4.0 hands to its HTTP dissector (its `http.tcp.port` range).
pub const TCP_PORTS: [u16; 10] = [80, 1900, 2710, 2869, 3128, 3132, 5985, 8080, 8088, 11371];

/// Request methods tshark's `is_http_request_or_reply` knows (HTTP, WebDAV, SSDP and
/// friends); a start line is a request when it begins with one of them and a space.
const METHODS: &[&str] = &[
    "GET",
    "PUT",
    "HEAD",
    "POST",
    "COPY",
    "LOCK",
    "MOVE",
    "POLL",
    "MKCOL",
    "TRACE",
    "PATCH",
    "LABEL",
    "MERGE",
    "BCOPY",
    "BMOVE",
    "DELETE",
    "SEARCH",
    "UNLOCK",
    "REPORT",
    "UPDATE",
    "NOTIFY",
    "BDELETE",
    "CONNECT",
    "OPTIONS",
    "CHECKIN",
    "PROPFIND",
    "CHECKOUT",
    "M-SEARCH",
    "BPROPFIND",
    "PROPPATCH",
    "SUBSCRIBE",
    "MKACTIVITY",
    "BPROPPATCH",
    "UNCHECKOUT",
    "MKWORKSPACE",
    "UNSUBSCRIBE",
    "VERSION-CONTROL",
    "BASELINE-CONTROL",
];

/// What one HTTP connection remembers between messages: whether a request was seen
/// (later unparsable data is then "Continuation"; a response alone does not count, as in
/// tshark), the last request's method (a response to HEAD has no body), and whether a
/// `101 Switching Protocols` with `Upgrade: websocket` turned it into WebSocket.
#[derive(Debug, Clone, Default)]
pub struct HttpConv {
    seen: bool,
    head_request: bool,
    connect_request: bool,
    /// Set by a 101 response whose Upgrade header names WebSocket: what follows it is
    /// WebSocket frames in both directions.
    pub websocket: bool,
}

/// tshark's heuristic HTTP dissector on TCP (`http_tcp`, packet-http.c
/// `dissect_http_heur_tcp`): a segment whose first line, ended within it by CR or LF, is
/// not 8 bytes long and starts with or ends in `HTTP/1.` (any case, one more byte after
/// it) makes the connection HTTP from that segment on, on any port.
pub fn looks_like_http(payload: &[u8]) -> bool {
    let Some(len) = payload.iter().position(|&b| b == b'\n' || b == b'\r') else {
        return false;
    };
    let token = |at: usize| {
        payload
            .get(at..at + 7)
            .is_some_and(|t| t.eq_ignore_ascii_case(b"HTTP/1."))
    };
    len != 8 && ((len >= 8 && token(len - 8)) || token(0))
}

/// The end of the line that starts `buf` (tvb_find_line_end with desegmentation): the
/// line's length and where the next line starts; None when no line end is there yet
/// (a CR that is the last byte may still be followed by LF).
fn line_end(buf: &[u8]) -> Option<(usize, usize)> {
    let i = buf.iter().position(|&b| b == b'\n' || b == b'\r')?;
    match (buf[i], buf.get(i + 1)) {
        (b'\r', Some(b'\n')) => Some((i, i + 2)),
        (b'\r', None) => None,
        _ => Some((i, i + 1)),
    }
}

/// The kind of message a start line opens, if it opens one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Response,
}

fn kind_of(line: &[u8]) -> Option<Kind> {
    if line.starts_with(b"HTTP/") || line.starts_with(b"ICY ") {
        return Some(Kind::Response);
    }
    let word = line.split(|&b| b == b' ').next()?;
    (word.len() < line.len() && METHODS.iter().any(|m| m.as_bytes() == word))
        .then_some(Kind::Request)
}

/// A start line as tshark prints it in the Info column (format_text: printable ASCII
/// as is, other bytes escaped).
fn shown(line: &[u8]) -> String {
    let mut s = String::with_capacity(line.len());
    for &b in line {
        match b {
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// Protocol column and Info suffix of a message body of this media type, as the
/// dissector tshark 4.0 registers for it writes them; `body` is its start (an image
/// dissector names the format when the signature is there, or when the body has not
/// arrived yet).
fn media_columns(media: &str, body: &[u8]) -> (&'static str, Option<String>) {
    let signed = |sig: &[u8]| body.is_empty() || body.starts_with(sig);
    match media {
        "image/png" if signed(b"\x89PNG\r\n\x1a\n") => ("HTTP", Some(" (PNG)".into())),
        "image/jpeg" | "image/jpg" | "image/jfif" | "image/pjpeg" if signed(b"\xff\xd8") => {
            ("HTTP", Some(" (JPEG JFIF image)".into()))
        }
        "image/gif" if signed(b"GIF8") => {
            let version = if body.starts_with(b"GIF87a") {
                "GIF87a"
            } else {
                "GIF89a"
            };
            ("HTTP", Some(format!(" ({version})")))
        }
        "application/json" | "application/problem+json" => (
            "HTTP/JSON",
            Some(format!(", JavaScript Object Notation ({media})")),
        ),
        "text/xml" | "application/xml" => ("HTTP/XML", None),
        "application/octet-stream" | "" => ("HTTP", None),
        _ => ("HTTP", Some(format!(" ({media})"))),
    }
}

/// Length of a complete chunked body at the start of `buf` and its de-chunked size, or
/// None while it is incomplete. A malformed chunk size ends the body where it stands.
fn chunked_len(buf: &[u8]) -> Option<(usize, usize)> {
    let (mut at, mut data) = (0usize, 0usize);
    loop {
        let (len, next) = line_end(&buf[at..])?;
        let size_text = std::str::from_utf8(&buf[at..at + len]).ok();
        let size = size_text
            .map(|t| t.split(';').next().unwrap_or("").trim())
            .and_then(|t| usize::from_str_radix(t, 16).ok());
        at += next;
        let Some(size) = size else {
            return Some((at, data));
        };
        if size == 0 {
            // Trailer fields up to the blank line.
            loop {
                let (len, next) = line_end(&buf[at..])?;
                at += next;
                if len == 0 {
                    return Some((at, data));
                }
            }
        }
        let end = at.checked_add(size)?;
        if end > buf.len() {
            return None;
        }
        data += size;
        at = end;
        let (_, next) = line_end(&buf[at..])?;
        at += next;
    }
}

/// Frames the HTTP message at the start of `buf` as tshark 4.0 does (with its default
/// header and body reassembly) and writes its Info text to `info`. `end_of_stream` is set
/// when the connection's FIN arrived (a response without length ends there).
pub fn dissect(
    buf: &[u8],
    end_of_stream: bool,
    conv: &mut HttpConv,
    info: &mut String,
) -> Dissected {
    // Data that does not start with a printable character is no message: after a
    // request it continues one, else it is not HTTP.
    if buf.first().is_some_and(|b| !(0x20..=0x7e).contains(b)) {
        if conv.seen {
            info.push_str("Continuation");
            return Dissected::Pdu(buf.len(), "HTTP");
        }
        return Dissected::Reject;
    }
    let Some((line_len, mut at)) = line_end(buf) else {
        if end_of_stream {
            return Dissected::Reject;
        }
        return Dissected::Need(Need::OneMore, false);
    };
    let line = &buf[..line_len];
    let Some(kind) = kind_of(line) else {
        if conv.seen {
            info.push_str("Continuation");
            return Dissected::Pdu(buf.len(), "HTTP");
        }
        return Dissected::Reject;
    };
    let entry = info.len();
    info.push_str(&shown(line));
    info.push(' ');
    let code = match kind {
        Kind::Request => {
            let method = line.split(|&b| b == b' ').next().unwrap_or_default();
            conv.seen = true;
            conv.head_request = method == b"HEAD";
            conv.connect_request = method == b"CONNECT";
            0
        }
        Kind::Response => std::str::from_utf8(line)
            .ok()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0),
    };
    let no_body = kind == Kind::Response
        && (conv.head_request
            || (conv.connect_request && code / 100 == 2)
            || code / 100 == 1
            || code == 204
            || code == 304);
    let try_body = !no_body && !end_of_stream;
    // Header fields up to the blank line.
    let (mut content_length, mut chunked, mut media) = (None::<usize>, false, String::new());
    let mut upgrade_websocket = false;
    loop {
        let Some((len, next)) = line_end(&buf[at..]) else {
            if end_of_stream {
                return Dissected::Pdu(buf.len(), "HTTP");
            }
            return Dissected::Need(Need::OneMore, true);
        };
        let field = &buf[at..at + len];
        at += next;
        if len == 0 {
            conv.websocket |= code == 101 && upgrade_websocket;
            break;
        }
        let Some(colon) = field.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(&field[..colon]);
        let value = String::from_utf8_lossy(&field[colon + 1..]);
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("upgrade") {
            upgrade_websocket = value.eq_ignore_ascii_case("websocket");
        } else if name.eq_ignore_ascii_case("content-type") {
            media = value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
        }
    }
    let rest = buf.len() - at;
    let body = if end_of_stream {
        rest
    } else if !try_body {
        content_length.unwrap_or(0).min(rest)
    } else if let Some(n) = content_length {
        if rest < n {
            let (protocol, suffix) = media_columns(&media, &buf[at..]);
            let shown = info.len() - entry;
            info.push_str(suffix.as_deref().unwrap_or(""));
            let remaining = n - rest;
            return Dissected::Need(
                Need::Body {
                    remaining,
                    protocol,
                    shown,
                },
                true,
            );
        }
        n
    } else if chunked {
        match chunked_len(&buf[at..]) {
            Some((len, data)) => {
                let first = line_end(&buf[at..]).map_or(&[][..], |(_, n)| &buf[at + n..]);
                let (protocol, suffix) = media_columns(&media, first);
                if data > 0 {
                    info.push_str(suffix.as_deref().unwrap_or(""));
                }
                return Dissected::Pdu(at + len, if data > 0 { protocol } else { "HTTP" });
            }
            None => return Dissected::Need(Need::OneMore, true),
        }
    } else if kind == Kind::Response {
        return Dissected::Need(Need::UntilFin, true);
    } else {
        0
    };
    if body == 0 {
        return Dissected::Pdu(at, "HTTP");
    }
    let (protocol, suffix) = media_columns(&media, &buf[at..]);
    info.push_str(suffix.as_deref().unwrap_or(""));
    Dissected::Pdu(at + body, protocol)
}

#[cfg(test)]
mod tests {
    use super::{Head, HttpConv, dissect, head_end};
    use crate::pdu::{Dissected, Need};

    fn run(buf: &[u8], eos: bool, conv: &mut HttpConv) -> (Dissected, String) {
        let mut info = String::new();
        (dissect(buf, eos, conv, &mut info), info)
    }

    #[test]
    fn messages_frame_and_name_as_tshark_does() {
        let mut c = HttpConv::default();
        // A request line ends with the space tshark puts after it.
        let get = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        assert_eq!(
            run(get, false, &mut c),
            (Dissected::Pdu(get.len(), "HTTP"), "GET / HTTP/1.1 ".into())
        );
        // No line end yet: one more segment, nothing written.
        assert_eq!(
            run(b"GET /spl", false, &mut c).0,
            Dissected::Need(Need::OneMore, false)
        );
        // First line but no blank line: the line is written, one more segment.
        assert_eq!(
            run(b"GET /x HTTP/1.1\r\nHost: a\r\n", false, &mut c),
            (
                Dissected::Need(Need::OneMore, true),
                "GET /x HTTP/1.1 ".into()
            )
        );
        // A body of known length: exactly the missing bytes.
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 10\r\n\r\n";
        let mut part = head.to_vec();
        part.extend_from_slice(b"0123");
        let body = Need::Body {
            remaining: 6,
            protocol: "HTTP",
            shown: 16,
        };
        assert_eq!(
            run(&part, false, &mut c),
            (
                Dissected::Need(body, true),
                "HTTP/1.1 200 OK  (text/html)".into()
            )
        );
        part.extend_from_slice(b"456789GET");
        assert_eq!(
            run(&part, false, &mut c),
            (
                Dissected::Pdu(head.len() + 10, "HTTP"),
                "HTTP/1.1 200 OK  (text/html)".into()
            )
        );
        // JSON and XML bodies change the Protocol column.
        let json = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(
            run(json, false, &mut c),
            (
                Dissected::Pdu(json.len(), "HTTP/JSON"),
                "HTTP/1.1 201 Created , JavaScript Object Notation (application/json)".into()
            )
        );
        // Chunked: complete only with the last chunk; the suffix counts de-chunked data.
        let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
        assert_eq!(
            run(chunked, false, &mut c).0,
            Dissected::Need(Need::OneMore, true)
        );
        let mut whole = chunked.to_vec();
        whole.extend_from_slice(b"0\r\n\r\n");
        assert_eq!(
            run(&whole, false, &mut c).1,
            "HTTP/1.1 200 OK  (text/plain)"
        );
        // A response without a length runs to the FIN.
        let old = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil";
        assert_eq!(
            run(old, false, &mut c).0,
            Dissected::Need(Need::UntilFin, true)
        );
        assert_eq!(run(old, true, &mut c).0, Dissected::Pdu(old.len(), "HTTP"));
        // After HTTP was seen, other data is a continuation.
        assert_eq!(
            run(b"junk\r\n", false, &mut c),
            (Dissected::Pdu(6, "HTTP"), "Continuation".into())
        );
    }

    #[test]
    fn images_are_named_by_their_signature() {
        use super::media_columns;
        let named = |media, body: &[u8]| media_columns(media, body).1.unwrap_or_default();
        assert_eq!(named("image/png", b"\x89PNG\r\n\x1a\n..."), " (PNG)");
        assert_eq!(named("image/png", b"\x89PNG"), " (image/png)");
        assert_eq!(
            named("image/jpeg", b"\xff\xd8\xff\xe0"),
            " (JPEG JFIF image)"
        );
        assert_eq!(named("image/gif", b"GIF87a.."), " (GIF87a)");
        assert_eq!(named("image/gif", b""), " (GIF89a)");
        assert_eq!(named("image/gif", b"nope"), " (image/gif)");
        assert_eq!(named("application/octet-stream", b"x"), "");
        assert_eq!(media_columns("text/xml", b"<a/>").0, "HTTP/XML");
    }

    #[test]
    fn bodiless_responses_and_other_data() {
        let mut c = HttpConv::default();
        assert_eq!(run(b"hello\r\n", false, &mut c).0, Dissected::Reject);
        run(b"HEAD / HTTP/1.1\r\n\r\n", false, &mut c);
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 99\r\n\r\n";
        assert_eq!(
            run(head, false, &mut c),
            (
                Dissected::Pdu(head.len(), "HTTP"),
                "HTTP/1.1 200 OK ".into()
            )
        );
        let mut c = HttpConv::default();
        for status in [
            "101 Switching Protocols",
            "204 No Content",
            "304 Not Modified",
        ] {
            let r = format!("HTTP/1.1 {status}\r\n\r\n");
            assert_eq!(
                run(r.as_bytes(), false, &mut c),
                (
                    Dissected::Pdu(r.len(), "HTTP"),
                    format!("HTTP/1.1 {status} ")
                )
            );
        }
        assert_eq!(
            run(b"GET /\x01 HTTP/1.1\r\n\r\n", false, &mut c).1,
            "GET /\\x01 HTTP/1.1 "
        );
        // A CR as the last byte may be the start of CRLF: wait.
        assert_eq!(
            run(b"GET / HTTP/1.1\r", false, &mut c).0,
            Dissected::Need(Need::OneMore, false)
        );
    }

    #[test]
    fn the_heuristic_wants_http_1_at_either_end_of_a_whole_first_line() {
        use super::looks_like_http;
        assert!(looks_like_http(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(looks_like_http(b"FOO / http/1.0\n"));
        assert!(looks_like_http(b"HTTP/1.1 200 OK\r\n"));
        assert!(looks_like_http(b"http/1.x whatever\r"));
        // No line end in the segment, an 8-byte line, HTTP/2, a space after the version.
        assert!(!looks_like_http(b"GET / HTTP/1.1"));
        assert!(!looks_like_http(b"HTTP/1.1\r\n\r\n"));
        assert!(!looks_like_http(b"GET / HTTP/2.0\r\n"));
        assert!(!looks_like_http(b"GET / HTTP/1.1 \r\n"));
        assert!(!looks_like_http(b"1\r\n\r\n"));
    }

    #[test]
    fn only_a_request_makes_later_data_a_continuation() {
        let mut c = HttpConv::default();
        run(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            &mut c,
        );
        assert_eq!(run(b"xyz\r\n", false, &mut c).0, Dissected::Reject);
        assert_eq!(run(b"\x81\x02hi", false, &mut c).0, Dissected::Reject);
        run(b"GET / HTTP/1.1\r\n\r\n", false, &mut c);
        // Binary data is a continuation even without a line end; text waits for one.
        assert_eq!(
            run(b"\x81\x02hi", false, &mut c),
            (Dissected::Pdu(4, "HTTP"), "Continuation".into())
        );
        assert_eq!(
            run(b"xyz", false, &mut c).0,
            Dissected::Need(Need::OneMore, false)
        );
        // A 101 that names WebSocket upgrades the connection; another protocol does not.
        run(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
            false,
            &mut c,
        );
        assert!(!c.websocket);
        run(
            b"HTTP/1.1 200 OK\r\nUpgrade: websocket\r\n\r\n",
            false,
            &mut c,
        );
        assert!(!c.websocket);
        run(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n\r\n",
            false,
            &mut c,
        );
        assert!(c.websocket);
    }

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
