//! labrun: TCP/IP lab exercises as scripts.
//!
//! A Rhai script drives real kernel sockets and a real libpcap capture; labrun decodes what
//! crossed the wire exactly as Wireshark would and writes a submission-ready report.
//!
//! Layers, each in its own module (what each may use: docs/architecture.md):
//! - [`runner`]: loads a lab, runs it in a session, tears the session down, writes the report;
//! - [`script`]: the functions and types a lab script can use, as thin Rhai adapters; the
//!   engine, its limits and `file:line:col` errors;
//! - [`session`]: one run's report, networks, captures, servers and browsers, without Rhai;
//! - [`network`]: the lab's hosts and the rule of where traffic may go; wraps the sandbox;
//! - `sandbox` (Linux only): private namespaces joined by veth pairs; knows nothing of `network`;
//! - [`clock`]: the run's deadline and Ctrl-C, which every blocking call obeys;
//! - [`sockets`]: kernel sockets with deadlines and inspectable errors;
//! - [`capture`]: live libpcap capture on a thread;
//! - [`pcapfile`]: capture files: reading pcap and pcapng (libpcap, plain pcap in blocks), writing pcap;
//! - [`wire`] (the `labrun-wire` crate): link-layer and header decoding;
//! - [`analysis`] (the `labrun-analysis` crate): packets and TCP streams with Wireshark's numbers and field formatting;
//! - [`craft`]: hand-made TCP and UDP packets, sent on a raw socket or injected as frames;
//! - [`scan`]: connect, SYN and FIN port scans with nmap's states and reasons;
//! - [`analyze`]: `labrun analyze`, the same analysis over any pcap or pcapng file;
//! - [`i18n`]: the report language (`--lang en|zh`);
//! - [`report`]: report.md, report.html, packets.csv and capture.pcapng, written atomically;
//! - [`websocket`]: WebSocket server and client, plain HTTP, a headless browser as a client;
//! - [`progress`]: progress reporting as a trait; the binary draws it on the terminal;
//! - `program` (Linux only): a student's own program run contained inside a lab host;
//! - [`private_dir`] (Unix): private temporary directories, removed even when labrun is killed.

pub mod analyze;
pub mod capture;
pub mod clock;
pub mod config;
pub mod craft;
pub mod export;
pub mod grade;
pub mod i18n;
pub mod labs;
pub mod network;
pub mod pcapfile;
#[cfg(unix)]
pub mod private_dir;
#[cfg(target_os = "linux")]
pub mod program;
pub mod progress;
pub mod report;
pub mod runner;
#[cfg(target_os = "linux")]
pub mod sandbox;
pub mod scaffold;
pub mod scan;
pub mod script;
pub mod session;
pub mod sockets;
pub mod util;
pub mod websocket;

pub use labrun_analysis as analysis;
pub use labrun_wire as wire;
