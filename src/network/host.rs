//! A lab host: an address and an interface, making sockets and captures for scripts.

use super::TargetPolicy;
use crate::capture::CaptureConfig;
use crate::sockets::{SockError, SockResult, TcpConn, TcpListener, TcpOptions, UdpSock};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// One end of a lab conversation.
#[derive(Debug, Clone)]
pub struct Host {
    name: String,
    ip: IpAddr,
    iface: String,
    policy: Arc<TargetPolicy>,
}

impl Host {
    /// A host called `name` with address `ip` whose captures open `iface`.
    pub fn new(name: &str, ip: IpAddr, iface: &str, policy: Arc<TargetPolicy>) -> Host {
        Host {
            name: name.to_string(),
            ip,
            iface: iface.to_string(),
            policy,
        }
    }

    /// The host's name (`client`, `server`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The interface a capture on this host opens.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    fn check_target(&self, op: &str, to: SocketAddr) -> SockResult<()> {
        if self.policy.allows(to.ip()) {
            Ok(())
        } else {
            Err(SockError {
                op: op.to_string(),
                name: "EACCES".to_string(),
                errno: 0,
                message: format!(
                    "{} is not a lab host: labrun sends only to loopback or to hosts it created itself",
                    to.ip()
                ),
            })
        }
    }

    /// Listens on `port` of this host's address (0: a free port).
    pub fn listen(&self, port: u16, opts: TcpOptions) -> SockResult<TcpListener> {
        TcpListener::bind(SocketAddr::new(self.ip, port), opts)
    }

    /// Connects from this host to `to`.
    pub fn connect(&self, to: SocketAddr, opts: TcpOptions) -> SockResult<TcpConn> {
        self.check_target("connect", to)?;
        TcpConn::connect(to, Some(SocketAddr::new(self.ip, 0)), opts)
    }

    /// Binds a UDP socket on `port` of this host's address (0: a free port).
    pub fn udp(&self, port: u16) -> SockResult<UdpSock> {
        UdpSock::bind(SocketAddr::new(self.ip, port))
    }

    /// Checks that a UDP datagram may be sent to `to`.
    pub fn check_udp_target(&self, to: SocketAddr) -> SockResult<()> {
        self.check_target("send_to", to)
    }

    /// A capture configuration for this host's interface.
    pub fn capture_config(&self, filter: &str) -> CaptureConfig {
        CaptureConfig::new(&self.iface, filter)
    }
}
