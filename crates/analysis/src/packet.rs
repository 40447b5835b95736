//! The owned per-frame records a lab script reads.

use labrun_wire::{ArpRepr, IcmpRepr, Icmpv6Repr, IpRepr, LinkRepr, TcpFlags, UdpRepr};

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
    /// True when the header was read from a first IPv4 fragment that reassembly could not
    /// take (the capture holds only part of it): tshark then shows the raw sequence and
    /// acknowledgement numbers and no length, next sequence number or analysis.
    pub in_fragment: bool,
    /// True when this SYN reopened a 4-tuple ("TCP Port numbers reused").
    pub port_reused: bool,
    /// Wireshark's sequence analysis of this segment (retransmission, dup ACK, ...).
    pub analysis: super::verdict::SeqVerdict,
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
    pub link: LinkRepr,
    /// ARP, if this is an ARP frame.
    pub arp: Option<ArpRepr>,
    /// IP header, if any.
    pub ip: Option<IpRepr>,
    /// TCP, if decoded.
    pub tcp: Option<TcpInfo>,
    /// UDP, if decoded.
    pub udp: Option<UdpRepr>,
    /// ICMPv4, if decoded.
    pub icmp: Option<IcmpRepr>,
    /// ICMPv6, if decoded.
    pub icmpv6: Option<Box<Icmpv6Repr>>,
    /// The DNS, mDNS or LLMNR message a UDP datagram on one of their ports carries.
    pub dns: Option<Box<super::dns::DnsMessage>>,
    /// The Protocol and Info columns HTTP or TLS give this TCP segment, if they do.
    pub app: Option<Box<super::pdu::AppColumns>>,
    /// Ports of a TCP/UDP header that was cut short by the snap length.
    pub truncated_ports: Option<(u8, u16, u16)>,
    /// Payload bytes of the innermost decoded layer.
    pub payload: Vec<u8>,
    /// Why decoding stopped early, if it did.
    pub error: Option<String>,
    /// Total and header length of an IPv4 header whose total length is below its header
    /// length: tshark stops there and shows only these two of its fields.
    pub bogus_ip: Option<(u16, u16)>,
    /// The Protocol column of a frame `error` stopped: "Malformed", or the layer tshark
    /// still names ("IPv4" for a bogus IPv4 length).
    pub error_protocol: &'static str,
    /// True when the capture ended inside the IP payload (snap length too small).
    pub cut_short: bool,
    /// True when the TCP or UDP header comes from a first IPv4 fragment cut short by the
    /// snap length, which tshark dissects as it stands instead of reassembling it.
    pub first_fragment: bool,
    /// For an ICMP echo reply: the frame number of the matching request.
    pub echo_request_frame: Option<u64>,
    /// For an ICMP or ICMPv6 error quoting a whole TCP header: that header as tshark shows
    /// it inside the error (raw numbers, no analysis) with the `tcp.stream` of its
    /// connection, found or opened as tshark's TCP does.
    pub quoted_tcp: Option<Box<TcpInfo>>,
    /// For the frame that completed an IPv4 datagram from fragments: the
    /// frames of all its fragments (empty otherwise). Its transport fields
    /// and payload are then the whole datagram's, as in Wireshark.
    pub reassembled_from: Vec<u64>,
    /// Wireshark's Protocol column.
    pub protocol: &'static str,
    /// Wireshark's Info column.
    pub info: String,
    /// The frame's comments from a pcapng file (`frame.comment`), in the file's
    /// order; set by the reader after [`super::Analyzer::push_into`], which empties it.
    pub comments: Vec<String>,
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
            link: LinkRepr::Raw,
            arp: None,
            ip: None,
            tcp: None,
            udp: None,
            icmp: None,
            icmpv6: None,
            dns: None,
            app: None,
            truncated_ports: None,
            payload: Vec::new(),
            error: None,
            bogus_ip: None,
            error_protocol: "",
            cut_short: false,
            first_fragment: false,
            quoted_tcp: None,
            echo_request_frame: None,
            reassembled_from: Vec::new(),
            protocol: "",
            info: String::new(),
            comments: Vec::new(),
        }
    }
}
