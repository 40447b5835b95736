//! The owned per-frame records a lab script reads.

use std::net::IpAddr;

use labrun_wire::TcpFlags;

/// One captured frame as it comes from libpcap or a capture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// Capture time, seconds since the Unix epoch.
    pub ts_sec: i64,
    /// Nanoseconds within `ts_sec`.
    pub ts_nsec: u32,
    /// Length of the frame on the wire.
    pub orig_len: u32,
    /// The captured bytes (at most the snap length).
    pub data: Vec<u8>,
}

/// Link-layer information of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkInfo {
    /// Ethernet II.
    Ethernet {
        /// Source MAC.
        src: [u8; 6],
        /// Destination MAC.
        dst: [u8; 6],
        /// EtherType of the payload.
        ethertype: u16,
        /// Outer VLAN id, if tagged.
        vlan: Option<u16>,
    },
    /// Linux cooked capture v1/v2.
    Sll {
        /// Cooked header version (1 or 2).
        version: u8,
        /// Packet type (0 host, 4 outgoing, ...).
        packet_type: u16,
        /// Link-layer source address.
        addr: Vec<u8>,
        /// Protocol (EtherType).
        protocol: u16,
    },
    /// BSD loopback family header.
    Null {
        /// Address family.
        family: u32,
    },
    /// No link header (raw IP) or a link header that did not decode.
    None,
}

/// ARP fields (Ethernet/IPv4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpInfo {
    /// 1 request, 2 reply.
    pub opcode: u16,
    /// Sender MAC.
    pub sender_mac: [u8; 6],
    /// Sender IPv4 address.
    pub sender_ip: std::net::Ipv4Addr,
    /// Target MAC.
    pub target_mac: [u8; 6],
    /// Target IPv4 address.
    pub target_ip: std::net::Ipv4Addr,
}

/// IPv4/IPv6 header information common to both versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpInfo {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv4 type of service (DSCP and ECN) or IPv6 traffic class.
    pub tos: u8,
    /// IPv4 header checksum (0 for IPv6).
    pub checksum: u16,
    /// IPv4 reserved flag bit.
    pub rf: bool,
    /// IPv4 identification.
    pub id: u16,
    /// Don't Fragment.
    pub df: bool,
    /// More Fragments.
    pub mf: bool,
    /// Fragment offset in bytes.
    pub frag_offset: u16,
    /// Transport protocol number (after IPv6 extension headers).
    pub protocol: u8,
    /// IPv4 total length (IPv6: 40 + payload length).
    pub total_len: u16,
    /// Header length in bytes.
    pub header_len: u16,
}

/// TCP options of interest, already decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift count.
    pub wscale: Option<u8>,
    /// SACK permitted seen.
    pub sack_perm: bool,
    /// Timestamps (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks, raw sequence numbers (left, right).
    pub sack_blocks: Vec<(u32, u32)>,
    /// Kinds of options that are neither NOP/EOL nor listed above.
    pub unknown_kinds: Vec<u8>,
    /// All options in wire order (the Info column lists them in this order).
    pub raw: Vec<labrun_wire::TcpOption>,
}

/// TCP segment information, with Wireshark's conversation analysis applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Wireshark's `tcp.stream` index.
    pub stream: u32,
    /// Flag bits (FIN 0x001 .. CWR 0x080, AE 0x100, reserved 0xe00).
    pub flags: TcpFlags,
    /// Sequence number on the wire.
    pub seq_raw: u32,
    /// Acknowledgment number on the wire.
    pub ack_raw: u32,
    /// Relative sequence number.
    pub seq: u32,
    /// Relative acknowledgment number (the raw value when ACK is not set, as Wireshark does).
    pub ack: u32,
    /// Relative sequence number of the next segment: seq + len (+1 for SYN, +1 for FIN).
    pub nxtseq: u32,
    /// Segment payload length (from the IP length, even when the capture was cut).
    pub len: u32,
    /// Header length in bytes.
    pub header_len: u8,
    /// Window field as on the wire.
    pub window_value: u16,
    /// Scaled window ("Calculated window size"), `None` while the scale is unknown
    /// because the handshake was not captured (Wireshark then shows the raw value).
    pub window_size: Option<u32>,
    /// Window scale state of the sending side after this segment.
    pub win_scale: super::winscale::WinScale,
    /// Checksum field.
    pub checksum: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Decoded options.
    pub options: TcpOptions,
    /// True when this SYN reopened a 4-tuple ("TCP Port numbers reused").
    pub port_reused: bool,
    /// Wireshark's sequence analysis of this segment (retransmission, dup ACK, ...).
    pub analysis: super::verdict::SeqVerdict,
}

/// UDP datagram information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Length field.
    pub length: u16,
}

/// Original datagram quoted in an ICMP error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpQuoteInfo {
    /// Original IP header.
    pub ip: IpInfo,
    /// Original source/destination ports.
    pub ports: Option<(u16, u16)>,
    /// Original TCP sequence number.
    pub tcp_seq: Option<u32>,
    /// Original UDP length.
    pub udp_length: Option<u16>,
}

/// ICMPv4 message information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpInfo {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Echo identifier (echo request/reply only).
    pub echo_id: Option<u16>,
    /// Echo sequence number (echo request/reply only).
    pub echo_seq: Option<u16>,
    /// Quoted datagram of an error message.
    pub quote: Option<IcmpQuoteInfo>,
}

/// One frame as Wireshark shows it: decoded headers plus conversation analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Frame number, from 1.
    pub number: u64,
    /// Capture time, seconds.
    pub ts_sec: i64,
    /// Capture time, nanoseconds.
    pub ts_nsec: u32,
    /// Nanoseconds since the first frame (negative if the clock went back).
    pub time_relative: i128,
    /// Length on the wire.
    pub len: u32,
    /// Captured length.
    pub caplen: u32,
    /// Link layer.
    pub link: LinkInfo,
    /// ARP, if this is an ARP frame.
    pub arp: Option<ArpInfo>,
    /// IP header, if any.
    pub ip: Option<IpInfo>,
    /// TCP, if decoded.
    pub tcp: Option<TcpInfo>,
    /// UDP, if decoded.
    pub udp: Option<UdpInfo>,
    /// ICMPv4, if decoded.
    pub icmp: Option<IcmpInfo>,
    /// Ports of a TCP/UDP header that was cut short by the snap length.
    pub truncated_ports: Option<(u8, u16, u16)>,
    /// Payload bytes of the innermost decoded layer.
    pub payload: Vec<u8>,
    /// Why decoding stopped early, if it did.
    pub error: Option<String>,
    /// True when the capture ended inside the IP payload (snap length too small).
    pub cut_short: bool,
    /// For an ICMP echo reply: the frame number of the matching request.
    pub echo_request_frame: Option<u64>,
    /// For the frame that completed an IPv4 datagram from fragments: the
    /// frames of all its fragments (empty otherwise). Its transport fields
    /// and payload are then the whole datagram's, as in Wireshark.
    pub reassembled_from: Vec<u64>,
    /// Wireshark's Protocol column.
    pub protocol: &'static str,
    /// Wireshark's Info column.
    pub info: String,
}

impl Default for Packet {
    /// A record with no frame in it yet, for [`super::Analyzer::push_into`].
    fn default() -> Self {
        Packet {
            number: 0,
            ts_sec: 0,
            ts_nsec: 0,
            time_relative: 0,
            len: 0,
            caplen: 0,
            link: LinkInfo::None,
            arp: None,
            ip: None,
            tcp: None,
            udp: None,
            icmp: None,
            truncated_ports: None,
            payload: Vec::new(),
            error: None,
            cut_short: false,
            echo_request_frame: None,
            reassembled_from: Vec::new(),
            protocol: "",
            info: String::new(),
        }
    }
}
