//! Two network namespaces joined by a veth pair (MTU 1500, offloads off):
//! a bulk transfer through an nftables rule that drops 2% of the segments
//! arriving at the receiver (retransmissions, duplicate ACKs, out-of-order
//! segments), UDP datagrams cut into IPv4 fragments, and an ICMP port
//! unreachable. Every frame's fields must equal tshark's; the report must
//! reassemble the fragments and link the ICMP error to its datagram.

#![cfg(target_os = "linux")]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use common::capture::{Tcpdump, read_pcap};
use common::tshark::{ISSUE_FIELDS, assert_cli_same_as_tshark};
use labrun::analysis::{Side, Trace, analysis_flags};

const A_IP: &str = "10.199.77.1";
const B_IP: &str = "10.199.77.2";
const BULK: usize = 3 << 20;

/// The two namespaces and their veth pair; removed on drop.
struct Lab {
    a: String,
    b: String,
    veth_a: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn in_ns(ns: &str, cmd: &[&str]) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns])
        .args(cmd)
        .output()
        .expect("ip netns exec");
    assert!(
        out.status.success(),
        "{}: {}",
        cmd.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    fn new() -> Lab {
        let id = std::process::id() % 100_000;
        let lab = Lab {
            a: format!("labrun-a{id}"),
            b: format!("labrun-b{id}"),
            veth_a: format!("lra{id}"),
        };
        let veth_b = format!("lrb{id}");
        ip(&["netns", "add", &lab.a]);
        ip(&["netns", "add", &lab.b]);
        ip(&[
            "link",
            "add",
            &lab.veth_a,
            "type",
            "veth",
            "peer",
            "name",
            &veth_b,
        ]);
        ip(&["link", "set", &lab.veth_a, "netns", &lab.a]);
        ip(&["link", "set", &veth_b, "netns", &lab.b]);
        for (ns, dev, addr) in [(&lab.a, &lab.veth_a, A_IP), (&lab.b, &veth_b, B_IP)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            if common::have_program("ethtool") {
                in_ns(
                    ns,
                    &[
                        "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off",
                    ],
                );
            }
        }
        in_ns(&lab.b, &["nft", "add", "table", "inet", "labrun"]);
        in_ns(
            &lab.b,
            &[
                "nft",
                "add chain inet labrun input { type filter hook input priority 0; policy accept; }",
            ],
        );
        in_ns(
            &lab.b,
            &[
                "nft",
                "add rule inet labrun input tcp dport 5001 numgen random mod 50 == 0 drop",
            ],
        );
        lab
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Runs `f` on a thread that lives in network namespace `ns`.
fn spawn_in<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open netns");
        // SAFETY: setns on a valid namespace fd only changes this thread's namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}");
        f()
    })
}

fn play(lab: &Lab) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let server = spawn_in(&lab.b, move || {
        let l = TcpListener::bind((B_IP, 5001)).expect("bind");
        let u = UdpSocket::bind((B_IP, 5002)).expect("bind udp");
        ready_tx.send(()).expect("ready");
        let (mut s, _) = l.accept().expect("accept");
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        loop {
            let n = s.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            total += n;
        }
        drop(s);
        u.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let (n, _) = u.recv_from(&mut buf).expect("udp");
        (total, n)
    });
    ready_rx.recv().expect("server ready");
    let client = spawn_in(&lab.a, || {
        let mut c = TcpStream::connect((B_IP, 5001)).expect("connect");
        c.write_all(&vec![b'b'; BULK]).expect("write");
        c.shutdown(Shutdown::Write).expect("shutdown");
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).expect("read");
        let u = UdpSocket::bind((A_IP, 0)).expect("udp");
        u.send_to(&[b'f'; 3000], (B_IP, 5002)).expect("send");
        std::thread::sleep(Duration::from_millis(100));
        u.send_to(&[b'g'; 3000], (B_IP, 5003)).expect("send");
        std::thread::sleep(Duration::from_millis(200));
    });
    client.join().expect("client");
    let (total, n) = server.join().expect("server");
    assert_eq!((total, n), (BULK, 3000));
}

#[test]
fn loss_fragments_and_icmp_between_namespaces_match_tshark() {
    for (ok, why) in [
        (common::is_root(), "namespaces and capturing need root"),
        (common::have_program("tcpdump"), "tcpdump is not installed"),
        (common::have_program("tshark"), "tshark is not installed"),
        (
            Command::new("nft").arg("--version").output().is_ok(),
            "nftables is not installed (apt-get install nftables)",
        ),
    ] {
        if !ok {
            common::skip_or_fail(why);
            return;
        }
    }
    let lab = Lab::new();
    let dir = std::env::temp_dir().join(format!("labrun-netns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path: PathBuf = dir.join("loss.pcap");
    let prefix = ["ip", "netns", "exec", lab.a.as_str()];
    let dump = Tcpdump::start_with(
        &path,
        &prefix,
        &["-i", &lab.veth_a, "-B", "65536"],
        "tcp port 5001 or udp or icmp",
    );
    play(&lab);
    dump.stop();

    let frames = assert_cli_same_as_tshark(&path, ISSUE_FIELDS);
    assert!(frames > 1000, "{frames} frames");
    let (link, raw) = read_pcap(&path);
    let trace = Trace::analyze(link, &raw);
    let flagged = |bit: u32| {
        trace
            .packets
            .iter()
            .filter(|p| p.tcp.as_ref().is_some_and(|t| t.analysis.flags & bit != 0))
            .count()
    };
    let retrans = flagged(
        analysis_flags::RETRANSMISSION
            | analysis_flags::FAST_RETRANSMISSION
            | analysis_flags::SPURIOUS_RETRANSMISSION,
    );
    let dupacks = flagged(analysis_flags::DUPLICATE_ACK);
    eprintln!("{frames} frames, {retrans} retransmissions, {dupacks} duplicate ACKs");
    assert!(retrans > 0 && dupacks > 0);
    assert_eq!(trace.streams[0].story.end(Side::Client).bytes, BULK as u64);

    let out = dir.join("report");
    let run = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg("analyze")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("labrun analyze");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = std::fs::read_to_string(out.join("report.md")).expect("report");
    assert!(report.contains("## Reassembled IPv4 datagrams"), "{report}");
    assert!(report.contains("Len=3000 (fragments #"), "{report}");
    let icmp = report
        .lines()
        .find(|l| l.contains("Port unreachable"))
        .expect("ICMP error in the report");
    assert!(
        icmp.contains(":5003") && !icmp.contains("not captured"),
        "{icmp}"
    );
    assert!(report.contains("retransmission"));
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);
}
