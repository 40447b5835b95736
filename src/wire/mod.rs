//! Link layers and protocol headers: decoding one captured frame into a
//! plain, owned [`Frame`] without ever panicking on the input bytes.

mod decode;
mod error;
mod fast_path;
mod link;
mod repr;
mod tcp_options;

pub use decode::{decode, decode_arp, decode_opts, decode_reusing, decode_transport};
pub use error::WireError;
pub use link::{EthernetRepr, LinkRepr, LinkType, NullHeader, Sll2Header, SllHeader, SllRepr};
pub use repr::{
    ArpRepr, Frame, IcmpQuote, IcmpRepr, IpRepr, NetRepr, TcpOption, TcpRepr, TransportRepr,
    UdpRepr, tcp_flags,
};
pub use tcp_options::{parse_tcp_options, parse_tcp_options_into};

#[cfg(test)]
mod tests;
