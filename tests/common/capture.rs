//! Capturing loopback traffic with tcpdump and reading pcap files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use labrun::analysis::RawFrame;
use labrun::wire::LinkType;

/// A running `tcpdump -i lo` writing to a file.
pub struct Tcpdump {
    child: Child,
    /// The capture file being written.
    pub path: PathBuf,
}

impl Tcpdump {
    /// Starts tcpdump on loopback with `filter` and waits until it listens.
    pub fn start(path: &Path, filter: &str) -> Tcpdump {
        Tcpdump::start_with(path, &[], &["-i", "lo"], filter)
    }

    /// Starts `PREFIX... tcpdump ARGS... -w path filter` (a prefix such as
    /// `ip netns exec NS` runs it elsewhere) and waits until it listens. A tcpdump that
    /// exits before listening (e.g. the kernel could not find memory for a large `-B`
    /// buffer at that moment) is retried twice; then the test fails with its message.
    pub fn start_with(path: &Path, prefix: &[&str], args: &[&str], filter: &str) -> Tcpdump {
        let mut errors = Vec::new();
        for _ in 0..3 {
            match Tcpdump::try_start(path, prefix, args, filter) {
                Ok(dump) => return dump,
                Err(e) => errors.push(e),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("tcpdump did not start listening: {}", errors.join(" | "));
    }

    fn try_start(
        path: &Path,
        prefix: &[&str],
        args: &[&str],
        filter: &str,
    ) -> Result<Tcpdump, String> {
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg("tcpdump");
                c
            }
            None => Command::new("tcpdump"),
        };
        let mut child = cmd
            .args(args)
            .args(["-U", "--immediate-mode", "-n", "-w"])
            .arg(path)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tcpdump");
        let stderr = child.stderr.take().expect("tcpdump stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let listening = line.contains("listening on");
                let _ = tx.send((listening, line));
            }
        });
        let mut said = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok((true, _)) => break,
                Ok((false, line)) => said.push(line),
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                    return Err(format!("{e} ({status}): {}", said.join("; ")));
                }
            }
        }
        // Give the kernel filter a moment to be attached.
        std::thread::sleep(Duration::from_millis(200));
        Ok(Tcpdump {
            child,
            path: path.to_path_buf(),
        })
    }

    /// Lets the last packets reach the file, then stops tcpdump with SIGINT.
    pub fn stop(mut self) {
        std::thread::sleep(Duration::from_millis(500));
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let _ = self.child.wait();
    }
}

/// Reads every frame of a pcap file with libpcap (nanosecond precision).
pub fn read_pcap(path: &Path) -> (LinkType, Vec<RawFrame>) {
    let mut cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
        .expect("open pcap file");
    let dlt = u32::try_from(cap.get_datalink().0).expect("datalink");
    let link = LinkType::from_dlt(dlt).expect("supported link type");
    let mut frames = Vec::new();
    loop {
        match cap.next_packet() {
            Ok(p) => frames.push(RawFrame {
                // A long: 32 bits on Windows.
                #[allow(clippy::useless_conversion)]
                ts_sec: i64::from(p.header.ts.tv_sec),
                ts_nsec: u32::try_from(p.header.ts.tv_usec).expect("nsec"),
                orig_len: p.header.len,
                data: p.data.to_vec(),
            }),
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("reading {}: {e}", path.display()),
        }
    }
    (link, frames)
}
