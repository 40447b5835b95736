//! Two-machine labs (`--network host`): this machine plays one role on its real interface,
//! the peer named on the command line plays the other.

use super::{Host, Network, NetworkError, NetworkKind, TargetPolicy};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;

/// Which side of the lab this machine plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Listens and accepts.
    Server,
    /// Connects.
    Client,
}

impl Role {
    /// `server` or `client`, the host names scripts use.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }

    /// The role in Chinese: 服务器 or 客户端, for reports in `--lang zh`.
    pub fn zh(self) -> &'static str {
        match self {
            Role::Server => "服务器",
            Role::Client => "客户端",
        }
    }

    /// The role the peer plays.
    pub fn other(self) -> Role {
        match self {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        }
    }
}

/// The local address the kernel would use to reach `peer` (no packet is sent).
fn local_ip_towards(peer: IpAddr) -> std::io::Result<IpAddr> {
    let any: SocketAddr = if peer.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = UdpSocket::bind(any)?;
    s.connect(SocketAddr::new(peer, 9))?;
    Ok(s.local_addr()?.ip())
}

/// The capture interface that holds `ip` (none without libpcap to list them).
#[cfg(not(feature = "live-capture"))]
fn iface_with(_ip: IpAddr) -> Option<String> {
    None
}

/// The capture interface that holds `ip`.
#[cfg(feature = "live-capture")]
fn iface_with(ip: IpAddr) -> Option<String> {
    pcap::Device::list()
        .ok()?
        .into_iter()
        .find(|d| d.addresses.iter().any(|a| a.addr == ip))
        .map(|d| d.name)
}

pub(super) fn build(
    role: Role,
    peer: SocketAddr,
    iface: Option<&str>,
) -> Result<Network, NetworkError> {
    let peer_ip = peer.ip();
    let err = |message: String| NetworkError::Peer {
        peer: peer_ip,
        message,
    };
    let local = local_ip_towards(peer_ip).map_err(|e| err(format!("no route to it ({e})")))?;
    let iface = match iface {
        Some(i) => i.to_string(),
        None => iface_with(local).ok_or_else(|| {
            err(format!(
                "no capture interface holds the local address {local}; name one with --iface"
            ))
        })?,
    };
    let policy = Arc::new(TargetPolicy {
        own: vec![peer_ip, local],
    });
    let hosts = vec![
        Host::new(role.as_str(), local, &iface, Arc::clone(&policy)),
        Host::new(role.other().as_str(), peer_ip, &iface, Arc::clone(&policy)).remote(),
    ];
    Ok(Network {
        kind: NetworkKind::Host,
        hosts,
        role: Some(role),
        peer_port: (peer.port() != 0).then_some(peer.port()),
        description: crate::i18n::Text::new(
            format!(
                "two machines: this one is the {} at {local} ({iface}), the {} is {peer_ip}",
                role.as_str(),
                role.other().as_str()
            ),
            format!(
                "两台机器：本机是 {local} ({iface}) 上的{}，{}是 {peer_ip}",
                role.zh(),
                role.other().zh()
            ),
        ),
        keep_alive: None,
    })
}
