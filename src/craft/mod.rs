//! Hand-made packets: IPv4 TCP and UDP packets (optionally in an Ethernet frame) built with
//! etherparse, with correct checksums unless a wrong one is asked for, sent on a raw IPv4
//! socket that carries its own IP header (so any source address can be written), or
//! injected as a whole frame through libpcap. The port scanner's probes go out on the same
//! raw socket.

mod build;
mod send;

pub use build::{Crafted, Ethernet, TcpFlags, TcpSpec, UdpSpec, build_tcp, build_udp};
pub use send::{BpfMatcher, inject_frame, raw_ipv4_socket, send_ip};

/// The crafting layer's error.
#[derive(Debug, thiserror::Error)]
pub enum CraftError {
    /// The packet description is not one that can be built.
    #[error("{0}")]
    Invalid(String),
    /// A socket or capture call failed.
    #[error("cannot {action}: {source}{hint}")]
    Io {
        /// What was being done.
        action: String,
        /// The system's error.
        source: std::io::Error,
        /// What to do about it, if known.
        hint: String,
    },
    /// libpcap refused an operation (inject, filter compile).
    #[error("{action}: {message}{hint}")]
    Pcap {
        /// What was being done.
        action: String,
        /// libpcap's message.
        message: String,
        /// What to do about it, if known.
        hint: String,
    },
}

impl CraftError {
    /// An I/O error, with the privilege hint when the system refused for lack of it.
    pub fn io(action: impl Into<String>, source: std::io::Error) -> CraftError {
        let hint = if source.kind() == std::io::ErrorKind::PermissionDenied {
            "\n  crafted packets need raw sockets: run as root, or once \
             `sudo setcap cap_net_raw,cap_net_admin+ep $(which labrun)`"
                .to_string()
        } else {
            String::new()
        };
        CraftError::Io {
            action: action.into(),
            source,
            hint,
        }
    }
}

/// The crafting layer's result.
pub type CraftResult<T> = Result<T, CraftError>;
