//! Turning the bytes of one captured frame into a [`Frame`].

use std::net::{IpAddr, Ipv4Addr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};

use super::error::{Layer, WireError};
use super::fast_path;
use super::flags::TcpFlags;
use super::link::{
    EthernetRepr, LinkRepr, LinkType, NullHeader, Sll2Header, SllHeader, SllRepr, read_u16,
    read_u32,
};
use super::repr::{
    ArpRepr, Frame, IcmpQuote, IcmpRepr, Icmpv6Repr, IpRepr, NetRepr, TcpOption, TcpRepr,
    TransportRepr, UdpRepr,
};
use super::tcp_options::{parse_tcp_options, parse_tcp_options_into};

/// Decodes one frame of the given link type. Never panics; whatever could
/// not be decoded is described in [`Frame::error`].
pub fn decode(link: LinkType, data: &[u8]) -> Frame {
    decode_opts(link, data, true)
}

/// Like [`decode`]; with `keep_payload` false the transport payload is not
/// copied into [`Frame::payload`] (IPv4 fragments still keep theirs, for
/// reassembly). Field exports that never read payloads save a copy per frame.
pub fn decode_opts(link: LinkType, data: &[u8], keep_payload: bool) -> Frame {
    decode_with(link, data, keep_payload, true, Vec::new())
}

/// Like [`decode_opts`], with `options` (emptied) as the storage of the TCP
/// option list: a caller decoding frame after frame hands back the previous
/// frame's list and saves an allocation per frame.
pub fn decode_reusing(
    link: LinkType,
    data: &[u8],
    keep_payload: bool,
    options: Vec<TcpOption>,
) -> Frame {
    decode_with(link, data, keep_payload, true, options)
}

/// Like [`decode_reusing`], for a frame whose length on the wire (`orig_len`) is known:
/// an IPv4 total length is then read as tshark reads it against the frame. A length of
/// 0 (a TSO super-packet captured before segmentation) covers the whole frame, and one
/// beyond the frame is cut to it unless the capture's snap length cut the frame.
pub fn decode_captured(
    link: LinkType,
    data: &[u8],
    orig_len: u32,
    keep_payload: bool,
    options: Vec<TcpOption>,
) -> Frame {
    let missing = usize::try_from(orig_len)
        .unwrap_or(usize::MAX)
        .saturating_sub(data.len());
    decode_inner(link, data, keep_payload, true, Some(missing), options)
}

/// [`decode_opts`] with or without the hand-decoded IPv4/TCP path (tests
/// check that both give the same frames).
pub(super) fn decode_with(
    link: LinkType,
    data: &[u8],
    keep_payload: bool,
    fast: bool,
    options: Vec<TcpOption>,
) -> Frame {
    decode_inner(link, data, keep_payload, fast, None, options)
}

fn decode_inner(
    link: LinkType,
    data: &[u8],
    keep_payload: bool,
    fast: bool,
    missing: Option<usize>,
    mut options: Vec<TcpOption>,
) -> Frame {
    let options = &mut options;
    let keep = Keep {
        payload: keep_payload,
        fast,
        missing,
    };
    let mut frame = Frame {
        link: LinkRepr::Raw,
        net: None,
        transport: None,
        payload: Vec::new(),
        error: None,
    };
    match link {
        LinkType::Ethernet => decode_ethernet(&mut frame, data, keep, options),
        LinkType::LinuxSll => match SllHeader::new_checked(data) {
            Ok(h) => {
                frame.link = LinkRepr::LinuxSll(SllRepr {
                    version: 1,
                    packet_type: h.packet_type(),
                    hatype: h.hatype(),
                    addr: h.addr().to_vec(),
                    protocol: h.protocol(),
                    ifindex: None,
                });
                decode_ethertype(&mut frame, h.protocol(), h.payload(), keep, options);
            }
            Err(e) => frame.error = Some(e),
        },
        LinkType::LinuxSll2 => match Sll2Header::new_checked(data) {
            Ok(h) => {
                frame.link = LinkRepr::LinuxSll(SllRepr {
                    version: 2,
                    packet_type: u16::from(h.packet_type()),
                    hatype: h.hatype(),
                    addr: h.addr().to_vec(),
                    protocol: h.protocol(),
                    ifindex: Some(h.ifindex()),
                });
                decode_ethertype(&mut frame, h.protocol(), h.payload(), keep, options);
            }
            Err(e) => frame.error = Some(e),
        },
        LinkType::Null => match NullHeader::new_checked(data) {
            Ok(h) => {
                frame.link = LinkRepr::Null { family: h.family() };
                match h.ethertype() {
                    Some(et) => decode_ethertype(&mut frame, et, h.payload(), keep, options),
                    None => {
                        frame.payload = h.payload().to_vec();
                        frame.error = Some(WireError::malformed(
                            Layer::Loopback,
                            format!("unknown address family {}", h.family()),
                        ));
                    }
                }
            }
            Err(e) => frame.error = Some(e),
        },
        LinkType::Pktap => match super::link::pktap_inner(data) {
            Ok((inner, bytes)) => {
                let options = std::mem::take(options);
                return decode_inner(inner, bytes, keep_payload, fast, missing, options);
            }
            Err(e) => frame.error = Some(e),
        },
        LinkType::RawIp => {
            let version = data.first().map(|b| b >> 4);
            match version {
                Some(4) => decode_ethertype(&mut frame, 0x0800, data, keep, options),
                Some(6) => decode_ethertype(&mut frame, 0x86dd, data, keep, options),
                Some(v) => {
                    frame.payload = data.to_vec();
                    frame.error = Some(WireError::malformed(
                        Layer::Ip,
                        format!("unknown IP version {v}"),
                    ));
                }
                None => frame.error = Some(WireError::truncated(Layer::Ip, 0, 20)),
            }
        }
    }
    frame
}

/// What the caller wants of a frame.
#[derive(Debug, Clone, Copy)]
struct Keep {
    /// Copy the transport payload into [`Frame::payload`].
    payload: bool,
    /// Try the hand decoder of plain IPv4/TCP first.
    fast: bool,
    /// Bytes of the frame the capture left out (its length on the wire minus the
    /// captured length), when the caller knows it.
    missing: Option<usize>,
}

fn decode_ethernet(frame: &mut Frame, data: &[u8], keep: Keep, options: &mut Vec<TcpOption>) {
    if keep.fast && read_u16(data, 12) == Some(0x0800) {
        if let Some(f) = data
            .get(14..)
            .and_then(|ip| fast_path::ipv4_tcp(ip, options))
        {
            let mac = |at: usize| -> [u8; 6] {
                let mut m = [0u8; 6];
                if let Some(s) = data.get(at..at + 6) {
                    m.copy_from_slice(s);
                }
                m
            };
            frame.link = LinkRepr::Ethernet(EthernetRepr {
                src: mac(6),
                dst: mac(0),
                ethertype: 0x0800,
                type_field: 0x0800,
                vlan: None,
            });
            fill_fast(frame, f, keep);
            return;
        }
    }
    let packet = match LaxSlicedPacket::from_ethernet(data) {
        Ok(p) => p,
        Err(e) => {
            frame.error = Some(WireError::truncated(Layer::Ethernet, e.len, e.required_len));
            return;
        }
    };
    if let Some(etherparse::LinkSlice::Ethernet2(eth)) = &packet.link {
        let ethertype = packet
            .ether_payload()
            .map(|p| p.ether_type.0)
            .unwrap_or(eth.ether_type().0);
        let vlan = packet.vlan_ids().first().map(|v| v.value());
        frame.link = LinkRepr::Ethernet(EthernetRepr {
            src: eth.source(),
            dst: eth.destination(),
            ethertype,
            type_field: eth.ether_type().0,
            vlan,
        });
    }
    fill_from_lax(frame, &packet, keep, options);
}

fn decode_ethertype(
    frame: &mut Frame,
    ethertype: u16,
    payload: &[u8],
    keep: Keep,
    options: &mut Vec<TcpOption>,
) {
    if keep.fast && ethertype == 0x0800 {
        if let Some(f) = fast_path::ipv4_tcp(payload, options) {
            fill_fast(frame, f, keep);
            return;
        }
    }
    let packet = LaxSlicedPacket::from_ether_type(EtherType(ethertype), payload);
    fill_from_lax(frame, &packet, keep, options);
}

fn fill_fast(frame: &mut Frame, f: fast_path::Ipv4Tcp<'_>, keep: Keep) {
    frame.net = Some(NetRepr::Ip(f.ip));
    frame.transport = Some(TransportRepr::Tcp(f.tcp));
    if keep.payload {
        frame.payload = f.payload.to_vec();
    }
}

fn fill_from_lax(
    frame: &mut Frame,
    packet: &LaxSlicedPacket<'_>,
    keep: Keep,
    options: &mut Vec<TcpOption>,
) {
    // Length of the transport segment announced by the IP header.
    let mut l4_declared: Option<usize> = None;
    let mut ip_payload: &[u8] = &[];
    let mut ip_protocol = 0u8;
    match &packet.net {
        Some(LaxNetSlice::Arp(arp)) => match decode_arp(arp.slice()) {
            Ok(a) => frame.net = Some(NetRepr::Arp(a)),
            Err(e) => frame.error = Some(e),
        },
        Some(LaxNetSlice::Ipv4(v4)) => {
            let mut ip = ipv4_repr(&v4.header(), v4.payload().ip_number.0);
            let p = v4.payload();
            ip_payload = p.payload;
            ip_protocol = ip.protocol;
            if ip.total_len != 0 && ip.total_len < ip.header_len {
                // tshark stops at the IPv4 header and shows none of its fields.
                frame.error = Some(WireError::BogusIpLength {
                    total_len: ip.total_len,
                    header_len: ip.header_len,
                });
                frame.payload = ip_payload.to_vec();
                return;
            }
            let mut declared = usize::from(ip.total_len).saturating_sub(usize::from(ip.header_len));
            if let Some(missing) = keep.missing {
                // As tshark: the length on the wire bounds what the header announces.
                let reported = p.payload.len().saturating_add(missing);
                if ip.total_len == 0 {
                    declared = reported;
                    let total = usize::from(ip.header_len).saturating_add(reported);
                    ip.total_len = u16::try_from(total).unwrap_or(u16::MAX);
                } else {
                    declared = declared.min(reported);
                }
            }
            l4_declared = Some(declared);
            if p.payload.len() < declared {
                frame.error = Some(WireError::truncated(
                    Layer::Ipv4Payload,
                    p.payload.len(),
                    declared,
                ));
            }
            frame.net = Some(NetRepr::Ip(ip));
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let p = v6.payload();
            let ext_len = v6.extensions().slice().len();
            let declared = usize::from(h.payload_length()).saturating_sub(ext_len);
            ip_payload = p.payload;
            ip_protocol = p.ip_number.0;
            l4_declared = Some(declared);
            if p.incomplete && h.payload_length() != 0 {
                frame.error = Some(WireError::truncated(
                    Layer::Ipv6Payload,
                    p.payload.len(),
                    declared,
                ));
            }
            frame.net = Some(NetRepr::Ip(IpRepr {
                protocol: p.ip_number.0,
                header_len: u16::try_from(40 + ext_len).unwrap_or(u16::MAX),
                fragmented: p.fragmented,
                ..ipv6_repr(&h)
            }));
        }
        None => {
            if let Some(p) = packet.ether_payload() {
                frame.payload = p.payload.to_vec();
            }
        }
    }

    match &packet.transport {
        Some(t @ (TransportSlice::Tcp(_) | TransportSlice::Udp(_) | TransportSlice::Icmpv4(_))) => {
            if let Some((repr, payload)) = transport_repr(t, l4_declared, options) {
                frame.transport = Some(repr);
                if keep.payload {
                    frame.payload = payload.to_vec();
                }
            }
        }
        Some(TransportSlice::Icmpv6(_)) | None
            if ip_protocol == 58
                && matches!(&frame.net, Some(NetRepr::Ip(ip)) if !ip.fragmented) =>
        {
            match decode_icmpv6(ip_payload) {
                Some(repr) => frame.transport = Some(TransportRepr::Icmpv6(repr)),
                None => frame.payload = ip_payload.to_vec(),
            }
        }
        Some(_) => frame.payload = ip_payload.to_vec(),
        None => {
            let partial = (ip_protocol == 6 && packet.stop_err.is_some())
                .then(|| partial_tcp(ip_payload, l4_declared))
                .flatten();
            if let Some(tcp) = partial {
                // The snap length cut the options: the fixed header is all there,
                // so decode it as Wireshark does and report the cut as payload loss.
                let layer = match &frame.net {
                    Some(NetRepr::Ip(ip)) if ip.version == 6 => Layer::Ipv6Payload,
                    _ => Layer::Ipv4Payload,
                };
                frame.error = Some(WireError::truncated(
                    layer,
                    ip_payload.len(),
                    l4_declared.unwrap_or(0),
                ));
                frame.transport = Some(TransportRepr::Tcp(tcp));
                return;
            }
            if matches!(ip_protocol, 6 | 17) && packet.stop_err.is_some() {
                let ports = read_u16(ip_payload, 0).zip(read_u16(ip_payload, 2));
                frame.transport = Some(TransportRepr::Truncated {
                    protocol: ip_protocol,
                    ports,
                });
            }
            frame.payload = ip_payload.to_vec();
        }
    }

    if let Some((err, layer)) = &packet.stop_err {
        frame.error = Some(WireError::from_slice_error(err, *layer));
    }
}

/// A TCP header whose options were cut by the snap length: the fixed 20
/// bytes, the options that fit, and the payload length the IP header announces.
fn partial_tcp(bytes: &[u8], l4_declared: Option<usize>) -> Option<TcpRepr> {
    let b = bytes.get(..20)?;
    let data_offset = b.get(12)? >> 4;
    let header_len = usize::from(data_offset) * 4;
    if data_offset < 5 || bytes.len() >= header_len {
        return None;
    }
    let flags = TcpFlags::from_header_bytes(*b.get(12)?, *b.get(13)?);
    let payload_len = l4_declared.map_or(0, |d| d.saturating_sub(header_len));
    Some(TcpRepr {
        src_port: read_u16(b, 0)?,
        dst_port: read_u16(b, 2)?,
        seq: read_u32(b, 4)?,
        ack: read_u32(b, 8)?,
        data_offset,
        flags,
        window: read_u16(b, 14)?,
        checksum: read_u16(b, 16)?,
        urgent: read_u16(b, 18)?,
        options: parse_tcp_options(bytes.get(20..).unwrap_or(&[])),
        payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
    })
}

/// Decodes the transport header at the start of `bytes` (a reassembled IP
/// payload of protocol `protocol`), returning it with its payload bytes.
/// `None` for other protocols or a header that does not fit.
pub fn decode_transport(protocol: u8, bytes: &[u8]) -> Option<(TransportRepr, &[u8])> {
    let declared = Some(bytes.len());
    match protocol {
        6 => {
            let tcp = etherparse::TcpSlice::from_slice(bytes).ok()?;
            transport_repr(&TransportSlice::Tcp(tcp), declared, &mut Vec::new())
        }
        17 => {
            let udp = etherparse::UdpSlice::from_slice_lax(bytes).ok()?;
            transport_repr(&TransportSlice::Udp(udp), declared, &mut Vec::new())
        }
        1 => {
            let icmp = etherparse::Icmpv4Slice::from_slice(bytes).ok()?;
            transport_repr(&TransportSlice::Icmpv4(icmp), declared, &mut Vec::new())
        }
        58 => decode_icmpv6(bytes).map(|r| (TransportRepr::Icmpv6(r), &bytes[bytes.len()..])),
        _ => None,
    }
}

/// Decodes an ICMPv6 message by hand: the fixed header, and for neighbour discovery the
/// target address and the first link-layer address option. `None` below 4 bytes.
pub fn decode_icmpv6(b: &[u8]) -> Option<Icmpv6Repr> {
    let head = b.get(..4)?;
    let mut rest = [0u8; 4];
    if let Some(r) = b.get(4..8) {
        rest.copy_from_slice(r);
    }
    let icmp_type = head[0];
    // Where the target address and the options start (RFC 4861 sections 4.1 to 4.5).
    let (target_at, options_at) = match icmp_type {
        133 => (None, 8),
        134 => (None, 16),
        135 | 136 => (Some(8), 24),
        137 => (Some(8), 40),
        _ => (None, usize::MAX),
    };
    let target = target_at
        .and_then(|at| b.get(at..at + 16))
        .and_then(|t| <[u8; 16]>::try_from(t).ok())
        .map(std::net::Ipv6Addr::from);
    Some(Icmpv6Repr {
        icmp_type,
        code: head[1],
        checksum: u16::from_be_bytes([head[2], head[3]]),
        rest,
        target,
        link_addr: b.get(options_at..).and_then(link_addr_option),
        len: b.len(),
        quote: (1..=4)
            .contains(&icmp_type)
            .then(|| b.get(8..).and_then(decode_quote))
            .flatten(),
    })
}

/// The MAC of the first source (1) or target (2) link-layer address option in `options`
/// whose length is one 8-byte unit; the walk stops at a zero length, as RFC 4861 says.
fn link_addr_option(mut options: &[u8]) -> Option<[u8; 6]> {
    while let [kind, units, ..] = *options {
        let len = usize::from(units) * 8;
        if len == 0 || options.len() < len {
            return None;
        }
        if matches!(kind, 1 | 2) && len == 8 {
            return <[u8; 6]>::try_from(&options[2..8]).ok();
        }
        options = &options[len..];
    }
    None
}

/// The plain representation of a TCP, UDP or ICMPv4 slice, and its payload.
/// The TCP options go into `options` (taken only for a TCP segment).
fn transport_repr<'a>(
    t: &TransportSlice<'a>,
    l4_declared: Option<usize>,
    options: &mut Vec<TcpOption>,
) -> Option<(TransportRepr, &'a [u8])> {
    match t {
        TransportSlice::Tcp(tcp) => {
            let header_len = tcp.header_slice().len();
            let payload_len = l4_declared
                .map(|d| d.saturating_sub(header_len))
                .unwrap_or(tcp.payload().len());
            let header = tcp.header_slice();
            let flags = TcpFlags::from_header_bytes(
                header.get(12).copied().unwrap_or(0),
                header.get(13).copied().unwrap_or(0),
            );
            let mut option_list = std::mem::take(options);
            parse_tcp_options_into(tcp.options(), &mut option_list);
            let repr = TransportRepr::Tcp(TcpRepr {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                data_offset: tcp.data_offset(),
                flags,
                window: tcp.window_size(),
                checksum: tcp.checksum(),
                urgent: tcp.urgent_pointer(),
                options: option_list,
                payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
            });
            Some((repr, tcp.payload()))
        }
        TransportSlice::Udp(udp) => {
            let repr = TransportRepr::Udp(UdpRepr {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
                length: udp.length(),
                checksum: udp.checksum(),
            });
            Some((repr, udp.payload()))
        }
        TransportSlice::Icmpv4(icmp) => {
            let icmp_type = icmp.type_u8();
            let quote = if matches!(icmp_type, 3 | 4 | 5 | 11 | 12) {
                decode_quote(icmp.payload())
            } else {
                None
            };
            let repr = TransportRepr::Icmpv4(IcmpRepr {
                icmp_type,
                code: icmp.code_u8(),
                checksum: icmp.checksum(),
                rest: icmp.bytes5to8(),
                quote,
            });
            Some((repr, icmp.payload()))
        }
        _ => None,
    }
}

fn ipv4_repr(h: &etherparse::Ipv4HeaderSlice<'_>, final_protocol: u8) -> IpRepr {
    let flags_byte = h.slice().get(6).copied().unwrap_or(0);
    let frag_offset = h.fragments_offset().value().saturating_mul(8);
    IpRepr {
        version: 4,
        src: IpAddr::V4(h.source_addr()),
        dst: IpAddr::V4(h.destination_addr()),
        ttl: h.ttl(),
        tos: h.slice().get(1).copied().unwrap_or(0),
        id: h.identification(),
        df: h.dont_fragment(),
        mf: h.more_fragments(),
        rf: flags_byte & 0x80 != 0,
        frag_offset,
        protocol: final_protocol,
        next_header: h.protocol().0,
        total_len: h.total_len(),
        header_len: u16::from(h.ihl()) * 4,
        checksum: h.header_checksum(),
        fragmented: h.is_fragmenting_payload(),
    }
}

/// The fields of a fixed IPv6 header alone: the protocol is its next header and the
/// header 40 bytes (a frame's decoder then accounts for the extension headers it followed).
fn ipv6_repr(h: &etherparse::Ipv6HeaderSlice<'_>) -> IpRepr {
    IpRepr {
        version: 6,
        src: IpAddr::V6(h.source_addr()),
        dst: IpAddr::V6(h.destination_addr()),
        ttl: h.hop_limit(),
        tos: h.traffic_class(),
        id: 0,
        df: false,
        mf: false,
        rf: false,
        frag_offset: 0,
        protocol: h.next_header().0,
        next_header: h.next_header().0,
        total_len: h.payload_length().saturating_add(40),
        header_len: 40,
        checksum: 0,
        fragmented: false,
    }
}

/// Decodes an ARP packet for Ethernet/IPv4 by hand.
pub fn decode_arp(b: &[u8]) -> Result<ArpRepr, WireError> {
    let [h0, h1, p0, p1, hlen, plen, o0, o1, ..] = *b else {
        return Err(WireError::truncated(Layer::Arp, b.len(), 8));
    };
    // Any hardware and protocol address sizes, as tshark reads them.
    let need = 8 + 2 * (usize::from(hlen) + usize::from(plen));
    let Some(addrs) = b.get(8..need) else {
        return Err(WireError::truncated(Layer::Arp, b.len(), need));
    };
    let mut arp = ArpRepr {
        opcode: u16::from_be_bytes([o0, o1]),
        sender_mac: [0; 6],
        sender_ip: Ipv4Addr::UNSPECIFIED,
        target_mac: [0; 6],
        target_ip: Ipv4Addr::UNSPECIFIED,
        hw_type: u16::from_be_bytes([h0, h1]),
        proto_type: u16::from_be_bytes([p0, p1]),
        hw_len: hlen,
        proto_len: plen,
        addrs: addrs.to_vec(),
    };
    let mac = |a: &[u8]| <[u8; 6]>::try_from(a).unwrap_or([0; 6]);
    let ip = |a: &[u8]| {
        <[u8; 4]>::try_from(a)
            .map(Ipv4Addr::from)
            .unwrap_or(Ipv4Addr::UNSPECIFIED)
    };
    arp.sender_mac = mac(arp.addr(0));
    arp.sender_ip = ip(arp.addr(1));
    arp.target_mac = mac(arp.addr(2));
    arp.target_ip = ip(arp.addr(3));
    Ok(arp)
}

/// Decodes the original datagram quoted in an ICMP error message.
/// The datagram quoted in an ICMP or ICMPv6 error: its IP header (IPv4, or IPv6 without
/// extension headers) and the start of its TCP or UDP header.
fn decode_quote(bytes: &[u8]) -> Option<IcmpQuote> {
    let ip = match bytes.first()? >> 4 {
        4 => {
            let inner = etherparse::Ipv4HeaderSlice::from_slice(bytes).ok()?;
            ipv4_repr(&inner, inner.protocol().0)
        }
        6 => ipv6_repr(&etherparse::Ipv6HeaderSlice::from_slice(bytes).ok()?),
        _ => return None,
    };
    let l4 = bytes.get(usize::from(ip.header_len)..).unwrap_or(&[]);
    let ports = read_u16(l4, 0).zip(read_u16(l4, 2));
    let (tcp_seq, udp_length) = match ip.protocol {
        6 => (read_u32(l4, 4), None),
        17 => (None, read_u16(l4, 4)),
        _ => (None, None),
    };
    let ports = if matches!(ip.protocol, 6 | 17) {
        ports
    } else {
        None
    };
    let tcp = match (ip.protocol, decode_transport(6, l4)) {
        (6, Some((TransportRepr::Tcp(t), _))) => Some(Box::new(t)),
        _ => None,
    };
    Some(IcmpQuote {
        ip,
        ports,
        tcp_seq,
        udp_length,
        tcp,
    })
}
