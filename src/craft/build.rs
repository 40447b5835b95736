//! Building packets: TCP headers by `wire`, UDP and the IPv4 and Ethernet headers by
//! etherparse's builder; and spoiling a checksum on purpose.

use super::{CraftError, CraftResult};
pub use crate::wire::TcpFlags;
use crate::wire::{TcpOption, TcpRepr};
use etherparse::{IpNumber, PacketBuilder};
use std::net::{Ipv4Addr, SocketAddrV4};

/// Source and destination MAC addresses: the packet is sent as a whole Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ethernet {
    /// Source MAC.
    pub src: [u8; 6],
    /// Destination MAC.
    pub dst: [u8; 6],
}

/// A TCP segment to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSpec {
    /// Source address and port (any address: the IP header is the sender's own).
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
    /// The flags.
    pub flags: TcpFlags,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (written even without the ACK flag).
    pub ack: u32,
    /// Window field.
    pub window: u16,
    /// MSS option.
    pub mss: Option<u16>,
    /// Window scale option (shift count).
    pub wscale: Option<u8>,
    /// SACK permitted option.
    pub sack_perm: bool,
    /// Timestamps option (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// IP time to live.
    pub ttl: u8,
    /// Write a wrong TCP checksum on purpose.
    pub bad_checksum: bool,
    /// Build a whole Ethernet frame with these addresses.
    pub ethernet: Option<Ethernet>,
}

impl TcpSpec {
    /// A segment from `src` to `dst` with no flag, seq 0, window 64240, TTL 64.
    pub fn new(src: SocketAddrV4, dst: SocketAddrV4) -> TcpSpec {
        TcpSpec {
            src,
            dst,
            flags: TcpFlags::default(),
            seq: 0,
            ack: 0,
            window: 64240,
            mss: None,
            wscale: None,
            sack_perm: false,
            timestamps: None,
            payload: Vec::new(),
            ttl: 64,
            bad_checksum: false,
            ethernet: None,
        }
    }
}

/// A UDP datagram to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpSpec {
    /// Source address and port.
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// IP time to live.
    pub ttl: u8,
    /// Write a wrong UDP checksum on purpose.
    pub bad_checksum: bool,
    /// Build a whole Ethernet frame with these addresses.
    pub ethernet: Option<Ethernet>,
}

/// A built packet, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crafted {
    /// The bytes: an IPv4 packet, or an Ethernet frame when `ethernet` is true.
    pub bytes: Vec<u8>,
    /// True when `bytes` starts with an Ethernet header.
    pub ethernet: bool,
    /// The destination address.
    pub dst: Ipv4Addr,
    /// One line in tcpdump's manner, e.g. `10.77.0.1.40000 > 10.77.0.2.8888: Flags [S], seq 1000, win 64240, length 0`.
    pub summary: String,
    /// The TCP segment, when it is one.
    pub tcp: Option<TcpSpec>,
}

impl Crafted {
    /// The IPv4 packet without the Ethernet header.
    pub fn ip_bytes(&self) -> &[u8] {
        if self.ethernet {
            self.bytes.get(14..).unwrap_or(&[])
        } else {
            &self.bytes
        }
    }
}

/// Builds a TCP segment in an IPv4 packet (or an Ethernet frame).
pub fn build_tcp(spec: &TcpSpec) -> CraftResult<Crafted> {
    let f = spec.flags;
    let mut options = Vec::new();
    if let Some(m) = spec.mss {
        options.push(TcpOption::Mss(m));
    }
    if spec.sack_perm {
        options.push(TcpOption::SackPermitted);
    }
    if let Some((val, ecr)) = spec.timestamps {
        options.push(TcpOption::Timestamps(val, ecr));
    }
    if let Some(w) = spec.wscale {
        options.push(TcpOption::Nop);
        options.push(TcpOption::WindowScale(w));
    }
    let repr = TcpRepr {
        src_port: spec.src.port(),
        dst_port: spec.dst.port(),
        seq: spec.seq,
        ack: spec.ack,
        data_offset: 0,
        flags: f,
        window: spec.window,
        checksum: 0,
        urgent: 0,
        options,
        payload_len: 0,
    };
    let header_len = repr
        .emitted_header_len()
        .map_err(|e| CraftError::Invalid(format!("TCP options do not fit: {e}")))?;
    let max_payload = 65535 - 20 - header_len;
    if spec.payload.len() > max_payload {
        return Err(CraftError::Invalid(format!(
            "a payload of {} bytes does not fit one IPv4 packet (at most {max_payload})",
            spec.payload.len()
        )));
    }
    let mut segment = Vec::with_capacity(header_len + spec.payload.len());
    repr.emit_ipv4(*spec.src.ip(), *spec.dst.ip(), &spec.payload, &mut segment)
        .map_err(|e| CraftError::Invalid(format!("cannot build the segment: {e}")))?;
    let mut bytes = Vec::new();
    let (s, d) = (spec.src.ip().octets(), spec.dst.ip().octets());
    let written = match spec.ethernet {
        Some(e) => PacketBuilder::ethernet2(e.src, e.dst)
            .ipv4(s, d, spec.ttl)
            .write(&mut bytes, IpNumber::TCP, &segment),
        None => PacketBuilder::ipv4(s, d, spec.ttl).write(&mut bytes, IpNumber::TCP, &segment),
    };
    written.map_err(|e| CraftError::Invalid(format!("cannot build the segment: {e}")))?;
    let eth = spec.ethernet.is_some();
    if spec.bad_checksum {
        spoil_checksum(&mut bytes, eth, 16);
    }
    let mut summary = format!(
        "{}.{} > {}.{}: Flags [{}], seq {}",
        spec.src.ip(),
        spec.src.port(),
        spec.dst.ip(),
        spec.dst.port(),
        f.tcpdump_letters(),
        spec.seq
    );
    if f.contains(TcpFlags::ACK) {
        summary.push_str(&format!(", ack {}", spec.ack));
    }
    summary.push_str(&format!(
        ", win {}, length {}",
        spec.window,
        spec.payload.len()
    ));
    if spec.bad_checksum {
        summary.push_str(" (bad checksum)");
    }
    Ok(Crafted {
        bytes,
        ethernet: eth,
        dst: *spec.dst.ip(),
        summary,
        tcp: Some(spec.clone()),
    })
}

/// Builds a UDP datagram in an IPv4 packet (or an Ethernet frame).
pub fn build_udp(spec: &UdpSpec) -> CraftResult<Crafted> {
    if spec.payload.len() > 65535 - 28 {
        return Err(CraftError::Invalid(format!(
            "a payload of {} bytes does not fit one UDP datagram (at most 65507)",
            spec.payload.len()
        )));
    }
    let mut bytes = Vec::new();
    let (s, d) = (spec.src.ip().octets(), spec.dst.ip().octets());
    let written = match spec.ethernet {
        Some(e) => PacketBuilder::ethernet2(e.src, e.dst)
            .ipv4(s, d, spec.ttl)
            .udp(spec.src.port(), spec.dst.port())
            .write(&mut bytes, &spec.payload),
        None => PacketBuilder::ipv4(s, d, spec.ttl)
            .udp(spec.src.port(), spec.dst.port())
            .write(&mut bytes, &spec.payload),
    };
    written.map_err(|e| CraftError::Invalid(format!("cannot build the datagram: {e}")))?;
    let eth = spec.ethernet.is_some();
    if spec.bad_checksum {
        spoil_checksum(&mut bytes, eth, 6);
    }
    Ok(Crafted {
        bytes,
        ethernet: eth,
        dst: *spec.dst.ip(),
        summary: format!(
            "{}.{} > {}.{}: UDP, length {}{}",
            spec.src.ip(),
            spec.src.port(),
            spec.dst.ip(),
            spec.dst.port(),
            spec.payload.len(),
            if spec.bad_checksum {
                " (bad checksum)"
            } else {
                ""
            }
        ),
        tcp: None,
    })
}

/// Changes the transport checksum at `at` bytes into the transport header so it is wrong
/// (never 0, which for UDP would mean "no checksum").
fn spoil_checksum(bytes: &mut [u8], ethernet: bool, at: usize) {
    let ip = if ethernet { 14 } else { 0 };
    let Some(first) = bytes.get(ip) else { return };
    let pos = ip + usize::from(first & 0x0f) * 4 + at;
    let Some(pair) = bytes.get_mut(pos..pos + 2) else {
        return;
    };
    let old = u16::from_be_bytes([pair[0], pair[1]]);
    let mut new = old ^ 0x5a5a;
    if new == 0 {
        new = 0x5a5a;
    }
    pair.copy_from_slice(&new.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{SlicedPacket, TransportSlice};

    fn a(s: &str) -> SocketAddrV4 {
        s.parse().unwrap()
    }

    #[test]
    fn flags_parse_letters_and_names() {
        assert_eq!(TcpFlags::parse("S").unwrap(), TcpFlags::SYN);
        assert_eq!(
            TcpFlags::parse("SA").unwrap(),
            TcpFlags::SYN | TcpFlags::ACK
        );
        assert_eq!(
            TcpFlags::parse("R.").unwrap(),
            TcpFlags::RST | TcpFlags::ACK
        );
        assert_eq!(
            TcpFlags::parse("syn, ack").unwrap(),
            TcpFlags::SYN | TcpFlags::ACK
        );
        assert_eq!(TcpFlags::parse("RST").unwrap(), TcpFlags::RST);
        assert_eq!(TcpFlags::parse("").unwrap().0, 0);
        assert!(TcpFlags::parse("X").is_err());
        assert!(TcpFlags::parse("SYN,NOPE").is_err());
    }

    #[test]
    fn tcp_checksums_are_right_unless_spoiled() {
        let mut spec = TcpSpec::new(a("10.77.0.1:40000"), a("10.77.0.2:8888"));
        spec.flags = TcpFlags::SYN;
        spec.seq = 1000;
        spec.mss = Some(1460);
        spec.wscale = Some(7);
        spec.sack_perm = true;
        let p = build_tcp(&spec).unwrap();
        let sliced = SlicedPacket::from_ip(&p.bytes).unwrap();
        let (Some(etherparse::NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(t))) =
            (&sliced.net, &sliced.transport)
        else {
            panic!("not TCP/IPv4")
        };
        let right = t
            .to_header()
            .calc_checksum_ipv4(&ip.header().to_header(), t.payload())
            .unwrap();
        assert_eq!(t.checksum(), right);
        assert!(t.syn() && !t.ack());
        assert_eq!(t.sequence_number(), 1000);
        assert!(p.summary.contains("Flags [S], seq 1000"), "{}", p.summary);
        spec.bad_checksum = true;
        let bad = build_tcp(&spec).unwrap();
        let t2 = SlicedPacket::from_ip(&bad.bytes).unwrap();
        let Some(TransportSlice::Tcp(t2)) = &t2.transport else {
            panic!()
        };
        assert_ne!(t2.checksum(), right);
        assert_eq!(bad.bytes.len(), p.bytes.len());
    }

    #[test]
    fn frames_and_udp() {
        let e = Ethernet {
            src: [2, 0, 0, 0, 0, 1],
            dst: [2, 0, 0, 0, 0, 2],
        };
        let mut spec = TcpSpec::new(a("10.77.0.2:8888"), a("10.77.0.1:40000"));
        spec.flags = TcpFlags::RST;
        spec.ack = 77;
        spec.ethernet = Some(e);
        let p = build_tcp(&spec).unwrap();
        assert!(p.ethernet);
        assert_eq!(p.bytes.len(), 14 + 20 + 20);
        assert_eq!(p.ip_bytes().len(), 40);
        let s = SlicedPacket::from_ethernet(&p.bytes).unwrap();
        let Some(TransportSlice::Tcp(t)) = &s.transport else {
            panic!()
        };
        assert!(t.rst() && !t.ack());
        assert_eq!(t.acknowledgment_number(), 77);
        let u = build_udp(&UdpSpec {
            src: a("10.77.0.1:5000"),
            dst: a("10.77.0.2:9999"),
            payload: b"hi".to_vec(),
            ttl: 64,
            bad_checksum: true,
            ethernet: None,
        })
        .unwrap();
        assert_eq!(u.bytes.len(), 30);
        assert!(u.summary.ends_with("length 2 (bad checksum)"));
    }
}
