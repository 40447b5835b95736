//! Benchmark: the relayed lab link (`sandbox(#{ link: true })`) against the paths it
//! replaces: a ping-pong round trip (1 byte each way, `TCP_NODELAY`) and a 200 MiB bulk
//! transfer between the two hosts, over the veth cable, the bridge of a three-host
//! switch, the relay with no rules and the relay judging every frame with a rule that
//! never fires.
//!
//! Run as root: `cargo bench --bench link`. `LABRUN_BENCH_RUNS=N` sets the runs (5).
//! Prints min / median / max; the README quotes these figures.

#[cfg(target_os = "linux")]
fn main() {
    use labrun::network::link::{Action, LinkJudge, LinkRule, Select, Toward};
    use labrun::sandbox::{HostSpec, Sandbox, SandboxConfig};
    use std::net::Ipv4Addr;
    use std::time::Instant;

    if let Err(e) = labrun::sandbox::ensure_privileges(true) {
        eprintln!("cannot run the benchmark here: {e}");
        std::process::exit(2);
    }
    let runs: usize = std::env::var("LABRUN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let two = SandboxConfig::default();
    let mut three = SandboxConfig::default();
    three
        .hosts
        .push(HostSpec::new("x", Ipv4Addr::new(10, 77, 0, 3), 24));
    let relayed = SandboxConfig {
        relay: true,
        ..SandboxConfig::default()
    };
    for (name, cfg, judged) in [
        ("veth cable", &two, false),
        ("bridge (3-host switch)", &three, false),
        ("relay, no rules", &relayed, false),
        ("relay, rules judging every frame", &relayed, true),
    ] {
        let (mut rtts, mut rates) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let sb = Sandbox::build(cfg).expect("build the sandbox");
            if judged {
                let rules = vec![LinkRule {
                    to: Toward::Server,
                    port: None,
                    all_frames: false,
                    action: Action::Drop(Select::Data(1_000_000)),
                }];
                labrun::network::judge_relay(
                    sb.relay.as_ref().expect("a relay"),
                    LinkJudge::new(rules, Instant::now()).expect("rules"),
                );
            }
            let (rtt, mbit) = measure(&sb);
            rtts.push(rtt);
            rates.push(mbit);
        }
        report(&format!("{name}: round trip (µs)"), rtts);
        report(&format!("{name}: bulk 200 MiB (Mbit/s)"), rates);
    }
}

#[cfg(target_os = "linux")]
fn report(name: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name:<58} runs {:>2}  min {:>8.1}  median {:>8.1}  max {:>8.1}",
        values.len(),
        values[0],
        values[values.len() / 2],
        values[values.len() - 1]
    );
}

/// Mean ping-pong round trip (µs) over 2000 rounds and bulk throughput (Mbit/s) between
/// the sandbox's first two hosts.
#[cfg(target_os = "linux")]
fn measure(sb: &labrun::sandbox::Sandbox) -> (f64, f64) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};
    let (client, server) = (&sb.hosts[0], &sb.hosts[1]);
    let listener = server
        .netns
        .enter(|| TcpListener::bind((server.ip, 9000)))
        .expect("enter the server")
        .expect("listen");
    let to = (server.ip, 9000);
    let peer = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_nodelay(true).expect("nodelay");
        let mut b = [0u8; 1];
        while s.read_exact(&mut b).is_ok() && b[0] != b'q' {
            s.write_all(&b).expect("echo");
        }
        let (mut bulk, _) = listener.accept().expect("accept");
        let mut buf = vec![0u8; 1 << 16];
        let mut n = 0usize;
        while let Ok(k) = bulk.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += k;
        }
        n
    });
    let mut c = client
        .netns
        .enter(|| TcpStream::connect(to))
        .expect("enter the client")
        .expect("connect");
    c.set_nodelay(true).expect("nodelay");
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut b = [0u8; 1];
    let mut ping = |c: &mut TcpStream| {
        c.write_all(b"x").expect("send");
        c.read_exact(&mut b).expect("receive");
    };
    for _ in 0..50 {
        ping(&mut c);
    }
    let rounds = 2000;
    let t0 = Instant::now();
    for _ in 0..rounds {
        ping(&mut c);
    }
    let rtt_us = t0.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    c.write_all(b"q").expect("quit");
    let mut bulk = client
        .netns
        .enter(|| TcpStream::connect(to))
        .expect("enter the client")
        .expect("connect");
    let chunk = vec![7u8; 1 << 16];
    let total = 200usize << 20;
    let t0 = Instant::now();
    let mut sent = 0;
    while sent < total {
        bulk.write_all(&chunk).expect("send");
        sent += chunk.len();
    }
    drop(bulk);
    let got = peer.join().expect("the peer thread");
    assert_eq!(got, total, "the bulk transfer arrived whole");
    (rtt_us, got as f64 * 8.0 / t0.elapsed().as_secs_f64() / 1e6)
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the relayed link needs Linux");
}
