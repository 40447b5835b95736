//! Where a lab's hosts live, and the rule of where traffic may go.
//!
//! A [`Network`] holds named [`Host`]s. Every socket a script opens is created by a host,
//! and every destination is checked against the network's [`TargetPolicy`]: labrun sends
//! only to loopback or to hosts it made itself, unless the user named a target explicitly.

mod host;

pub use host::Host;

use std::net::IpAddr;
use std::sync::Arc;

/// Where a lab runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkKind {
    /// Both hosts are this machine's loopback interface.
    Loopback,
}

/// Which destinations scripts may reach.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// Addresses of hosts labrun created (besides loopback, always allowed).
    pub own: Vec<IpAddr>,
}

impl TargetPolicy {
    /// True when `ip` is loopback or one of labrun's own hosts.
    pub fn allows(&self, ip: IpAddr) -> bool {
        ip.is_loopback() || self.own.contains(&ip)
    }
}

/// The hosts of one lab run.
#[derive(Debug, Clone)]
pub struct Network {
    /// What kind of network this is.
    pub kind: NetworkKind,
    /// The lab's hosts (`client` and `server`).
    pub hosts: Vec<Host>,
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
        }
    }

    /// The host called `name`.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name() == name)
    }

    /// A one-line description for the report header, e.g. `loopback (lo)`.
    pub fn describe(&self) -> String {
        match self.kind {
            NetworkKind::Loopback => {
                let iface = self.hosts.first().map(|h| h.iface()).unwrap_or("lo");
                format!("loopback ({iface})")
            }
        }
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
    }
}
