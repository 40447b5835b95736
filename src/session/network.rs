//! The run's networks: which one `--network` chooses, and making them.

use super::{Session, SessionError};
use crate::network::{NetOptions, Network, NetworkKind};

/// Where a run's labs put their hosts (`--network`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// labrun's own sandbox of network namespaces (Linux; the default there).
    Sandbox,
    /// Both hosts on this machine's loopback interface.
    Loopback,
    /// This machine plays `role` on its real interface; the peer plays the other role.
    Host {
        /// This machine's role.
        role: crate::network::Role,
        /// The other machine (port 0 when none was given).
        peer: std::net::SocketAddr,
    },
}

impl Default for NetworkMode {
    fn default() -> Self {
        if cfg!(target_os = "linux") {
            NetworkMode::Sandbox
        } else {
            NetworkMode::Loopback
        }
    }
}

/// How the run's network is chosen.
#[derive(Debug, Clone, Default)]
pub struct NetworkChoice {
    /// Where hosts live.
    pub mode: NetworkMode,
    /// Capture interface override (`--iface`).
    pub iface: Option<String>,
    /// `--interactive --role R`: this process plays R in a chat typed at the terminal.
    pub interactive: Option<crate::network::Role>,
    /// Where two interactive labruns on one machine share the sandbox (Unix socket path).
    pub rendezvous: Option<std::path::PathBuf>,
}

impl Session {
    /// The run's default network, made on the first call with the run's `--network` choice.
    pub fn network(&self) -> Result<Network, SessionError> {
        if let Some(net) = self.lock().network.clone() {
            return Ok(net);
        }
        let net = self.make_network(None, &NetOptions::default())?;
        self.lock().network = Some(net.clone());
        Ok(net)
    }

    /// A network made with options; it becomes the default network when there is none yet.
    pub fn network_with(&self, opts: &NetOptions) -> Result<Network, SessionError> {
        let net = self.make_network(None, opts)?;
        let mut st = self.lock();
        if st.network.is_none() {
            st.network = Some(net.clone());
        }
        Ok(net)
    }

    /// Builds a network of `kind` (None: the run's `--network` choice) and records it.
    pub fn make_network(
        &self,
        kind: Option<NetworkKind>,
        opts: &NetOptions,
    ) -> Result<Network, SessionError> {
        let (choice, deterministic) = {
            let st = self.lock();
            if st.graded.is_some() {
                return Err(SessionError::GradingLive);
            }
            (st.choice.clone(), st.report.header.deterministic)
        };
        let opts = &NetOptions {
            deterministic,
            ..opts.clone()
        };
        let mode = match kind {
            Some(NetworkKind::Sandbox) => NetworkMode::Sandbox,
            Some(_) => NetworkMode::Loopback,
            None => choice.mode.clone(),
        };
        {
            let st = self.lock();
            st.progress.set_message(format!(
                "building the {} network",
                match &mode {
                    NetworkMode::Sandbox => "sandbox",
                    NetworkMode::Loopback => "loopback",
                    NetworkMode::Host { .. } => "two-machine",
                }
            ));
        }
        let net = match mode {
            NetworkMode::Sandbox => match (&choice.interactive, &choice.rendezvous) {
                (Some(role), Some(path)) if kind.is_none() => {
                    Network::shared_sandbox(opts, *role, path)
                }
                _ => Network::sandbox(opts),
            },
            NetworkMode::Loopback => Ok(Network::loopback(choice.iface.as_deref())),
            NetworkMode::Host { role, peer } => {
                Network::two_machines(role, peer, choice.iface.as_deref())
            }
        }?;
        self.lock().networks.push(net.clone());
        Ok(net)
    }
}
