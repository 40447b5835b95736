//! What a capture holds beyond single TCP streams, collected frame by frame
//! with bounded memory: counts, UDP flows, ICMP errors linked to the datagram
//! they answer, and reassembled IPv4 datagrams.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::analysis::Packet;

/// Most UDP flows, remembered datagrams and listed events kept; the rest are
/// only counted, so a scan or a flood cannot exhaust memory.
const MAX_ITEMS: usize = 10_000;

/// One UDP conversation (both directions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpFlow {
    /// The first sender.
    pub a: SocketAddr,
    /// The other end.
    pub b: SocketAddr,
    /// Datagrams and payload bytes from `a` to `b`.
    pub a_to_b: (u64, u64),
    /// Datagrams and payload bytes from `b` to `a`.
    pub b_to_a: (u64, u64),
    /// First and last frame.
    pub frames: (u64, u64),
}

/// An ICMP error and the datagram it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpError {
    /// Frame of the ICMP message.
    pub frame: u64,
    /// Its Info column.
    pub info: String,
    /// Who sent the error.
    pub from: IpAddr,
    /// The quoted datagram in words, e.g. "UDP 127.0.0.1:5000 → 127.0.0.1:9".
    pub quoted: String,
    /// The captured frame that carried the quoted datagram, when it was seen.
    pub answers: Option<u64>,
}

/// A datagram reassembled from IPv4 fragments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Defragmented {
    /// Frame where it was completed.
    pub frame: u64,
    /// The fragments' frames.
    pub fragments: Vec<u64>,
    /// The datagram's Info column.
    pub info: String,
}

/// Counters and lists for the report.
#[derive(Debug, Default)]
pub struct Summary {
    /// Frames read.
    pub frames: u64,
    /// Bytes on the wire.
    pub bytes: u64,
    /// Frames by protocol column.
    pub protocols: Vec<(String, u64)>,
    /// Frames that did not decode completely, and the first few reasons.
    pub decode_errors: (u64, Vec<(u64, String)>),
    /// Frames cut short by the snap length.
    pub cut_short: u64,
    /// UDP flows in order of appearance.
    pub udp_flows: Vec<UdpFlow>,
    /// ICMP errors.
    pub icmp_errors: Vec<IcmpError>,
    /// Reassembled datagrams.
    pub defragmented: Vec<Defragmented>,
    /// Time of the first and last frame (ns since the epoch).
    pub span: Option<(i128, i128)>,
    flow_index: HashMap<(SocketAddr, SocketAddr), usize>,
    sent: HashMap<(IpAddr, IpAddr, u16, u8), u64>,
}

impl Summary {
    /// Adds one analyzed frame.
    pub fn add(&mut self, p: &Packet) {
        self.frames += 1;
        self.bytes += u64::from(p.len);
        let ts = i128::from(p.ts_sec) * 1_000_000_000 + i128::from(p.ts_nsec);
        self.span = Some(match self.span {
            None => (ts, ts),
            Some((a, _)) => (a, ts),
        });
        match self.protocols.iter_mut().find(|(n, _)| *n == p.protocol) {
            Some((_, c)) => *c += 1,
            None => self.protocols.push((p.protocol.to_string(), 1)),
        }
        if p.cut_short {
            self.cut_short += 1;
        } else if let Some(e) = &p.error {
            self.decode_errors.0 += 1;
            if self.decode_errors.1.len() < 20 {
                self.decode_errors.1.push((p.number, e.clone()));
            }
        }
        if !p.reassembled_from.is_empty() && self.defragmented.len() < MAX_ITEMS {
            self.defragmented.push(Defragmented {
                frame: p.number,
                fragments: p.reassembled_from.clone(),
                info: p.info.clone(),
            });
        }
        let Some(ip) = &p.ip else { return };
        if ip.version == 4 && (p.udp.is_some() || p.tcp.is_some()) {
            if self.sent.len() >= MAX_ITEMS * 10 {
                self.sent.clear();
            }
            let first = p.reassembled_from.first().copied().unwrap_or(p.number);
            self.sent
                .insert((ip.src, ip.dst, ip.id, ip.protocol), first);
        }
        if let Some(u) = &p.udp {
            let src = SocketAddr::new(ip.src, u.src_port);
            let dst = SocketAddr::new(ip.dst, u.dst_port);
            let payload = u64::from(u.length.saturating_sub(8));
            let key = if src <= dst { (src, dst) } else { (dst, src) };
            let i = match self.flow_index.get(&key) {
                Some(i) => *i,
                None if self.udp_flows.len() < MAX_ITEMS => {
                    self.udp_flows.push(UdpFlow {
                        a: src,
                        b: dst,
                        a_to_b: (0, 0),
                        b_to_a: (0, 0),
                        frames: (p.number, p.number),
                    });
                    self.flow_index.insert(key, self.udp_flows.len() - 1);
                    self.udp_flows.len() - 1
                }
                None => return,
            };
            if let Some(f) = self.udp_flows.get_mut(i) {
                let dir = if f.a == src {
                    &mut f.a_to_b
                } else {
                    &mut f.b_to_a
                };
                dir.0 += 1;
                dir.1 += payload;
                f.frames.1 = p.number;
            }
        }
        if let Some(icmp) = &p.icmp {
            if let Some(q) = &icmp.quote {
                if self.icmp_errors.len() >= MAX_ITEMS {
                    return;
                }
                let proto = crate::analysis::ip_proto_name(q.ip.protocol);
                let quoted = match q.ports {
                    Some((s, d)) => format!(
                        "{proto} {} → {}",
                        SocketAddr::new(q.ip.src, s),
                        SocketAddr::new(q.ip.dst, d)
                    ),
                    None => format!("{proto} {} → {}", q.ip.src, q.ip.dst),
                };
                let answers = self
                    .sent
                    .get(&(q.ip.src, q.ip.dst, q.ip.id, q.ip.protocol))
                    .copied();
                self.icmp_errors.push(IcmpError {
                    frame: p.number,
                    info: p.info.clone(),
                    from: ip.src,
                    quoted,
                    answers,
                });
            }
        }
    }
}
