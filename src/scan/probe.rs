//! SYN and FIN probes built with etherparse, and the answers read from captured frames:
//! a TCP segment (SYN-ACK or RST) or an ICMP destination unreachable quoting a probe.
//!
//! Each probe's sequence number is a keyed hash of its port and try number, so an answer
//! proves which probe it answers (SYN-ACK and RST acknowledge seq + 1; ICMP quotes it).

use super::ScanType;
use etherparse::{
    Icmpv4Type, LaxNetSlice, LaxSlicedPacket, PacketBuilder, TcpOptionElement, TransportSlice,
};
use std::net::Ipv4Addr;

/// libpcap's link types the scanner decodes.
const DLT_EN10MB: i32 = 1;
const DLT_RAW: i32 = 12;
const DLT_RAW_LINUX: i32 = 101;
const DLT_LINUX_SLL: i32 = 113;
const DLT_LINUX_SLL2: i32 = 276;

/// True when frames of libpcap link type `dlt` can be decoded.
pub fn link_supported(dlt: i32) -> bool {
    matches!(
        dlt,
        DLT_EN10MB | DLT_RAW | DLT_RAW_LINUX | DLT_LINUX_SLL | DLT_LINUX_SLL2
    )
}

/// The sequence number of probe `try_no` to `port`, keyed by the scan's `secret`.
pub fn cookie(secret: u64, port: u16, try_no: u32) -> u32 {
    // splitmix64 finaliser over the key, port and try.
    let mut z =
        secret ^ (u64::from(port) << 32 | u64::from(try_no)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as u32
}

/// One probe to build.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// The scanner's address.
    pub src: Ipv4Addr,
    /// The target.
    pub dst: Ipv4Addr,
    /// The scanner's port (the same for every probe of a scan).
    pub sport: u16,
    /// The scanned port.
    pub dport: u16,
    /// The sequence number ([`cookie`]).
    pub seq: u32,
    /// SYN or FIN.
    pub kind: ScanType,
}

/// The IPv4 packet of a probe, with correct checksums: a SYN carries MSS 1460 like
/// nmap's; a FIN carries no options and no ACK (RFC 793: a closed port answers RST, an
/// open one drops it).
pub fn build(p: &Probe, out: &mut Vec<u8>) {
    out.clear();
    let b =
        PacketBuilder::ipv4(p.src.octets(), p.dst.octets(), 64).tcp(p.sport, p.dport, p.seq, 1024);
    let result = match p.kind {
        ScanType::Fin => b.fin().write(out, &[]),
        _ => match b
            .syn()
            .options(&[TcpOptionElement::MaximumSegmentSize(1460)])
        {
            Ok(b) => b.write(out, &[]),
            // Four bytes of options always fit; build without them if not.
            Err(_) => PacketBuilder::ipv4(p.src.octets(), p.dst.octets(), 64)
                .tcp(p.sport, p.dport, p.seq, 1024)
                .syn()
                .write(out, &[]),
        },
    };
    // Writing into a Vec cannot fail; an empty buffer is never sent.
    if result.is_err() {
        out.clear();
    }
}

/// What a captured frame says about a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A TCP segment.
    Tcp {
        /// Sender address.
        src: Ipv4Addr,
        /// Receiver address.
        dst: Ipv4Addr,
        /// Sender port.
        sport: u16,
        /// Receiver port.
        dport: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// SYN flag.
        syn: bool,
        /// ACK flag.
        ack_flag: bool,
        /// RST flag.
        rst: bool,
    },
    /// ICMP destination unreachable quoting a TCP segment.
    Unreachable {
        /// Who sent the ICMP message.
        from: Ipv4Addr,
        /// Its code (3: port unreachable).
        code: u8,
        /// The quoted segment's source address.
        src: Ipv4Addr,
        /// The quoted segment's destination address.
        dst: Ipv4Addr,
        /// The quoted source port.
        sport: u16,
        /// The quoted destination port.
        dport: u16,
        /// The quoted sequence number.
        seq: u32,
    },
}

/// Decodes a frame of link type `dlt` into an answer, or `None` for anything else
/// (never panics on short or odd frames).
pub fn parse(dlt: i32, frame: &[u8]) -> Option<Answer> {
    let packet = match dlt {
        DLT_EN10MB => LaxSlicedPacket::from_ethernet(frame).ok()?,
        DLT_RAW | DLT_RAW_LINUX => LaxSlicedPacket::from_ip(frame).ok()?,
        DLT_LINUX_SLL => LaxSlicedPacket::from_ip(frame.get(16..)?).ok()?,
        DLT_LINUX_SLL2 => LaxSlicedPacket::from_ip(frame.get(20..)?).ok()?,
        _ => return None,
    };
    let Some(LaxNetSlice::Ipv4(ip)) = &packet.net else {
        return None;
    };
    let header = ip.header();
    let src = header.source_addr();
    let dst = header.destination_addr();
    match packet.transport.as_ref()? {
        TransportSlice::Tcp(t) => Some(Answer::Tcp {
            src,
            dst,
            sport: t.source_port(),
            dport: t.destination_port(),
            seq: t.sequence_number(),
            ack: t.acknowledgment_number(),
            syn: t.syn(),
            ack_flag: t.ack(),
            rst: t.rst(),
        }),
        TransportSlice::Icmpv4(icmp) => {
            let Icmpv4Type::DestinationUnreachable(_) = icmp.icmp_type() else {
                return None;
            };
            let inner = icmp.payload();
            let ihl = usize::from(inner.first()? & 0x0f) * 4;
            if inner.first()? >> 4 != 4 || ihl < 20 || *inner.get(9)? != 6 {
                return None;
            }
            let quoted = inner.get(ihl..ihl + 8)?;
            let be16 = |at: usize| u16::from_be_bytes([quoted[at], quoted[at + 1]]);
            Some(Answer::Unreachable {
                from: src,
                code: icmp.code_u8(),
                src: Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15]),
                dst: Ipv4Addr::new(inner[16], inner[17], inner[18], inner[19]),
                sport: be16(0),
                dport: be16(2),
                seq: u32::from_be_bytes([quoted[4], quoted[5], quoted[6], quoted[7]]),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ethernet(ip: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(ip);
        f
    }

    #[test]
    fn probes_parse_back() {
        let src = Ipv4Addr::new(10, 77, 0, 1);
        let dst = Ipv4Addr::new(10, 77, 0, 2);
        let seq = cookie(7, 80, 1);
        let mut buf = Vec::new();
        for kind in [ScanType::Syn, ScanType::Fin] {
            build(
                &Probe {
                    src,
                    dst,
                    sport: 40000,
                    dport: 80,
                    seq,
                    kind,
                },
                &mut buf,
            );
            let a = parse(DLT_EN10MB, &ethernet(&buf)).unwrap();
            let Answer::Tcp {
                sport,
                dport,
                seq: s,
                syn,
                rst,
                ..
            } = a
            else {
                panic!("{a:?}")
            };
            assert_eq!((sport, dport, s, rst), (40000, 80, seq, false));
            assert_eq!(syn, kind == ScanType::Syn);
            assert_eq!(buf.len(), if kind == ScanType::Syn { 44 } else { 40 });
        }
    }

    #[test]
    fn icmp_unreachable_quotes_the_probe() {
        let mut probe = Vec::new();
        let (a, b) = (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2));
        build(
            &Probe {
                src: a,
                dst: b,
                sport: 40000,
                dport: 82,
                seq: 0xdead_beef,
                kind: ScanType::Syn,
            },
            &mut probe,
        );
        let mut ip = Vec::new();
        PacketBuilder::ipv4(b.octets(), a.octets(), 64)
            .icmpv4_raw(3, 3, [0; 4])
            .write(&mut ip, &probe)
            .unwrap();
        let got = parse(DLT_EN10MB, &ethernet(&ip)).unwrap();
        assert_eq!(
            got,
            Answer::Unreachable {
                from: b,
                code: 3,
                src: a,
                dst: b,
                sport: 40000,
                dport: 82,
                seq: 0xdead_beef
            }
        );
    }

    #[test]
    fn junk_is_ignored() {
        assert_eq!(parse(DLT_EN10MB, &[]), None);
        assert_eq!(parse(DLT_EN10MB, &[0u8; 13]), None);
        assert_eq!(parse(DLT_LINUX_SLL, &[1, 2, 3]), None);
        assert_eq!(parse(999, &[0u8; 64]), None);
        assert_ne!(cookie(1, 80, 1), cookie(1, 80, 2));
        assert_ne!(cookie(1, 80, 1), cookie(1, 81, 1));
    }
}
