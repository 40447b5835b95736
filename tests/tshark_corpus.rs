//! The committed capture files of tests/corpus/ (ICMPv6, DNS and mDNS, built byte by
//! byte by tests/corpus/make.py), each compared with tshark on every field labrun lists,
//! the Protocol and Info columns included.

mod common;

use common::tshark::assert_cli_same_as_tshark;
use labrun::analysis::SUPPORTED_FIELDS;
use std::path::Path;

#[test]
fn every_corpus_file_matches_tshark() {
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "corpus files: {files:?}");
    for file in files {
        let rows = assert_cli_same_as_tshark(&file, SUPPORTED_FIELDS);
        assert!(rows > 0, "{} has no frames", file.display());
    }
}
