//! tshark field names and the exact text `tshark -T fields` prints for them.

use std::net::IpAddr;

use labrun_wire::TcpFlags;

use super::packet::Packet;
use super::text::{fmt_mac, fmt_seconds};
use super::verdict::{SeqVerdict, flags as af};
use super::winscale::WinScale;
use labrun_wire::{EthernetRepr, IpRepr, LinkRepr};

/// The fields of the standard per-packet CSV export.
pub const CSV_FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_relative",
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "tcp.srcport",
    "tcp.dstport",
    "udp.srcport",
    "udp.dstport",
    "tcp.stream",
    "tcp.flags.str",
    "tcp.seq",
    "tcp.ack",
    "tcp.len",
    "tcp.window_size_value",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "_ws.col.info",
];

/// Declares [`Field`] and [`SUPPORTED_FIELDS`] from one list of tshark field names.
macro_rules! fields {
    ($($name:literal => $variant:ident,)*) => {
        /// A field [`Packet::field`] understands, named as tshark names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Field {
            $(
                #[doc = $name]
                $variant,
            )*
        }

        /// Every field name [`Packet::field`] understands (column fields in their
        /// lowercase spelling; the tshark 4.0 spellings `_ws.col.Info` and
        /// `_ws.col.Protocol` are accepted too).
        pub const SUPPORTED_FIELDS: &[&str] = &[$($name),*];

        impl Field {
            /// The field tshark calls `name`, if supported.
            pub fn from_name(name: &str) -> Option<Field> {
                Some(match name {
                    $($name => Field::$variant,)*
                    "_ws.col.Info" => Field::WsColInfo,
                    "_ws.col.Protocol" => Field::WsColProtocol,
                    _ => return None,
                })
            }
        }
    };
}

fields! {
    "frame.number" => FrameNumber,
    "frame.time_relative" => FrameTimeRelative,
    "frame.len" => FrameLen,
    "frame.cap_len" => FrameCapLen,
    "frame.comment" => FrameComment,
    "eth.src" => EthSrc,
    "eth.dst" => EthDst,
    "eth.type" => EthType,
    "arp.opcode" => ArpOpcode,
    "arp.src.hw_mac" => ArpSrcHwMac,
    "arp.src.proto_ipv4" => ArpSrcProtoIpv4,
    "arp.dst.hw_mac" => ArpDstHwMac,
    "arp.dst.proto_ipv4" => ArpDstProtoIpv4,
    "ip.src" => IpSrc,
    "ip.dst" => IpDst,
    "ip.id" => IpId,
    "ip.ttl" => IpTtl,
    "ip.flags.df" => IpFlagsDf,
    "ip.flags.mf" => IpFlagsMf,
    "ip.frag_offset" => IpFragOffset,
    "ip.proto" => IpProto,
    "ip.len" => IpLen,
    "ip.hdr_len" => IpHdrLen,
    "ipv6.src" => Ipv6Src,
    "ipv6.dst" => Ipv6Dst,
    "ipv6.hlim" => Ipv6Hlim,
    "ipv6.nxt" => Ipv6Nxt,
    "tcp.srcport" => TcpSrcport,
    "tcp.dstport" => TcpDstport,
    "tcp.stream" => TcpStream,
    "tcp.flags" => TcpFlags,
    "tcp.flags.str" => TcpFlagsStr,
    "tcp.flags.syn" => TcpFlagsSyn,
    "tcp.flags.ack" => TcpFlagsAck,
    "tcp.flags.fin" => TcpFlagsFin,
    "tcp.flags.reset" => TcpFlagsReset,
    "tcp.flags.push" => TcpFlagsPush,
    "tcp.seq" => TcpSeq,
    "tcp.ack" => TcpAck,
    "tcp.nxtseq" => TcpNxtseq,
    "tcp.len" => TcpLen,
    "tcp.hdr_len" => TcpHdrLen,
    "tcp.seq_raw" => TcpSeqRaw,
    "tcp.ack_raw" => TcpAckRaw,
    "tcp.window_size_value" => TcpWindowSizeValue,
    "tcp.window_size" => TcpWindowSize,
    "tcp.window_size_scalefactor" => TcpWindowSizeScalefactor,
    "tcp.checksum" => TcpChecksum,
    "tcp.urgent_pointer" => TcpUrgentPointer,
    "tcp.options.mss_val" => TcpOptionsMssVal,
    "tcp.options.wscale.shift" => TcpOptionsWscaleShift,
    "tcp.options.wscale.multiplier" => TcpOptionsWscaleMultiplier,
    "tcp.options.timestamp.tsval" => TcpOptionsTimestampTsval,
    "tcp.options.timestamp.tsecr" => TcpOptionsTimestampTsecr,
    "tcp.analysis.retransmission" => TcpAnalysisRetransmission,
    "tcp.analysis.fast_retransmission" => TcpAnalysisFastRetransmission,
    "tcp.analysis.spurious_retransmission" => TcpAnalysisSpuriousRetransmission,
    "tcp.analysis.duplicate_ack" => TcpAnalysisDuplicateAck,
    "tcp.analysis.duplicate_ack_num" => TcpAnalysisDuplicateAckNum,
    "tcp.analysis.lost_segment" => TcpAnalysisLostSegment,
    "tcp.analysis.ack_lost_segment" => TcpAnalysisAckLostSegment,
    "tcp.analysis.out_of_order" => TcpAnalysisOutOfOrder,
    "tcp.analysis.zero_window" => TcpAnalysisZeroWindow,
    "tcp.analysis.zero_window_probe" => TcpAnalysisZeroWindowProbe,
    "tcp.analysis.keep_alive" => TcpAnalysisKeepAlive,
    "tcp.analysis.keep_alive_ack" => TcpAnalysisKeepAliveAck,
    "tcp.analysis.window_full" => TcpAnalysisWindowFull,
    "tcp.analysis.window_update" => TcpAnalysisWindowUpdate,
    "udp.srcport" => UdpSrcport,
    "udp.dstport" => UdpDstport,
    "udp.length" => UdpLength,
    "icmp.type" => IcmpType,
    "icmp.code" => IcmpCode,
    "icmp.ident" => IcmpIdent,
    "icmp.seq" => IcmpSeq,
    "icmp.seq_le" => IcmpSeqLe,
    "_ws.col.info" => WsColInfo,
    "_ws.col.protocol" => WsColProtocol,
}

/// A `tcp.analysis.*` flag: "1" when set, absent otherwise (tshark prints
/// "1,1" for duplicate ACKs). Wireshark also marks fast and spurious
/// retransmissions as retransmissions.
fn analysis_flag(field: Field, v: &SeqVerdict) -> Option<String> {
    let f = v.flags;
    let set = match field {
        Field::TcpAnalysisRetransmission => {
            f & (af::RETRANSMISSION | af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION) != 0
        }
        Field::TcpAnalysisFastRetransmission => f & af::FAST_RETRANSMISSION != 0,
        Field::TcpAnalysisSpuriousRetransmission => f & af::SPURIOUS_RETRANSMISSION != 0,
        Field::TcpAnalysisDuplicateAck => f & af::DUPLICATE_ACK != 0 && v.dupack_num != 0,
        Field::TcpAnalysisLostSegment => f & af::LOST_PACKET != 0,
        Field::TcpAnalysisAckLostSegment => f & af::ACK_LOST_PACKET != 0,
        Field::TcpAnalysisOutOfOrder => f & af::OUT_OF_ORDER != 0,
        Field::TcpAnalysisZeroWindow => f & af::ZERO_WINDOW != 0,
        Field::TcpAnalysisZeroWindowProbe => f & af::ZERO_WINDOW_PROBE != 0,
        Field::TcpAnalysisKeepAlive => f & af::KEEP_ALIVE != 0,
        Field::TcpAnalysisKeepAliveAck => f & af::KEEP_ALIVE_ACK != 0,
        Field::TcpAnalysisWindowFull => f & af::WINDOW_FULL != 0,
        Field::TcpAnalysisWindowUpdate => f & af::WINDOW_UPDATE != 0,
        _ => return None,
    };
    // tshark 4.0 lists the duplicate-ACK flag twice (the flag and its expert item).
    let text = if field == Field::TcpAnalysisDuplicateAck {
        "1,1"
    } else {
        "1"
    };
    set.then(|| text.to_string())
}

fn bit(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

/// IPv4 headers of the packet in tshark order: outer first, then the one
/// quoted inside an ICMP error.
fn ipv4_layers(p: &Packet) -> Vec<&IpRepr> {
    let mut v: Vec<&IpRepr> = p.ip.iter().filter(|ip| ip.version == 4).collect();
    if let Some(q) = p.icmp_quote().filter(|q| q.ip.version == 4) {
        v.push(&q.ip);
    }
    v
}

/// IPv6 headers of the packet in tshark order: outer first, then the one quoted inside
/// an ICMPv6 error.
fn ipv6_layers(p: &Packet) -> Vec<&IpRepr> {
    let mut v: Vec<&IpRepr> = p.ip.iter().filter(|ip| ip.version == 6).collect();
    if let Some(q) = p.icmp_quote().filter(|q| q.ip.version == 6) {
        v.push(&q.ip);
    }
    v
}

fn join_ipv4<F: Fn(&IpRepr) -> String>(p: &Packet, f: F) -> Option<String> {
    let v: Vec<String> = ipv4_layers(p).into_iter().map(f).collect();
    if v.is_empty() {
        None
    } else {
        Some(v.join(","))
    }
}

fn ip_text(a: &IpAddr) -> String {
    a.to_string()
}

impl Packet {
    /// Ports of a TCP (6) or UDP (17) header cut short by the snap length.
    fn cut_ports(&self, proto: u8) -> Option<(u16, u16)> {
        self.truncated_ports
            .filter(|(p, _, _)| *p == proto)
            .map(|(_, s, d)| (s, d))
    }

    /// The text `tshark -T fields -e NAME` prints for this frame, or `None`
    /// when tshark prints nothing (or the field is not supported).
    pub fn field(&self, name: &str) -> Option<String> {
        let tcp = self.tcp.as_ref();
        let quote = self.icmp_quote();
        let quote_ports = |proto: u8| {
            quote
                .filter(|q| q.ip.protocol == proto)
                .and_then(|q| q.ports)
        };
        let field = Field::from_name(name)?;
        match field {
            Field::FrameNumber => Some(self.number.to_string()),
            Field::FrameTimeRelative => Some(fmt_seconds(self.time_relative)),
            Field::FrameLen => Some(self.len.to_string()),
            Field::FrameCapLen => Some(self.caplen.to_string()),
            // tshark prints every occurrence of a field, joined with commas.
            Field::FrameComment => (!self.comments.is_empty()).then(|| self.comments.join(",")),
            Field::EthSrc | Field::EthDst | Field::EthType => match &self.link {
                LinkRepr::Ethernet(EthernetRepr {
                    src,
                    dst,
                    type_field,
                    ..
                }) => match field {
                    Field::EthSrc => Some(fmt_mac(src)),
                    Field::EthDst => Some(fmt_mac(dst)),
                    // An IEEE 802.3 frame has a length here, which Wireshark shows as
                    // `eth.len`, leaving `eth.type` empty.
                    _ => (*type_field >= 0x0600).then(|| format!("0x{type_field:04x}")),
                },
                _ => None,
            },
            Field::ArpOpcode => self.arp.as_ref().map(|a| a.opcode.to_string()),
            Field::ArpSrcHwMac => self
                .arp
                .as_ref()
                .filter(|a| a.hw_is_mac())
                .map(|a| fmt_mac(&a.sender_mac)),
            Field::ArpSrcProtoIpv4 => self
                .arp
                .as_ref()
                .filter(|a| a.proto_is_ipv4())
                .map(|a| a.sender_ip.to_string()),
            Field::ArpDstHwMac => self
                .arp
                .as_ref()
                .filter(|a| a.hw_is_mac())
                .map(|a| fmt_mac(&a.target_mac)),
            Field::ArpDstProtoIpv4 => self
                .arp
                .as_ref()
                .filter(|a| a.proto_is_ipv4())
                .map(|a| a.target_ip.to_string()),
            Field::IpSrc => join_ipv4(self, |ip| ip_text(&ip.src)),
            Field::IpDst => join_ipv4(self, |ip| ip_text(&ip.dst)),
            Field::IpId => join_ipv4(self, |ip| format!("0x{:04x}", ip.id)),
            Field::IpTtl => join_ipv4(self, |ip| ip.ttl.to_string()),
            Field::IpFlagsDf => join_ipv4(self, |ip| bit(ip.df)),
            Field::IpFlagsMf => join_ipv4(self, |ip| bit(ip.mf)),
            Field::IpFragOffset => join_ipv4(self, |ip| (ip.frag_offset / 8).to_string()),
            Field::IpProto => join_ipv4(self, |ip| ip.protocol.to_string()),
            Field::IpLen => join_ipv4(self, |ip| ip.total_len.to_string())
                .or_else(|| self.bogus_ip.map(|(total, _)| total.to_string())),
            Field::IpHdrLen => join_ipv4(self, |ip| ip.header_len.to_string())
                .or_else(|| self.bogus_ip.map(|(_, header)| header.to_string())),
            Field::Ipv6Src | Field::Ipv6Dst | Field::Ipv6Hlim | Field::Ipv6Nxt => {
                let layers = ipv6_layers(self);
                if layers.is_empty() {
                    return None;
                }
                let text = |ip: &IpRepr| match field {
                    Field::Ipv6Src => ip_text(&ip.src),
                    Field::Ipv6Dst => ip_text(&ip.dst),
                    Field::Ipv6Hlim => ip.ttl.to_string(),
                    // The fixed header's next header, which names the first extension
                    // header if there is one (`ipv6.nxt`), not the upper layer.
                    _ => ip.next_header.to_string(),
                };
                Some(layers.into_iter().map(text).collect::<Vec<_>>().join(","))
            }
            Field::TcpSrcport => tcp
                .map(|t| t.src_port)
                .or(self.cut_ports(6).map(|p| p.0))
                .or(quote_ports(6).map(|p| p.0))
                .map(|v| v.to_string()),
            Field::TcpDstport => tcp
                .map(|t| t.dst_port)
                .or(self.cut_ports(6).map(|p| p.1))
                .or(quote_ports(6).map(|p| p.1))
                .map(|v| v.to_string()),
            Field::TcpSeq => tcp
                .map(|t| t.seq)
                .or(quote.filter(|q| q.ip.protocol == 6).and_then(|q| q.tcp_seq))
                .map(|v| v.to_string()),
            Field::UdpSrcport => self
                .udp
                .map(|u| u.src_port)
                .or(self.cut_ports(17).map(|p| p.0))
                .or(quote_ports(17).map(|p| p.0))
                .map(|v| v.to_string()),
            Field::UdpDstport => self
                .udp
                .map(|u| u.dst_port)
                .or(self.cut_ports(17).map(|p| p.1))
                .or(quote_ports(17).map(|p| p.1))
                .map(|v| v.to_string()),
            Field::UdpLength => self
                .udp
                .map(|u| u.length)
                .or(quote.and_then(|q| q.udp_length))
                .map(|v| v.to_string()),
            Field::IcmpType => self.icmp.as_ref().map(|i| i.icmp_type.to_string()),
            Field::IcmpCode => self.icmp.as_ref().map(|i| i.code.to_string()),
            Field::IcmpIdent => self
                .icmp
                .as_ref()
                .and_then(|i| i.echo().map(|e| e.0))
                .map(|v| v.to_string()),
            Field::IcmpSeq => self
                .icmp
                .as_ref()
                .and_then(|i| i.echo().map(|e| e.1))
                .map(|v| v.to_string()),
            Field::IcmpSeqLe => self
                .icmp
                .as_ref()
                .and_then(|i| i.echo().map(|e| e.1))
                .map(|v| v.swap_bytes().to_string()),
            Field::WsColInfo => Some(self.info.clone()),
            Field::WsColProtocol => Some(self.protocol.to_string()),
            _ => {
                // Inside an ICMP error, the quoted header's fields (ports and seq above).
                let t = tcp.or(self.quoted_tcp.as_deref())?;
                let opts = &t.options;
                let v = match field {
                    Field::TcpStream => t.stream.to_string(),
                    Field::TcpFlags => format!("0x{:04x}", t.flags.bits() & 0x0fff),
                    Field::TcpFlagsStr => t.flags.tshark_str(),
                    Field::TcpFlagsSyn => bit(t.flags.contains(TcpFlags::SYN)),
                    Field::TcpFlagsAck => bit(t.flags.contains(TcpFlags::ACK)),
                    Field::TcpFlagsFin => bit(t.flags.contains(TcpFlags::FIN)),
                    Field::TcpFlagsReset => bit(t.flags.contains(TcpFlags::RST)),
                    Field::TcpFlagsPush => bit(t.flags.contains(TcpFlags::PSH)),
                    Field::TcpAck => t.ack.to_string(),
                    Field::TcpNxtseq | Field::TcpLen if t.in_fragment => return None,
                    Field::TcpNxtseq => t.nxtseq.to_string(),
                    Field::TcpLen => t.len.to_string(),
                    Field::TcpHdrLen => t.header_len.to_string(),
                    // tshark shows a quoted header's seq as tcp.seq alone.
                    Field::TcpSeqRaw if tcp.is_none() => return None,
                    Field::TcpSeqRaw => t.seq_raw.to_string(),
                    Field::TcpAckRaw => t.ack_raw.to_string(),
                    Field::TcpWindowSizeValue => t.window_value.to_string(),
                    Field::TcpWindowSize => t
                        .window_size
                        .unwrap_or(u32::from(t.window_value))
                        .to_string(),
                    Field::TcpWindowSizeScalefactor => {
                        if t.flags.contains(TcpFlags::SYN) {
                            return None;
                        }
                        match t.win_scale {
                            WinScale::Unknown => "-1".to_string(),
                            WinScale::NoScaling => "-2".to_string(),
                            WinScale::Shift(s) => (1u32 << s).to_string(),
                        }
                    }
                    Field::TcpChecksum => format!("0x{:04x}", t.checksum),
                    Field::TcpUrgentPointer => t.urgent.to_string(),
                    Field::TcpOptionsMssVal => opts.mss?.to_string(),
                    Field::TcpOptionsWscaleShift => opts.wscale?.to_string(),
                    Field::TcpOptionsWscaleMultiplier => {
                        (1u32 << u32::from(opts.wscale?.min(14))).to_string()
                    }
                    Field::TcpOptionsTimestampTsval => opts.timestamps?.0.to_string(),
                    Field::TcpOptionsTimestampTsecr => opts.timestamps?.1.to_string(),
                    Field::TcpAnalysisDuplicateAckNum => {
                        let n = t.analysis.dupack_num;
                        (t.analysis.flags & af::DUPLICATE_ACK != 0 && n != 0)
                            .then(|| n.to_string())?
                    }
                    _ => return analysis_flag(field, &t.analysis),
                };
                Some(v)
            }
        }
    }
}
