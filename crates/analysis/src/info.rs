//! The Protocol and Info columns, worded as tshark 4.0 prints them.

use std::fmt::Write;

use super::packet::{Packet, TcpInfo};
use super::pdu::AppColumns;
use super::text::{TextSink, fmt_mac};
use labrun_wire::{ArpRepr, IcmpRepr, Icmpv6Repr};
use labrun_wire::{TcpFlags, TcpOption};

/// Writes the Info column of `p` (whose other fields are filled in) to `out`
/// and returns the Protocol column; a field export writes straight into its
/// output this way.
pub fn write_columns(p: &Packet, out: &mut impl TextSink) -> &'static str {
    let protocol = base_columns(p, out);
    if let Some(n) = p.echo_request_frame {
        out.put_str(" (request in ");
        out.put_u64(n);
        out.put_str(")");
    }
    if p.cut_short
        && !p.first_fragment
        && (p.tcp.is_some() || p.udp.is_some() || p.icmp.is_some() || p.icmpv6.is_some())
    {
        out.put_str("[Packet size limited during capture]");
    }
    protocol
}

fn base_columns(p: &Packet, out: &mut impl TextSink) -> &'static str {
    if let Some(arp) = &p.arp {
        out.put_str(&arp_info(arp));
        return "ARP";
    }
    if let Some(ip) = &p.ip {
        let ip_proto = if ip.version == 4 { "IPv4" } else { "IPv6" };
        let fragment = ip.version == 4 && (ip.mf || ip.frag_offset > 0);
        if fragment && p.reassembled_from.is_empty() && !p.first_fragment {
            out.put_str(&format!(
                "Fragmented IP protocol (proto={} {}, off={}, ID={:04x})",
                ip_proto_name(ip.protocol),
                ip.protocol,
                ip.frag_offset,
                ip.id
            ));
            return ip_proto;
        }
        if let Some(tcp) = &p.tcp {
            return match p.app.as_deref() {
                Some(AppColumns::Pdu { protocol, info }) => {
                    super::verdict::write_info_prefix(&tcp.analysis, out);
                    out.put_str(info);
                    protocol
                }
                Some(AppColumns::Segment { info }) => {
                    // tshark appends with a space only to a column that is not empty
                    // (TLS clears it before asking for more data).
                    let written = match info {
                        Some(info) => {
                            super::verdict::write_info_prefix(&tcp.analysis, out);
                            out.put_str(info);
                            !info.is_empty()
                                || !super::verdict::info_prefix(&tcp.analysis).is_empty()
                        }
                        None => {
                            tcp_info(tcp, out);
                            true
                        }
                    };
                    if written {
                        out.put_str(" ");
                    }
                    out.put_str("[TCP segment of a reassembled PDU]");
                    "TCP"
                }
                None => {
                    tcp_info(tcp, out);
                    "TCP"
                }
            };
        }
        if let Some(dns) = &p.dns {
            out.put_str(&dns_info(dns));
            return dns.flavor.protocol();
        }
        if let Some(udp) = &p.udp {
            out.put_u64(u64::from(udp.src_port));
            out.put_str(" → ");
            out.put_u64(u64::from(udp.dst_port));
            out.put_str(" Len=");
            out.put_u64(u64::from(udp.length.saturating_sub(8)));
            return "UDP";
        }
        if let Some(icmp) = &p.icmp {
            out.put_str(&icmp_info(icmp, ip.ttl));
            return "ICMP";
        }
        if let Some(icmp) = &p.icmpv6 {
            out.put_str(&icmpv6_info(icmp, ip.ttl));
            return "ICMPv6";
        }
        if let Some((proto, sp, dp)) = p.truncated_ports {
            out.put_u64(u64::from(sp));
            out.put_str(" → ");
            out.put_u64(u64::from(dp));
            out.put_str("[Packet size limited during capture]");
            return if proto == 6 { "TCP" } else { "UDP" };
        }
        if p.error.is_some() {
            out.put_str("[Packet size limited during capture]");
        }
        return ip_proto;
    }
    match &p.error {
        Some(e) => {
            out.put_str(e);
            if p.error_protocol.is_empty() {
                "Malformed"
            } else {
                p.error_protocol
            }
        }
        None => "",
    }
}

/// Wireshark's short name of an IP protocol number.
pub fn ip_proto_name(proto: u8) -> &'static str {
    match proto {
        1 => "ICMP",
        2 => "IGMP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        132 => "SCTP",
        _ => "Unknown",
    }
}

fn tcp_info(t: &TcpInfo, s: &mut impl TextSink) {
    super::verdict::write_info_prefix(&t.analysis, s);
    s.put_u64(u64::from(t.src_port));
    s.put_str(" → ");
    s.put_u64(u64::from(t.dst_port));
    s.put_str(" [");
    s.put_str(&t.flags.info_names());
    s.put_str("] Seq=");
    s.put_u64(u64::from(t.seq));
    if t.flags.contains(TcpFlags::ACK) {
        s.put_str(" Ack=");
        s.put_u64(u64::from(t.ack));
    }
    let win = t.window_size.unwrap_or(u32::from(t.window_value));
    s.put_str(" Win=");
    s.put_u64(u64::from(win));
    if t.flags.contains(TcpFlags::URG) {
        s.put_str(" Urg=");
        s.put_u64(u64::from(t.urgent));
    }
    if !t.in_fragment {
        s.put_str(" Len=");
        s.put_u64(u64::from(t.len));
    }
    let sack_base = if t.flags.contains(TcpFlags::ACK) {
        t.ack_raw.wrapping_sub(t.ack)
    } else {
        0
    };
    for opt in &t.options.raw {
        match opt {
            TcpOption::Mss(v) => {
                s.put_str(" MSS=");
                s.put_u64(u64::from(*v));
            }
            TcpOption::WindowScale(shift) => {
                s.put_str(" WS=");
                s.put_u64(1u64 << u32::from((*shift).min(14)));
            }
            TcpOption::SackPermitted => s.put_str(" SACK_PERM"),
            TcpOption::Timestamps(val, ecr) => {
                s.put_str(" TSval=");
                s.put_u64(u64::from(*val));
                s.put_str(" TSecr=");
                s.put_u64(u64::from(*ecr));
            }
            TcpOption::Sack(blocks) => {
                for (l, r) in blocks {
                    s.put_str(" SLE=");
                    s.put_u64(u64::from(l.wrapping_sub(sack_base)));
                    s.put_str(" SRE=");
                    s.put_u64(u64::from(r.wrapping_sub(sack_base)));
                }
            }
            _ => {}
        }
    }
}

/// An ARP address as tshark's Info column writes it: MAC or IPv4 for the usual sizes,
/// hex digits for others, `<No address>` for none.
fn arp_addr(a: &ArpRepr, n: usize) -> String {
    let bytes = a.addr(n);
    if bytes.is_empty() {
        return "<No address>".to_string();
    }
    if n % 2 == 0 && a.hw_is_mac() {
        return fmt_mac(bytes);
    }
    if n % 2 == 1 && a.proto_is_ipv4() {
        return std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).unwrap_or([0; 4])).to_string();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn arp_info(a: &ArpRepr) -> String {
    let zero = |b: &[u8]| b.iter().all(|&x| x == 0);
    let no_target_mac = zero(a.addr(2));
    let (spa, tpa) = (a.addr(1), a.addr(3));
    let same = spa == tpa;
    match a.opcode {
        1 if no_target_mac && zero(spa) => format!("Who has {}? (ARP Probe)", arp_addr(a, 3)),
        1 if no_target_mac && same => format!("ARP Announcement for {}", arp_addr(a, 1)),
        1 if same => format!("Gratuitous ARP for {} (Request)", arp_addr(a, 1)),
        1 => format!("Who has {}? Tell {}", arp_addr(a, 3), arp_addr(a, 1)),
        2 if same => format!("Gratuitous ARP for {} (Reply)", arp_addr(a, 1)),
        2 => format!("{} is at {}", arp_addr(a, 1), arp_addr(a, 0)),
        op => format!("Unknown ARP opcode 0x{op:04x}"),
    }
}

fn icmp_type_name(t: u8) -> &'static str {
    match t {
        0 => "Echo (ping) reply",
        3 => "Destination unreachable",
        4 => "Source quench (flow control)",
        5 => "Redirect",
        8 => "Echo (ping) request",
        9 => "Router advertisement",
        10 => "Router solicitation",
        11 => "Time-to-live exceeded",
        12 => "Parameter problem",
        13 => "Timestamp request",
        14 => "Timestamp reply",
        _ => "Unknown ICMP (obsolete or malformed?)",
    }
}

fn icmp_code_name(t: u8, c: u8) -> Option<&'static str> {
    let name = match (t, c) {
        (3, 0) => "Network unreachable",
        (3, 1) => "Host unreachable",
        (3, 2) => "Protocol unreachable",
        (3, 3) => "Port unreachable",
        (3, 4) => "Fragmentation needed",
        (3, 5) => "Source route failed",
        (3, 6) => "Destination network unknown",
        (3, 7) => "Destination host unknown",
        (3, 8) => "Source host isolated",
        (3, 9) => "Network administratively prohibited",
        (3, 10) => "Host administratively prohibited",
        (3, 11) => "Network unreachable for TOS",
        (3, 12) => "Host unreachable for TOS",
        (3, 13) => "Communication administratively filtered",
        (3, 14) => "Host precedence violation",
        (3, 15) => "Precedence cutoff in effect",
        (5, 0) => "Redirect for network",
        (5, 1) => "Redirect for host",
        (5, 2) => "Redirect for TOS and network",
        (5, 3) => "Redirect for TOS and host",
        (11, 0) => "Time to live exceeded in transit",
        (11, 1) => "Fragment reassembly time exceeded",
        (12, 0) => "Pointer indicates the error",
        (12, 1) => "Required option missing",
        (12, 2) => "Bad length",
        _ => return None,
    };
    Some(name)
}

fn icmp_info(i: &IcmpRepr, ttl: u8) -> String {
    let mut s = format!("{:<20}", icmp_type_name(i.icmp_type));
    if let Some(code) = icmp_code_name(i.icmp_type, i.code) {
        let _ = write!(s, " ({code})");
    }
    if let Some((id, seq)) = i.echo() {
        let _ = write!(
            s,
            " id=0x{id:04x}, seq={seq}/{}, ttl={ttl}",
            seq.swap_bytes()
        );
    }
    s
}

/// The Info column of an ICMPv6 message, as tshark 4.0 words it (packet-icmpv6.c).
fn icmpv6_info(i: &Icmpv6Repr, hop_limit: u8) -> String {
    let mut s = String::from(icmpv6_type_name(i.icmp_type));
    let mac = |m: &[u8; 6]| fmt_mac(m);
    match i.icmp_type {
        1 | 3 | 4 | 138..=140 | 150 | 154 | 155 => {
            let _ = write!(s, " ({})", icmpv6_code_name(i.icmp_type, i.code));
        }
        128 | 129 => {
            if let Some((id, seq)) = i.echo() {
                let _ = write!(s, " id=0x{id:04x}, seq={seq}, hop limit={hop_limit}");
            }
        }
        133 | 134 => {
            if let Some(m) = &i.link_addr {
                let _ = write!(s, " from {}", mac(m));
            }
        }
        135 => {
            if let Some(t) = &i.target {
                let _ = write!(s, " for {t}");
            }
            if let Some(m) = &i.link_addr {
                let _ = write!(s, " from {}", mac(m));
            }
        }
        136 => {
            if let Some(t) = &i.target {
                let names = [(0x80, "rtr"), (0x40, "sol"), (0x20, "ovr")];
                let set: Vec<&str> = names
                    .iter()
                    .filter(|(bit, _)| i.rest[0] & bit != 0)
                    .map(|(_, n)| *n)
                    .collect();
                let flags = if set.is_empty() {
                    "none".to_string()
                } else {
                    set.join(", ")
                };
                let _ = write!(s, " {t} ({flags})");
            }
            if let Some(m) = &i.link_addr {
                let _ = write!(s, " is at {}", mac(m));
            }
        }
        _ => {}
    }
    if i.len < i.min_len() {
        s.push_str("[Malformed Packet]");
    }
    s
}

/// Wireshark's name of an ICMPv6 message type (IANA's registry).
fn icmpv6_type_name(t: u8) -> std::borrow::Cow<'static, str> {
    let name = match t {
        1 => "Destination Unreachable",
        2 => "Packet Too Big",
        3 => "Time Exceeded",
        4 => "Parameter Problem",
        100 | 101 | 200 | 201 => "Private experimentation",
        127 => "Reserved for expansion of ICMPv6 error messages",
        128 => "Echo (ping) request",
        129 => "Echo (ping) reply",
        130 => "Multicast Listener Query",
        131 => "Multicast Listener Report",
        132 => "Multicast Listener Done",
        133 => "Router Solicitation",
        134 => "Router Advertisement",
        135 => "Neighbor Solicitation",
        136 => "Neighbor Advertisement",
        137 => "Redirect",
        138 => "Router Renumbering",
        139 => "Node Information Query",
        140 => "Node Information Reply",
        141 => "Inverse Neighbor Discovery Solicitation",
        142 => "Inverse Neighbor Discovery Advertisement",
        143 => "Multicast Listener Report Message v2",
        144 => "Home Agent Address Discovery Request",
        145 => "Home Agent Address Discovery Reply",
        146 => "Mobile Prefix Solicitation",
        147 => "Mobile Prefix Advertisement",
        148 => "Certification Path Solicitation",
        149 => "Certification Path Advertisement",
        150 => "Experimental Mobility",
        151 => "Multicast Router Advertisement",
        152 => "Multicast Router Solicitation",
        153 => "Multicast Router Termination",
        154 => "FMIPv6",
        155 => "RPL Control",
        156 => "Locator Update",
        157 => "Duplicate Address Request",
        158 => "Duplicate Address Confirmation",
        159 => "MPL Control Message",
        255 => "Reserved for expansion of ICMPv6 informational messages",
        _ => return format!("Unknown ({t})").into(),
    };
    name.into()
}

/// Wireshark's name of an ICMPv6 code, for the types whose Info shows it.
fn icmpv6_code_name(t: u8, code: u8) -> std::borrow::Cow<'static, str> {
    let name = match (t, code) {
        (1, 0) => "no route to destination",
        (1, 1) => "Administratively prohibited",
        (1, 2) => "Beyond scope of source address",
        (1, 3) => "Address unreachable",
        (1, 4) => "Port unreachable",
        (1, 5) => "Source address failed ingress/egress policy",
        (1, 6) => "Reject route to destination",
        (1, 7) => "Error in Source Routing Header",
        (1, _) => "Unknown",
        (3, 0) => "hop limit exceeded in transit",
        (3, 1) => "fragment reassembly time exceeded",
        (4, 0) => "erroneous header field encountered",
        (4, 1) => "unrecognized Next Header type encountered",
        (4, 2) => "unrecognized IPv6 option encountered",
        (4, 3) => "IPv6 First Fragment has incomplete IPv6 Header Chain",
        (138, 0) => "Command",
        (138, 1) => "Result",
        (138, 255) => "Sequence Number Reset",
        (139, 0) => "Query subject = IPv6 addresses",
        (139, 1) => "Query subject = Name",
        (139, 2) => "Query subject = IPv4 addresses",
        (140, 0) => "Successful",
        (140, 1) => "Refused",
        (140, 2) => "Unknown query type",
        (155, 0) => "DODAG Information Solicitation",
        (155, 1) => "DODAG Information Object",
        (155, 2) => "Destination Advertisement Object",
        (155, 3) => "Destination Advertisement Object Acknowledgment",
        _ => return format!("Unknown ({code})").into(),
    };
    name.into()
}

/// The Info column of a DNS, mDNS or LLMNR message, as tshark 4.0 words it
/// (packet-dns.c): operation, ID, error, then each question and record.
fn dns_info(d: &crate::dns::DnsMessage) -> String {
    use crate::dns::{DnsData, DnsFlavor, opcode_name, rcode_name, type_name};
    let mut s = String::new();
    if d.has_header {
        s.push_str(&opcode_name(d.opcode()));
        if d.is_response() {
            s.push_str(" response");
        }
        let _ = write!(s, " 0x{:04x}", d.id);
        if d.is_response() && d.rcode() != 0 {
            let _ = write!(s, " {}", rcode_name(d.rcode()));
        }
    }
    let shown = |name: &str| {
        if name.is_empty() {
            "<Root>".to_string()
        } else {
            name.to_string()
        }
    };
    for q in &d.questions {
        let _ = write!(s, " {} {}", type_name(q.rtype), shown(&q.name));
        if d.flavor == DnsFlavor::Mdns {
            let unicast = if q.class & 0x8000 != 0 { "QU" } else { "QM" };
            let _ = write!(s, ", \"{unicast}\" question");
        }
    }
    for r in &d.records {
        let _ = write!(s, " {}", type_name(r.rtype));
        match &r.data {
            DnsData::Addr(a) => {
                let _ = write!(s, " {a}");
            }
            DnsData::Name(n) => {
                let _ = write!(s, " {}", shown(n));
            }
            DnsData::Mx(pref, n) => {
                let _ = write!(s, " {pref} {}", shown(n));
            }
            DnsData::Srv(prio, weight, port, n) => {
                let _ = write!(s, " {prio} {weight} {port} {}", shown(n));
            }
            DnsData::Other => {}
        }
    }
    if d.malformed {
        s.push_str("[Malformed Packet]");
    }
    s
}
