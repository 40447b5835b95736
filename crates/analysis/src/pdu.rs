//! Application messages above TCP as tshark 4.0 frames them: which protocol a
//! connection's port names, and TCP's reassembly of messages that span segments
//! (packet-tcp.c `desegment_tcp` with its defaults), so that each segment gets the
//! Protocol and Info columns tshark gives it: the message's own where one ends in the
//! segment, `[TCP segment of a reassembled PDU]` where one only starts or continues.
//!
//! Only in-order data is framed: a retransmitted or out-of-order segment is not handed
//! to the protocol (tshark's `tcp.no_subdissector_on_error`), and a gap in a direction
//! drops the message it interrupted. A message waiting for more data keeps at most
//! [`MAX_PENDING`] bytes, and a body of known length only its count.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use crate::fxhash::FxBuild;
use crate::http::{self, HttpConv};
use crate::tls::{self, TlsConv};
use crate::websocket;
use labrun_wire::SeqNumber;

/// Most bytes a message still waiting for its end may hold (per direction): a head or
/// a TLS record (at most 64 KiB) fits; the body of a response that runs to the FIN is
/// kept only up to here (what it shows depends on its head alone).
pub const MAX_PENDING: usize = 1 << 20;

/// The protocols framed above TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// HTTP/1.x on tshark's HTTP ports, or where its HTTP heuristic finds it.
    Http,
    /// TLS on tshark's TLS ports, or on a connection that opens with a Client Hello.
    Tls,
    /// WebSocket frames, after an HTTP `101 Switching Protocols` upgraded the connection.
    WebSocket,
}

impl App {
    /// The protocol tshark gives a connection between these ports: the lower port is
    /// tried first, as tshark's TCP does.
    pub fn of_ports(a: u16, b: u16) -> Option<App> {
        let of = |p: u16| {
            if http::TCP_PORTS.contains(&p) {
                Some(App::Http)
            } else if tls::TCP_PORTS.contains(&p) {
                Some(App::Tls)
            } else {
                None
            }
        };
        of(a.min(b)).or_else(|| of(a.max(b)))
    }
}

/// How much more data a message needs before it can be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Try again with the next segment's data added (a head not yet complete).
    OneMore,
    /// Exactly this many more bytes (a body of known length, a TLS record).
    Exact(usize),
    /// Everything up to the connection's FIN (a response without a length).
    UntilFin,
    /// A body whose bytes do not matter: `remaining` more bytes end the message, which
    /// then shows the whole Info text the protocol wrote; the segment it starts in shows
    /// only the first `shown` bytes of that text. Nothing is kept but the count, so a
    /// large download costs no memory.
    Body {
        /// Bytes still to come.
        remaining: usize,
        /// Protocol column when the message ends.
        protocol: &'static str,
        /// Length of the Info text shown before the message ends.
        shown: usize,
    },
}

/// What a protocol made of the data at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dissected {
    /// A whole message of this many bytes, with this Protocol column.
    Pdu(usize, &'static str),
    /// The message needs more data; true when it already wrote its Info text.
    Need(Need, bool),
    /// Not this protocol's data.
    Reject,
}

/// The Protocol and Info columns an application protocol gives a TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppColumns {
    /// One or more messages end in this segment: their protocol and Info text.
    Pdu {
        /// Protocol column ("HTTP", "TLSv1.3", ...).
        protocol: &'static str,
        /// Info column, after any sequence-analysis prefix.
        info: String,
    },
    /// The segment holds the start or middle of a message that ends later: Protocol
    /// "TCP" and, after the Info text (the protocol's own when it wrote one before
    /// asking for more data, else TCP's), ` [TCP segment of a reassembled PDU]`.
    Segment {
        /// Info text the protocol wrote, if any.
        info: Option<String>,
    },
}

#[derive(Debug, Default)]
struct Direction {
    next_seq: Option<u32>,
    /// Bytes of a message waiting for more data (not for [`Need::Body`]).
    pending: Vec<u8>,
    need: Option<Need>,
    /// A message whose body of known length is still coming.
    body: Option<BodyWait>,
    /// The Info text that message shows when it ends.
    done_info: String,
}

/// A message waiting for the rest of a body of known length.
#[derive(Debug, Clone, Copy)]
struct BodyWait {
    /// Relative sequence number just past the message.
    end: u32,
    /// Protocol column when it ends.
    protocol: &'static str,
    /// Bytes within it not captured so far: the message ends with the segment that
    /// reaches its end only if none are missing then (segments out of order fill holes).
    missing: u32,
}

impl Direction {
    fn reset(&mut self) {
        self.pending.clear();
        self.need = None;
        self.body = None;
        self.done_info.clear();
    }
}

#[derive(Debug)]
struct Conv {
    app: App,
    first_src: SocketAddr,
    dirs: [Direction; 2],
    http: HttpConv,
    tls: TlsConv,
}

impl Conv {
    fn dissect(&mut self, buf: &[u8], eos: bool, dir: usize, info: &mut String) -> Dissected {
        match self.app {
            App::Http => http::dissect(buf, eos, &mut self.http, info),
            App::Tls => tls::dissect(buf, dir, &mut self.tls, info),
            App::WebSocket => websocket::dissect(buf, info),
        }
    }

    /// After a message: an HTTP upgrade to WebSocket makes the rest WebSocket frames.
    fn after_message(&mut self) {
        if self.app == App::Http && self.http.websocket {
            self.app = App::WebSocket;
        }
    }
}

/// One TCP segment's data as the framing needs it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TcpData<'a> {
    /// Relative sequence number.
    pub seq: u32,
    /// The segment's data.
    pub payload: &'a [u8],
    /// FIN flag.
    pub fin: bool,
    /// Out of order or a fast retransmission: it may fill a hole but does not advance.
    pub out_of_order: bool,
}

/// Per-connection framing state, keyed by `tcp.stream`.
#[derive(Debug, Default)]
pub(crate) struct Desegmenter {
    convs: HashMap<u32, Conv, FxBuild>,
    tried: HashSet<u32, FxBuild>,
}

impl Desegmenter {
    /// The protocol `stream` is framed with so far (a heuristic's choice, or WebSocket
    /// after an upgrade), if any.
    pub(crate) fn claimed(&self, stream: u32) -> Option<App> {
        self.convs.get(&stream).map(|c| c.app)
    }

    /// True the first time `stream` asks (its first segment with data, the only one the
    /// TLS heuristic is tried on here; the HTTP heuristic is tried on every segment).
    pub(crate) fn try_heuristic(&mut self, stream: u32) -> bool {
        self.tried.insert(stream)
    }

    /// Frames one segment of `stream` sent from `src` (not a retransmission). None when
    /// the segment keeps TCP's own columns.
    pub(crate) fn segment(
        &mut self,
        stream: u32,
        src: SocketAddr,
        app: App,
        segment: &TcpData<'_>,
    ) -> Option<AppColumns> {
        let TcpData {
            seq,
            payload,
            fin,
            out_of_order,
        } = *segment;
        let conv = self.convs.entry(stream).or_insert_with(|| Conv {
            app,
            first_src: src,
            dirs: Default::default(),
            http: HttpConv::default(),
            tls: TlsConv::default(),
        });
        let dir = usize::from(conv.first_src != src);
        let d = &mut conv.dirs[dir];
        let until_fin = d.need == Some(Need::UntilFin);
        if payload.is_empty() && !(fin && until_fin) {
            return None;
        }
        let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        let seg_end = seq.wrapping_add(len);
        // What ends here of a message that started earlier.
        let (mut info, mut protocol, mut start) = (String::new(), None, 0usize);
        if let Some(mut body) = d.body.take() {
            // tshark files every segment within a message's range under it, in any
            // order; the message ends with the segment that reaches its end, unless
            // one before it was not captured.
            if SeqNumber(seq).lt(SeqNumber(body.end)) {
                let next = d.next_seq.unwrap_or(seq);
                if out_of_order {
                    // Taken to fill (part of) a hole left earlier.
                    body.missing = body.missing.saturating_sub(len);
                } else {
                    if SeqNumber(seq).gt(SeqNumber(next)) {
                        body.missing = body.missing.saturating_add(seq.wrapping_sub(next));
                    }
                    if SeqNumber(seg_end).gt(SeqNumber(next)) {
                        d.next_seq = Some(seg_end);
                    }
                }
                if out_of_order || SeqNumber(seg_end).lt(SeqNumber(body.end)) {
                    d.body = Some(body);
                    return Some(AppColumns::Segment { info: None });
                }
                if body.missing > 0 {
                    d.done_info.clear();
                    return Some(AppColumns::Segment { info: None });
                }
                info = std::mem::take(&mut d.done_info);
                protocol = Some(body.protocol);
                start = body.end.wrapping_sub(seq) as usize;
            }
        }
        if out_of_order && protocol.is_none() {
            return None;
        }
        if protocol.is_none() && d.next_seq.is_some_and(|n| n != seq) {
            d.reset();
        }
        d.next_seq = Some(seg_end);
        let mut data = std::mem::take(&mut d.pending);
        match d.need.take() {
            None | Some(Need::Body { .. }) => {}
            Some(Need::Exact(k)) if payload.len() < k => {
                if data.len() + payload.len() <= MAX_PENDING {
                    data.extend_from_slice(payload);
                    d.need = Some(Need::Exact(k - payload.len()));
                    d.pending = data;
                }
                return Some(AppColumns::Segment { info: None });
            }
            Some(Need::UntilFin) if !fin => {
                // Only the head and whether a body follows matter at the FIN.
                let room = MAX_PENDING.saturating_sub(data.len());
                data.extend_from_slice(&payload[..payload.len().min(room)]);
                d.need = Some(Need::UntilFin);
                d.pending = data;
                return Some(AppColumns::Segment { info: None });
            }
            Some(_) => {}
        }
        let fresh = data.is_empty();
        if !fresh {
            let room = MAX_PENDING.saturating_sub(data.len());
            data.extend_from_slice(&payload[..payload.len().min(room)]);
        }
        let buf: &[u8] = if fresh { &payload[start..] } else { &data };
        let mut off = 0usize;
        // tshark's column fence: a WebSocket frame sets the Info column anew, which
        // clears only what was written since the last message that was reassembled
        // or that another protocol wrote.
        let mut fence = info.len();
        while off < buf.len() {
            let message_start = info.len();
            let app = conv.app;
            match conv.dissect(&buf[off..], fin, dir, &mut info) {
                Dissected::Pdu(len, proto) => {
                    protocol = Some(proto);
                    let reassembled = off == 0 && !fresh;
                    if app == App::WebSocket {
                        info.replace_range(fence..message_start, "");
                    }
                    if app != App::WebSocket || reassembled {
                        fence = info.len();
                    }
                    conv.after_message();
                    off += len.max(1);
                }
                Dissected::Need(need, wrote) => {
                    let d = &mut conv.dirs[dir];
                    if let Need::Body {
                        remaining,
                        protocol,
                        shown,
                    } = need
                    {
                        let remaining = u32::try_from(remaining).unwrap_or(u32::MAX);
                        d.body = Some(BodyWait {
                            end: seg_end.wrapping_add(remaining),
                            protocol,
                            missing: 0,
                        });
                        d.done_info = info[message_start..].to_string();
                        info.truncate(message_start + shown);
                    } else if buf.len() - off <= MAX_PENDING {
                        d.pending = buf[off..].to_vec();
                    } else {
                        break;
                    }
                    if !matches!(need, Need::Body { .. }) {
                        d.need = Some(need);
                    }
                    if protocol.is_none() {
                        return Some(AppColumns::Segment {
                            info: wrote.then_some(info),
                        });
                    }
                    break;
                }
                Dissected::Reject => break,
            }
        }
        protocol.map(|protocol| AppColumns::Pdu { protocol, info })
    }
}

#[cfg(test)]
mod tests {
    use super::{App, AppColumns, Desegmenter, TcpData};

    fn data(seq: u32, payload: &[u8], fin: bool, out_of_order: bool) -> TcpData<'_> {
        TcpData {
            seq,
            payload,
            fin,
            out_of_order,
        }
    }
    use std::net::SocketAddr;

    #[test]
    fn segments_of_one_message_wait_for_its_end() {
        assert_eq!(App::of_ports(50000, 80), Some(App::Http));
        assert_eq!(App::of_ports(443, 8080), Some(App::Tls));
        assert_eq!(App::of_ports(50000, 8888), None);
        let (c, s): (SocketAddr, SocketAddr) = (
            "10.0.0.1:50000".parse().unwrap(),
            "10.0.0.2:80".parse().unwrap(),
        );
        let mut d = Desegmenter::default();
        let seg = |info: Option<&str>| {
            Some(AppColumns::Segment {
                info: info.map(str::to_string),
            })
        };
        let pdu = |protocol, info: &str| {
            Some(AppColumns::Pdu {
                protocol,
                info: info.to_string(),
            })
        };
        // A request whose line is cut, then its head, then its end.
        assert_eq!(
            d.segment(0, c, App::Http, &data(1, b"GET /a", false, false)),
            seg(None)
        );
        assert_eq!(
            d.segment(0, c, App::Http, &data(7, b" HTTP/1.1\r\n", false, false)),
            seg(Some("GET /a HTTP/1.1 "))
        );
        assert_eq!(
            d.segment(0, c, App::Http, &data(18, b"\r\n", false, false)),
            pdu("HTTP", "GET /a HTTP/1.1 ")
        );
        // A response of known length over three segments; the middle one is TCP's alone.
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\nab";
        assert_eq!(
            d.segment(0, s, App::Http, &data(1, head, false, false)),
            seg(Some("HTTP/1.1 200 OK "))
        );
        let n = 1 + head.len() as u32;
        assert_eq!(
            d.segment(0, s, App::Http, &data(n, b"c", false, false)),
            seg(None)
        );
        assert_eq!(
            d.segment(0, s, App::Http, &data(n + 1, b"def", false, false)),
            pdu("HTTP", "HTTP/1.1 200 OK  (text/plain)")
        );
        // A retransmission or a gap leaves the waiting message behind.
        assert_eq!(
            d.segment(0, c, App::Http, &data(20, b"GET /b", false, false)),
            seg(None)
        );
        assert_eq!(
            d.segment(
                0,
                c,
                App::Http,
                &data(99, b"GET /c HTTP/1.1\r\n\r\n", false, false)
            ),
            pdu("HTTP", "GET /c HTTP/1.1 ")
        );
        // Pipelined requests in one segment share its Info column.
        let two = b"GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n";
        assert_eq!(
            d.segment(1, c, App::Http, &data(1, two, false, false)),
            pdu("HTTP", "GET /x HTTP/1.1 GET /y HTTP/1.1 ")
        );
        // Until FIN: the FIN without data completes the response.
        let old = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nbody";
        assert_eq!(
            d.segment(1, s, App::Http, &data(1, old, false, false)),
            seg(Some("HTTP/1.0 200 OK "))
        );
        assert_eq!(
            d.segment(
                1,
                s,
                App::Http,
                &data(1 + old.len() as u32, b"", true, false)
            ),
            pdu("HTTP", "HTTP/1.0 200 OK  (text/plain)")
        );
        // Data that is not HTTP keeps TCP's columns.
        assert_eq!(
            d.segment(2, c, App::Http, &data(1, b"hello\r\n", false, false)),
            None
        );
        assert!(d.try_heuristic(3) && !d.try_heuristic(3));
        // A large body of known length keeps only its count; what follows it in its
        // last segment is the next message.
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n";
        assert_eq!(
            d.segment(4, s, App::Http, &data(1, head, false, false)),
            seg(Some("HTTP/1.1 200 OK "))
        );
        let chunk = vec![0u8; 1_000_000];
        let mut next = 1 + head.len() as u32;
        for _ in 0..2 {
            assert_eq!(
                d.segment(4, s, App::Http, &data(next, &chunk, false, false)),
                seg(None)
            );
            next += 1_000_000;
        }
        assert!(d.convs[&4].dirs[0].pending.is_empty());
        let mut last = chunk.clone();
        last.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        assert_eq!(
            d.segment(4, s, App::Http, &data(next, &last, false, false)),
            pdu("HTTP", "HTTP/1.1 200 OK HTTP/1.1 204 No Content ")
        );
        // A segment within the body that was not captured by the time its end comes:
        // segments out of order still belong to the message, which never ends; data
        // after it starts afresh.
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n";
        let n = 1 + head.len() as u32;
        assert_eq!(
            d.segment(5, s, App::Http, &data(1, head, false, false)),
            seg(Some("HTTP/1.1 200 OK "))
        );
        assert_eq!(
            d.segment(5, s, App::Http, &data(n + 10, &[0; 10], false, false)),
            seg(None)
        );
        assert_eq!(
            d.segment(5, s, App::Http, &data(n + 20, &[0; 10], false, false)),
            seg(None)
        );
        assert_eq!(
            d.segment(5, s, App::Http, &data(n, &[0; 10], false, true)),
            None
        );
        let next = b"HTTP/1.1 204 No Content\r\n\r\n";
        assert_eq!(
            d.segment(5, s, App::Http, &data(n + 30, next, false, false)),
            pdu("HTTP", "HTTP/1.1 204 No Content ")
        );
        // A hole filled out of order before the end: the message ends.
        assert_eq!(
            d.segment(6, s, App::Http, &data(1, head, false, false)),
            seg(Some("HTTP/1.1 200 OK "))
        );
        assert_eq!(
            d.segment(6, s, App::Http, &data(n + 10, &[0; 10], false, false)),
            seg(None)
        );
        assert_eq!(
            d.segment(6, s, App::Http, &data(n, &[0; 10], false, true)),
            seg(None)
        );
        assert_eq!(
            d.segment(6, s, App::Http, &data(n + 20, &[0; 10], false, false)),
            pdu("HTTP", "HTTP/1.1 200 OK ")
        );
    }

    #[test]
    fn an_upgrade_turns_the_rest_into_websocket_frames() {
        let (c, s): (SocketAddr, SocketAddr) = (
            "10.0.0.1:50000".parse().unwrap(),
            "10.0.0.2:8888".parse().unwrap(),
        );
        let pdu = |protocol, info: &str| {
            Some(AppColumns::Pdu {
                protocol,
                info: info.to_string(),
            })
        };
        let mut d = Desegmenter::default();
        let get = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
        d.segment(0, c, App::Http, &data(1, get, false, false));
        // The 101 and a frame in one segment: both show, the frame names the protocol.
        let mut resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec();
        resp.extend_from_slice(b"\x81\x02hi");
        assert_eq!(
            d.segment(0, s, App::Http, &data(1, &resp, false, false)),
            pdu(
                "WebSocket",
                "HTTP/1.1 101 Switching Protocols WebSocket Text [FIN] "
            )
        );
        assert_eq!(d.claimed(0), Some(App::WebSocket));
        // Two whole frames in one segment: the second sets the column anew.
        let n = 1 + get.len() as u32;
        let two = b"\x81\x80abcd\x89\x80abcd";
        assert_eq!(
            d.segment(0, c, App::Http, &data(n, two, false, false)),
            pdu("WebSocket", "WebSocket Ping [FIN] [MASKED]")
        );
        // A frame over three segments, then one more in its last segment: both show.
        let mut big = vec![0x82, 126, 0x0b, 0xb8];
        big.extend_from_slice(&[0; 3000]);
        let m = 1 + resp.len() as u32;
        assert_eq!(
            d.segment(0, s, App::Http, &data(m, &big[..1000], false, false)),
            Some(AppColumns::Segment { info: None })
        );
        assert_eq!(
            d.segment(
                0,
                s,
                App::Http,
                &data(m + 1000, &big[1000..2000], false, false)
            ),
            Some(AppColumns::Segment { info: None })
        );
        let mut last = big[2000..].to_vec();
        last.extend_from_slice(b"\x8a\x00");
        assert_eq!(
            d.segment(0, s, App::Http, &data(m + 2000, &last, false, false)),
            pdu("WebSocket", "WebSocket Binary [FIN] WebSocket Pong [FIN] ")
        );
    }
}
