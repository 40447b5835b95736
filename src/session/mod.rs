//! A lab session: what one run accumulates (the report, networks, captures, servers,
//! browsers) and the operations on it, independent of the script language.
//!
//! The script bindings are thin adapters over [`Session`]; the runner makes the session,
//! runs the script and calls [`Session::teardown`] for the report.

mod capture;
mod chat;
mod link_text;
mod network;
#[cfg(target_os = "linux")]
mod program;
mod server;
mod teardown;

pub use crate::capture::libpcap_version;
pub use capture::{PendingCapture, Recorded};
pub use chat::{ChatEntry, Lines, Say, reader_lines, run_chat, stdin_lines};
pub use network::{NetworkChoice, NetworkMode};
#[cfg(target_os = "linux")]
pub use program::{MAX_PROGRAMS, StartedProgram, program_section};
pub use server::{ConnHandler, LineServer, LogEntry};

use crate::i18n::Lang;
use crate::network::Network;
use crate::report::{Block, Check, Report};
use std::sync::{Arc, Mutex, MutexGuard};

/// Which part of the lab's own text a paragraph belongs to (`purpose`, `principle`,
/// `question`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabPart {
    /// 实验目的: what the lab is meant to show.
    Purpose,
    /// 实验原理: a fact the lab rests on, with its RFC.
    Principle,
    /// 思考题: a question for the student.
    Question,
}

/// The session's error: an operation on the run's network, captures or servers failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A capture could not start or stop.
    #[error(transparent)]
    Capture(#[from] crate::capture::CaptureError),
    /// A capture's link type cannot be decoded.
    #[error("the interface `{iface}` has link type {dlt}, which labrun cannot decode")]
    LinkType {
        /// The interface (or file) captured.
        iface: String,
        /// Its libpcap link type.
        dlt: u32,
    },
    /// The network could not be built.
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    /// A socket call failed (the script may catch and inspect it).
    #[error(transparent)]
    Sock(crate::sockets::SockError),
    /// A server thread could not start.
    #[error("cannot start the server thread: {0}")]
    Thread(std::io::Error),
    /// `labrun grade` reads a capture only: a lab may not make traffic while it is graded.
    #[error(
        "`labrun grade` never runs a lab live: the lab's `if grading() {{ ... }}` part must return before it asks for a network"
    )]
    GradingLive,
    /// The user's program could not start.
    #[cfg(target_os = "linux")]
    #[error(transparent)]
    Program(#[from] crate::program::ProgramError),
}

/// The kernel's TCP state of `conn` now ("ESTABLISHED", "CLOSE-WAIT", ...): what a lab
/// samples during the run to confirm the states its capture implies (Linux's TCP_INFO).
pub fn tcp_state(conn: &crate::sockets::TcpConn) -> Result<String, crate::sockets::SockError> {
    #[cfg(target_os = "linux")]
    {
        conn.read_kernel("state", crate::sandbox::tcp_state)
            .map(str::to_string)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = conn;
        Err(crate::sockets::SockError::usage(
            "state",
            "reading a socket's TCP state needs Linux (TCP_INFO)",
        ))
    }
}

/// The kernel's state of the connection `local` ↔ `remote` in `host` now, "CLOSED" when
/// the kernel keeps no such connection: unlike [`tcp_state`] it also reads a socket the
/// application already closed (FIN-WAIT-2, TIME-WAIT, LAST-ACK), from the host's
/// /proc/net/tcp (what `ss` shows).
pub fn connection_state(
    host: &crate::network::Host,
    local: std::net::SocketAddr,
    remote: std::net::SocketAddr,
) -> Result<String, crate::sockets::SockError> {
    #[cfg(target_os = "linux")]
    {
        host.within("tcp_state", || {
            crate::sandbox::connection_state(local, remote)
        })?
        .map(|s| s.unwrap_or("CLOSED").to_string())
        .map_err(|e| crate::sockets::SockError::from_io("tcp_state", &e, "/proc/net/tcp"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (host, local, remote);
        Err(crate::sockets::SockError::usage(
            "tcp_state",
            "reading a connection's TCP state needs Linux (/proc/net/tcp)",
        ))
    }
}

/// The kernel's TCP_INFO of `conn` now: state, cwnd, ssthresh, RTO, RTT, retransmissions.
#[cfg(target_os = "linux")]
pub fn tcp_info(
    conn: &crate::sockets::TcpConn,
) -> Result<crate::sandbox::TcpInfo, crate::sockets::SockError> {
    conn.read_kernel("tcp_info", crate::sandbox::tcp_info)
}

/// Starts sampling `conn`'s TCP_INFO every `every` (at least 1 ms) on a thread of its own,
/// until the sampler is stopped or the connection closes. A capture of the connection
/// recorded later draws the samples' congestion window over its sequence plot.
#[cfg(target_os = "linux")]
pub fn sample_tcp_info(
    session: &Session,
    conn: &crate::sockets::TcpConn,
    every: std::time::Duration,
) -> Result<crate::sockets::KernelSamples<crate::sandbox::TcpInfo>, crate::sockets::SockError> {
    let every = every.max(std::time::Duration::from_millis(1));
    let samples = conn.sample_kernel("sample_tcp_info", every, crate::sandbox::tcp_info)?;
    let (local, peer, k) = (conn.local_addr(), conn.peer_addr(), samples.clone());
    let snapshot = move || {
        let points = crate::sockets::lock_samples(&k)
            .iter()
            .map(|(t, i)| crate::report::KernelPoint {
                unix_ns: k.started_unix_ns + t.as_nanos() as i128,
                cwnd: i.cwnd,
                ssthresh: i.ssthresh,
                mss: i.snd_mss,
            })
            .collect();
        (local, peer, points)
    };
    session.lock().kernel_tracks.push(KernelTrack {
        snapshot: Box::new(snapshot),
    });
    Ok(samples)
}

/// Everything a run accumulates.
#[derive(Debug)]
pub struct SessionState {
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
    pub servers: Vec<LineServer>,
    /// `--browser`: the browser a lab may start as its client ("" for labrun's own).
    pub browser: String,
    /// WebSocket servers the script started (stopped at the end).
    pub ws_servers: Vec<crate::websocket::WsServer>,
    /// Browsers the script started (killed at the end, whatever happened).
    pub browsers: Vec<crate::websocket::Browser>,
    /// The user's own programs (`--server`, `--client`), which the lab may start.
    #[cfg(target_os = "linux")]
    pub programs: Vec<crate::program::ProgramSpec>,
    /// The programs the lab started (stopped at the end, each shown in the report).
    #[cfg(target_os = "linux")]
    pub started: Vec<StartedProgram>,
    /// The relayed link's logs (`net.link`), shown beside the captured frames at the end.
    pub links: Vec<crate::network::link::LinkLog>,
    /// Connections whose TCP_INFO is being sampled: a capture that holds one of them draws
    /// its samples over the sequence plot.
    pub kernel_tracks: Vec<KernelTrack>,
}

/// A sampled connection (`sample_tcp_info`): its samples, read when a capture is recorded.
pub struct KernelTrack {
    /// The connection's two ends (the sampled one first) and its samples so far.
    #[allow(clippy::type_complexity)]
    pub snapshot: Box<
        dyn Fn() -> (
                std::net::SocketAddr,
                std::net::SocketAddr,
                Vec<crate::report::KernelPoint>,
            ) + Send,
    >,
}

impl std::fmt::Debug for KernelTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KernelTrack")
    }
}

impl SessionState {
    /// A fresh state for a run of `script` with `report` (its header filled in).
    pub fn new(
        report: Report,
        script: String,
        progress: crate::progress::SharedProgress,
    ) -> SessionState {
        SessionState {
            report,
            network: None,
            networks: Vec::new(),
            choice: NetworkChoice::default(),
            captures: Vec::new(),
            capture_budget: Arc::default(),
            progress,
            script,
            args: Vec::new(),
            graded: None,
            servers: Vec::new(),
            browser: String::new(),
            ws_servers: Vec::new(),
            browsers: Vec::new(),
            #[cfg(target_os = "linux")]
            programs: Vec::new(),
            #[cfg(target_os = "linux")]
            started: Vec::new(),
            kernel_tracks: Vec::new(),
            links: Vec::new(),
        }
    }
}

/// A cloneable handle to one run's session, shared by the script's values and threads.
#[derive(Debug, Clone)]
pub struct Session(Arc<Mutex<SessionState>>);

impl Session {
    /// A session over `state`.
    pub fn new(state: SessionState) -> Session {
        Session(Arc::new(Mutex::new(state)))
    }

    /// Locks the state (recovering from a poisoned lock: a report is never lost to a panic).
    pub fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The report's language.
    pub fn lang(&self) -> Lang {
        self.lock().report.header.lang
    }

    /// The script file, for `file:line` of checks.
    pub fn script(&self) -> String {
        self.lock().script.clone()
    }

    /// Whether the run is `--deterministic`.
    pub fn deterministic(&self) -> bool {
        self.lock().report.header.deterministic
    }

    /// The run's nonce (shown in the report header).
    pub fn nonce(&self) -> String {
        self.lock().report.header.nonce.clone()
    }

    /// The script argument `name` (`-- name=value`) as given, if it was.
    pub fn arg(&self, name: &str) -> Option<String> {
        self.lock()
            .args
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The student's ID and name, or the placeholders a run without `--student` uses.
    pub fn student(&self) -> (String, String) {
        self.lock()
            .report
            .header
            .student
            .as_ref()
            .map(|s| (s.id.clone(), s.name.clone()))
            .unwrap_or_else(|| ("0000000000".into(), "Student".into()))
    }

    /// The role this run plays in a chat typed at the terminal (`--interactive --role R`).
    pub fn interactive(&self) -> Option<crate::network::Role> {
        self.lock().choice.interactive
    }

    /// The browser given with `--browser`, "" for none.
    pub fn browser(&self) -> String {
        self.lock().browser.clone()
    }

    /// Shows `text` on the progress line.
    pub fn show(&self, text: impl Into<String>) {
        self.lock().progress.set_message(text.into());
    }

    /// Records a step in the report and shows it on the progress line.
    pub fn record_step(&self, text: &str) {
        let mut st = self.lock();
        st.progress.set_message(text.to_string());
        st.report.blocks.push(Block::Step(text.to_string()));
    }

    /// Records a paragraph of the lab's purpose, principles or questions.
    pub fn record_lab_text(&self, part: LabPart, text: &str) {
        let mut st = self.lock();
        let lab = &mut st.report.lab_text;
        let list = match part {
            LabPart::Purpose => &mut lab.purpose,
            LabPart::Principle => &mut lab.principles,
            LabPart::Question => &mut lab.questions,
        };
        list.push(text.trim().to_string());
    }

    /// Records a check in the report and shows its outcome on the progress line.
    pub fn record_check(&self, check: Check) {
        let mut st = self.lock();
        let mark = if check.passed { "PASS" } else { "FAIL" };
        st.progress.set_message(format!("{mark} {}", check.what));
        st.report.checks.push(check);
    }

    /// Adds a block (section, note, table, packet list) to the report.
    pub fn record_block(&self, block: Block) {
        self.lock().report.blocks.push(block);
    }

    /// Every host of every network the run made, as (name, address).
    pub fn lab_hosts(&self) -> Vec<(String, std::net::IpAddr)> {
        self.lock()
            .networks
            .iter()
            .flat_map(|n| n.hosts.iter())
            .map(|h| (h.name().to_string(), h.ip()))
            .collect()
    }

    /// Whether a UDP datagram may go to `to`: loopback, or a host of one of the run's networks.
    pub fn udp_target_allowed(&self, to: std::net::SocketAddr) -> bool {
        to.ip().to_canonical().is_loopback()
            || self
                .lock()
                .networks
                .iter()
                .flat_map(|n| n.hosts.first())
                .any(|h| h.check_udp_target(to).is_ok())
    }

    /// Adds a WebSocket server the script started (stopped at teardown).
    pub fn add_ws_server(&self, server: crate::websocket::WsServer) {
        self.lock().ws_servers.push(server);
    }

    /// Browsers the script started that still run.
    pub fn browsers_running(&self) -> usize {
        self.lock().browsers.iter().filter(|b| b.running()).count()
    }

    /// Keeps the log of a link the script set, so the report shows what it did.
    pub fn add_link(&self, log: crate::network::link::LinkLog) {
        self.lock().links.push(log);
    }

    /// Adds a browser the script started (killed at teardown).
    pub fn add_browser(&self, browser: crate::websocket::Browser) {
        self.lock().browsers.push(browser);
    }
}

#[cfg(test)]
mod tests;
