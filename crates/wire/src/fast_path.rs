//! The most common frame, an IPv4 packet carrying one whole TCP segment,
//! decoded by hand.
//!
//! etherparse's lax slicer returns a 328-byte description of every layer it
//! might meet, moved through several calls per frame; for a plain TCP
//! segment that costs more than the decoding itself. This path takes only
//! packets whose every length is consistent and fully captured (no
//! fragment, no cut, IPv4 straight to TCP) and gives the answer the general
//! decoder would give; anything else returns `None` and goes the general way.
//! `wire::tests` checks both agree on mutated and random frames.

use std::net::{IpAddr, Ipv4Addr};

use super::flags::TcpFlags;
use super::link::{read_u16, read_u32};
use super::repr::{IpRepr, TcpOption, TcpRepr};
use super::tcp_options::parse_tcp_options_into;

/// An IPv4 header and the TCP segment it carries.
pub(super) struct Ipv4Tcp<'a> {
    /// The IPv4 header.
    pub ip: IpRepr,
    /// The TCP header.
    pub tcp: TcpRepr,
    /// The TCP payload.
    pub payload: &'a [u8],
}

/// Decodes `b`, an IPv4 packet (possibly followed by link padding), when it
/// is a whole, unfragmented TCP segment; the TCP options go into `options`
/// (taken only then).
pub(super) fn ipv4_tcp<'a>(b: &'a [u8], options: &mut Vec<TcpOption>) -> Option<Ipv4Tcp<'a>> {
    let h = b.get(..20)?;
    if h[0] >> 4 != 4 || h[9] != 6 {
        return None;
    }
    let header_len = usize::from(h[0] & 0x0f) * 4;
    let total_len = read_u16(h, 2)?;
    let flags_frag = read_u16(h, 6)?;
    // More fragments or an offset: reassembly is the general decoder's job.
    if header_len < 20 || flags_frag & 0x3fff != 0 {
        return None;
    }
    let segment = b.get(header_len..usize::from(total_len))?;
    let data_offset = segment.get(12)? >> 4;
    let tcp_len = usize::from(data_offset) * 4;
    if tcp_len < 20 {
        return None;
    }
    let tcp_header = segment.get(..tcp_len)?;
    let payload = segment.get(tcp_len..)?;
    let ip = IpRepr {
        version: 4,
        src: IpAddr::V4(Ipv4Addr::from(read_u32(h, 12)?)),
        dst: IpAddr::V4(Ipv4Addr::from(read_u32(h, 16)?)),
        ttl: h[8],
        tos: h[1],
        id: read_u16(h, 4)?,
        df: flags_frag & 0x4000 != 0,
        mf: false,
        rf: flags_frag & 0x8000 != 0,
        frag_offset: 0,
        protocol: 6,
        next_header: 6,
        total_len,
        header_len: u16::try_from(header_len).ok()?,
        checksum: read_u16(h, 10)?,
        fragmented: false,
    };
    let mut tcp = TcpRepr {
        src_port: read_u16(tcp_header, 0)?,
        dst_port: read_u16(tcp_header, 2)?,
        seq: read_u32(tcp_header, 4)?,
        ack: read_u32(tcp_header, 8)?,
        data_offset,
        flags: TcpFlags::from_header_bytes(tcp_header[12], tcp_header[13]),
        window: read_u16(tcp_header, 14)?,
        checksum: read_u16(tcp_header, 16)?,
        urgent: read_u16(tcp_header, 18)?,
        options: Vec::new(),
        payload_len: u32::try_from(payload.len()).ok()?,
    };
    tcp.options = std::mem::take(options);
    parse_tcp_options_into(tcp_header.get(20..).unwrap_or(&[]), &mut tcp.options);
    Some(Ipv4Tcp { ip, tcp, payload })
}
