//! Bounded fuzzing on stable Rust: mutated real frames and random bytes go
//! through the frame decoder, the stream tracker, reassembly, Follow TCP
//! Stream and every field, for a fixed number of iterations (a fixed seed,
//! or `LABRUN_FUZZ_SEED`/`LABRUN_FUZZ_ITERS` to explore further). The
//! libFuzzer targets of the same code are in `fuzz/` for `cargo fuzz`.

mod common;

use labrun::analysis::{Analyzer, Follow, SUPPORTED_FIELDS, Side};
use labrun::wire::LinkType;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Frames from the committed example capture (real loopback traffic), as seeds.
fn seeds() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/reports/examples/chat/capture.pcapng"
    );
    // The example is pcapng: libpcap reads it (it ignores the packet comments).
    let (_, frames) = common::capture::read_pcap(std::path::Path::new(path));
    let out: Vec<Vec<u8>> = frames.into_iter().map(|f| f.data).collect();
    assert!(out.len() >= 10, "seed frames");
    out
}

fn mutate(rng: &mut Rng, frame: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !frame.is_empty() => {
                let i = rng.below(frame.len());
                frame[i] ^= 1 << rng.below(8);
            }
            1 if !frame.is_empty() => {
                let i = rng.below(frame.len());
                frame[i] = rng.next() as u8;
            }
            2 => frame.truncate(rng.below(frame.len() + 1)),
            3 => {
                let n = rng.below(64);
                frame.extend((0..n).map(|_| rng.next() as u8));
            }
            4 if frame.len() > 4 => {
                // Interesting values at a random offset (lengths, offsets, flags).
                let i = rng.below(frame.len() - 1);
                let v: [u8; 2] = [[0, 0], [0xff, 0xff], [0x80, 0], [0, 1], [0x20, 0]][rng.below(5)];
                frame[i] = v[0];
                frame[i + 1] = v[1];
            }
            _ => {}
        }
    }
}

#[test]
fn decoder_and_tracker_survive_mutated_and_random_frames() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let mut rng = Rng(env("LABRUN_FUZZ_SEED", 0x5eed_1ab5) | 1);
    let iterations = env("LABRUN_FUZZ_ITERS", 20_000);
    let seeds = seeds();
    let links = [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::Null,
        LinkType::RawIp,
        LinkType::Pktap,
    ];
    let mut frames = 0u64;
    for round in 0..iterations {
        let link = links[rng.below(links.len())];
        let mut a = Analyzer::new(link);
        let mut follow = Follow::new(1 << 12);
        for _ in 0..=rng.below(16) {
            let mut f = if rng.below(8) == 0 {
                (0..rng.below(200)).map(|_| rng.next() as u8).collect()
            } else {
                seeds[rng.below(seeds.len())].clone()
            };
            if link != LinkType::Ethernet && f.len() > 14 && rng.below(2) == 0 {
                f.drain(..14);
            }
            mutate(&mut rng, &mut f);
            let p = a.push_bytes(
                round as i64,
                rng.next() as u32 % 1_000_000_000,
                f.len() as u32,
                &f,
            );
            frames += 1;
            for name in SUPPORTED_FIELDS {
                let _ = p.field(name);
            }
            if let Some(t) = &p.tcp {
                let side = if rng.below(2) == 0 {
                    Side::Client
                } else {
                    Side::Server
                };
                follow.add(side, t.seq, t.len, &p.payload);
            }
        }
        follow.finish();
        for s in a.finish() {
            let _ = (
                s.story.handshake_kind(),
                s.story.close_kind(),
                s.story.closed_first(),
            );
        }
    }
    eprintln!("fuzzed {frames} frames in {iterations} rounds");
}
