//! The script's network and hosts: the network layer's values paired with the session they
//! belong to, so a method called on a host (capture, serve, scan, browser) reaches the
//! run's state through its receiver rather than through the engine tag.

use crate::network::{Host, Network};
use crate::session::Session;
use std::ops::Deref;

/// A lab network as a script holds it (`network()`): its hosts carry the same session.
#[derive(Debug, Clone)]
pub struct LabNet {
    /// The hosts and kind of the network.
    pub net: Network,
    /// The run the network belongs to.
    pub session: Session,
}

impl LabNet {
    /// The script's view of `host` of this network.
    pub fn lab_host(&self, host: &Host) -> LabHost {
        LabHost {
            host: host.clone(),
            session: self.session.clone(),
        }
    }
}

impl Deref for LabNet {
    type Target = Network;
    fn deref(&self) -> &Network {
        &self.net
    }
}

/// A lab host as a script holds it (`net.client`): the host and the run it belongs to.
#[derive(Debug, Clone)]
pub struct LabHost {
    /// The host: its address, interface and sockets.
    pub host: Host,
    /// The run the host belongs to (its report, captures, servers and limits).
    pub session: Session,
}

impl Deref for LabHost {
    type Target = Host;
    fn deref(&self) -> &Host {
        &self.host
    }
}
