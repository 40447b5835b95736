//! Every field of a segment's IPv4 and TCP headers, in wire order, with its width in bits,
//! its value as tshark prints the Wireshark field of the same name, and both checksums
//! recomputed (the TCP one over the IPv4 pseudo-header, RFC 9293 3.1): what a report needs
//! to take one packet apart field by field. Pure: it reads the decoded packet.

use crate::{Packet, WinScale};
use labrun_wire::{TcpFlags, TcpOption, TcpRepr};
use std::net::{IpAddr, Ipv4Addr};

/// Which header field a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKey {
    /// IPv4 version (4 bits).
    IpVersion,
    /// IPv4 header length (IHL, 4 bits, in 32-bit words).
    IpHeaderLen,
    /// Differentiated services and ECN (the old type of service, 8 bits).
    IpDsfield,
    /// Total length of the datagram (16 bits).
    IpTotalLen,
    /// Identification (16 bits).
    IpId,
    /// Flags: reserved, DF, MF (3 bits).
    IpFlags,
    /// Fragment offset (13 bits, in 8-byte units).
    IpFragOffset,
    /// Time to live (8 bits).
    IpTtl,
    /// Protocol of the payload (8 bits).
    IpProto,
    /// Header checksum (16 bits).
    IpChecksum,
    /// Source address (32 bits).
    IpSrc,
    /// Destination address (32 bits).
    IpDst,
    /// Source port (16 bits).
    TcpSrcPort,
    /// Destination port (16 bits).
    TcpDstPort,
    /// Sequence number (32 bits).
    TcpSeq,
    /// Acknowledgment number (32 bits).
    TcpAck,
    /// Data offset (4 bits, in 32-bit words).
    TcpDataOffset,
    /// Reserved bits and AE (4 bits).
    TcpReserved,
    /// CWR, ECE and the six classic control bits (8 bits).
    TcpFlags,
    /// Window (16 bits).
    TcpWindow,
    /// Checksum (16 bits).
    TcpChecksum,
    /// Urgent pointer (16 bits).
    TcpUrgent,
    /// One option, by kind.
    TcpOption(u8),
}

/// One header field of one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// Which field.
    pub key: FieldKey,
    /// Width in bits.
    pub bits: u16,
    /// The bits themselves, for fields narrower than a byte and the flags.
    pub binary: Option<String>,
    /// The value as tshark prints `wireshark` (e.g. "0x0012", "1460").
    pub value: String,
    /// The Wireshark field name the value is, e.g. "tcp.flags".
    pub wireshark: &'static str,
    /// Derived facts in numbers and names (no words of any language), e.g. "5 × 4 = 20
    /// bytes" is written by the report from `extra`.
    pub extra: Extra,
}

/// What a field's value means in numbers, for the report's sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extra {
    /// Nothing beyond the value.
    None,
    /// A length counted in units: (field value, unit bytes).
    Words(u32, u32),
    /// Flag names that are set, e.g. "SYN, ACK".
    Flags(String),
    /// The relative number Wireshark shows.
    Relative(u32),
    /// The window: (field, shift in effect, scaled value) when scaled.
    Window(u16, Option<(u8, u32)>),
    /// A checksum recomputed: (the field, the computed value), or None when the packet was
    /// cut short and the sum cannot be made.
    Checksum(Option<u16>),
    /// An option's decoded value, e.g. "1460", "10 (× 1024)".
    Option(String),
}

fn bits_of(v: u32, width: u16) -> String {
    (0..width)
        .rev()
        .map(|i| if v >> i & 1 == 1 { '1' } else { '0' })
        .collect()
}

/// The IPv4 header checksum recomputed from the decoded fields (a 20-byte header; None
/// with options, which the decoder does not keep).
pub fn ipv4_checksum(p: &Packet) -> Option<u16> {
    let ip = p.ip.as_ref()?;
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (ip.src, ip.dst) else {
        return None;
    };
    if ip.header_len != 20 {
        return None;
    }
    let flags = u16::from(ip.rf) << 15 | u16::from(ip.df) << 14 | u16::from(ip.mf) << 13;
    let words = [
        0x4500 | u16::from(ip.tos),
        ip.total_len,
        ip.id,
        flags | (ip.frag_offset / 8),
        u16::from(ip.ttl) << 8 | u16::from(ip.protocol),
        0,
    ];
    let mut sum: u32 = words.iter().map(|&w| u32::from(w)).sum();
    for a in [src, dst] {
        let o = a.octets();
        sum += u32::from(u16::from_be_bytes([o[0], o[1]]));
        sum += u32::from(u16::from_be_bytes([o[2], o[3]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    Some(!(sum as u16))
}

/// The TCP checksum recomputed over the IPv4 pseudo-header (source, destination, zero,
/// protocol 6, TCP length), the header rebuilt from its decoded fields and the payload.
/// None for IPv6, or when the capture cut the payload short.
pub fn tcp_checksum(p: &Packet) -> Option<u16> {
    let (ip, t) = (p.ip.as_ref()?, p.tcp.as_ref()?);
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (ip.src, ip.dst) else {
        return None;
    };
    if p.payload.len() != t.len as usize {
        return None;
    }
    let repr = TcpRepr {
        src_port: t.src_port,
        dst_port: t.dst_port,
        seq: t.seq_raw,
        ack: t.ack_raw,
        data_offset: t.header_len / 4,
        flags: t.flags,
        window: t.window_value,
        checksum: 0,
        urgent: t.urgent,
        options: t.options.raw.clone(),
        payload_len: t.len,
    };
    if repr.emitted_header_len().ok()? != usize::from(t.header_len) {
        return None;
    }
    let mut out = Vec::new();
    repr.emit_ipv4(src, dst, &p.payload, &mut out).ok()?;
    Some(u16::from_be_bytes([*out.get(16)?, *out.get(17)?]))
}

/// The IPv4 source and destination, for the pseudo-header sentence.
pub fn pseudo_header(p: &Packet) -> Option<(Ipv4Addr, Ipv4Addr, u32)> {
    let (ip, t) = (p.ip.as_ref()?, p.tcp.as_ref()?);
    match (ip.src, ip.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some((s, d, u32::from(t.header_len) + t.len)),
        _ => None,
    }
}

/// Every field of `p`'s IPv4 header, then of its TCP header (options last, in wire order);
/// None unless `p` is TCP over IPv4.
pub fn header_fields(p: &Packet) -> Option<Vec<HeaderField>> {
    let (ip, t) = (p.ip.as_ref()?, p.tcp.as_ref()?);
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (ip.src, ip.dst) else {
        return None;
    };
    let f = |key, bits, binary: Option<String>, value: String, wireshark, extra| HeaderField {
        key,
        bits,
        binary,
        value,
        wireshark,
        extra,
    };
    let ip_flags = u32::from(ip.rf) << 2 | u32::from(ip.df) << 1 | u32::from(ip.mf);
    let mut out = vec![
        f(
            FieldKey::IpVersion,
            4,
            Some(bits_of(4, 4)),
            "4".into(),
            "ip.version",
            Extra::None,
        ),
        f(
            FieldKey::IpHeaderLen,
            4,
            Some(bits_of(u32::from(ip.header_len / 4), 4)),
            ip.header_len.to_string(),
            "ip.hdr_len",
            Extra::Words(u32::from(ip.header_len / 4), 4),
        ),
        f(
            FieldKey::IpDsfield,
            8,
            Some(bits_of(u32::from(ip.tos), 8)),
            format!("0x{:02x}", ip.tos),
            "ip.dsfield",
            Extra::None,
        ),
        f(
            FieldKey::IpTotalLen,
            16,
            None,
            ip.total_len.to_string(),
            "ip.len",
            Extra::None,
        ),
        f(
            FieldKey::IpId,
            16,
            None,
            format!("0x{:04x}", ip.id),
            "ip.id",
            Extra::None,
        ),
        f(
            FieldKey::IpFlags,
            3,
            Some(bits_of(ip_flags, 3)),
            format!("0x{ip_flags:02x}"),
            "ip.flags",
            Extra::None,
        ),
        f(
            FieldKey::IpFragOffset,
            13,
            None,
            ip.frag_offset.to_string(),
            "ip.frag_offset",
            Extra::Words(u32::from(ip.frag_offset / 8), 8),
        ),
        f(
            FieldKey::IpTtl,
            8,
            None,
            ip.ttl.to_string(),
            "ip.ttl",
            Extra::None,
        ),
        f(
            FieldKey::IpProto,
            8,
            None,
            ip.protocol.to_string(),
            "ip.proto",
            Extra::None,
        ),
        f(
            FieldKey::IpChecksum,
            16,
            None,
            format!("0x{:04x}", ip.checksum),
            "ip.checksum",
            Extra::Checksum(ipv4_checksum(p)),
        ),
        f(
            FieldKey::IpSrc,
            32,
            None,
            src.to_string(),
            "ip.src",
            Extra::None,
        ),
        f(
            FieldKey::IpDst,
            32,
            None,
            dst.to_string(),
            "ip.dst",
            Extra::None,
        ),
        f(
            FieldKey::TcpSrcPort,
            16,
            None,
            t.src_port.to_string(),
            "tcp.srcport",
            Extra::None,
        ),
        f(
            FieldKey::TcpDstPort,
            16,
            None,
            t.dst_port.to_string(),
            "tcp.dstport",
            Extra::None,
        ),
        f(
            FieldKey::TcpSeq,
            32,
            None,
            t.seq_raw.to_string(),
            "tcp.seq_raw",
            Extra::Relative(t.seq),
        ),
        f(
            FieldKey::TcpAck,
            32,
            None,
            t.ack_raw.to_string(),
            "tcp.ack_raw",
            Extra::Relative(t.ack),
        ),
        f(
            FieldKey::TcpDataOffset,
            4,
            Some(bits_of(u32::from(t.header_len / 4), 4)),
            t.header_len.to_string(),
            "tcp.hdr_len",
            Extra::Words(u32::from(t.header_len / 4), 4),
        ),
        f(
            FieldKey::TcpReserved,
            4,
            Some(bits_of(u32::from(t.flags.bits() >> 8 & 0xf), 4)),
            (t.flags.bits() >> 9 & 0x7).to_string(),
            "tcp.flags.res",
            Extra::None,
        ),
        f(
            FieldKey::TcpFlags,
            8,
            Some(format!(
                "{} {}",
                bits_of(u32::from(t.flags.bits() >> 6 & 0x3), 2),
                bits_of(u32::from(t.flags.bits() & 0x3f), 6)
            )),
            format!("0x{:04x}", t.flags.bits() & 0xfff),
            "tcp.flags",
            Extra::Flags((t.flags & TcpFlags::CLASSIC).names()),
        ),
        f(
            FieldKey::TcpWindow,
            16,
            None,
            t.window_value.to_string(),
            "tcp.window_size_value",
            Extra::Window(
                t.window_value,
                match (t.win_scale, t.window_size) {
                    (WinScale::Shift(s), Some(w)) if !t.flags.contains(TcpFlags::SYN) => {
                        Some((s, w))
                    }
                    _ => None,
                },
            ),
        ),
        f(
            FieldKey::TcpChecksum,
            16,
            None,
            format!("0x{:04x}", t.checksum),
            "tcp.checksum",
            Extra::Checksum(tcp_checksum(p)),
        ),
        f(
            FieldKey::TcpUrgent,
            16,
            None,
            t.urgent.to_string(),
            "tcp.urgent_pointer",
            Extra::None,
        ),
    ];
    for o in &t.options.raw {
        let (kind, bits, value, wireshark, extra) = match o {
            TcpOption::EndOfList => (0, 8, "0".into(), "tcp.option_kind", String::new()),
            TcpOption::Nop => (1, 8, "1".into(), "tcp.option_kind", String::new()),
            TcpOption::Mss(m) => (2, 32, m.to_string(), "tcp.options.mss_val", m.to_string()),
            TcpOption::WindowScale(s) => (
                3,
                24,
                s.to_string(),
                "tcp.options.wscale.shift",
                format!("{s} (× {})", 1u32 << s.min(&14)),
            ),
            TcpOption::SackPermitted => (4, 16, "4".into(), "tcp.option_kind", String::new()),
            TcpOption::Sack(b) => (
                5,
                16 + 64 * b.len() as u16,
                "5".into(),
                "tcp.option_kind",
                String::new(),
            ),
            TcpOption::Timestamps(v, e) => (
                8,
                80,
                v.to_string(),
                "tcp.options.timestamp.tsval",
                format!("{v} / {e}"),
            ),
            TcpOption::Unknown { kind, data } => (
                *kind,
                16 + 8 * data.len() as u16,
                kind.to_string(),
                "tcp.option_kind",
                String::new(),
            ),
            TcpOption::Malformed { kind } => {
                (*kind, 8, kind.to_string(), "tcp.option_kind", String::new())
            }
        };
        out.push(f(
            FieldKey::TcpOption(kind),
            bits,
            None,
            value,
            wireshark,
            Extra::Option(extra),
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RawFrame, Trace};
    use etherparse::{PacketBuilder, TcpOptionElement};
    use labrun_wire::LinkType;

    fn trace() -> Trace {
        let mut syn = Vec::new();
        PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40000, 80, 1000, 64240)
            .syn()
            .options(&[
                TcpOptionElement::MaximumSegmentSize(1460),
                TcpOptionElement::SelectiveAcknowledgementPermitted,
                TcpOptionElement::WindowScale(10),
            ])
            .unwrap()
            .write(&mut syn, &[])
            .unwrap();
        let mut data = Vec::new();
        PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(40000, 80, 1001, 63)
            .ack(5001)
            .psh()
            .write(&mut data, b"hello")
            .unwrap();
        let frame = |data: Vec<u8>| RawFrame {
            ts_sec: 1,
            ts_nsec: 0,
            orig_len: data.len() as u32,
            data,
        };
        Trace::analyze(LinkType::Ethernet, [frame(syn), frame(data)].iter())
    }

    #[test]
    fn both_checksums_recompute_to_the_fields() {
        let t = trace();
        for p in &t.packets {
            let ip = p.ip.as_ref().unwrap();
            let tcp = p.tcp.as_ref().unwrap();
            assert_eq!(ipv4_checksum(p), Some(ip.checksum), "frame {}", p.number);
            assert_eq!(tcp_checksum(p), Some(tcp.checksum), "frame {}", p.number);
        }
        // A wrong checksum is seen as wrong.
        let mut bad = t.packets[1].clone();
        bad.tcp.as_mut().unwrap().checksum ^= 1;
        assert_ne!(tcp_checksum(&bad), Some(bad.tcp.as_ref().unwrap().checksum));
    }

    #[test]
    fn fields_in_wire_order_with_bits() {
        let t = trace();
        let fields = header_fields(&t.packets[0]).unwrap();
        let flags = fields.iter().find(|f| f.key == FieldKey::TcpFlags).unwrap();
        assert_eq!(flags.binary.as_deref(), Some("00 000010"));
        assert_eq!(flags.value, "0x0002");
        let off = fields
            .iter()
            .find(|f| f.key == FieldKey::TcpDataOffset)
            .unwrap();
        assert_eq!(
            (off.value.as_str(), off.binary.as_deref()),
            ("32", Some("1000"))
        );
        let opts: Vec<u8> = fields
            .iter()
            .filter_map(|f| match f.key {
                FieldKey::TcpOption(k) => Some(k),
                _ => None,
            })
            .collect();
        assert_eq!(opts, [2, 4, 3, 0]);
        assert_eq!(
            fields
                .iter()
                .map(|f| u32::from(f.bits))
                .take(12)
                .sum::<u32>(),
            160
        );
    }
}
