//! Link layers and protocol headers: decoding one captured frame into a
//! plain, owned [`Frame`] without ever panicking on the input bytes.
//!
//! This crate does no I/O: it turns bytes into plain representations (`*Repr`), so any
//! tool that reads frames (a capture file reader, a live capture, a fuzzer) can use it.
//! Malformed input never panics; what could not be decoded is kept in [`Frame::error`]
//! with the layer it failed in.
//!
//! ```
//! use labrun_wire::{LinkType, TcpFlags, TransportRepr, decode};
//!
//! // An Ethernet frame carrying a TCP SYN from 10.77.0.1:40000 to 10.77.0.2:8888.
//! let mut bytes = Vec::new();
//! etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
//!     .ipv4([10, 77, 0, 1], [10, 77, 0, 2], 64)
//!     .tcp(40000, 8888, 1000, 64240)
//!     .syn()
//!     .write(&mut bytes, &[])
//!     .unwrap();
//!
//! let frame = decode(LinkType::Ethernet, &bytes);
//! assert!(frame.error.is_none());
//! let Some(TransportRepr::Tcp(tcp)) = frame.transport else { panic!("not TCP") };
//! assert_eq!((tcp.src_port, tcp.dst_port, tcp.seq), (40000, 8888, 1000));
//! assert!(tcp.flags.contains(TcpFlags::SYN));
//!
//! // Cut short, the same frame still decodes as far as it goes, with an error.
//! assert!(decode(LinkType::Ethernet, &bytes[..30]).error.is_some());
//! ```

mod decode;
mod emit;
mod error;
mod fast_path;
mod flags;
mod link;
mod repr;
mod seq;
mod tcp_options;

pub use decode::{
    decode, decode_arp, decode_captured, decode_icmpv6, decode_opts, decode_reusing,
    decode_transport,
};
pub use error::{Layer, WireError};
pub use flags::{FlagsParseError, TcpFlags};
pub use link::{
    EthernetRepr, LinkRepr, LinkType, NullHeader, Sll2Header, SllHeader, SllRepr, pktap_inner,
};
pub use repr::{
    ArpRepr, Frame, IcmpQuote, IcmpRepr, Icmpv6Repr, IpRepr, NetRepr, TcpOption, TcpRepr,
    TransportRepr, UdpRepr,
};
pub use seq::SeqNumber;
pub use tcp_options::{parse_tcp_options, parse_tcp_options_into};

#[cfg(test)]
mod tests;
