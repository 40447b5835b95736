//! Benchmark of `labrun analyze --fields` against tshark and tcpdump on a
//! capture of about a million packets of real loopback TCP traffic.
//!
//! Run as root (it captures with tcpdump):
//!
//! ```text
//! cargo bench --bench analyze [-- PACKETS [FILE]]
//! ```
//!
//! It captures ping-pong traffic on four loopback connections with
//! `tcpdump -i lo -B 262144` into a temporary file (or reads FILE if it
//! exists), then times each tool over the same file with the 11 fields of a
//! typical lab table and prints wall time (labrun and tcpdump: best of three
//! runs; tshark: one run), packets per second and peak RSS.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FIELDS: &str = "frame.number,frame.time_relative,ip.src,ip.dst,tcp.srcport,tcp.dstport,tcp.seq,tcp.ack,tcp.len,tcp.window_size,_ws.col.Info";
const CONNECTIONS: usize = 4;

fn main() {
    // `cargo bench` passes `--bench`; only positional arguments count here.
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let packets: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let file = args
        .get(2)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("labrun-bench.pcap"));
    // An empty file is what an interrupted capture leaves: capture again.
    if !file.metadata().is_ok_and(|m| m.len() > 0) {
        capture(&file, packets);
    }
    let labrun = PathBuf::from(env!("CARGO_BIN_EXE_labrun"));

    let labrun_cmd = || {
        let mut l = Command::new(&labrun);
        l.args(["analyze", "--fields", FIELDS]).arg(&file);
        l
    };
    let (labrun_t, labrun_cpu, labrun_rss, rows) = best_of(3, labrun_cmd);
    let frames = rows.saturating_sub(1);
    let mut t = Command::new("tshark");
    t.arg("-r").arg(&file).args([
        "-T",
        "fields",
        "-E",
        "separator=,",
        "-E",
        "header=y",
        "-E",
        "quote=d",
    ]);
    for f in FIELDS.split(',') {
        t.args(["-e", f]);
    }
    let (tshark_t, tshark_cpu, tshark_rss, tshark_rows) = measure(t);
    let tcpdump_cmd = || {
        let mut d = Command::new("tcpdump");
        d.env("TZ", "UTC").args(["-nn", "-r"]).arg(&file);
        d
    };
    let (tcpdump_t, tcpdump_cpu, tcpdump_rss, _) = best_of(3, tcpdump_cmd);

    let pps = |t: f64| frames as f64 / t;
    println!("capture: {} ({frames} frames)", file.display());
    println!("fields:  {FIELDS}");
    println!(
        "{:<22} {:>9} {:>9} {:>14} {:>12}",
        "tool", "wall s", "CPU s", "packets/s", "peak RSS"
    );
    for (name, t, cpu, rss) in [
        ("labrun analyze", labrun_t, labrun_cpu, labrun_rss),
        ("tshark -T fields", tshark_t, tshark_cpu, tshark_rss),
        ("tcpdump -nn -r", tcpdump_t, tcpdump_cpu, tcpdump_rss),
    ] {
        println!(
            "{name:<22} {t:>9.2} {cpu:>9.2} {:>14.0} {:>8.1} MiB",
            pps(t),
            rss as f64 / 1024.0
        );
    }
    println!(
        "labrun vs tshark: {:.1}x faster (wall), {:.1}x less CPU; vs tcpdump: {:.2}x its speed (wall); rows equal: {}",
        tshark_t / labrun_t,
        tshark_cpu / labrun_cpu,
        tcpdump_t / labrun_t,
        tshark_rows == rows
    );
}

/// The fastest of `n` runs (the machine's noise only ever adds time).
fn best_of(n: usize, cmd: impl Fn() -> Command) -> (f64, f64, i64, u64) {
    (0..n)
        .map(|_| measure(cmd()))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((f64::NAN, f64::NAN, 0, 0))
}

/// Runs `cmd` with stdout counted line by line; returns (wall seconds, CPU seconds,
/// peak RSS in KiB, lines).
/// The child is reaped by `wait4`, which also reports its own peak RSS.
#[allow(clippy::zombie_processes)]
fn measure(mut cmd: Command) -> (f64, f64, i64, u64) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut buf = vec![0u8; 1 << 20];
    let mut lines = 0u64;
    loop {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64,
        }
    }
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, the pointers are valid for the call.
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    (start.elapsed().as_secs_f64(), cpu, usage.ru_maxrss, lines)
}

/// Captures `packets` packets of ping-pong traffic on loopback into `file`.
fn capture(file: &Path, packets: u64) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut dump = Command::new("tcpdump")
        .args(["-i", "lo", "-B", "262144", "-U", "-w"])
        .arg(file)
        .arg(format!("tcp port {port}"))
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump (run as root)");
    std::thread::sleep(Duration::from_secs(1));
    // Each exchange is a request and a reply segment (the reply carries the ACK).
    let exchanges = packets / 2 / CONNECTIONS as u64;
    let server = std::thread::spawn(move || {
        let mut handles = Vec::new();
        for _ in 0..CONNECTIONS {
            let (mut s, _) = listener.accept().expect("accept");
            handles.push(std::thread::spawn(move || {
                let mut buf = [0u8; 64];
                while s.read_exact(&mut buf).is_ok() {
                    if s.write_all(&buf).is_err() {
                        break;
                    }
                }
            }));
        }
        handles.into_iter().for_each(|h| h.join().expect("server"));
    });
    let clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                c.set_nodelay(true).expect("nodelay");
                let mut buf = [b'x'; 64];
                for _ in 0..exchanges {
                    c.write_all(&buf).expect("write");
                    c.read_exact(&mut buf).expect("read");
                }
            })
        })
        .collect();
    clients.into_iter().for_each(|h| h.join().expect("client"));
    server.join().expect("server");
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("kill")
        .args(["-INT", &dump.id().to_string()])
        .status();
    let _ = dump.wait();
}
