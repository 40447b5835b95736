//! The mutable state of one lab run, shared by the script API's native functions.

use crate::capture::LiveCapture;
use crate::network::Network;
use crate::report::Report;
use std::sync::{Arc, Mutex, MutexGuard};

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

/// A capture the script started and may not have stopped yet.
#[derive(Debug, Clone)]
pub struct PendingCapture {
    /// File stem the capture will be saved under.
    pub name: String,
    /// The running capture; `None` once stopped.
    pub live: Arc<Mutex<Option<LiveCapture>>>,
}

/// Everything a run accumulates.
#[derive(Debug)]
pub struct RunState {
    /// The report being built.
    pub report: Report,
    /// The run's default network, made on the script's first `network()` call.
    pub network: Option<Network>,
    /// Every network the script made (for the report header and the target check).
    pub networks: Vec<Network>,
    /// How to make the network.
    pub choice: NetworkChoice,
    /// Captures in start order (stopped ones keep their slot empty).
    pub captures: Vec<PendingCapture>,
    /// The memory all the run's captures may hold together (rings and stored frames).
    pub capture_budget: Arc<crate::capture::MemoryBudget>,
    /// Shows the run's progress (the binary's spinner on the terminal).
    pub progress: crate::progress::SharedProgress,
    /// The script file, for `file:line` of checks.
    pub script: String,
    /// Script arguments (`-- key=value`).
    pub args: Vec<(String, String)>,
    /// The capture being graded (`labrun grade --pcap`), until the script takes it.
    pub graded: Option<crate::capture::Captured>,
    /// Servers the script started (stopped at the end if the script did not).
    pub servers: Vec<crate::script::ScriptServer>,
    /// `--browser`: the browser a lab may start as its client ("" for labrun's own).
    pub browser: String,
    /// WebSocket servers the script started (stopped at the end).
    pub ws_servers: Vec<crate::websocket::WsServer>,
    /// Browsers the script started (killed at the end, whatever happened).
    pub browsers: Vec<crate::websocket::Browser>,
    /// The running engine (set while the script runs; cleared after, which breaks the
    /// engine -> tag -> state -> engine cycle).
    pub engine: Option<ScriptEngine>,
}

/// The engine and compiled script of a run, for calling script functions from other
/// threads (a server's connection handlers).
#[derive(Clone)]
pub struct ScriptEngine {
    /// The engine with labrun's API and limits.
    pub engine: Arc<rhai::Engine>,
    /// The compiled lab.
    pub ast: Arc<rhai::AST>,
    /// The script file, for error locations.
    pub file: String,
}

impl std::fmt::Debug for ScriptEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScriptEngine({})", self.file)
    }
}

/// A cloneable handle to the run state, stored in the engine so native functions find it.
#[derive(Debug, Clone)]
pub struct RunHandle(pub Arc<Mutex<RunState>>);

impl RunHandle {
    /// Locks the state (recovering from a poisoned lock: a report is never lost to a panic).
    pub fn lock(&self) -> MutexGuard<'_, RunState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
