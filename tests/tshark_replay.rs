//! Compares every capture in `$LABRUN_PCAP_DIR` (if set) with tshark: a way
//! to check the analyzer against captures kept from earlier runs or labs.

mod common;

use common::capture::read_pcap;
use common::tshark::assert_same_as_tshark;
use labrun::analysis::{CSV_FIELDS, SUPPORTED_FIELDS, Trace};

#[test]
fn captures_in_dir_match_tshark() {
    let Ok(dir) = std::env::var("LABRUN_PCAP_DIR") else {
        eprintln!("LABRUN_PCAP_DIR not set: nothing to replay");
        return;
    };
    if !common::have_program("tshark") {
        common::skip_or_fail("tshark is not installed");
        return;
    }
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("read LABRUN_PCAP_DIR")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    paths.sort();
    for path in paths {
        let (link, frames) = read_pcap(&path);
        let trace = Trace::analyze(link, &frames);
        assert_same_as_tshark(&path, &trace.packets, CSV_FIELDS);
        assert_same_as_tshark(&path, &trace.packets, SUPPORTED_FIELDS);
        eprintln!("{}: {} frames equal", path.display(), trace.packets.len());
    }
}
