//! Where a lab's hosts live, and the rule of where traffic may go.
//!
//! A [`Network`] holds named [`Host`]s: both on loopback, each in its own namespace of
//! labrun's sandbox (Linux), or this machine and a peer machine named on the command
//! line. Every socket a script opens is created by a host, and every destination is
//! checked against the network's [`TargetPolicy`]: labrun sends only to loopback, to hosts
//! it made itself, or to the peer the user named explicitly.

mod firewall;
mod host;
pub mod link;
mod loss;
mod options;
#[cfg(target_os = "linux")]
mod sandboxed;
mod two_machines;

pub use firewall::Firewall;
pub use host::{Host, NetContext};
pub use loss::{LinkLoss, Loss};
pub use options::{HostAddr, NetOptions, OptionValue};
#[cfg(target_os = "linux")]
pub use sandboxed::judge_relay;
pub use two_machines::Role;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The network layer's error.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The sandbox could not be built (privileges, kernel support, ...).
    #[error("cannot build the lab network: {0}")]
    Sandbox(String),
    /// The sandbox needs Linux network namespaces.
    #[error(
        "the sandbox needs Linux network namespaces; on this system run labs with --network loopback"
    )]
    Unsupported,
    /// The peer machine cannot be reached or no local interface routes to it.
    #[error("cannot reach the peer {peer}: {message}")]
    Peer {
        /// The peer named with --peer.
        peer: IpAddr,
        /// What went wrong.
        message: String,
    },
    /// A script option is wrong.
    #[error("{0}")]
    Option(String),
    /// Firewall rules could not be set on a host.
    #[error("firewall: {0}")]
    Firewall(String),
}

/// Where a lab runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkKind {
    /// Both hosts are this machine's loopback interface.
    Loopback,
    /// Each host in its own network namespace, joined by a veth link.
    Sandbox,
    /// This machine's real interface and a peer machine (two-machine labs).
    Host,
}

impl NetworkKind {
    /// The name scripts and the CLI use: `loopback`, `sandbox`, `host`.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkKind::Loopback => "loopback",
            NetworkKind::Sandbox => "sandbox",
            NetworkKind::Host => "host",
        }
    }
}

/// Which destinations scripts may reach.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// Addresses of hosts labrun created, or the peer the user named (besides loopback).
    pub own: Vec<IpAddr>,
}

impl TargetPolicy {
    /// True when `ip` is loopback or one of the lab's own hosts; an IPv4-mapped IPv6
    /// address (`::ffff:127.0.0.1`) counts as the IPv4 address it maps.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_loopback() || self.own.iter().any(|o| o.to_canonical() == ip)
    }
}

/// The hosts of one lab network.
#[derive(Debug, Clone)]
pub struct Network {
    /// What kind of network this is.
    pub kind: NetworkKind,
    /// The lab's hosts (`client`, `server`, ...).
    pub hosts: Vec<Host>,
    /// This machine's role in a two-machine lab.
    pub role: Option<Role>,
    /// The peer's port given with `--peer ADDR:PORT`.
    pub peer_port: Option<u16>,
    /// One line for the report header, in both languages.
    pub description: crate::i18n::Text,
    /// Keeps what the hosts live in (the sandbox's namespaces) alive as long as the network.
    pub keep_alive: Option<SandboxHandle>,
}

/// The sandbox a network's hosts live in, held as long as the network.
#[derive(Debug, Clone)]
pub enum SandboxHandle {
    /// A sandbox this labrun built.
    #[cfg(target_os = "linux")]
    Built(Arc<crate::sandbox::Sandbox>),
    /// A sandbox this labrun built and shares with a second labrun.
    #[cfg(target_os = "linux")]
    Published(Arc<crate::sandbox::Published>),
}

impl Network {
    /// Two hosts, `client` and `server`, both on loopback (`lo`, or `iface` when given).
    pub fn loopback(iface: Option<&str>) -> Network {
        let iface = iface.unwrap_or(default_loopback_iface()).to_string();
        let policy = Arc::new(TargetPolicy::default());
        let ip: IpAddr = [127, 0, 0, 1].into();
        let hosts = ["client", "server"]
            .iter()
            .map(|name| Host::new(name, ip, &iface, Arc::clone(&policy)))
            .collect();
        Network {
            kind: NetworkKind::Loopback,
            hosts,
            role: None,
            peer_port: None,
            description: crate::i18n::Text::new(
                format!("loopback ({iface})"),
                format!("本机环回接口 ({iface})"),
            ),
            keep_alive: None,
        }
    }

    /// The lab sandbox: each host in its own network namespace on one link (Linux).
    pub fn sandbox(options: &NetOptions) -> Result<Network, NetworkError> {
        #[cfg(target_os = "linux")]
        {
            sandboxed::network(options)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = options;
            Err(NetworkError::Unsupported)
        }
    }

    /// The sandbox shared by two labrun processes of an interactive lab: the server role
    /// builds and publishes it at `rendezvous`, the client role uses the one it joined.
    pub fn shared_sandbox(
        options: &NetOptions,
        role: Role,
        rendezvous: &std::path::Path,
    ) -> Result<Network, NetworkError> {
        #[cfg(target_os = "linux")]
        {
            match role {
                Role::Server => sandboxed::shared(options, rendezvous),
                Role::Client => sandboxed::joined(),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (options, role, rendezvous);
            Err(NetworkError::Unsupported)
        }
    }

    /// This machine in `role` on the interface that routes to `peer`, and the peer machine.
    pub fn two_machines(
        role: Role,
        peer: SocketAddr,
        iface: Option<&str>,
    ) -> Result<Network, NetworkError> {
        two_machines::build(role, peer, iface)
    }

    /// Sets the rules of the sandbox's relayed link (`sandbox(#{ link: true })`), replacing
    /// earlier ones; what they do is recorded in the returned log.
    pub fn set_link(&self, rules: Vec<link::LinkRule>) -> Result<link::LinkLog, NetworkError> {
        if self.kind != NetworkKind::Sandbox {
            return Err(NetworkError::Option(format!(
                "the link's rules need the sandbox, not the {} network",
                self.kind.as_str()
            )));
        }
        let started = crate::clock::run_started().unwrap_or_else(std::time::Instant::now);
        let judge = link::LinkJudge::new(rules, started).map_err(NetworkError::Option)?;
        let log = judge.log();
        #[cfg(target_os = "linux")]
        {
            sandboxed::set_link(self.keep_alive.as_ref(), judge)?;
            Ok(log)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (judge, log);
            Err(NetworkError::Unsupported)
        }
    }

    /// Frames and bytes the sandbox's relayed link has carried so far.
    pub fn relay_counts(&self) -> Result<(u64, u64), NetworkError> {
        #[cfg(target_os = "linux")]
        {
            sandboxed::relay_counts(self.keep_alive.as_ref())
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err(NetworkError::Unsupported)
        }
    }

    /// The host called `name`.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name() == name)
    }

    /// A one-line description for the report header, e.g. `loopback (lo)`.
    pub fn describe(&self, lang: crate::i18n::Lang) -> String {
        self.description.get(lang).to_string()
    }
}

/// The loopback interface's usual name on this platform.
pub fn default_loopback_iface() -> &'static str {
    if cfg!(target_os = "linux") {
        "lo"
    } else if cfg!(windows) {
        r"\Device\NPF_Loopback"
    } else {
        "lo0"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_own_hosts_are_targets() {
        let p = TargetPolicy {
            own: vec![[10, 77, 0, 2].into()],
        };
        assert!(p.allows([127, 0, 0, 1].into()));
        assert!(p.allows("::1".parse().unwrap()));
        assert!(p.allows([10, 77, 0, 2].into()));
        assert!(!p.allows([10, 77, 0, 3].into()));
        assert!(!p.allows([8, 8, 8, 8].into()));
        assert!(p.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(p.allows("::ffff:10.77.0.2".parse().unwrap()));
        assert!(!p.allows("::ffff:8.8.8.8".parse().unwrap()));
    }
}
