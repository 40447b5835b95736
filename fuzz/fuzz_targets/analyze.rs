//! Fuzz target: a sequence of frames through the analyzer (stream tracker,
//! sequence analysis, reassembly, Follow TCP Stream and every field).
#![no_main]

use labrun_analysis::{Analyzer, Follow, SUPPORTED_FIELDS, Side};
use labrun_wire::LinkType;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut a = Analyzer::new(LinkType::RawIp);
    let mut follow = Follow::new(1 << 16);
    // Frames are separated by the byte 0xfe.
    for (i, frame) in data.split(|b| *b == 0xfe).enumerate() {
        let p = a.push_bytes(i as i64, 0, frame.len() as u32, frame);
        for f in SUPPORTED_FIELDS {
            let _ = p.field(f);
        }
        if let Some(t) = &p.tcp {
            let side = if t.src_port < t.dst_port { Side::Client } else { Side::Server };
            follow.add(side, t.seq, t.len, &p.payload);
        }
    }
    follow.finish();
    for s in a.finish() {
        let _ = (s.story.handshake_kind(), s.story.close_kind(), s.story.closed_first());
    }
});
