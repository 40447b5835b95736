//! Benchmark: labrun's port scans against nmap's, run in one go against the same loopback
//! listeners, each side as a whole process (start-up included):
//!
//! - connect scan of all 65535 ports vs `nmap -sT -p- -n -Pn 127.0.0.1`;
//! - SYN scan of all 65535 ports vs `nmap -sS`;
//! - FIN scan of 1-1024 vs `nmap -sF`.
//!
//! Every run also checks that both give every port the same state. Run as root (raw
//! sockets): `cargo bench --bench scan`. `LABRUN_BENCH_RUNS` sets the runs per figure
//! (default 5); prints min / median per side and the median ratio. The README quotes these.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

/// Ports the benchmark listens on (those below 1024 make the FIN scan wait for silence).
const LISTEN: [u16; 6] = [21, 80, 443, 993, 8080, 31337];

fn labrun_states(csv: &str) -> BTreeMap<u16, String> {
    csv.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let port = f.next()?.parse().ok()?;
            let state = f.nth(1)?.to_string();
            Some((port, state))
        })
        .collect()
}

/// Every port's state from nmap's XML (listed ports, else the `extraports` state).
fn nmap_states(xml: &str, ports: &[u16]) -> BTreeMap<u16, String> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let key = format!("{name}=\"");
        let at = tag.find(&key)? + key.len();
        Some(tag[at..].split('"').next()?.to_string())
    };
    let mut listed = BTreeMap::new();
    for chunk in xml.split("<port ").skip(1) {
        if let (Some(p), Some(s)) = (
            attr(chunk, "portid").and_then(|p| p.parse::<u16>().ok()),
            chunk.split("<state ").nth(1).and_then(|t| attr(t, "state")),
        ) {
            listed.insert(p, s);
        }
    }
    let extra = xml
        .split("<extraports ")
        .nth(1)
        .and_then(|t| attr(t, "state"))
        .unwrap_or_default();
    ports
        .iter()
        .map(|&p| (p, listed.get(&p).cloned().unwrap_or_else(|| extra.clone())))
        .collect()
}

fn timed(cmd: &mut Command) -> (Duration, String) {
    let t = Instant::now();
    let out = cmd.output().expect("start the scanner");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    if !Command::new("nmap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("cannot run the benchmark here: nmap is not installed (apt-get install nmap)");
        std::process::exit(2);
    }
    let runs: usize = std::env::var("LABRUN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let listeners: Vec<TcpListener> = LISTEN
        .iter()
        .filter_map(|&p| TcpListener::bind(("127.0.0.1", p)).ok())
        .collect();
    println!(
        "listening on 127.0.0.1 ports {:?}; {runs} runs per figure",
        listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()).unwrap_or(0))
            .collect::<Vec<_>>()
    );
    println!(
        "{:<34} {:>11} {:>11} {:>11} {:>11} {:>8} {:>7}",
        "scan", "labrun min", "labrun med", "nmap min", "nmap med", "speedup", "target"
    );
    let all: Vec<u16> = (1..=65535).collect();
    let low: Vec<u16> = (1..=1024).collect();
    let cases: [(&str, &str, &str, &[u16], f64); 3] = [
        (
            "connect, all 65535 ports (-sT)",
            "connect",
            "-sT",
            &all,
            2.0,
        ),
        ("SYN, all 65535 ports (-sS)", "syn", "-sS", &all, 2.0),
        ("FIN, ports 1-1024 (-sF)", "fin", "-sF", &low, 5.0),
    ];
    let mut failed = false;
    for (name, kind, flag, ports, target) in cases {
        let spec = if ports.len() == 65535 { "-" } else { "1-1024" };
        let nmap_spec = if ports.len() == 65535 {
            "-p-"
        } else {
            "-p1-1024"
        };
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (t, csv) = timed(
                Command::new(env!("CARGO_BIN_EXE_labrun"))
                    .args(["scan", "127.0.0.1", "-p", spec, "--type", kind])
                    .args(["--format", "csv"]),
            );
            ours.push(t);
            let (t, xml) = timed(Command::new("nmap").args([
                flag,
                nmap_spec,
                "-n",
                "-Pn",
                "-oX",
                "-",
                "127.0.0.1",
            ]));
            theirs.push(t);
            let (a, b) = (labrun_states(&csv), nmap_states(&xml, ports));
            let differ: Vec<String> = a
                .iter()
                .filter(|(p, s)| b.get(p) != Some(s))
                .map(|(p, s)| format!("{p}: labrun {s}, nmap {:?}", b.get(p)))
                .collect();
            if !differ.is_empty() || a.len() != ports.len() {
                eprintln!("{name}: states differ from nmap: {differ:?}");
                failed = true;
            }
        }
        ours.sort();
        theirs.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let (om, tm) = (ours[ours.len() / 2], theirs[theirs.len() / 2]);
        let speedup = tm.as_secs_f64() / om.as_secs_f64();
        println!(
            "{name:<34} {:>8.0} ms {:>8.0} ms {:>8.0} ms {:>8.0} ms {:>7.1}× {:>6.0}×",
            ms(ours[0]),
            ms(om),
            ms(theirs[0]),
            ms(tm),
            speedup,
            target
        );
        if speedup < target {
            eprintln!("{name}: {speedup:.1}× is below the {target:.0}× target");
        }
    }
    drop(listeners);
    if failed {
        std::process::exit(1);
    }
}
