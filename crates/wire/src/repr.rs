//! Plain, owned representations of decoded headers.

use std::net::{IpAddr, Ipv4Addr};

use super::link::LinkRepr;
use super::{TcpFlags, WireError};

/// An ARP packet. The MAC and IPv4 fields hold Ethernet/IPv4 ARP's addresses (zero for
/// other address sizes); [`ArpRepr::addrs`] keeps every size as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpRepr {
    /// 1 = request, 2 = reply.
    pub opcode: u16,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
    /// Hardware type (1 = Ethernet).
    pub hw_type: u16,
    /// Protocol type (0x0800 = IPv4).
    pub proto_type: u16,
    /// Hardware address length.
    pub hw_len: u8,
    /// Protocol address length.
    pub proto_len: u8,
    /// The four addresses as sent: sender hardware, sender protocol, target hardware,
    /// target protocol.
    pub addrs: Vec<u8>,
}

impl ArpRepr {
    /// Ethernet/IPv4 ARP with the usual sizes: the addresses as MAC and IPv4.
    pub fn ethernet_ipv4(
        opcode: u16,
        sender_mac: [u8; 6],
        sender_ip: Ipv4Addr,
        target_mac: [u8; 6],
        target_ip: Ipv4Addr,
    ) -> ArpRepr {
        let mut addrs = Vec::with_capacity(20);
        addrs.extend_from_slice(&sender_mac);
        addrs.extend_from_slice(&sender_ip.octets());
        addrs.extend_from_slice(&target_mac);
        addrs.extend_from_slice(&target_ip.octets());
        ArpRepr {
            opcode,
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
            hw_type: 1,
            proto_type: 0x0800,
            hw_len: 6,
            proto_len: 4,
            addrs,
        }
    }

    /// True when the hardware addresses are MACs (Ethernet or IEEE 802, 6 bytes), as
    /// tshark's `ARP_HW_IS_ETHER` decides.
    pub fn hw_is_mac(&self) -> bool {
        matches!(self.hw_type, 1 | 6) && self.hw_len == 6
    }

    /// True when the protocol addresses are IPv4 (`ARP_PRO_IS_IPv4`).
    pub fn proto_is_ipv4(&self) -> bool {
        matches!(self.proto_type, 0x0800 | 0x00cc) && self.proto_len == 4
    }

    /// Address `n` (0 sender hardware, 1 sender protocol, 2 target hardware, 3 target
    /// protocol) as sent.
    pub fn addr(&self, n: usize) -> &[u8] {
        let (h, p) = (usize::from(self.hw_len), usize::from(self.proto_len));
        let start = (n / 2) * (h + p) + if n % 2 == 1 { h } else { 0 };
        let len = if n % 2 == 1 { p } else { h };
        self.addrs.get(start..start + len).unwrap_or(&[])
    }
}

/// IPv4 or IPv6 header fields shared by both versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRepr {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL (IPv4) or hop limit (IPv6).
    pub ttl: u8,
    /// IPv4 type of service (DSCP and ECN), or the IPv6 traffic class.
    pub tos: u8,
    /// Identification (IPv4 only, 0 for IPv6).
    pub id: u16,
    /// Don't Fragment flag (IPv4).
    pub df: bool,
    /// More Fragments flag (IPv4).
    pub mf: bool,
    /// Reserved ("evil") flag bit (IPv4).
    pub rf: bool,
    /// Fragment offset in bytes (IPv4).
    pub frag_offset: u16,
    /// Protocol (IPv4) or the final next header after extensions (IPv6).
    pub protocol: u8,
    /// The next header field of the fixed IPv6 header (equals `protocol` for IPv4).
    pub next_header: u8,
    /// IPv4 total length, or 40 + payload length for IPv6.
    pub total_len: u16,
    /// Header length in bytes (IPv4 IHL*4, 40 + extensions for IPv6).
    pub header_len: u16,
    /// IPv4 header checksum (0 for IPv6).
    pub checksum: u16,
    /// True when this packet is a fragment (MF set or offset > 0).
    pub fragmented: bool,
}

/// One TCP option as found on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOption {
    /// Kind 0, end of option list.
    EndOfList,
    /// Kind 1, padding.
    Nop,
    /// Kind 2, maximum segment size.
    Mss(u16),
    /// Kind 3, window scale shift count.
    WindowScale(u8),
    /// Kind 4, SACK permitted.
    SackPermitted,
    /// Kind 5, SACK blocks (left edge, right edge).
    Sack(Vec<(u32, u32)>),
    /// Kind 8, timestamps (TSval, TSecr).
    Timestamps(u32, u32),
    /// Any other kind with its data.
    Unknown {
        /// Option kind.
        kind: u8,
        /// Option data (without kind and length).
        data: Vec<u8>,
    },
    /// The option list could not be read past this point.
    Malformed {
        /// Kind of the option that was cut short or had a bad length.
        kind: u8,
    },
}

/// TCP header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number as on the wire.
    pub seq: u32,
    /// Acknowledgment number as on the wire.
    pub ack: u32,
    /// Header length in 32-bit words.
    pub data_offset: u8,
    /// Flag bits: FIN 0x001 .. CWR 0x080, NS/AE 0x100, reserved 0xe00.
    pub flags: TcpFlags,
    /// Window field as on the wire.
    pub window: u16,
    /// Checksum field.
    pub checksum: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Options in wire order.
    pub options: Vec<TcpOption>,
    /// Payload length according to the IP length fields (may exceed the captured bytes).
    pub payload_len: u32,
}

/// UDP header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length field (header + payload).
    pub length: u16,
    /// Checksum field.
    pub checksum: u16,
}

/// The start of the datagram quoted inside an ICMP error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpQuote {
    /// The original IP header.
    pub ip: IpRepr,
    /// Source and destination port of the original TCP/UDP header.
    pub ports: Option<(u16, u16)>,
    /// Sequence number of the original TCP header.
    pub tcp_seq: Option<u32>,
    /// Length field of the original UDP header.
    pub udp_length: Option<u16>,
    /// The original TCP header, when the quote holds all of it (tshark then shows each of
    /// its fields, raw).
    pub tcp: Option<Box<TcpRepr>>,
}

/// ICMPv4 message fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpRepr {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Checksum.
    pub checksum: u16,
    /// Bytes 4..8 of the header (identifier/sequence for echo).
    pub rest: [u8; 4],
    /// Quoted original datagram for error messages (types 3, 4, 5, 11, 12).
    pub quote: Option<IcmpQuote>,
}

impl IcmpRepr {
    /// Identifier and sequence number of an echo request or reply (types 8 and 0), which
    /// are the only messages whose bytes 4..8 mean that.
    pub fn echo(&self) -> Option<(u16, u16)> {
        matches!(self.icmp_type, 0 | 8).then(|| (self.echo_id(), self.echo_seq()))
    }
    /// Echo identifier (bytes 4-5).
    pub fn echo_id(&self) -> u16 {
        u16::from_be_bytes([self.rest[0], self.rest[1]])
    }
    /// Echo sequence number (bytes 6-7).
    pub fn echo_seq(&self) -> u16 {
        u16::from_be_bytes([self.rest[2], self.rest[3]])
    }
}

/// ICMPv6 message fields (RFC 4443), with the parts neighbour discovery (RFC 4861) adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6Repr {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Checksum.
    pub checksum: u16,
    /// Bytes 4..8 of the header: echo identifier and sequence, the MTU of Packet Too Big,
    /// the pointer of Parameter Problem, the flags of a Neighbor Advertisement.
    pub rest: [u8; 4],
    /// Target address of a Neighbor Solicitation, Neighbor Advertisement or Redirect.
    pub target: Option<std::net::Ipv6Addr>,
    /// The first source or target link-layer address option holding a 6-byte MAC.
    pub link_addr: Option<[u8; 6]>,
    /// Length of the whole message in bytes (header included), as captured.
    pub len: usize,
    /// The datagram an error message (types 1 to 4) quotes.
    pub quote: Option<IcmpQuote>,
}

impl Icmpv6Repr {
    /// Identifier and sequence number of an echo request or reply (types 128 and 129).
    pub fn echo(&self) -> Option<(u16, u16)> {
        matches!(self.icmp_type, 128 | 129).then(|| {
            (
                u16::from_be_bytes([self.rest[0], self.rest[1]]),
                u16::from_be_bytes([self.rest[2], self.rest[3]]),
            )
        })
    }

    /// The smallest length a message of this type has (RFC 4443, 4861, 2710, 3810), so a
    /// shorter one is malformed.
    pub fn min_len(&self) -> usize {
        match self.icmp_type {
            130..=132 => 24,
            133 => 8,
            134 => 16,
            135 | 136 => 24,
            137 => 40,
            _ => 8,
        }
    }
}

/// Network layer of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetRepr {
    /// ARP.
    Arp(ArpRepr),
    /// IPv4 or IPv6.
    Ip(IpRepr),
}

/// Transport layer of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportRepr {
    /// TCP.
    Tcp(TcpRepr),
    /// UDP.
    Udp(UdpRepr),
    /// ICMPv4.
    Icmpv4(IcmpRepr),
    /// ICMPv6.
    Icmpv6(Icmpv6Repr),
    /// A TCP or UDP header cut short; the ports are known when 4 bytes were captured.
    Truncated {
        /// IP protocol number.
        protocol: u8,
        /// Source and destination port, if captured.
        ports: Option<(u16, u16)>,
    },
}

/// One decoded frame: every layer that could be decoded, plus why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Link layer.
    pub link: LinkRepr,
    /// Network layer, if decoded.
    pub net: Option<NetRepr>,
    /// Transport layer, if decoded.
    pub transport: Option<TransportRepr>,
    /// Captured payload bytes of the innermost decoded layer (TCP/UDP data, ICMP data, ...).
    pub payload: Vec<u8>,
    /// Why decoding stopped early, if it did.
    pub error: Option<WireError>,
}
