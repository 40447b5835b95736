//! Errors raised while decoding a frame.

use std::fmt;

use thiserror::Error;

/// The layer a decode error is about; its `Display` is the name used in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// "Ethernet header".
    Ethernet,
    /// "Linux cooked header" (SLL).
    LinuxSll,
    /// "Linux cooked v2 header" (SLL2).
    LinuxSll2,
    /// "loopback header" (BSD null/loop).
    Loopback,
    /// Apple's PKTAP header.
    Pktap,
    /// "IP header": the version nibble.
    Ip,
    /// "IPv4 payload": the bytes an IPv4 header announces.
    Ipv4Payload,
    /// "IPv6 payload": the bytes an IPv6 header announces.
    Ipv6Payload,
    /// "ARP packet".
    Arp,
    /// "ICMP header".
    Icmp,
    /// "ICMPv6 header".
    Icmpv6,
    /// Any other layer, named as etherparse names it ("IPv4 header", "UDP payload", ...).
    Other(etherparse::err::Layer),
}

impl Layer {
    /// True for the payload an upper header announced (cut by the snap length or the
    /// frame's end), as opposed to a header that is itself short or malformed.
    pub fn is_payload(self) -> bool {
        use etherparse::err::Layer as E;
        matches!(
            self,
            Layer::Ipv4Payload | Layer::Ipv6Payload | Layer::Other(E::EtherPayload | E::UdpPayload)
        )
    }

    /// The layer of an etherparse error, with labrun's names where they differ.
    pub(crate) fn from_etherparse(layer: etherparse::err::Layer) -> Layer {
        use etherparse::err::Layer as E;
        match layer {
            E::Ethernet2Header => Layer::Ethernet,
            E::LinuxSllHeader => Layer::LinuxSll,
            E::Icmpv4 => Layer::Icmp,
            E::Icmpv6 => Layer::Icmpv6,
            E::Arp => Layer::Arp,
            E::IpHeader => Layer::Ip,
            other => Layer::Other(other),
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Layer::Ethernet => "Ethernet header",
            Layer::LinuxSll => "Linux cooked header",
            Layer::LinuxSll2 => "Linux cooked v2 header",
            Layer::Loopback => "loopback header",
            Layer::Pktap => "PKTAP header",
            Layer::Ip => "IP header",
            Layer::Ipv4Payload => "IPv4 payload",
            Layer::Ipv6Payload => "IPv6 payload",
            Layer::Arp => "ARP packet",
            Layer::Icmp => "ICMP header",
            Layer::Icmpv6 => "ICMPv6 header",
            Layer::Other(other) => return write!(f, "{other}"),
        };
        f.write_str(name)
    }
}

/// Why decoding of a frame stopped early.
///
/// The messages are meant to be read by students, so they name the layer
/// and the byte counts involved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The frame ended before a header (or announced payload) was complete.
    #[error("frame truncated at {layer}: {got} of {need} bytes")]
    Truncated {
        /// The layer that was cut short.
        layer: Layer,
        /// Bytes that were available for the layer.
        got: usize,
        /// Bytes the layer needs.
        need: usize,
    },
    /// A header field holds a value that makes the rest undecodable.
    #[error("malformed {layer}: {reason}")]
    Malformed {
        /// The layer with the bad field.
        layer: Layer,
        /// What was wrong.
        reason: String,
    },
    /// An IPv4 total length shorter than the IPv4 header (tshark's words).
    #[error("Bogus IP length ({total_len}, less than header length {header_len})")]
    BogusIpLength {
        /// The total length field.
        total_len: u16,
        /// The header length (IHL × 4).
        header_len: u16,
    },
    /// The capture uses a link type this decoder does not know.
    #[error("unsupported link type (DLT {0})")]
    UnsupportedLinkType(u32),
}

impl WireError {
    /// The Protocol column tshark shows for a frame this error stopped: the layer it
    /// still names, or "Malformed".
    pub fn protocol(&self) -> &'static str {
        match self {
            WireError::BogusIpLength { .. } => "IPv4",
            _ => "Malformed",
        }
    }

    /// Shorthand for a [`WireError::Truncated`].
    pub fn truncated(layer: Layer, got: usize, need: usize) -> Self {
        WireError::Truncated { layer, got, need }
    }

    /// Shorthand for a [`WireError::Malformed`].
    pub fn malformed(layer: Layer, reason: impl Into<String>) -> Self {
        WireError::Malformed {
            layer,
            reason: reason.into(),
        }
    }

    /// Converts an etherparse stop error into a student-readable error.
    pub(crate) fn from_slice_error(
        err: &etherparse::err::packet::SliceError,
        layer: etherparse::err::Layer,
    ) -> Self {
        use etherparse::err::packet::SliceError;
        match err {
            SliceError::Len(len) => WireError::Truncated {
                layer: Layer::from_etherparse(len.layer),
                got: len.len,
                need: len.required_len,
            },
            other => WireError::Malformed {
                layer: Layer::from_etherparse(layer),
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Layer, WireError};
    use etherparse::err::Layer as E;

    #[test]
    fn layer_names_and_payloads() {
        let e = WireError::truncated(Layer::Ipv4Payload, 60, 1500);
        assert_eq!(
            e.to_string(),
            "frame truncated at IPv4 payload: 60 of 1500 bytes"
        );
        assert_eq!(
            WireError::malformed(Layer::Loopback, "x").to_string(),
            "malformed loopback header: x"
        );
        for (from, name) in [
            (E::Ethernet2Header, "Ethernet header"),
            (E::LinuxSllHeader, "Linux cooked header"),
            (E::Icmpv4, "ICMP header"),
            (E::Icmpv6, "ICMPv6 header"),
            (E::Arp, "ARP packet"),
            (E::IpHeader, "IP header"),
            (E::Ipv4Header, "IPv4 header"),
            (E::UdpPayload, "UDP payload"),
        ] {
            assert_eq!(Layer::from_etherparse(from).to_string(), name);
        }
        let payloads = [
            Layer::Ipv4Payload,
            Layer::Ipv6Payload,
            Layer::Other(E::UdpPayload),
        ];
        assert!(payloads.iter().all(|l| l.is_payload()));
        assert!(!Layer::Other(E::TcpHeader).is_payload() && !Layer::Ethernet.is_payload());
    }
}
