//! Errors raised while decoding a frame.

use thiserror::Error;

/// Why decoding of a frame stopped early.
///
/// The messages are meant to be read by students, so they name the layer
/// and the byte counts involved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The frame ended before a header (or announced payload) was complete.
    #[error("frame truncated at {layer}: {got} of {need} bytes")]
    Truncated {
        /// Human readable layer name, e.g. "IPv4 header".
        layer: String,
        /// Bytes that were available for the layer.
        got: usize,
        /// Bytes the layer needs.
        need: usize,
    },
    /// A header field holds a value that makes the rest undecodable.
    #[error("malformed {layer}: {reason}")]
    Malformed {
        /// Human readable layer name.
        layer: String,
        /// What was wrong.
        reason: String,
    },
    /// The capture uses a link type this decoder does not know.
    #[error("unsupported link type (DLT {0})")]
    UnsupportedLinkType(u32),
}

impl WireError {
    /// Shorthand for a [`WireError::Truncated`].
    pub fn truncated(layer: &str, got: usize, need: usize) -> Self {
        WireError::Truncated {
            layer: layer.to_string(),
            got,
            need,
        }
    }

    /// Shorthand for a [`WireError::Malformed`].
    pub fn malformed(layer: &str, reason: impl Into<String>) -> Self {
        WireError::Malformed {
            layer: layer.to_string(),
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
                layer: layer_name(len.layer),
                got: len.len,
                need: len.required_len,
            },
            other => WireError::Malformed {
                layer: layer_name(layer),
                reason: other.to_string(),
            },
        }
    }
}

/// Short layer names used in messages ("IPv4 header", "TCP header", ...).
pub(crate) fn layer_name(layer: etherparse::err::Layer) -> String {
    use etherparse::err::Layer;
    match layer {
        Layer::Ethernet2Header => "Ethernet header".to_string(),
        Layer::LinuxSllHeader => "Linux cooked header".to_string(),
        Layer::Icmpv4 => "ICMP header".to_string(),
        Layer::Icmpv6 => "ICMPv6 header".to_string(),
        Layer::Arp => "ARP packet".to_string(),
        other => other.to_string(),
    }
}
