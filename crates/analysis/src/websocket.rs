//! HTTP/1.1 and WebSocket (RFC 6455) decoded from a captured TCP stream.
//!
//! Each direction of the stream is put back together by sequence number (retransmitted
//! bytes count once, out-of-order segments wait for the gap), then read as HTTP messages
//! until a `101 Switching Protocols` answers a WebSocket upgrade; from there on both
//! directions are WebSocket frames. Every byte offset remembers the frame that carried
//! it, so a message is shown in the packet where it completes, as Wireshark does.
//! Malformed or cut-short input ends the decoding of that direction with a note, never
//! with a panic.

use super::http::{self, Head};
use super::pdu::{Dissected, Need};
use super::reassembly::{Delivery, Reassembler};
use super::{Packet, TcpStream, Trace};
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Most bytes kept per direction.
const MAX_BYTES: usize = 64 << 20;

/// One direction of a stream's payload, in order, with the frame that carried each byte.
#[derive(Debug, Default)]
struct Bytes {
    data: Vec<u8>,
    /// (offset just past the segment's new bytes, frame number), in offset order.
    ends: Vec<(usize, u64)>,
    /// Per-frame count of header bytes (link, IP, TCP) of frames that carried new bytes.
    overhead: BTreeMap<u64, u32>,
    /// True when a gap or a cut-short segment lost bytes.
    gap: bool,
}

impl Bytes {
    /// The frame that carried byte `offset`.
    fn frame_of(&self, offset: usize) -> u64 {
        let i = self.ends.partition_point(|(end, _)| *end <= offset);
        self.ends.get(i).or(self.ends.last()).map_or(0, |(_, f)| *f)
    }

    /// The frames that carried bytes `start..end`.
    fn frames_of(&self, start: usize, end: usize) -> Vec<u64> {
        if end <= start {
            return Vec::new();
        }
        let mut out: Vec<u64> = Vec::new();
        let first = self.ends.partition_point(|(e, _)| *e <= start);
        for (e, f) in self.ends.iter().skip(first) {
            if out.last() != Some(f) {
                out.push(*f);
            }
            if *e >= end {
                break;
            }
        }
        out
    }
}

/// A segment's relative sequence number, payload, frame number and header bytes.
type Segment<'a> = (u32, &'a [u8], u64, u32);

/// A segment's payload with the frame that carried it and that frame's header bytes.
struct Carried<'a> {
    data: &'a [u8],
    frame: u64,
    overhead: u32,
}

impl AsRef<[u8]> for Carried<'_> {
    fn as_ref(&self) -> &[u8] {
        self.data
    }
}

/// Puts one direction back together from its segments (relative seq, payload, frame).
fn reassemble(segments: Vec<Segment>) -> Bytes {
    let mut out = Bytes::default();
    let mut r = Reassembler::new(usize::MAX);
    let mut deliver = |s: Carried, d: Delivery| {
        let new = s.data.get(d.skip..).unwrap_or(&[]);
        let room = MAX_BYTES.saturating_sub(out.data.len());
        let new = &new[..new.len().min(room)];
        if new.is_empty() {
            return false;
        }
        out.data.extend_from_slice(new);
        out.ends.push((out.data.len(), s.frame));
        out.overhead.entry(s.frame).or_insert(s.overhead);
        true
    };
    for (seq, data, frame, overhead) in segments {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let segment = Carried {
            data,
            frame,
            overhead,
        };
        r.add(seq, len, segment, &mut deliver);
    }
    out.gap = r.has_pending();
    out
}

/// An HTTP/1.1 message found in a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpMessage {
    /// True when the client sent it (a request).
    pub from_client: bool,
    /// The frame carrying its first byte.
    pub first_frame: u64,
    /// The frame carrying its last byte (where Wireshark shows it).
    pub frame: u64,
    /// Every frame that carried its bytes.
    pub frames: Vec<u64>,
    /// `GET /ws HTTP/1.1` or `HTTP/1.1 101 Switching Protocols`.
    pub start_line: String,
    /// Header fields in order.
    pub headers: Vec<(String, String)>,
    /// Bytes of the head (start line, headers, blank line).
    pub head_len: usize,
    /// The body.
    pub body: Vec<u8>,
    /// Head and body bytes plus the link, IP and TCP headers of the frames that carried them.
    pub wire_len: u64,
}

impl HttpMessage {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        if self.from_client {
            return None;
        }
        self.start_line.split(' ').nth(1)?.parse().ok()
    }

    /// Head and body bytes.
    pub fn len(&self) -> usize {
        self.head_len + self.body.len()
    }

    /// True for a message of zero bytes (never produced by the decoder).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How a frame's payload length is written (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthForm {
    /// 0..=125 in the 7-bit field.
    Short,
    /// 126 in the 7-bit field, then 16 bits.
    Extended16,
    /// 127 in the 7-bit field, then 64 bits.
    Extended64,
}

impl LengthForm {
    /// `7-bit`, `16-bit`, `64-bit`.
    pub fn as_str(self) -> &'static str {
        match self {
            LengthForm::Short => "7-bit",
            LengthForm::Extended16 => "16-bit",
            LengthForm::Extended64 => "64-bit",
        }
    }
}

/// One WebSocket frame as it crossed the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsFrame {
    /// True when the client sent it.
    pub from_client: bool,
    /// The frame carrying its first byte.
    pub first_frame: u64,
    /// The frame carrying its last byte (where Wireshark shows it).
    pub frame: u64,
    /// Every frame that carried its bytes.
    pub frames: Vec<u64>,
    /// FIN bit: the last frame of a message.
    pub fin: bool,
    /// RSV1..3 bits (0 unless an extension is in use).
    pub rsv: u8,
    /// Opcode: 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong.
    pub opcode: u8,
    /// MASK bit (set on every frame a client sends).
    pub masked: bool,
    /// The masking key, when masked.
    pub mask_key: Option<[u8; 4]>,
    /// How the payload length was written.
    pub length_form: LengthForm,
    /// The payload length the header announced.
    pub payload_len: u64,
    /// Header bytes: 2, plus 2 or 8 for an extended length, plus 4 for a mask.
    pub header_len: usize,
    /// The payload, unmasked (cut short when the capture is).
    pub payload: Vec<u8>,
    /// False when the capture ended inside the frame.
    pub complete: bool,
    /// Frame bytes plus the link, IP and TCP headers of the frames that carried them.
    pub wire_len: u64,
}

impl WsFrame {
    /// Wireshark's name of the opcode.
    pub fn opcode_name(&self) -> &'static str {
        match self.opcode {
            0 => "Continuation",
            1 => "Text",
            2 => "Binary",
            8 => "Connection Close",
            9 => "Ping",
            10 => "Pong",
            _ => "Reserved",
        }
    }

    /// The close code of a close frame that carries one.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    /// The payload as text (a close frame: its reason).
    pub fn text(&self) -> String {
        let bytes = if self.opcode == 8 {
            self.payload.get(2..).unwrap_or(&[])
        } else {
            &self.payload
        };
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// Header and payload bytes on the wire.
    pub fn len(&self) -> u64 {
        (self.header_len as u64).saturating_add(self.payload_len)
    }

    /// True for a frame of zero bytes (never produced by the decoder).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The opening handshake of a WebSocket (RFC 6455 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsHandshake {
    /// The client's `GET` with `Upgrade: websocket`.
    pub request: HttpMessage,
    /// The server's `101 Switching Protocols`.
    pub response: HttpMessage,
    /// `Sec-WebSocket-Key` of the request.
    pub key: String,
    /// `Sec-WebSocket-Accept` of the response.
    pub accept: String,
    /// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")): what the accept must be.
    pub expected_accept: String,
}

impl WsHandshake {
    /// True when the server's accept value proves it read this key.
    pub fn accept_ok(&self) -> bool {
        !self.accept.is_empty() && self.accept == self.expected_accept
    }
}

/// The application layer of one TCP stream: its HTTP messages and, after an upgrade,
/// its WebSocket frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStream {
    /// Wireshark's `tcp.stream`.
    pub stream: u32,
    /// The client (the SYN sender).
    pub client: SocketAddr,
    /// The server.
    pub server: SocketAddr,
    /// HTTP messages in the order they completed (the upgrade's two included).
    pub http: Vec<HttpMessage>,
    /// The opening handshake, when the stream upgraded to WebSocket.
    pub handshake: Option<WsHandshake>,
    /// WebSocket frames in the order they completed on the wire.
    pub frames: Vec<WsFrame>,
    /// What could not be decoded, in words.
    pub notes: Vec<String>,
}

impl AppStream {
    /// The first close frame, and who sent it.
    pub fn first_close(&self) -> Option<&WsFrame> {
        self.frames.iter().find(|f| f.opcode == 8)
    }
}

fn packet(trace: &Trace, number: u64) -> Option<&Packet> {
    let i = usize::try_from(number.checked_sub(1)?).ok()?;
    trace.packets.get(i).filter(|p| p.number == number)
}

/// Parses HTTP messages from `bytes` starting at `pos`; returns them and where parsing
/// stopped. `until_upgrade`: stop after a message announcing `Upgrade: websocket`
/// (a request) or a 101 (a response).
fn parse_http(
    b: &Bytes,
    from_client: bool,
    mut pos: usize,
    notes: &mut Vec<String>,
) -> (Vec<HttpMessage>, usize) {
    let mut out = Vec::new();
    let who = if from_client { "client" } else { "server" };
    while pos < b.data.len() {
        let rest = &b.data[pos..];
        let Some(end) = http::head_end(rest) else {
            notes.push(format!(
                "{who}: {} bytes that are not a complete HTTP head",
                rest.len()
            ));
            return (out, b.data.len());
        };
        let Ok(text) = std::str::from_utf8(&rest[..end]) else {
            notes.push(format!("{who}: bytes at offset {pos} are not HTTP"));
            return (out, b.data.len());
        };
        let Head {
            start: start_line,
            headers,
        } = Head::from_text(text);
        let is_http = if from_client {
            start_line.ends_with("HTTP/1.1") || start_line.ends_with("HTTP/1.0")
        } else {
            start_line.starts_with("HTTP/1.")
        };
        if !is_http {
            notes.push(format!("{who}: bytes at offset {pos} are not HTTP"));
            return (out, b.data.len());
        }
        let find = |name: &str| http::header(&headers, name);
        let status: Option<u16> = (!from_client)
            .then(|| start_line.split(' ').nth(1)?.parse().ok())
            .flatten();
        let body_len = match find("content-length").and_then(|v| v.parse::<usize>().ok()) {
            Some(n) => n,
            // A response without a length runs to the end of the stream, unless it has no body.
            None if !from_client
                && !matches!(status, Some(101 | 204 | 304))
                && find("transfer-encoding").is_none() =>
            {
                rest.len() - end
            }
            None => 0,
        };
        let upgrade = if from_client {
            find("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
        } else {
            status == Some(101)
        };
        let total = end.saturating_add(body_len);
        let complete = total <= rest.len();
        let body_end = total.min(rest.len());
        let frames = b.frames_of(pos, pos + body_end);
        let overhead: u64 = frames
            .iter()
            .map(|f| u64::from(b.overhead.get(f).copied().unwrap_or(0)))
            .sum();
        out.push(HttpMessage {
            from_client,
            first_frame: b.frame_of(pos),
            frame: b.frame_of(pos + body_end - 1),
            frames,
            start_line,
            headers,
            head_len: end,
            body: rest[end..body_end].to_vec(),
            wire_len: body_end as u64 + overhead,
        });
        pos += body_end;
        if !complete {
            notes.push(format!("{who}: the capture ends inside an HTTP body"));
            break;
        }
        if upgrade {
            break;
        }
    }
    (out, pos)
}

/// Decodes WebSocket frames of one direction from `pos` on.
fn parse_frames(
    b: &Bytes,
    from_client: bool,
    mut pos: usize,
    notes: &mut Vec<String>,
) -> Vec<WsFrame> {
    let mut out = Vec::new();
    let data = &b.data;
    while pos < data.len() {
        let at = |i: usize| data.get(pos + i).copied();
        let (Some(b0), Some(b1)) = (at(0), at(1)) else {
            notes.push("the capture ends inside a WebSocket frame header".into());
            break;
        };
        let len7 = b1 & 0x7f;
        let (length_form, ext) = match len7 {
            126 => (LengthForm::Extended16, 2),
            127 => (LengthForm::Extended64, 8),
            _ => (LengthForm::Short, 0),
        };
        let masked = b1 & 0x80 != 0;
        let header_len = 2 + ext + if masked { 4 } else { 0 };
        let Some(header) = data.get(pos..pos + header_len) else {
            notes.push("the capture ends inside a WebSocket frame header".into());
            break;
        };
        let payload_len = match ext {
            2 => u64::from(u16::from_be_bytes([header[2], header[3]])),
            8 => header[2..10]
                .iter()
                .fold(0u64, |n, &x| (n << 8) | u64::from(x)),
            _ => u64::from(len7),
        };
        let mask_key = masked.then(|| {
            let k = &header[2 + ext..2 + ext + 4];
            [k[0], k[1], k[2], k[3]]
        });
        let start = pos + header_len;
        let want = usize::try_from(payload_len).unwrap_or(usize::MAX);
        let end = start.saturating_add(want).min(data.len());
        let complete = start.checked_add(want).is_some_and(|e| e <= data.len());
        let mut payload = data[start..end].to_vec();
        if let Some(k) = mask_key {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= k[i % 4];
            }
        }
        let frames = b.frames_of(pos, end);
        let overhead: u64 = frames
            .iter()
            .map(|f| u64::from(b.overhead.get(f).copied().unwrap_or(0)))
            .sum();
        out.push(WsFrame {
            from_client,
            first_frame: b.frame_of(pos),
            frame: b.frame_of(end.saturating_sub(1)),
            frames,
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x7,
            opcode: b0 & 0x0f,
            masked,
            mask_key,
            length_form,
            payload_len,
            header_len,
            payload,
            complete,
            wire_len: (end - pos) as u64 + overhead,
        });
        if !complete {
            notes.push("the capture ends inside a WebSocket frame".into());
            break;
        }
        pos = end;
    }
    out
}

/// Decodes the HTTP messages and WebSocket frames of `stream` in `trace`.
pub fn decode_stream(trace: &Trace, stream: &TcpStream) -> AppStream {
    let mut dirs: [Vec<Segment>; 2] = [Vec::new(), Vec::new()];
    for &n in &stream.frames {
        let Some(p) = packet(trace, n) else { continue };
        let (Some(ip), Some(tcp)) = (&p.ip, &p.tcp) else {
            continue;
        };
        if tcp.len == 0 || p.payload.is_empty() {
            continue;
        }
        let from_client = SocketAddr::new(ip.src, tcp.src_port) == stream.client;
        let len = (tcp.len as usize).min(p.payload.len());
        let overhead = p.len.saturating_sub(tcp.len);
        dirs[usize::from(!from_client)].push((tcp.seq, &p.payload[..len], p.number, overhead));
    }
    let [c, s] = dirs;
    let client = reassemble(c);
    let server = reassemble(s);
    let mut notes = Vec::new();
    if client.gap || server.gap {
        notes.push("bytes are missing from the capture (a gap in the sequence numbers)".into());
    }
    let (mut http, cpos) = parse_http(&client, true, 0, &mut notes);
    let (resp, spos) = parse_http(&server, false, 0, &mut notes);
    let mut handshake = None;
    let mut frames = Vec::new();
    let request = http
        .iter()
        .rev()
        .find(|m| {
            m.header("upgrade")
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
        })
        .cloned();
    let response = resp.iter().find(|m| m.status() == Some(101)).cloned();
    http.extend(resp);
    http.sort_by_key(|m| (m.frame, !m.from_client));
    if let (Some(request), Some(response)) = (request, response) {
        let key = request
            .header("sec-websocket-key")
            .unwrap_or("")
            .to_string();
        let accept = response
            .header("sec-websocket-accept")
            .unwrap_or("")
            .to_string();
        let expected_accept = accept_key(key.as_bytes());
        frames.extend(parse_frames(&client, true, cpos, &mut notes));
        frames.extend(parse_frames(&server, false, spos, &mut notes));
        frames.sort_by_key(|f| (f.frame, f.first_frame));
        handshake = Some(WsHandshake {
            request,
            response,
            key,
            accept,
            expected_accept,
        });
    }
    AppStream {
        stream: stream.index,
        client: stream.client,
        server: stream.server,
        http,
        handshake,
        frames,
        notes,
    }
}

/// Every stream of `trace` that carried HTTP or WebSocket, decoded.
pub fn decode_trace(trace: &Trace) -> Vec<AppStream> {
    trace
        .streams
        .iter()
        .map(|s| decode_stream(trace, s))
        .filter(|a| !a.http.is_empty())
        .collect()
}

/// Columns of websocket.csv: one row per WebSocket frame. Names are Wireshark's where
/// Wireshark has the field (`tshark -d tcp.port==PORT,http` prints the same values).
pub const WEBSOCKET_CSV_FIELDS: &[&str] = &[
    "frame.number",
    "tcp.stream",
    "ip.src",
    "tcp.srcport",
    "ip.dst",
    "tcp.dstport",
    "websocket.fin",
    "websocket.rsv",
    "websocket.opcode",
    "websocket.mask",
    "websocket.payload_length",
    "websocket.payload_length_ext_16",
    "websocket.payload_length_ext_64",
    "websocket.masking_key",
    "length_form",
    "header_len",
    "payload_text",
];

/// The websocket.csv row of `frame` in `app` (columns of [`WEBSOCKET_CSV_FIELDS`]).
pub fn websocket_csv_row(app: &AppStream, f: &WsFrame) -> Vec<String> {
    let (src, dst) = if f.from_client {
        (app.client, app.server)
    } else {
        (app.server, app.client)
    };
    let len7 = match f.length_form {
        LengthForm::Short => f.payload_len,
        LengthForm::Extended16 => 126,
        LengthForm::Extended64 => 127,
    };
    vec![
        f.frame.to_string(),
        app.stream.to_string(),
        src.ip().to_string(),
        src.port().to_string(),
        dst.ip().to_string(),
        dst.port().to_string(),
        u8::from(f.fin).to_string(),
        format!("0x{:02x}", f.rsv),
        f.opcode.to_string(),
        u8::from(f.masked).to_string(),
        len7.to_string(),
        if f.length_form == LengthForm::Extended16 {
            f.payload_len.to_string()
        } else {
            String::new()
        },
        if f.length_form == LengthForm::Extended64 {
            f.payload_len.to_string()
        } else {
            String::new()
        },
        f.mask_key
            .map(|k| data_encoding::HEXLOWER.encode(&k))
            .unwrap_or_default(),
        f.length_form.as_str().to_string(),
        f.header_len.to_string(),
        f.text().chars().take(200).collect(),
    ]
}

/// The `Sec-WebSocket-Accept` a server must answer to `key` (RFC 6455 §4.2.2): the
/// base64 of the SHA-1 of the key followed by the protocol's GUID.
pub fn accept_key(key: &[u8]) -> String {
    use sha1::Digest;
    const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let mut sha = sha1::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    data_encoding::BASE64.encode(&sha.finalize())
}

/// Frames the WebSocket frame at the start of `buf` as tshark 4.0 does (packet-websocket.c
/// through TCP's PDU reassembly) and writes its Info text: `WebSocket`, the opcode's name,
/// ` [FIN]` or `[FRAGMENT] `, a space, and `[MASKED]` on a masked frame. Only the header
/// matters, so a frame longer than `buf` waits for its count of bytes alone.
pub fn dissect(buf: &[u8], info: &mut String) -> Dissected {
    let Some(&[b0, b1]) = buf.get(..2) else {
        return Dissected::Need(Need::OneMore, false);
    };
    let (len_bytes, short) = match b1 & 0x7f {
        126 => (2, None),
        127 => (8, None),
        n => (0, Some(u64::from(n))),
    };
    let masked = b1 & 0x80 != 0;
    let header = 2 + len_bytes + if masked { 4 } else { 0 };
    let Some(len_field) = buf.get(2..2 + len_bytes) else {
        return Dissected::Need(Need::OneMore, false);
    };
    let payload_len =
        short.unwrap_or_else(|| len_field.iter().fold(0u64, |n, &b| (n << 8) | u64::from(b)));
    let total = usize::try_from(payload_len)
        .unwrap_or(usize::MAX)
        .saturating_add(header);
    let name = match b0 & 0x0f {
        0 => "Continuation",
        1 => "Text",
        2 => "Binary",
        8 => "Connection Close",
        9 => "Ping",
        10 => "Pong",
        _ => "Unknown Opcode",
    };
    info.push_str("WebSocket ");
    info.push_str(name);
    info.push_str(if b0 & 0x80 != 0 {
        " [FIN] "
    } else {
        "[FRAGMENT]  "
    });
    if masked {
        info.push_str("[MASKED]");
    }
    if buf.len() < total {
        let need = Need::Body {
            remaining: total - buf.len(),
            protocol: "WebSocket",
            shown: 0,
        };
        return Dissected::Need(need, false);
    }
    Dissected::Pdu(total, "WebSocket")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(data: &[u8]) -> Bytes {
        Bytes {
            data: data.to_vec(),
            ends: vec![(data.len(), 7)],
            overhead: BTreeMap::from([(7, 66)]),
            gap: false,
        }
    }

    #[test]
    fn frames_decode_all_three_length_forms_and_unmask() {
        // RFC 6455 §5.7: a masked "Hello" from a client.
        let masked = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let mut data = masked.to_vec();
        data.extend_from_slice(&[0x82, 0x7e, 0x01, 0x00]);
        data.extend(std::iter::repeat_n(0xaa, 256));
        data.extend_from_slice(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
        data.extend(std::iter::repeat_n(0xbb, 65536));
        let mut notes = Vec::new();
        let f = parse_frames(&bytes(&data), true, 0, &mut notes);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].text(), "Hello");
        assert_eq!(f[0].mask_key, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!((f[0].opcode, f[0].fin, f[0].header_len), (1, true, 6));
        assert_eq!(
            (f[1].length_form, f[1].payload_len, f[1].header_len),
            (LengthForm::Extended16, 256, 4)
        );
        assert_eq!(
            (f[2].length_form, f[2].payload_len, f[2].header_len),
            (LengthForm::Extended64, 65536, 10)
        );
        assert_eq!(f[0].wire_len, 11 + 66);
    }

    #[test]
    fn malformed_and_cut_input_never_panics() {
        for data in [
            &[0x81][..],
            &[0x81, 0xff, 0xff],
            &[
                0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3,
            ],
            &[0x88, 0x01, 0x03],
        ] {
            let mut notes = Vec::new();
            let f = parse_frames(&bytes(data), false, 0, &mut notes);
            for x in &f {
                let _ = (x.close_code(), x.text(), x.len());
            }
        }
        let mut notes = Vec::new();
        let (m, _) = parse_http(
            &bytes(b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nab"),
            true,
            0,
            &mut notes,
        );
        assert_eq!(m[0].body, b"ab");
        assert!(!notes.is_empty());
        let (m, _) = parse_http(&bytes(b"\xff\xfe\r\n\r\n"), true, 0, &mut notes);
        assert!(m.is_empty());
    }

    #[test]
    fn frames_are_named_as_tshark_names_them() {
        use super::dissect;
        use crate::pdu::{Dissected, Need};
        let run = |buf: &[u8]| {
            let mut info = String::new();
            (dissect(buf, &mut info), info)
        };
        assert_eq!(
            run(b"\x81\x85\x01\x02\x03\x04hello!"),
            (
                Dissected::Pdu(11, "WebSocket"),
                "WebSocket Text [FIN] [MASKED]".into()
            )
        );
        assert_eq!(
            run(b"\x02\x01x").1,
            "WebSocket Binary[FRAGMENT]  ".to_string()
        );
        assert_eq!(run(b"\x88\x00").1, "WebSocket Connection Close [FIN] ");
        assert_eq!(run(b"\x80\x00").1, "WebSocket Continuation [FIN] ");
        assert_eq!(run(b"\x89\x00").1, "WebSocket Ping [FIN] ");
        assert_eq!(run(b"\x8a\x00").1, "WebSocket Pong [FIN] ");
        assert_eq!(run(b"\x83\x00").1, "WebSocket Unknown Opcode [FIN] ");
        // Header not complete: one more segment; payload missing: its count.
        assert_eq!(run(b"\x81").0, Dissected::Need(Need::OneMore, false));
        assert_eq!(
            run(b"\x82\x7e\x0b").0,
            Dissected::Need(Need::OneMore, false)
        );
        assert_eq!(
            run(b"\x82\x7e\x0b\xb8abc").0,
            Dissected::Need(
                Need::Body {
                    remaining: 2997,
                    protocol: "WebSocket",
                    shown: 0
                },
                false
            )
        );
        assert_eq!(
            run(b"\x82\x7f\0\0\0\0\0\0\0\x01z").0,
            Dissected::Pdu(11, "WebSocket")
        );
    }

    #[test]
    fn the_accept_key_of_rfc_6455() {
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn reassembly_counts_retransmissions_once_and_waits_for_gaps() {
        let b = reassemble(vec![
            (1, &b"abc"[..], 1, 54),
            (1, &b"abc"[..], 2, 54),
            (7, &b"ghi"[..], 3, 54),
            (4, &b"def"[..], 4, 54),
        ]);
        assert_eq!(b.data, b"abcdefghi");
        assert_eq!(b.frame_of(0), 1);
        assert_eq!(b.frame_of(4), 4);
        assert_eq!(b.frame_of(8), 3);
        assert!(!b.gap);
    }
}
