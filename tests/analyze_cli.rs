//! `labrun analyze` on broken input: empty, garbage, truncated files, an
//! unknown link type, frames cut by a small snap length, bad options. Each
//! gives one clear line and exit code 2 (or decode-error rows), never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::pcapfile::{OutFrame, write_pcap};

fn labrun(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg("analyze")
        .arg(file)
        .args(args)
        .output()
        .expect("run labrun")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/examples/chat/capture.pcapng")
}

/// The example's frames as a classic pcap file in `dir` (nanosecond timestamps), whose
/// records the tests cut byte by byte.
fn example_pcap(dir: &Path) -> PathBuf {
    let (link, frames) = common::capture::read_pcap(&example());
    let path = dir.join("example.pcap");
    let file = std::fs::File::create(&path).expect("create");
    labrun::pcapfile::write_pcap(file, link.dlt(), 262_144, &frames).expect("write");
    path
}

/// Asserts exit code 2, a single `error:` line containing `needle`, and no panic.
fn assert_one_line_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn broken_files_give_one_clear_line() {
    let dir = tempfile::tempdir().expect("dir");
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").expect("write");
    assert_one_line_error(
        &labrun(&["--fields", "frame.number"], &empty),
        "the file is empty",
    );

    let garbage = dir.path().join("garbage.pcap");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&garbage, bytes).expect("write");
    assert_one_line_error(&labrun(&[], &garbage), "not a pcap or pcapng capture");

    let whole = std::fs::read(example_pcap(dir.path())).expect("example");
    let full = labrun(&["--fields", "frame.number"], &example());
    let frames = String::from_utf8_lossy(&full.stdout).lines().count() - 1;
    assert!(frames > 2, "the example capture has frames");
    let cut = dir.path().join("cut.pcap");
    // Cut inside the last frame (every frame of the example is longer than 30 bytes).
    std::fs::write(&cut, &whole[..whole.len() - 30]).expect("write");
    let o = labrun(&["--fields", "frame.number"], &cut);
    assert_one_line_error(&o, &format!("damaged after frame {}", frames - 1));
    let rows = String::from_utf8_lossy(&o.stdout).lines().count();
    assert_eq!(rows, frames, "the header and the frames before the damage");

    let header_only = dir.path().join("header.pcap");
    std::fs::write(&header_only, &whole[..10]).expect("write");
    assert_one_line_error(&labrun(&[], &header_only), "cut short inside its header");

    assert_one_line_error(
        &labrun(&[], &dir.path().join("missing.pcap")),
        "No such file",
    );

    let usb = dir.path().join("usb.pcap");
    write_pcap(&usb, 189, &[OutFrame::full(1_000_000, vec![0; 64])]);
    assert_one_line_error(&labrun(&[], &usb), "link type 189");

    assert_one_line_error(
        &labrun(&["--fields", "tcp.bogus"], &example()),
        "unknown field `tcp.bogus`",
    );
    assert_one_line_error(
        &labrun(&["--filter", "tcp port"], &example()),
        "bad --filter",
    );
    let out = dir.path().join("r");
    assert_one_line_error(
        &labrun(
            &["--stream", "7", "--out", out.to_str().expect("utf-8")],
            &example(),
        ),
        "no TCP stream 7",
    );
    assert!(!out.exists(), "nothing written on error");
}

#[test]
fn cut_and_random_frames_become_rows_not_panics() {
    let dir = tempfile::tempdir().expect("dir");
    let mut frames = Vec::new();
    let whole = std::fs::read(example_pcap(dir.path())).expect("example");
    // The example's frames, each cut at every length from 0 to its end.
    let mut at = 24;
    let mut t = 1_000_000u64;
    while let Some(h) = whole.get(at..at + 16) {
        let caplen = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
        let data = whole[at + 16..at + 16 + caplen].to_vec();
        for cut in 0..=data.len() {
            frames.push(OutFrame::cut(t, data.clone(), cut));
            t += 10;
        }
        at += 16 + caplen;
    }
    let path = dir.path().join("cuts.pcap");
    write_pcap(&path, 1, &frames);
    let fields = labrun::analysis::SUPPORTED_FIELDS.join(",");
    let o = labrun(&["--fields", &fields], &path);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = String::from_utf8_lossy(&o.stdout).lines().count();
    assert_eq!(rows, frames.len() + 1);
    let report = dir.path().join("report");
    let o = labrun(&["--out", report.to_str().expect("utf-8")], &path);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(report.join("report.md")).expect("report");
    assert!(
        md.contains("Frames that did not decode") || md.contains("cut short by the snap length")
    );
}

#[test]
fn list_fields_and_refusing_to_overwrite() {
    let o = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .args(["analyze", "--list-fields"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&o.stdout);
    for f in [
        "frame.number",
        "tcp.analysis.retransmission",
        "_ws.col.info",
        "icmp.code",
    ] {
        assert!(text.lines().any(|l| l == f), "{f} not listed");
    }
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("r");
    let o = labrun(&["--out", out.to_str().expect("utf-8")], &example());
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["report.md", "packets.csv", "stream-0.txt", "stream-0.bin"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let o = labrun(&["--out", out.to_str().expect("utf-8")], &example());
    assert_one_line_error(&o, "refusing to overwrite");
}

#[test]
fn report_in_chinese_has_no_english_sentences() {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/examples/rst/capture.pcapng");
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("zh");
    let o = labrun(&["--lang", "zh", "--out", out.to_str().unwrap()], &capture);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(md.starts_with("# 抓包分析："), "{md}");
    assert!(md.contains("**关闭：**") && md.contains("RST"), "{md}");
    let left = common::english::english_phrases(&md);
    assert!(left.is_empty(), "English left in the zh report: {left:?}");
    common::english::self_test();
}
