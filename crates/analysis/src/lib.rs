//! Packets as Wireshark shows them: a streaming analyzer that turns captured
//! frames into [`Packet`] records whose fields equal tshark's output.
//!
//! Feed frames in capture order to an [`Analyzer`] (or a whole list to [`Trace::analyze`]);
//! each comes back as a [`Packet`] with Wireshark's numbers: TCP stream index, relative
//! sequence and acknowledgement numbers, the sequence analysis (retransmissions, duplicate
//! ACKs, ...), the Protocol and Info columns. Per connection it also tells the story a lab
//! manual tells ([`StreamStory`]): how it opened and closed and why each RST was sent, as
//! enums whose words a report chooses. No I/O, no threads: any reader of frames can use it.
//!
//! ```
//! use labrun_analysis::{HandshakeKind, RawFrame, Trace};
//! use labrun_wire::LinkType;
//!
//! // A client's SYN and the server's SYN-ACK, built with etherparse.
//! let frame = |from_client: bool, seq: u32, ack: Option<u32>| {
//!     let (a, b) = ([10, 77, 0, 1], [10, 77, 0, 2]);
//!     let (src, dst, sp, dp) = if from_client { (a, b, 40000, 8888) } else { (b, a, 8888, 40000) };
//!     let mut tcp = etherparse::PacketBuilder::ethernet2([2; 6], [4; 6])
//!         .ipv4(src, dst, 64)
//!         .tcp(sp, dp, seq, 64240)
//!         .syn();
//!     if let Some(ack) = ack {
//!         tcp = tcp.ack(ack);
//!     }
//!     let mut data = Vec::new();
//!     tcp.write(&mut data, &[]).unwrap();
//!     RawFrame { ts_sec: 0, ts_nsec: 0, orig_len: data.len() as u32, data }
//! };
//! let frames = [frame(true, 5000, None), frame(false, 9000, Some(5001))];
//!
//! let trace = Trace::analyze(LinkType::Ethernet, frames.iter());
//! let syn_ack = &trace.packets[1];
//! assert_eq!(syn_ack.info, "8888 → 40000 [SYN, ACK] Seq=0 Ack=1 Win=64240 Len=0");
//! let tcp = syn_ack.tcp.as_ref().unwrap();
//! assert_eq!((tcp.stream, tcp.seq, tcp.ack), (0, 0, 1));
//! // Without the client's final ACK the handshake is not complete.
//! let story = &trace.streams[0].story;
//! assert_eq!(story.handshake_kind(), HandshakeKind::Incomplete);
//! ```

mod defrag;
pub mod dns;
mod echo;
mod fields;
mod follow;
mod fxhash;
mod header_fields;
pub mod http;
mod info;
mod packet;
mod pdu;
pub mod reassembly;
mod scaling;
mod seq_analysis;
mod side;
mod states;
mod story;
mod tcp;
mod text;
pub mod tls;
mod verdict;
pub mod websocket;
mod winscale;

use std::net::SocketAddr;

pub use defrag::Reassembled;
pub use fields::{CSV_FIELDS, Field, SUPPORTED_FIELDS};
pub use follow::{Chunk, Follow, follow_text};
pub use header_fields::{
    Extra, FieldKey, HeaderField, header_fields, ipv4_checksum, pseudo_header, tcp_checksum,
};
pub use info::{ip_proto_name, write_columns};
/// The header records a [`Packet`] holds, from the wire crate.
pub use labrun_wire::{
    ArpRepr, EthernetRepr, IcmpQuote, IcmpRepr, IpRepr, LinkRepr, SllRepr, UdpRepr,
};
pub use packet::{Packet, RawFrame, TcpInfo, TcpOptions};
pub use pdu::{App, AppColumns};
pub use scaling::{ScaledWindow, SynAnnounce, WindowScaling, window_scaling};
pub use side::Side;
pub use states::{StateChange, Step, TcpState, tcp_states};
pub use story::{
    Anomaly, CloseKind, EndStats, FinInfo, HandshakeKind, RstCause, RstInfo, StreamStory,
    SynOptions, anomalies_in,
};
pub use tcp::{TcpStream, relative};
pub use text::{TextSink, fmt_mac, fmt_seconds, push_decimal};
pub use verdict::{SeqVerdict, flags as analysis_flags, info_prefix};
pub use winscale::WinScale;

use labrun_wire::{self as wire, LinkType, NetRepr, TcpOption, TransportRepr};

/// Streaming analyzer: feed frames in capture order with [`Analyzer::push`].
/// It keeps per-connection state only, so it can process very large files.
#[derive(Debug)]
pub struct Analyzer {
    link: LinkType,
    count: u64,
    first_ts: Option<i128>,
    tcp: tcp::TcpTracker,
    echo: echo::EchoMatcher,
    defrag: defrag::Defragmenter,
    pdu: pdu::Desegmenter,
    keep_payload: bool,
    keep_columns: bool,
}

impl Analyzer {
    /// Creates an analyzer for frames of the given link type.
    pub fn new(link: LinkType) -> Self {
        Analyzer {
            link,
            count: 0,
            first_ts: None,
            tcp: tcp::TcpTracker::default(),
            echo: echo::EchoMatcher::default(),
            defrag: defrag::Defragmenter::default(),
            pdu: pdu::Desegmenter::default(),
            keep_payload: true,
            keep_columns: true,
        }
    }

    /// Whether each stream keeps the list of its frame numbers (the default).
    /// Field exports turn it off so memory depends only on the number of
    /// connections, however long the capture.
    pub fn keep_frame_lists(&mut self, keep: bool) {
        self.tcp.skip_frame_lists = !keep;
    }

    /// Whether each stream's summary is kept up to date (the default): its
    /// handshake and close frames, first and last time, and story. Field
    /// exports print per-packet fields only and turn it off; the streams
    /// are still numbered and analyzed.
    pub fn keep_summaries(&mut self, keep: bool) {
        self.tcp.skip_summaries = !keep;
    }

    /// Whether packets keep a copy of their payload bytes (the default).
    /// Field exports that never look at payloads turn it off to save a copy
    /// per frame; fragment reassembly still works.
    pub fn keep_payload(&mut self, keep: bool) {
        self.keep_payload = keep;
    }

    /// Whether packets get their Protocol and Info columns (the default).
    /// A field export turns it off and writes the columns straight into its
    /// output with [`write_columns`] instead of building a string per frame.
    pub fn keep_columns(&mut self, keep: bool) {
        self.keep_columns = keep;
    }

    /// The link type frames are decoded with.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// Decodes the next frames with `link`: a pcapng file's interfaces may each
    /// have their own link type.
    pub fn set_link(&mut self, link: LinkType) {
        self.link = link;
    }

    /// Decodes and analyzes the next frame; frames are numbered from 1.
    /// A frame that does not decode still yields a [`Packet`] with `error` set.
    pub fn push(&mut self, frame: &RawFrame) -> Packet {
        self.push_bytes(frame.ts_sec, frame.ts_nsec, frame.orig_len, &frame.data)
    }

    /// Like [`Analyzer::push`], for a frame borrowed from a capture buffer
    /// (no copy of the whole frame is made).
    pub fn push_bytes(&mut self, ts_sec: i64, ts_nsec: u32, orig_len: u32, data: &[u8]) -> Packet {
        let mut p = Packet::default();
        self.push_into(ts_sec, ts_nsec, orig_len, data, &mut p);
        p
    }

    /// Like [`Analyzer::push_bytes`], into `p`, whose allocations (TCP
    /// option list, Info text, fragment list) are reused: a field export
    /// goes through a million frames with one record. Every field of `p`
    /// is overwritten.
    pub fn push_into(
        &mut self,
        ts_sec: i64,
        ts_nsec: u32,
        orig_len: u32,
        data: &[u8],
        p: &mut Packet,
    ) {
        self.count += 1;
        let ts = i128::from(ts_sec) * 1_000_000_000 + i128::from(ts_nsec);
        let first = *self.first_ts.get_or_insert(ts);
        let options = p
            .tcp
            .as_mut()
            .map(|t| std::mem::take(&mut t.options.raw))
            .unwrap_or_default();
        let decoded = wire::decode_captured(self.link, data, orig_len, self.keep_payload, options);
        let mut info = std::mem::take(&mut p.info);
        info.clear();
        let mut reassembled_from = std::mem::take(&mut p.reassembled_from);
        reassembled_from.clear();
        let mut comments = std::mem::take(&mut p.comments);
        comments.clear();

        *p = Packet {
            number: self.count,
            ts_sec,
            ts_nsec,
            time_relative: ts - first,
            len: orig_len,
            caplen: u32::try_from(data.len()).unwrap_or(u32::MAX),
            link: decoded.link,
            arp: None,
            ip: None,
            tcp: None,
            udp: None,
            icmp: None,
            icmpv6: None,
            dns: None,
            app: None,
            truncated_ports: None,
            payload: decoded.payload,
            cut_short: matches!(
                &decoded.error,
                Some(wire::WireError::Truncated { layer, .. }) if layer.is_payload()
            ),
            first_fragment: false,
            quoted_tcp: None,
            echo_request_frame: None,
            reassembled_from,
            bogus_ip: match &decoded.error {
                Some(wire::WireError::BogusIpLength {
                    total_len,
                    header_len,
                }) => Some((*total_len, *header_len)),
                _ => None,
            },
            error_protocol: decoded.error.as_ref().map_or("", wire::WireError::protocol),
            error: decoded.error.map(|e| e.to_string()),
            protocol: "",
            info,
            comments,
        };
        match decoded.net {
            Some(NetRepr::Arp(a)) => p.arp = Some(a),
            Some(NetRepr::Ip(ip)) => p.ip = Some(ip),
            None => {}
        }
        let mut transport = decoded.transport;
        if transport.is_none() && (p.error.is_none() || p.cut_short) {
            transport = self.reassemble(p);
        }
        self.apply_transport(p, transport, ts);
        p.dns = self.read_dns(p, data).map(Box::new);
        p.app = self.app_columns(p, data).map(Box::new);
        if !self.keep_payload {
            p.payload = Vec::new();
        }
        if let Some(ip) = &p.ip {
            let echo = match (&p.icmp, &p.icmpv6) {
                (Some(i), _) => i.echo().map(|e| (i.icmp_type == 8, e)),
                (None, Some(i)) => i.echo().map(|e| (i.icmp_type == 128, e)),
                (None, None) => None,
            };
            if let Some((request, (id, seq))) = echo {
                p.echo_request_frame = self.echo.observe(p.number, ip, request, id, seq);
            }
        }
        if self.keep_columns {
            let mut info = std::mem::take(&mut p.info);
            p.protocol = info::write_columns(p, &mut info);
            p.info = info;
        }
    }

    /// The DNS-format message of a UDP datagram on a DNS, mDNS or LLMNR port. Without
    /// kept payloads the frame is decoded again with its payload: only these datagrams pay.
    fn read_dns(&self, p: &Packet, data: &[u8]) -> Option<dns::DnsMessage> {
        let udp = p.udp.as_ref()?;
        let flavor = dns::DnsFlavor::of_ports(udp.src_port, udp.dst_port)?;
        if p.payload.is_empty() && !self.keep_payload {
            let frame = wire::decode(self.link, data);
            return Some(dns::DnsMessage::parse(flavor, &frame.payload));
        }
        Some(dns::DnsMessage::parse(flavor, &p.payload))
    }

    /// The columns HTTP, TLS or WebSocket give a TCP segment on their ports (or on a
    /// connection tshark's TLS or HTTP heuristic claimed). Without kept payloads the frame
    /// is decoded again with its payload: only segments with data on such connections, or
    /// on connections no protocol claimed yet, pay.
    fn app_columns(&mut self, p: &Packet, data: &[u8]) -> Option<pdu::AppColumns> {
        use verdict::flags::SPURIOUS_RETRANSMISSION;
        use verdict::flags::{FAST_RETRANSMISSION, OUT_OF_ORDER, RETRANSMISSION};
        let (tcp, ip) = (p.tcp.as_ref()?, p.ip.as_ref()?);
        let fin = tcp.flags.contains(wire::TcpFlags::FIN);
        if (tcp.len == 0 && !fin) || p.cut_short || p.error.is_some() {
            return None;
        }
        // Retransmissions never reach the protocol (tshark's `no_subdissector_on_error`);
        // segments out of order and fast retransmissions still count within a message
        // of known length.
        let resent = RETRANSMISSION | SPURIOUS_RETRANSMISSION;
        if tcp.analysis.flags & resent != 0 {
            return None;
        }
        let known =
            pdu::App::of_ports(tcp.src_port, tcp.dst_port).or_else(|| self.pdu.claimed(tcp.stream));
        if known.is_none() && tcp.len == 0 {
            return None;
        }
        let redecoded;
        let payload: &[u8] = if tcp.len == 0 || !p.payload.is_empty() {
            &p.payload
        } else {
            redecoded = wire::decode(self.link, data).payload;
            &redecoded
        };
        // tshark's heuristics on other ports: TLS on the first segment with data, HTTP
        // on any segment until one passes (the connection is then HTTP from there on).
        let app = match known {
            Some(app) => app,
            None if self.pdu.try_heuristic(tcp.stream) && tls::looks_like_client_hello(payload) => {
                pdu::App::Tls
            }
            None if http::looks_like_http(payload) => pdu::App::Http,
            None => return None,
        };
        let out_of_order = tcp.analysis.flags & (OUT_OF_ORDER | FAST_RETRANSMISSION) != 0;
        let src = SocketAddr::new(ip.src, tcp.src_port);
        self.pdu.segment(
            tcp.stream,
            src,
            app,
            &pdu::TcpData {
                seq: tcp.seq,
                payload,
                fin,
                out_of_order,
            },
        )
    }

    /// Feeds an IPv4 fragment to the reassembler; when it completes a
    /// datagram, the packet takes the datagram's payload and the transport
    /// header is returned.
    fn reassemble(&mut self, p: &mut Packet) -> Option<TransportRepr> {
        let ip =
            p.ip.as_ref()
                .filter(|ip| ip.version == 4 && (ip.mf || ip.frag_offset > 0))?;
        let whole = usize::from(ip.total_len).saturating_sub(usize::from(ip.header_len));
        if p.payload.len() < whole {
            // tshark reassembles only fragments it holds whole; the first one of a
            // fragment cut by the snap length is dissected as it stands.
            if ip.frag_offset != 0 {
                return None;
            }
            let (t, _) = wire::decode_transport(ip.protocol, &p.payload)?;
            p.first_fragment = true;
            return Some(t);
        }
        let key = (ip.src, ip.dst, ip.id, ip.protocol);
        let r = self.defrag.add(
            key,
            p.number,
            usize::from(ip.frag_offset),
            ip.mf,
            &p.payload,
        )?;
        let (t, payload) = wire::decode_transport(ip.protocol, &r.payload)?;
        p.payload = payload.to_vec();
        p.reassembled_from = r.frames;
        Some(t)
    }

    fn apply_transport(&mut self, p: &mut Packet, transport: Option<TransportRepr>, ts: i128) {
        match transport {
            Some(TransportRepr::Tcp(t)) => {
                if let Some(ip) = &p.ip {
                    let src = SocketAddr::new(ip.src, t.src_port);
                    let dst = SocketAddr::new(ip.dst, t.dst_port);
                    if p.first_fragment {
                        let stream = self.tcp.stream_of(src, dst, &t);
                        p.tcp = Some(fragment_tcp_info(t, stream));
                        return;
                    }
                    let a = self.tcp.process(p.number, ts, src, dst, &t);
                    p.tcp = Some(tcp_info(t, &a));
                }
            }
            Some(TransportRepr::Udp(u)) => p.udp = Some(u),
            Some(TransportRepr::Icmpv4(i)) => {
                p.icmp = Some(i);
                p.quoted_tcp = self.quoted_tcp(p);
            }
            Some(TransportRepr::Icmpv6(i)) => {
                p.icmpv6 = Some(Box::new(i));
                p.quoted_tcp = self.quoted_tcp(p);
            }
            Some(TransportRepr::Truncated { protocol, ports }) => {
                p.truncated_ports = ports.map(|(s, d)| (protocol, s, d));
            }
            None => {}
        }
    }

    /// The whole TCP header an ICMP error of `p` quotes, with its `tcp.stream`: tshark's TCP
    /// finds the quoted segment's conversation, or opens one (which takes the next index).
    /// tshark 4.0 reads a redirect's quoted TCP header only as far as the ports and sequence
    /// number (the 64 bits RFC 792 quotes), so it shows and opens nothing more for it.
    fn quoted_tcp(&mut self, p: &Packet) -> Option<Box<TcpInfo>> {
        if p.icmp.as_ref().is_some_and(|i| i.icmp_type == 5) {
            return None;
        }
        let q = p.icmp_quote()?;
        let t = q.tcp.as_deref()?;
        let src = SocketAddr::new(q.ip.src, t.src_port);
        let dst = SocketAddr::new(q.ip.dst, t.dst_port);
        let stream = self.tcp.stream_of_quoted(src, dst);
        Some(Box::new(fragment_tcp_info(t.clone(), stream)))
    }

    /// Summaries of the TCP streams seen so far, in `tcp.stream` order.
    pub fn streams(&self) -> &[TcpStream] {
        self.tcp.streams()
    }

    /// Ends the analysis and returns the TCP stream summaries.
    pub fn finish(self) -> Vec<TcpStream> {
        self.tcp.into_streams()
    }
}

impl Packet {
    /// The datagram an ICMP or ICMPv6 error message quotes, if this is one.
    pub fn icmp_quote(&self) -> Option<&labrun_wire::IcmpQuote> {
        match (&self.icmp, &self.icmpv6) {
            (Some(i), _) => i.quote.as_ref(),
            (None, Some(i)) => i.quote.as_ref(),
            (None, None) => None,
        }
    }

    /// Recomputes the Protocol and Info columns from the packet's fields, after they were
    /// changed (the report's `--deterministic` normalisation rewrites ports, raw sequence
    /// numbers, timestamps and IP IDs, and the Info column must show the new values).
    pub fn refresh_columns(&mut self) {
        let mut info = String::new();
        self.protocol = info::write_columns(self, &mut info);
        self.info = info;
    }
}

/// A whole capture analyzed in memory: convenient for small lab captures.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Link type of the capture.
    pub link: LinkType,
    /// Every frame, in capture order.
    pub packets: Vec<Packet>,
    /// TCP stream summaries, in `tcp.stream` order.
    pub streams: Vec<TcpStream>,
}

impl Trace {
    /// Runs an [`Analyzer`] over all frames and collects the results.
    pub fn analyze<'a>(link: LinkType, frames: impl IntoIterator<Item = &'a RawFrame>) -> Trace {
        let mut analyzer = Analyzer::new(link);
        let packets = frames.into_iter().map(|f| analyzer.push(f)).collect();
        Trace {
            link,
            packets,
            streams: analyzer.finish(),
        }
    }
}

/// The TCP record of a header read from a first fragment: tshark's TCP leaves the
/// sequence analysis out (`pinfo->fragmented`), so the numbers stay raw.
fn fragment_tcp_info(t: wire::TcpRepr, stream: u32) -> TcpInfo {
    let analysis = tcp::SegmentAnalysis {
        stream,
        seq: t.seq,
        ack: t.ack,
        nxtseq: 0,
        window_size: None,
        win_scale: WinScale::Unknown,
        ack_base: None,
        port_reused: false,
        analysis: SeqVerdict::default(),
    };
    let mut info = tcp_info(t, &analysis);
    info.in_fragment = true;
    info
}

fn tcp_info(t: wire::TcpRepr, a: &tcp::SegmentAnalysis) -> TcpInfo {
    let mut options = TcpOptions::default();
    for o in &t.options {
        match o {
            TcpOption::Mss(v) => options.mss = Some(*v),
            TcpOption::WindowScale(s) => options.wscale = Some(*s),
            TcpOption::SackPermitted => options.sack_perm = true,
            TcpOption::Timestamps(v, e) => options.timestamps = Some((*v, *e)),
            TcpOption::Sack(b) => options.sack_blocks.extend_from_slice(b),
            TcpOption::Unknown { kind, .. } => options.unknown_kinds.push(*kind),
            TcpOption::EndOfList | TcpOption::Nop | TcpOption::Malformed { .. } => {}
        }
    }
    options.raw = t.options;
    TcpInfo {
        src_port: t.src_port,
        dst_port: t.dst_port,
        stream: a.stream,
        flags: t.flags,
        seq_raw: t.seq,
        ack_raw: t.ack,
        seq: a.seq,
        ack: a.ack,
        nxtseq: a.nxtseq,
        len: t.payload_len,
        header_len: t.data_offset.saturating_mul(4),
        window_value: t.window,
        window_size: a.window_size,
        win_scale: a.win_scale,
        checksum: t.checksum,
        urgent: t.urgent,
        options,
        in_fragment: false,
        port_reused: a.port_reused,
        analysis: a.analysis,
    }
}

#[cfg(test)]
mod tests;
