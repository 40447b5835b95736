//! Link-layer types and the hand-decoded link headers (SLL, SLL2, NULL).

use super::error::{Layer, WireError};

/// The link-layer header type of a capture (libpcap's DLT/LINKTYPE value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II (DLT 1).
    Ethernet,
    /// Linux cooked capture v1, used by `-i any` (DLT 113).
    LinuxSll,
    /// Linux cooked capture v2 (DLT 276).
    LinuxSll2,
    /// BSD loopback: a 4-byte address family (DLT 0, and 108 for LOOP).
    Null,
    /// Apple's PKTAP (LINKTYPE_PKTAP 258, what `tcpdump -k` and `-i pktap` write on macOS):
    /// a little-endian header naming the process and interface, then the frame of the
    /// link type the header names.
    Pktap,
    /// Raw IPv4/IPv6 without a link header (DLT 101, 12, 14; LINKTYPE_IPV4 228 and
    /// LINKTYPE_IPV6 229, which the version nibble tells apart just as well).
    RawIp,
}

impl LinkType {
    /// Maps a libpcap DLT / LINKTYPE number to a link type this crate decodes.
    pub fn from_dlt(dlt: u32) -> Option<Self> {
        match dlt {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            0 | 108 => Some(LinkType::Null),
            101 | 12 | 14 | 228 | 229 => Some(LinkType::RawIp),
            258 => Some(LinkType::Pktap),
            _ => None,
        }
    }

    /// The canonical DLT number of this link type (as written in pcap files).
    pub fn dlt(&self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Null => 0,
            LinkType::RawIp => 101,
            LinkType::Pktap => 258,
        }
    }
}

/// Ethernet II header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetRepr {
    /// Source MAC address.
    pub src: [u8; 6],
    /// Destination MAC address.
    pub dst: [u8; 6],
    /// EtherType of the payload (after any VLAN tags).
    pub ethertype: u16,
    /// The header's own type/length field: 0x8100 or 0x88a8 in front of VLAN tags, a
    /// length (below 0x0600) in an IEEE 802.3 frame. Wireshark's `eth.type` is this one.
    pub type_field: u16,
    /// VLAN id of the outermost 802.1Q tag, if any.
    pub vlan: Option<u16>,
}

/// Linux cooked capture (v1 or v2) header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SllRepr {
    /// 1 or 2: the cooked header version.
    pub version: u8,
    /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing.
    pub packet_type: u16,
    /// ARPHRD_ type of the device (1 Ethernet, 772 loopback).
    pub hatype: u16,
    /// Link-layer source address (as many bytes as the header announced, max 8).
    pub addr: Vec<u8>,
    /// Protocol (an EtherType for most packets).
    pub protocol: u16,
    /// Interface index (SLL2 only).
    pub ifindex: Option<u32>,
}

/// The decoded link layer of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRepr {
    /// Ethernet II, possibly VLAN tagged.
    Ethernet(EthernetRepr),
    /// Linux cooked capture v1 or v2.
    LinuxSll(SllRepr),
    /// BSD loopback address family value.
    Null {
        /// The address family (2 = IPv4; 24, 28 or 30 = IPv6).
        family: u32,
    },
    /// No link header.
    Raw,
}

/// Zero-copy view of a Linux cooked v2 (SLL2) header: 20 bytes.
pub struct Sll2Header<'a> {
    bytes: &'a [u8],
}

impl<'a> Sll2Header<'a> {
    /// Length of an SLL2 header.
    pub const LEN: usize = 20;

    /// Checks the length and wraps the bytes.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, WireError> {
        if bytes.len() < Self::LEN {
            return Err(WireError::truncated(
                Layer::LinuxSll2,
                bytes.len(),
                Self::LEN,
            ));
        }
        Ok(Sll2Header { bytes })
    }

    fn u16_at(&self, at: usize) -> u16 {
        read_u16(self.bytes, at).unwrap_or(0)
    }

    /// Protocol type (EtherType).
    pub fn protocol(&self) -> u16 {
        self.u16_at(0)
    }
    /// Interface index.
    pub fn ifindex(&self) -> u32 {
        read_u32(self.bytes, 4).unwrap_or(0)
    }
    /// ARPHRD_ hardware type.
    pub fn hatype(&self) -> u16 {
        self.u16_at(8)
    }
    /// Packet type.
    pub fn packet_type(&self) -> u8 {
        self.bytes.get(10).copied().unwrap_or(0)
    }
    /// Link-layer address bytes (length clamped to 8).
    pub fn addr(&self) -> &'a [u8] {
        let len = usize::from(self.bytes.get(11).copied().unwrap_or(0)).min(8);
        self.bytes.get(12..12 + len).unwrap_or(&[])
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(Self::LEN..).unwrap_or(&[])
    }
}

/// Zero-copy view of a Linux cooked v1 (SLL) header: 16 bytes.
pub struct SllHeader<'a> {
    bytes: &'a [u8],
}

impl<'a> SllHeader<'a> {
    /// Length of an SLL header.
    pub const LEN: usize = 16;

    /// Checks the length and wraps the bytes.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, WireError> {
        if bytes.len() < Self::LEN {
            return Err(WireError::truncated(
                Layer::LinuxSll,
                bytes.len(),
                Self::LEN,
            ));
        }
        Ok(SllHeader { bytes })
    }
    /// Packet type.
    pub fn packet_type(&self) -> u16 {
        read_u16(self.bytes, 0).unwrap_or(0)
    }
    /// ARPHRD_ hardware type.
    pub fn hatype(&self) -> u16 {
        read_u16(self.bytes, 2).unwrap_or(0)
    }
    /// Link-layer address bytes (length clamped to 8).
    pub fn addr(&self) -> &'a [u8] {
        let len = usize::from(read_u16(self.bytes, 4).unwrap_or(0)).min(8);
        self.bytes.get(6..6 + len).unwrap_or(&[])
    }
    /// Protocol type (EtherType).
    pub fn protocol(&self) -> u16 {
        read_u16(self.bytes, 14).unwrap_or(0)
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(Self::LEN..).unwrap_or(&[])
    }
}

/// Zero-copy view of a BSD loopback (NULL/LOOP) header: a 4-byte family.
pub struct NullHeader<'a> {
    bytes: &'a [u8],
}

impl<'a> NullHeader<'a> {
    /// Length of the family header.
    pub const LEN: usize = 4;

    /// Checks the length and wraps the bytes.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, WireError> {
        if bytes.len() < Self::LEN {
            return Err(WireError::truncated(
                Layer::Loopback,
                bytes.len(),
                Self::LEN,
            ));
        }
        Ok(NullHeader { bytes })
    }

    /// The address family. DLT_NULL stores it in the capturing host's byte
    /// order, so a value that only makes sense byte-swapped is swapped.
    pub fn family(&self) -> u32 {
        let raw = read_u32(self.bytes, 0).unwrap_or(0);
        if raw > 0xffff { raw.swap_bytes() } else { raw }
    }

    /// EtherType implied by the family (IPv4 or IPv6), if known.
    pub fn ethertype(&self) -> Option<u16> {
        match self.family() {
            2 => Some(0x0800),
            10 | 24 | 28 | 30 => Some(0x86dd),
            _ => None,
        }
    }

    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(Self::LEN..).unwrap_or(&[])
    }
}

/// Reads a big-endian u16 at `at`, `None` if out of range.
pub(crate) fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

/// Reads a big-endian u32 at `at`, `None` if out of range.
pub(crate) fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *s.first()?,
        *s.get(1)?,
        *s.get(2)?,
        *s.get(3)?,
    ]))
}

/// The frame inside a PKTAP record: its link type and bytes. Wireshark's packet-pktap.c
/// reads the header length (offset 0), the record type (4; 1 is a packet) and the inner
/// DLT (8), all little-endian.
pub fn pktap_inner(data: &[u8]) -> Result<(LinkType, &[u8]), WireError> {
    let le = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(len), Some(record), Some(dlt)) = (le(0), le(4), le(8)) else {
        return Err(WireError::truncated(Layer::Pktap, data.len(), 12));
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len < 12 || len > data.len() {
        return Err(WireError::malformed(
            Layer::Pktap,
            format!("header length {len} in a {}-byte frame", data.len()),
        ));
    }
    if record != 1 {
        return Err(WireError::malformed(
            Layer::Pktap,
            format!("record type {record} is not a packet"),
        ));
    }
    match LinkType::from_dlt(dlt) {
        Some(link) if link != LinkType::Pktap => Ok((link, &data[len..])),
        _ => Err(WireError::malformed(
            Layer::Pktap,
            format!("unsupported inner link type {dlt}"),
        )),
    }
}
