//! Benchmark: building the lab sandbox, the whole segment lab (sandbox setup, three
//! captured transfers, analysis and the written report), the retransmit lab (two
//! sandboxes, a loss recovered by the timer's backoff, one by fast retransmit), the
//! flow-control lab (a zero window held for 2.5 s), the Nagle lab and the congestion lab
//! (two 600 KiB transfers through a 5 Mbit/s bottleneck), in wall time.
//!
//! Run as root (or where labrun can enter a user namespace): `cargo bench --bench lab`.
//! `LABRUN_BENCH_RUNS=N` sets the runs (10), `LABRUN_BENCH_LABS=congestion,nagle` the labs.
//! Prints min / median / max over the runs; the README quotes these figures.

use labrun::network::{NetOptions, Network};
use labrun::runner::{self, NetworkChoice, NetworkMode, RunOptions};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn stats(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} runs {:>3}  min {:>8.1} ms  median {:>8.1} ms  max {:>8.1} ms",
        times.len(),
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

fn main() {
    #[cfg(target_os = "linux")]
    if let Err(e) = labrun::sandbox::ensure_privileges(true) {
        eprintln!("cannot run the benchmark here: {e}");
        std::process::exit(2);
    }
    let runs: usize = std::env::var("LABRUN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);

    let mut build = Vec::new();
    for _ in 0..runs * 3 {
        let t = Instant::now();
        let net = Network::sandbox(&NetOptions::default()).expect("build the sandbox");
        build.push(t.elapsed());
        drop(net);
    }
    stats("sandbox: build two hosts (veth, offloads off)", build);

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("temporary directory");
    let labs = [
        ("segment", "segment lab end to end (setup + 3 transfers)"),
        (
            "retransmit",
            "retransmit lab end to end (RTO backoff + fast rtx)",
        ),
        (
            "flow_control",
            "flow_control lab end to end (zero window, 2.5 s pause)",
        ),
        ("nagle", "nagle lab end to end (3 cases x 4 rounds)"),
        (
            "congestion",
            "congestion lab end to end (reno + cubic, 600 KiB each at 5 Mbit/s)",
        ),
    ];
    let only: Vec<String> = std::env::var("LABRUN_BENCH_LABS")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    for (name, title) in labs {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let mut lab = Vec::new();
        for i in 0..runs {
            let opts = RunOptions {
                script: root.join(format!("labs/{name}.rhai")),
                out: Some(out.path().join(format!("{name}-{i}"))),
                reports_base: out.path().to_path_buf(),
                student: None,
                course: None,
                grade: None,
                keep_report: true,
                args: Vec::new(),
                network: NetworkChoice {
                    mode: NetworkMode::Sandbox,
                    ..NetworkChoice::default()
                },
                limits: Default::default(),
                browser: None,
                interrupt: None,
                ..RunOptions::default()
            };
            let t = Instant::now();
            let outcome = runner::run(&opts).unwrap_or_else(|e| panic!("run the {name} lab: {e}"));
            lab.push(t.elapsed());
            assert_eq!(outcome.exit_code(), 0, "the {name} lab's checks must pass");
        }
        stats(title, lab);
    }
}
