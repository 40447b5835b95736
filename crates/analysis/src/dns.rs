//! DNS, mDNS and LLMNR messages (RFC 1035, 6762, 4795), read far enough for Wireshark's
//! Info column: the header, the questions and each record's type and main data.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which of the DNS-format protocols a UDP port pair carries, as Wireshark picks it
/// (the lower port first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsFlavor {
    /// DNS, port 53.
    Dns,
    /// Multicast DNS, port 5353.
    Mdns,
    /// Link-Local Multicast Name Resolution, port 5355.
    Llmnr,
}

impl DnsFlavor {
    /// The flavor of a UDP datagram between `a` and `b`, if either is a DNS-format port.
    pub fn of_ports(a: u16, b: u16) -> Option<DnsFlavor> {
        let flavor = |p: u16| match p {
            53 => Some(DnsFlavor::Dns),
            5353 => Some(DnsFlavor::Mdns),
            5355 => Some(DnsFlavor::Llmnr),
            _ => None,
        };
        flavor(a.min(b)).or_else(|| flavor(a.max(b)))
    }

    /// Wireshark's Protocol column.
    pub fn protocol(self) -> &'static str {
        match self {
            DnsFlavor::Dns => "DNS",
            DnsFlavor::Mdns => "MDNS",
            DnsFlavor::Llmnr => "LLMNR",
        }
    }
}

/// A question: the name asked for, its type and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuestion {
    /// The name, dotted; empty for the root.
    pub name: String,
    /// Record type (1 A, 28 AAAA, ...).
    pub rtype: u16,
    /// Class, with mDNS's unicast-response bit (0x8000) kept.
    pub class: u16,
}

/// The data of a record, as far as the Info column shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsData {
    /// A or AAAA.
    Addr(IpAddr),
    /// NS, CNAME, PTR, DNAME: a name; SOA: its primary server.
    Name(String),
    /// MX: preference and exchange.
    Mx(u16, String),
    /// SRV: priority, weight, port and target.
    Srv(u16, u16, u16, String),
    /// Any other type (its data is not shown).
    Other,
}

/// A resource record of any section: its type and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Record type.
    pub rtype: u16,
    /// What the Info column shows of its data.
    pub data: DnsData,
}

/// A DNS-format message, read until its end or the first malformed part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    /// DNS, mDNS or LLMNR.
    pub flavor: DnsFlavor,
    /// The 12-byte header was there (else nothing else is).
    pub has_header: bool,
    /// Transaction ID.
    pub id: u16,
    /// Flags: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode.
    pub flags: u16,
    /// Questions read.
    pub questions: Vec<DnsQuestion>,
    /// Records of the answer, authority and additional sections read.
    pub records: Vec<DnsRecord>,
    /// True when the message ended before what its header announced, or a name was bad.
    pub malformed: bool,
}

impl DnsMessage {
    /// Reads `msg` (a UDP payload) of `flavor`. Never fails: what cannot be read makes
    /// the message malformed from that point, as Wireshark marks it.
    pub fn parse(flavor: DnsFlavor, msg: &[u8]) -> DnsMessage {
        let mut m = DnsMessage {
            flavor,
            has_header: false,
            id: 0,
            flags: 0,
            questions: Vec::new(),
            records: Vec::new(),
            malformed: false,
        };
        let Some(h) = msg.get(..12) else {
            m.malformed = true;
            return m;
        };
        let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        m.has_header = true;
        m.id = word(0);
        m.flags = word(2);
        let (qd, rr) = (word(4), [word(6), word(8), word(10)]);
        let mut at = 12;
        for _ in 0..qd {
            let Some((name, next)) = read_name(msg, at) else {
                m.malformed = true;
                return m;
            };
            let (Some(rtype), Some(class)) = (read_u16(msg, next), read_u16(msg, next + 2)) else {
                m.malformed = true;
                return m;
            };
            m.questions.push(DnsQuestion { name, rtype, class });
            at = next + 4;
        }
        for _ in 0..rr.iter().map(|&n| u32::from(n)).sum::<u32>() {
            match read_record(msg, at) {
                Some((record, next)) => {
                    m.records.push(record);
                    at = next;
                }
                None => {
                    m.malformed = true;
                    return m;
                }
            }
        }
        m
    }

    /// True for a response (the QR bit).
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The opcode (0 query, 1 inverse query, 2 status, 4 notify, 5 update).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }

    /// The response code (0 no error, 3 no such name, ...).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads the (possibly compressed) name at `at`: the dotted name and where the bytes
/// after it start. `None` for a name that runs off the message, loops or is too long.
fn read_name(msg: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(at)?;
        match len & 0xc0 {
            0x00 if len == 0 => break,
            0x00 => {
                let label = msg.get(at + 1..at + 1 + usize::from(len))?;
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(&String::from_utf8_lossy(label));
                if name.len() > 255 {
                    return None;
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let target = usize::from(u16::from_be_bytes([len, *msg.get(at + 1)?]) & 0x3fff);
                end.get_or_insert(at + 2);
                jumps += 1;
                if jumps > 64 {
                    return None;
                }
                at = target;
            }
            _ => return None,
        }
    }
    Some((name, end.unwrap_or(at + 1)))
}

/// Reads the record at `at` and returns it with the offset after it.
fn read_record(msg: &[u8], at: usize) -> Option<(DnsRecord, usize)> {
    let (_, next) = read_name(msg, at)?;
    let rtype = read_u16(msg, next)?;
    let rdlen = usize::from(read_u16(msg, next + 8)?);
    let start = next + 10;
    let rdata = msg.get(start..start + rdlen)?;
    let name_at = |off: usize| read_name(msg, start + off).map(|(n, _)| n);
    let data = match rtype {
        1 => DnsData::Addr(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(rdata).ok()?))),
        28 => DnsData::Addr(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(rdata).ok()?,
        ))),
        2 | 5 | 6 | 12 | 39 => DnsData::Name(name_at(0)?),
        15 => DnsData::Mx(read_u16(rdata, 0)?, name_at(2)?),
        33 => DnsData::Srv(
            read_u16(rdata, 0)?,
            read_u16(rdata, 2)?,
            read_u16(rdata, 4)?,
            name_at(6)?,
        ),
        _ => DnsData::Other,
    };
    Some((DnsRecord { rtype, data }, start + rdlen))
}

/// Wireshark's name of a record type.
pub fn type_name(t: u16) -> std::borrow::Cow<'static, str> {
    let name = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        24 => "SIG",
        25 => "KEY",
        28 => "AAAA",
        29 => "LOC",
        33 => "SRV",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return format!("Unknown ({t})").into(),
    };
    name.into()
}

/// Wireshark's name of an opcode.
pub fn opcode_name(op: u8) -> std::borrow::Cow<'static, str> {
    match op {
        0 => "Standard query".into(),
        1 => "Inverse query".into(),
        2 => "Server status request".into(),
        4 => "Zone change notification".into(),
        5 => "Dynamic update".into(),
        _ => format!("Unknown operation ({op})").into(),
    }
}

/// Wireshark's name of a response code.
pub fn rcode_name(rcode: u8) -> std::borrow::Cow<'static, str> {
    let name = match rcode {
        1 => "Format error",
        2 => "Server failure",
        3 => "No such name",
        4 => "Not implemented",
        5 => "Refused",
        6 => "Name exists",
        7 => "RRset exists",
        8 => "RRset does not exist",
        9 => "Not authoritative",
        10 => "Name out of zone",
        _ => return format!("Unknown error ({rcode})").into(),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_names_and_loops() {
        // Header, question example.com A IN, answer (pointer to 12) A 1.2.3.4.
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]);
        let d = DnsMessage::parse(DnsFlavor::Dns, &m);
        assert!(!d.malformed && d.is_response());
        assert_eq!(d.questions[0].name, "example.com");
        assert_eq!(d.records[0].data, DnsData::Addr("1.2.3.4".parse().unwrap()));
        // A pointer to itself is malformed, not an endless loop.
        let mut looped = m.clone();
        looped[12..14].copy_from_slice(&[0xc0, 12]);
        assert!(DnsMessage::parse(DnsFlavor::Dns, &looped).malformed);
        for cut in 0..m.len() {
            assert!(
                DnsMessage::parse(DnsFlavor::Dns, &m[..cut]).malformed,
                "cut {cut}"
            );
        }
    }
}
