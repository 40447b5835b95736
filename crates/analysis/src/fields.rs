//! tshark field names and the exact text `tshark -T fields` prints for them.

use std::net::IpAddr;

use labrun_wire::TcpFlags;

use super::packet::{IpInfo, LinkInfo, Packet};
use super::text::{fmt_mac, fmt_seconds};
use super::verdict::{SeqVerdict, flags as af};
use super::winscale::WinScale;

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

/// Every field name [`Packet::field`] understands (column fields in their
/// lowercase spelling; the tshark 4.0 spellings `_ws.col.Info` and
/// `_ws.col.Protocol` are accepted too).
pub const SUPPORTED_FIELDS: &[&str] = &[
    "frame.number",
    "frame.time_relative",
    "frame.len",
    "frame.cap_len",
    "eth.src",
    "eth.dst",
    "eth.type",
    "arp.opcode",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac",
    "arp.dst.proto_ipv4",
    "ip.src",
    "ip.dst",
    "ip.id",
    "ip.ttl",
    "ip.flags.df",
    "ip.flags.mf",
    "ip.frag_offset",
    "ip.proto",
    "ip.len",
    "ip.hdr_len",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hlim",
    "ipv6.nxt",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.stream",
    "tcp.flags",
    "tcp.flags.str",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "tcp.flags.fin",
    "tcp.flags.reset",
    "tcp.flags.push",
    "tcp.seq",
    "tcp.ack",
    "tcp.nxtseq",
    "tcp.len",
    "tcp.hdr_len",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.window_size_value",
    "tcp.window_size",
    "tcp.window_size_scalefactor",
    "tcp.checksum",
    "tcp.urgent_pointer",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.wscale.multiplier",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
    "tcp.analysis.duplicate_ack",
    "tcp.analysis.duplicate_ack_num",
    "tcp.analysis.lost_segment",
    "tcp.analysis.ack_lost_segment",
    "tcp.analysis.out_of_order",
    "tcp.analysis.zero_window",
    "tcp.analysis.zero_window_probe",
    "tcp.analysis.keep_alive",
    "tcp.analysis.keep_alive_ack",
    "tcp.analysis.window_full",
    "tcp.analysis.window_update",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "icmp.type",
    "icmp.code",
    "icmp.ident",
    "icmp.seq",
    "icmp.seq_le",
    "_ws.col.info",
    "_ws.col.protocol",
];

/// A `tcp.analysis.*` flag: "1" when set, absent otherwise (tshark prints
/// "1,1" for duplicate ACKs). Wireshark also marks fast and spurious
/// retransmissions as retransmissions.
fn analysis_flag(name: &str, v: &SeqVerdict) -> Option<String> {
    let f = v.flags;
    let set = match name {
        "tcp.analysis.retransmission" => {
            f & (af::RETRANSMISSION | af::FAST_RETRANSMISSION | af::SPURIOUS_RETRANSMISSION) != 0
        }
        "tcp.analysis.fast_retransmission" => f & af::FAST_RETRANSMISSION != 0,
        "tcp.analysis.spurious_retransmission" => f & af::SPURIOUS_RETRANSMISSION != 0,
        "tcp.analysis.duplicate_ack" => f & af::DUPLICATE_ACK != 0 && v.dupack_num != 0,
        "tcp.analysis.lost_segment" => f & af::LOST_PACKET != 0,
        "tcp.analysis.ack_lost_segment" => f & af::ACK_LOST_PACKET != 0,
        "tcp.analysis.out_of_order" => f & af::OUT_OF_ORDER != 0,
        "tcp.analysis.zero_window" => f & af::ZERO_WINDOW != 0,
        "tcp.analysis.zero_window_probe" => f & af::ZERO_WINDOW_PROBE != 0,
        "tcp.analysis.keep_alive" => f & af::KEEP_ALIVE != 0,
        "tcp.analysis.keep_alive_ack" => f & af::KEEP_ALIVE_ACK != 0,
        "tcp.analysis.window_full" => f & af::WINDOW_FULL != 0,
        "tcp.analysis.window_update" => f & af::WINDOW_UPDATE != 0,
        _ => return None,
    };
    // tshark 4.0 lists the duplicate-ACK flag twice (the flag and its expert item).
    let text = if name == "tcp.analysis.duplicate_ack" {
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
fn ipv4_layers(p: &Packet) -> Vec<&IpInfo> {
    let mut v: Vec<&IpInfo> = p.ip.iter().filter(|ip| ip.version == 4).collect();
    if let Some(q) = p.icmp.as_ref().and_then(|i| i.quote.as_ref()) {
        v.push(&q.ip);
    }
    v
}

fn join_ipv4<F: Fn(&IpInfo) -> String>(p: &Packet, f: F) -> Option<String> {
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
        let quote = self.icmp.as_ref().and_then(|i| i.quote.as_ref());
        let quote_ports = |proto: u8| {
            quote
                .filter(|q| q.ip.protocol == proto)
                .and_then(|q| q.ports)
        };
        match name {
            "frame.number" => Some(self.number.to_string()),
            "frame.time_relative" => Some(fmt_seconds(self.time_relative)),
            "frame.len" => Some(self.len.to_string()),
            "frame.cap_len" => Some(self.caplen.to_string()),
            "eth.src" | "eth.dst" | "eth.type" => match &self.link {
                LinkInfo::Ethernet {
                    src,
                    dst,
                    ethertype,
                    ..
                } => Some(match name {
                    "eth.src" => fmt_mac(src),
                    "eth.dst" => fmt_mac(dst),
                    _ => format!("0x{ethertype:04x}"),
                }),
                _ => None,
            },
            "arp.opcode" => self.arp.as_ref().map(|a| a.opcode.to_string()),
            "arp.src.hw_mac" => self.arp.as_ref().map(|a| fmt_mac(&a.sender_mac)),
            "arp.src.proto_ipv4" => self.arp.as_ref().map(|a| a.sender_ip.to_string()),
            "arp.dst.hw_mac" => self.arp.as_ref().map(|a| fmt_mac(&a.target_mac)),
            "arp.dst.proto_ipv4" => self.arp.as_ref().map(|a| a.target_ip.to_string()),
            "ip.src" => join_ipv4(self, |ip| ip_text(&ip.src)),
            "ip.dst" => join_ipv4(self, |ip| ip_text(&ip.dst)),
            "ip.id" => join_ipv4(self, |ip| format!("0x{:04x}", ip.id)),
            "ip.ttl" => join_ipv4(self, |ip| ip.ttl.to_string()),
            "ip.flags.df" => join_ipv4(self, |ip| bit(ip.df)),
            "ip.flags.mf" => join_ipv4(self, |ip| bit(ip.mf)),
            "ip.frag_offset" => join_ipv4(self, |ip| (ip.frag_offset / 8).to_string()),
            "ip.proto" => join_ipv4(self, |ip| ip.protocol.to_string()),
            "ip.len" => join_ipv4(self, |ip| ip.total_len.to_string()),
            "ip.hdr_len" => join_ipv4(self, |ip| ip.header_len.to_string()),
            "ipv6.src" | "ipv6.dst" | "ipv6.hlim" | "ipv6.nxt" => {
                let ip = self.ip.as_ref().filter(|ip| ip.version == 6)?;
                Some(match name {
                    "ipv6.src" => ip_text(&ip.src),
                    "ipv6.dst" => ip_text(&ip.dst),
                    "ipv6.hlim" => ip.ttl.to_string(),
                    _ => ip.protocol.to_string(),
                })
            }
            "tcp.srcport" => tcp
                .map(|t| t.src_port)
                .or(self.cut_ports(6).map(|p| p.0))
                .or(quote_ports(6).map(|p| p.0))
                .map(|v| v.to_string()),
            "tcp.dstport" => tcp
                .map(|t| t.dst_port)
                .or(self.cut_ports(6).map(|p| p.1))
                .or(quote_ports(6).map(|p| p.1))
                .map(|v| v.to_string()),
            "tcp.seq" => tcp
                .map(|t| t.seq)
                .or(quote.filter(|q| q.ip.protocol == 6).and_then(|q| q.tcp_seq))
                .map(|v| v.to_string()),
            "udp.srcport" => self
                .udp
                .map(|u| u.src_port)
                .or(self.cut_ports(17).map(|p| p.0))
                .or(quote_ports(17).map(|p| p.0))
                .map(|v| v.to_string()),
            "udp.dstport" => self
                .udp
                .map(|u| u.dst_port)
                .or(self.cut_ports(17).map(|p| p.1))
                .or(quote_ports(17).map(|p| p.1))
                .map(|v| v.to_string()),
            "udp.length" => self
                .udp
                .map(|u| u.length)
                .or(quote.and_then(|q| q.udp_length))
                .map(|v| v.to_string()),
            "icmp.type" => self.icmp.as_ref().map(|i| i.icmp_type.to_string()),
            "icmp.code" => self.icmp.as_ref().map(|i| i.code.to_string()),
            "icmp.ident" => self
                .icmp
                .as_ref()
                .and_then(|i| i.echo_id)
                .map(|v| v.to_string()),
            "icmp.seq" => self
                .icmp
                .as_ref()
                .and_then(|i| i.echo_seq)
                .map(|v| v.to_string()),
            "icmp.seq_le" => self
                .icmp
                .as_ref()
                .and_then(|i| i.echo_seq)
                .map(|v| v.swap_bytes().to_string()),
            "_ws.col.info" | "_ws.col.Info" => Some(self.info.clone()),
            "_ws.col.protocol" | "_ws.col.Protocol" => Some(self.protocol.to_string()),
            _ => {
                let t = tcp?;
                let opts = &t.options;
                let v = match name {
                    "tcp.stream" => t.stream.to_string(),
                    "tcp.flags" => format!("0x{:04x}", t.flags.bits() & 0x0fff),
                    "tcp.flags.str" => t.flags.tshark_str(),
                    "tcp.flags.syn" => bit(t.flags.contains(TcpFlags::SYN)),
                    "tcp.flags.ack" => bit(t.flags.contains(TcpFlags::ACK)),
                    "tcp.flags.fin" => bit(t.flags.contains(TcpFlags::FIN)),
                    "tcp.flags.reset" => bit(t.flags.contains(TcpFlags::RST)),
                    "tcp.flags.push" => bit(t.flags.contains(TcpFlags::PSH)),
                    "tcp.ack" => t.ack.to_string(),
                    "tcp.nxtseq" => t.nxtseq.to_string(),
                    "tcp.len" => t.len.to_string(),
                    "tcp.hdr_len" => t.header_len.to_string(),
                    "tcp.seq_raw" => t.seq_raw.to_string(),
                    "tcp.ack_raw" => t.ack_raw.to_string(),
                    "tcp.window_size_value" => t.window_value.to_string(),
                    "tcp.window_size" => t
                        .window_size
                        .unwrap_or(u32::from(t.window_value))
                        .to_string(),
                    "tcp.window_size_scalefactor" => {
                        if t.flags.contains(TcpFlags::SYN) {
                            return None;
                        }
                        match t.win_scale {
                            WinScale::Unknown => "-1".to_string(),
                            WinScale::NoScaling => "-2".to_string(),
                            WinScale::Shift(s) => (1u32 << s).to_string(),
                        }
                    }
                    "tcp.checksum" => format!("0x{:04x}", t.checksum),
                    "tcp.urgent_pointer" => t.urgent.to_string(),
                    "tcp.options.mss_val" => opts.mss?.to_string(),
                    "tcp.options.wscale.shift" => opts.wscale?.to_string(),
                    "tcp.options.wscale.multiplier" => {
                        (1u32 << u32::from(opts.wscale?.min(14))).to_string()
                    }
                    "tcp.options.timestamp.tsval" => opts.timestamps?.0.to_string(),
                    "tcp.options.timestamp.tsecr" => opts.timestamps?.1.to_string(),
                    "tcp.analysis.duplicate_ack_num" => {
                        let n = t.analysis.dupack_num;
                        (t.analysis.flags & af::DUPLICATE_ACK != 0 && n != 0)
                            .then(|| n.to_string())?
                    }
                    _ => return analysis_flag(name, &t.analysis),
                };
                Some(v)
            }
        }
    }
}
