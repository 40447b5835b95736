//! Helpers shared by the integration tests: capturing on loopback, reading
//! pcap files and comparing with tshark.

#![allow(dead_code)]

pub mod capture;
pub mod english;
pub mod host_state;
pub mod lab;
#[cfg(target_os = "linux")]
pub mod lab_wire;
pub mod pcapfile;
pub mod tshark;
pub mod two_machines;

/// Skips a test with a one-line reason, or fails it when `CI=true`
/// (CI must run every comparison).
pub fn skip_or_fail(reason: &str) {
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("cannot run under CI=true: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// True when a program can be run (`prog --version` succeeds).
pub fn have_program(prog: &str) -> bool {
    std::process::Command::new(prog)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// True when running as root (needed to capture with tcpdump).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
