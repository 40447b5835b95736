//! Compares committed and kept captures with tshark: every example report's
//! capture.pcapng under reports/examples/, plus every pcap in `$LABRUN_PCAP_DIR` when set
//! (a way to check the analyzer against captures kept from earlier runs or labs).
//! tshark runs with its default options, its HTTP heuristic included: HTTP on a port
//! without a dissector (the WebSocket lab's 8888) and the WebSocket frames after its
//! upgrade are named in the Protocol and Info columns as labrun names them.

mod common;

use common::capture::read_pcap;
use common::tshark::assert_same_as_tshark_with;
use labrun::analysis::{CSV_FIELDS, SUPPORTED_FIELDS, Trace};
use std::path::{Path, PathBuf};

fn pcaps_in(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.is_dir() {
            pcaps_in(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "pcap" || e == "pcapng")
        {
            out.push(path);
        }
    }
}

#[test]
fn kept_captures_match_tshark() {
    if !common::have_program("tshark") {
        common::skip_or_fail("tshark is not installed");
        return;
    }
    let mut paths = Vec::new();
    pcaps_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/examples"),
        &mut paths,
    );
    assert!(
        !paths.is_empty(),
        "no example captures under reports/examples"
    );
    if let Ok(dir) = std::env::var("LABRUN_PCAP_DIR") {
        pcaps_in(Path::new(&dir), &mut paths);
    }
    paths.sort();
    for path in paths {
        let (link, frames) = read_pcap(&path);
        let trace = Trace::analyze(link, &frames);
        assert!(!trace.packets.is_empty(), "{}: no frames", path.display());
        assert_same_as_tshark_with(&path, &trace.packets, CSV_FIELDS, &[]);
        // Comments are the file's, not the frames': libpcap (the reader here) drops them,
        // and tests/capture_files.rs compares labrun's own reader's with tshark.
        let fields: Vec<&str> = SUPPORTED_FIELDS
            .iter()
            .copied()
            .filter(|f| *f != "frame.comment")
            .collect();
        assert_same_as_tshark_with(&path, &trace.packets, &fields, &[]);
        eprintln!("{}: {} frames equal", path.display(), trace.packets.len());
    }
}
