//! `--deterministic`: a normalised copy of everything a report shows, so that two runs of
//! the same lab write byte-identical report.md, report.html, packets*.csv, websocket*.csv
//! and figures. Golden tests of a lab compare these files; the pcap files keep the real
//! bytes (and so differ between runs), and the script always sees the real values: labs
//! craft packets from real sequence numbers and ports and check real timings.
//!
//! A [`Normaliser`] learns the run's volatile values from all its traces, in report
//! order, and maps each to a canonical one:
//!
//! - **Frame times**: frame *n* is shown at (*n* − 1) ms after the first ([`frame_ns`]),
//!   in the packet tables, packets.csv and the figures' time axes. The real gaps are
//!   timing, which changes in every run.
//! - **Ephemeral ports** (Linux picks 32768–60999; a lab's own port in that range
//!   counts too): 50000, 50001, ... in order of first appearance.
//! - **Raw sequence and acknowledgment numbers**: each direction's sequence space starts
//!   at its SYN's ISN (or, without a SYN, at the first number seen) and is rebased to a
//!   canonical ISN, 100000000 for the first space, 200000000 for the second, ...:
//!   canonical + (raw − ISN) mod 2^32, so raw arithmetic still holds (ack = seq + len,
//!   ISN + 1). A space starting below 65536 was chosen by the lab (a crafted ISN, a RST's
//!   seq 0) and is kept. Relative numbers never change.
//! - **TCP timestamps**: a direction's TSval is its own base (1000000, 2000000, ...)
//!   plus the frame's synthetic time in ms; a TSecr shows the canonical TSval it echoes.
//! - **IP IDs**: the IDs of fragments become 0x0001, 0x0002, ...; other non-zero IDs
//!   0x8000, 0x8001, ..., in order of first appearance.
//! - **WebSocket keys**: the first `Sec-WebSocket-Key` becomes RFC 6455's sample key
//!   `dGhlIHNhbXBsZSBub25jZQ==` and its accept `s3pPLMBiTxaQ9kYGzzhZRbK+xOo=` (later
//!   ones keys of their own, with their true accepts); masking keys fixed hex values.
//! - **The header**: date, kernel and capture digests read "normalised"; the sandbox
//!   build time and the run nonce are fixed where they are made (see `NetOptions` and
//!   `nonce()`), and so are measured durations the lab prints with `fixed()`.
//!
//! Text the script wrote (steps, sections, notes, tables, checks, warnings) has every
//! whole token (a run of ASCII letters and digits) that is one of these volatile values
//! replaced by its canonical value: `41461` in `10.77.0.1:41461` becomes `50000`, but
//! `414610` or `x41461` stays. Sequence numbers and TSvals below 65536 are never
//! replaced in text (only ports are that small), so `1`, `1460` or `64240` in a sentence
//! never change. MAC addresses are not touched: the sandbox's are fixed
//! (`02:00:00:00:00:0N`) and loopback has none; checksums are not shown.
//!
//! Some values cannot be normalised by position, only by value: with a chance of about
//! one in 65536 per connection, a random ISN or TSval below 65536, or two unrelated
//! packets with the same IP ID, make that run's report differ.

use super::{Block, CaptureRecord, Check, Header, Report};
use crate::analysis::{Packet, TcpInfo, TcpStream, Trace};
use crate::wire::{TcpFlags, TcpOption};
use data_encoding::{BASE64, HEXLOWER};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::{Arc, OnceLock};

/// What the report shows instead of the date, the kernel and capture digests.
pub const NORMALISED: &str = "normalised";

/// The ports Linux picks ephemeral ports from (`net.ipv4.ip_local_port_range`).
pub const EPHEMERAL_PORTS: RangeInclusive<u16> = 32768..=60999;

/// The canonical port of the first ephemeral port; the next ones count up from it.
pub const FIRST_PORT: u16 = 50000;

/// Sequence spaces starting below this, and text numbers below it (other than ports), are
/// never normalised: they were chosen by the lab, or are ordinary small numbers.
pub const SMALL: u32 = 65536;

/// Synthetic time between two frames: frame n is shown at (n − 1) × this.
pub const FRAME_STEP_NS: i128 = 1_000_000;

/// RFC 6455's sample `Sec-WebSocket-Key` (section 1.3), the first canonical key.
const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// One direction of a conversation: (source, destination).
type Dir = (SocketAddr, SocketAddr);

/// The synthetic capture time of frame `number` (from 1): (number − 1) ms, in ns.
pub fn frame_ns(number: u64) -> i128 {
    i128::from(number.saturating_sub(1)) * FRAME_STEP_NS
}

/// The synthetic capture time of frame `number` in whole milliseconds (the TSval clock).
fn frame_ms(number: u64) -> u32 {
    u32::try_from(frame_ns(number) / 1_000_000).unwrap_or(u32::MAX)
}

/// The canonical ISN of the `k`-th sequence space (from 0).
fn canonical_isn(k: usize) -> u32 {
    u32::try_from(k + 1)
        .unwrap_or(u32::MAX)
        .wrapping_mul(100_000_000)
}

/// The canonical TSval base of the `k`-th direction that sends timestamps (from 0).
fn canonical_ts_base(k: usize) -> u32 {
    u32::try_from(k + 1)
        .unwrap_or(u32::MAX)
        .wrapping_mul(1_000_000)
}

/// Bytes that look random but are the same in every run: SHA-256 of `label`.
fn pseudo_random(label: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(label.as_bytes()).into()
}

/// The sequence spaces of one pass over a trace: each direction's current base (its
/// ISN, or the first number seen). Learning and normalising make the same pass, so both
/// see the same bases.
#[derive(Debug, Default)]
struct SeqSpaces {
    base: HashMap<Dir, u32>,
}

impl SeqSpaces {
    /// Takes in a segment from `src` to `dst`; returns the base of its own direction and,
    /// when known, of the direction it acknowledges. A SYN with a new ISN starts a new
    /// space; an ACK into a direction not seen yet starts that one at ack − 1.
    fn observe(&mut self, src: SocketAddr, dst: SocketAddr, t: &TcpInfo) -> (u32, Option<u32>) {
        let own = match self.base.get(&(src, dst)) {
            Some(&b) if !t.flags.contains(TcpFlags::SYN) || b == t.seq_raw => b,
            _ => {
                self.base.insert((src, dst), t.seq_raw);
                t.seq_raw
            }
        };
        let rev = if t.flags.contains(TcpFlags::ACK) {
            Some(
                *self
                    .base
                    .entry((dst, src))
                    .or_insert(t.ack_raw.wrapping_sub(1)),
            )
        } else {
            self.base.get(&(dst, src)).copied()
        };
        (own, rev)
    }

    /// The current base of `dir`, if a segment of it or an ACK into it was seen.
    fn current(&self, dir: Dir) -> Option<u32> {
        self.base.get(&dir).copied()
    }
}

/// Maps a run's volatile values to canonical ones (see the module documentation).
#[derive(Debug, Default)]
pub struct Normaliser {
    /// Real ephemeral port → canonical port.
    ports: HashMap<u16, u16>,
    /// (direction, real base) → canonical base, for spaces starting at [`SMALL`] or above.
    spaces: HashMap<(Dir, u32), u32>,
    /// Direction → canonical TSval base.
    ts_bases: HashMap<Dir, u32>,
    /// Real TSval → the canonical TSval of its first appearance.
    ts_first: HashMap<u32, u32>,
    /// Real IP ID → canonical IP ID.
    ip_ids: HashMap<u16, u16>,
    /// How many fragment IDs and other IDs have a canonical value.
    ip_id_counts: (u16, u16),
    /// Whole text tokens to replace: volatile value → canonical value.
    tokens: HashMap<String, String>,
    /// Strings replaced wherever they occur (WebSocket keys, which are not single tokens).
    exact: Vec<(String, String)>,
    /// How many WebSocket keys and masking keys have a canonical value.
    ws_counts: (usize, usize),
}

impl Normaliser {
    /// Learns the volatile values of `traces`, in order: what appears first gets the first
    /// canonical value.
    pub fn new<'a>(traces: impl IntoIterator<Item = &'a Trace>) -> Normaliser {
        let traces: Vec<&Trace> = traces.into_iter().collect();
        let mut n = Normaliser::default();
        for t in &traces {
            n.learn_ports(t);
        }
        for t in &traces {
            n.learn_sequence_and_timestamps(t);
        }
        for fragments in [true, false] {
            for t in &traces {
                n.learn_ip_ids(t, fragments);
            }
        }
        for t in &traces {
            n.learn_websocket(t);
        }
        n
    }

    /// Learns from every trace of `report`: its captures in order, then the traces its
    /// packet tables point into (a `wait` result's trace, when not a capture's).
    pub fn for_report(report: &Report) -> Normaliser {
        let mut seen = std::collections::HashSet::new();
        let mut traces: Vec<&Trace> = Vec::new();
        let captures = report.captures.iter().map(|c| &c.trace);
        let listed = report.blocks.iter().flat_map(|b| match b {
            Block::Packets(list) => list.iter().map(|(t, _)| t).collect(),
            _ => Vec::new(),
        });
        for t in captures.chain(listed) {
            if seen.insert(Arc::as_ptr(t)) {
                traces.push(t);
            }
        }
        Normaliser::new(traces)
    }

    fn token(&mut self, from: String, to: String) {
        if from != to {
            self.tokens.entry(from).or_insert(to);
        }
    }

    fn learn_ports(&mut self, t: &Trace) {
        for p in &t.packets {
            for port in ports_of(p) {
                if EPHEMERAL_PORTS.contains(&port) && !self.ports.contains_key(&port) {
                    let k = u16::try_from(self.ports.len()).unwrap_or(u16::MAX);
                    let canonical = FIRST_PORT.saturating_add(k);
                    self.ports.insert(port, canonical);
                    self.token(port.to_string(), canonical.to_string());
                }
            }
        }
    }

    /// Registers the space of `dir` starting at `base` (when it is not the lab's own).
    fn add_space(&mut self, dir: Dir, base: u32) {
        if base >= SMALL && !self.spaces.contains_key(&(dir, base)) {
            let c = canonical_isn(self.spaces.len());
            self.spaces.insert((dir, base), c);
        }
    }

    /// Adds `raw` of the space (`dir`, `base`) to the text tokens.
    fn note_seq(&mut self, dir: Dir, base: u32, raw: u32) {
        if base >= SMALL && raw >= SMALL {
            let c = self.seq(dir, base, raw);
            self.token(raw.to_string(), c.to_string());
        }
    }

    fn learn_sequence_and_timestamps(&mut self, t: &Trace) {
        let mut seq = SeqSpaces::default();
        for p in &t.packets {
            if let (Some(ip), Some(tcp)) = (&p.ip, &p.tcp) {
                let src = SocketAddr::new(ip.src, tcp.src_port);
                let dst = SocketAddr::new(ip.dst, tcp.dst_port);
                let (own, rev) = seq.observe(src, dst, tcp);
                self.add_space((src, dst), own);
                if let Some(rb) = rev {
                    self.add_space((dst, src), rb);
                }
                self.note_seq((src, dst), own, tcp.seq_raw);
                let next = tcp.seq_raw.wrapping_add(tcp.nxtseq.wrapping_sub(tcp.seq));
                self.note_seq((src, dst), own, next);
                if let Some(rb) = rev {
                    if tcp.flags.contains(TcpFlags::ACK) {
                        self.note_seq((dst, src), rb, tcp.ack_raw);
                    }
                    for (l, r) in &tcp.options.sack_blocks {
                        self.note_seq((dst, src), rb, *l);
                        self.note_seq((dst, src), rb, *r);
                    }
                }
                if let Some((val, _)) = tcp.options.timestamps {
                    let k = self.ts_bases.len();
                    let base = *self
                        .ts_bases
                        .entry((src, dst))
                        .or_insert(canonical_ts_base(k));
                    let c = base.wrapping_add(frame_ms(p.number));
                    self.ts_first.entry(val).or_insert(c);
                    if val >= SMALL {
                        self.token(val.to_string(), c.to_string());
                    }
                }
            }
            if let Some((dir, raw)) = quoted_tcp_seq(p) {
                if let Some(base) = seq.current(dir) {
                    self.note_seq(dir, base, raw);
                }
            }
        }
    }

    fn learn_ip_ids(&mut self, t: &Trace, fragments: bool) {
        for p in &t.packets {
            let quoted = p
                .icmp
                .as_ref()
                .and_then(|i| i.quote.as_ref())
                .map(|q| &q.ip);
            for ip in p.ip.iter().chain(quoted) {
                let is_fragment = ip.mf || ip.frag_offset > 0;
                if ip.version != 4 || ip.id == 0 || is_fragment != fragments {
                    continue;
                }
                if self.ip_ids.contains_key(&ip.id) {
                    continue;
                }
                let c = if fragments {
                    self.ip_id_counts.0 = self.ip_id_counts.0.wrapping_add(1);
                    self.ip_id_counts.0
                } else {
                    self.ip_id_counts.1 = self.ip_id_counts.1.wrapping_add(1);
                    0x8000u16.wrapping_add(self.ip_id_counts.1 - 1)
                };
                self.ip_ids.insert(ip.id, c);
                self.token(format!("0x{:04x}", ip.id), format!("0x{c:04x}"));
            }
        }
    }

    fn learn_websocket(&mut self, t: &Trace) {
        for app in crate::analysis::websocket::decode_trace(t) {
            let fresh = |h: &&crate::analysis::websocket::WsHandshake| {
                !h.key.is_empty() && !self.exact.iter().any(|(from, _)| *from == h.key)
            };
            if let Some(h) = app.handshake.as_ref().filter(fresh) {
                let k = self.ws_counts.0;
                self.ws_counts.0 += 1;
                let key = if k == 0 {
                    SAMPLE_KEY.to_string()
                } else {
                    BASE64.encode(&pseudo_random(&format!("labrun websocket key {k}"))[..16])
                };
                let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
                self.exact.push((h.key.clone(), key));
                if !h.expected_accept.is_empty() {
                    self.exact.push((h.expected_accept.clone(), accept.clone()));
                }
                if !h.accept.is_empty() && h.accept != h.expected_accept {
                    // A wrong accept has no canonical counterpart; it stays visibly wrong.
                    self.exact
                        .push((h.accept.clone(), format!("{NORMALISED}-wrong-accept-{k}")));
                }
            }
            for f in &app.frames {
                if let Some(mask) = f.mask_key {
                    let real = HEXLOWER.encode(&mask);
                    if !self.tokens.contains_key(&real) {
                        let k = self.ws_counts.1;
                        self.ws_counts.1 += 1;
                        let bytes = pseudo_random(&format!("labrun websocket mask {k}"));
                        self.token(real, HEXLOWER.encode(&bytes[..4]));
                    }
                }
            }
        }
    }

    /// The canonical port of `port` (itself unless it is an ephemeral port of the run).
    pub fn port(&self, port: u16) -> u16 {
        self.ports.get(&port).copied().unwrap_or(port)
    }

    fn addr(&self, a: SocketAddr) -> SocketAddr {
        SocketAddr::new(a.ip(), self.port(a.port()))
    }

    /// The canonical value of `raw` in the sequence space of `dir` that starts at `base`.
    fn seq(&self, dir: Dir, base: u32, raw: u32) -> u32 {
        match self.spaces.get(&(dir, base)) {
            Some(c) => c.wrapping_add(raw.wrapping_sub(base)),
            None => raw,
        }
    }

    fn ip_id(&self, id: u16) -> u16 {
        self.ip_ids.get(&id).copied().unwrap_or(id)
    }

    /// `text` with every volatile value replaced by its canonical value: the WebSocket
    /// keys wherever they occur, the others as whole tokens (runs of ASCII letters and
    /// digits) only.
    pub fn text(&self, text: &str) -> String {
        let mut s = text.to_string();
        for (from, to) in &self.exact {
            if s.contains(from.as_str()) {
                s = s.replace(from.as_str(), to);
            }
        }
        if self.tokens.is_empty() {
            return s;
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while !rest.is_empty() {
            let start = rest
                .find(|c: char| c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let token = &rest[..end];
            out.push_str(self.tokens.get(token).map_or(token, String::as_str));
            rest = &rest[end..];
        }
        out
    }

    /// A normalised copy of `trace`: synthetic frame times, canonical ports, raw sequence
    /// numbers, TSvals and IP IDs, and the Info column recomputed from them.
    pub fn trace(&self, trace: &Trace) -> Trace {
        let mut seq = SeqSpaces::default();
        let mut echoes: HashMap<Dir, HashMap<u32, u32>> = HashMap::new();
        let packets = trace
            .packets
            .iter()
            .map(|p| self.packet(p, &mut seq, &mut echoes))
            .collect();
        Trace {
            link: trace.link,
            packets,
            streams: trace.streams.iter().map(|s| self.stream(s)).collect(),
        }
    }

    fn packet(
        &self,
        p: &Packet,
        seq: &mut SeqSpaces,
        echoes: &mut HashMap<Dir, HashMap<u32, u32>>,
    ) -> Packet {
        let mut q = p.clone();
        let at = frame_ns(p.number);
        q.time_relative = at;
        q.ts_sec = i64::try_from(at / 1_000_000_000).unwrap_or(0);
        q.ts_nsec = u32::try_from(at % 1_000_000_000).unwrap_or(0);
        if let Some(ip) = q.ip.as_mut().filter(|ip| ip.version == 4) {
            ip.id = self.ip_id(ip.id);
        }
        if let (Some(ip), Some(t), Some(nt)) = (&p.ip, &p.tcp, q.tcp.as_mut()) {
            let src = SocketAddr::new(ip.src, t.src_port);
            let dst = SocketAddr::new(ip.dst, t.dst_port);
            let (own, rev) = seq.observe(src, dst, t);
            nt.src_port = self.port(t.src_port);
            nt.dst_port = self.port(t.dst_port);
            nt.seq_raw = self.seq((src, dst), own, t.seq_raw);
            let acked = |raw: u32| rev.map_or(raw, |b| self.seq((dst, src), b, raw));
            if t.flags.contains(TcpFlags::ACK) {
                nt.ack_raw = acked(t.ack_raw);
            }
            nt.options.sack_blocks = t
                .options
                .sack_blocks
                .iter()
                .map(|(l, r)| (acked(*l), acked(*r)))
                .collect();
            if let Some((val, ecr)) = t.options.timestamps {
                let val2 = self
                    .ts_bases
                    .get(&(src, dst))
                    .map_or(val, |b| b.wrapping_add(frame_ms(p.number)));
                echoes.entry((src, dst)).or_default().insert(val, val2);
                let ecr2 = if ecr == 0 {
                    0
                } else {
                    echoes
                        .get(&(dst, src))
                        .and_then(|m| m.get(&ecr))
                        .or_else(|| self.ts_first.get(&ecr))
                        .copied()
                        .unwrap_or(ecr)
                };
                nt.options.timestamps = Some((val2, ecr2));
            }
            let ts = nt.options.timestamps;
            nt.options.raw = t
                .options
                .raw
                .iter()
                .map(|o| match (o, ts) {
                    (TcpOption::Timestamps(..), Some((v, e))) => TcpOption::Timestamps(v, e),
                    (TcpOption::Sack(blocks), _) => TcpOption::Sack(
                        blocks.iter().map(|(l, r)| (acked(*l), acked(*r))).collect(),
                    ),
                    _ => o.clone(),
                })
                .collect();
        }
        if let Some(u) = q.udp.as_mut() {
            u.src_port = self.port(u.src_port);
            u.dst_port = self.port(u.dst_port);
        }
        if let Some((proto, s, d)) = q.truncated_ports {
            q.truncated_ports = Some((proto, self.port(s), self.port(d)));
        }
        let tcp_quote = quoted_tcp_seq(p);
        if let Some(quote) = q.icmp.as_mut().and_then(|i| i.quote.as_mut()) {
            if quote.ip.version == 4 {
                quote.ip.id = self.ip_id(quote.ip.id);
            }
            if let Some((s, d)) = quote.ports {
                quote.ports = Some((self.port(s), self.port(d)));
            }
            if let Some((dir, raw)) = tcp_quote {
                if let Some(base) = seq.current(dir) {
                    quote.tcp_seq = Some(self.seq(dir, base, raw));
                }
            }
        }
        q.refresh_columns();
        q
    }

    fn stream(&self, s: &TcpStream) -> TcpStream {
        let mut n = s.clone();
        let up = (s.client, s.server);
        let down = (s.server, s.client);
        n.client = self.addr(s.client);
        n.server = self.addr(s.server);
        n.client_isn = s.client_isn.map(|isn| self.seq(up, isn, isn));
        n.server_isn = s.server_isn.map(|isn| self.seq(down, isn, isn));
        n.first_ts = s.frames.first().map_or(0, |f| frame_ns(*f));
        n.last_ts = s.frames.last().map_or(0, |f| frame_ns(*f));
        for (side, (dir, isn)) in [(up, s.client_isn), (down, s.server_isn)]
            .into_iter()
            .enumerate()
        {
            if let (Some(fin), Some(isn)) = (n.story.fins[side].as_mut(), isn) {
                fin.end_raw = self.seq(dir, isn, fin.end_raw);
            }
        }
        n
    }

    /// The header with the date and kernel shown as [`NORMALISED`] and the network's
    /// text normalised.
    pub fn header(&self, h: &Header) -> Header {
        Header {
            date: NORMALISED.to_string(),
            kernel: if h.kernel.is_empty() {
                String::new()
            } else {
                NORMALISED.to_string()
            },
            os: if h.os.is_empty() {
                String::new()
            } else {
                NORMALISED.to_string()
            },
            hardware: if h.hardware.is_empty() {
                String::new()
            } else {
                NORMALISED.to_string()
            },
            libpcap: if h.libpcap.is_empty() {
                String::new()
            } else {
                NORMALISED.to_string()
            },
            network: self.text(&h.network),
            hosts: h.hosts.iter().map(|x| self.text(x)).collect(),
            ..h.clone()
        }
    }

    /// A normalised copy of the whole report: header, the script's text, checks, and
    /// every trace the report draws (captures and packet tables). The captured frames stay
    /// real: the pcap files are written from them.
    pub fn report(&self, r: &Report) -> Report {
        let mut traces: HashMap<*const Trace, Arc<Trace>> = HashMap::new();
        let mut normalised = |t: &Arc<Trace>| -> Arc<Trace> {
            Arc::clone(
                traces
                    .entry(Arc::as_ptr(t))
                    .or_insert_with(|| Arc::new(self.trace(t))),
            )
        };
        let captures = r
            .captures
            .iter()
            .map(|c| CaptureRecord {
                name: c.name.clone(),
                captured: c.captured.clone(),
                trace: normalised(&c.trace),
                figures: OnceLock::new(),
                lang: c.lang,
                // The samples' times change from run to run: the figure keeps its panel
                // and says why it is empty.
                kernel: c
                    .kernel
                    .iter()
                    .map(|k| crate::report::KernelSeries {
                        stream: k.stream,
                        points: Vec::new(),
                    })
                    .collect(),
                link_comments: c.link_comments.clone(),
            })
            .collect();
        let blocks = r
            .blocks
            .iter()
            .map(|b| match b {
                Block::Step(s) => Block::Step(self.text(s)),
                Block::Section { title, body } => Block::Section {
                    title: self.text(title),
                    body: self.text(body),
                },
                Block::Note(s) => Block::Note(self.text(s)),
                Block::Table { headers, rows } => Block::Table {
                    headers: headers.iter().map(|h| self.text(h)).collect(),
                    rows: rows
                        .iter()
                        .map(|row| row.iter().map(|c| self.text(c)).collect())
                        .collect(),
                },
                Block::Packets(list) => {
                    Block::Packets(list.iter().map(|(t, i)| (normalised(t), *i)).collect())
                }
            })
            .collect();
        Report {
            header: self.header(&r.header),
            lab_text: r.lab_text.clone(),
            blocks,
            checks: r
                .checks
                .iter()
                .map(|c| Check {
                    what: self.text(&c.what),
                    detail: c.detail.as_deref().map(|d| self.text(d)),
                    filter: c.filter.as_deref().map(|f| self.text(f)),
                    ..c.clone()
                })
                .collect(),
            captures,
            warnings: r.warnings.iter().map(|w| self.text(w)).collect(),
            error: r.error.as_deref().map(|e| self.text(e)),
        }
    }
}

/// The ports of a packet, source first: TCP, UDP, a header cut short, an ICMP error's quote.
fn ports_of(p: &Packet) -> Vec<u16> {
    let mut out = Vec::new();
    if let Some(t) = &p.tcp {
        out.extend([t.src_port, t.dst_port]);
    }
    if let Some(u) = &p.udp {
        out.extend([u.src_port, u.dst_port]);
    }
    if let Some((_, s, d)) = p.truncated_ports {
        out.extend([s, d]);
    }
    if let Some((s, d)) = p
        .icmp
        .as_ref()
        .and_then(|i| i.quote.as_ref())
        .and_then(|q| q.ports)
    {
        out.extend([s, d]);
    }
    out
}

/// The direction and raw sequence number of the TCP segment an ICMP error quotes.
fn quoted_tcp_seq(p: &Packet) -> Option<(Dir, u32)> {
    let q = p.icmp.as_ref()?.quote.as_ref()?;
    let (s, d) = q.ports?;
    let raw = q.tcp_seq?;
    Some((
        (SocketAddr::new(q.ip.src, s), SocketAddr::new(q.ip.dst, d)),
        raw,
    ))
}

#[cfg(test)]
mod tests;
