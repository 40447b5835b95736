//! Capture files as Wireshark writes and reads them: pcapng with several
//! interfaces of different link types, timestamp resolutions and frame
//! comments, a section header alone, pcap headers of other 2.x versions.
//! `labrun analyze --fields` must print the bytes `tshark -T fields` prints.

mod common;

use std::path::Path;
use std::process::Command;

use common::{have_program, skip_or_fail};

const FIELDS: &str = "frame.number,frame.time_relative,frame.len,frame.cap_len,frame.comment,ip.src,ip.dst,tcp.srcport,tcp.len,_ws.col.info";

fn example_frames() -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/examples/chat.pcap");
    let whole = std::fs::read(path).expect("example");
    let mut frames = Vec::new();
    let mut at = 24;
    while let Some(h) = whole.get(at..at + 16) {
        let caplen = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
        frames.push(whole[at + 16..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    frames
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let len = (12 + body.len().next_multiple_of(4)) as u32;
    let mut b = Vec::new();
    b.extend(kind.to_le_bytes());
    b.extend(len.to_le_bytes());
    b.extend(body);
    b.resize(len as usize - 4, 0);
    b.extend(len.to_le_bytes());
    b
}

fn option(code: u16, value: &[u8]) -> Vec<u8> {
    let mut o = Vec::new();
    o.extend(code.to_le_bytes());
    o.extend((value.len() as u16).to_le_bytes());
    o.extend(value);
    o.resize(4 + value.len().next_multiple_of(4), 0);
    o
}

fn shb() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(0x1a2b_3c4du32.to_le_bytes());
    body.extend(1u16.to_le_bytes());
    body.extend(0u16.to_le_bytes());
    body.extend([0xff; 8]);
    block(0x0a0d_0d0a, &body)
}

fn idb(dlt: u16, tsresol: u8) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(dlt.to_le_bytes());
    body.extend([0, 0, 0, 0, 0, 0]);
    body.extend(option(9, &[tsresol]));
    body.extend(option(0, &[]));
    block(1, &body)
}

fn epb(iface: u32, ts: u64, data: &[u8], comments: &[&str]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(iface.to_le_bytes());
    body.extend(((ts >> 32) as u32).to_le_bytes());
    body.extend((ts as u32).to_le_bytes());
    body.extend((data.len() as u32).to_le_bytes());
    body.extend((data.len() as u32).to_le_bytes());
    body.extend(data);
    body.resize(20 + data.len().next_multiple_of(4), 0);
    if !comments.is_empty() {
        for c in comments {
            body.extend(option(1, c.as_bytes()));
        }
        body.extend(option(0, &[]));
    }
    block(6, &body)
}

fn labrun_fields(path: &Path) -> Vec<u8> {
    let o = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg("analyze")
        .arg(path)
        .args(["--fields", FIELDS])
        .output()
        .expect("run labrun");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

fn tshark_fields(path: &Path) -> Vec<u8> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(path);
    cmd.args([
        "-T",
        "fields",
        "-E",
        "header=y",
        "-E",
        "separator=,",
        "-E",
        "quote=d",
    ]);
    for f in FIELDS.split(',') {
        cmd.arg("-e").arg(common::tshark::tshark_name(f));
    }
    let o = cmd.output().expect("run tshark");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    // tshark 4.0 names the columns _ws.col.Info in its header line.
    text.replacen("_ws.col.Info", "_ws.col.info", 1)
        .into_bytes()
}

fn assert_same(path: &Path) {
    let ours = labrun_fields(path);
    let theirs = tshark_fields(path);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs),
        "{}",
        path.display()
    );
}

#[test]
fn pcapng_interfaces_and_comments_match_tshark() {
    if !have_program("tshark") {
        skip_or_fail("tshark is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let frames = example_frames();
    assert!(frames.len() > 4, "the example has frames");
    // Interface 0: Ethernet in microseconds; interface 1: raw IP in nanoseconds.
    let mut f = shb();
    f.extend(idb(1, 6));
    f.extend(idb(101, 9));
    for (i, frame) in frames.iter().enumerate() {
        let us = 1_700_000_000_000_000 + 1_250 * i as u64;
        let comments: &[&str] = match i {
            0 => &["first", "second, with a comma"],
            2 => &["the handshake ends here"],
            _ => &[],
        };
        // Raw IP carries IPv4 frames only (not the ARP ones).
        if i % 2 == 0 || frame[12..14] != [0x08, 0x00] {
            f.extend(epb(0, us, frame, comments));
        } else {
            f.extend(epb(1, us * 1000 + 7, &frame[14..], comments));
        }
    }
    let path = dir.path().join("two-interfaces.pcapng");
    std::fs::write(&path, &f).expect("write");
    assert_same(&path);
    let text = String::from_utf8(labrun_fields(&path)).expect("utf-8");
    assert!(text.contains("\"first,second, with a comma\""), "{text}");

    // A section header alone: a capture without frames.
    let empty = dir.path().join("shb-only.pcapng");
    std::fs::write(&empty, shb()).expect("write");
    assert_same(&empty);
}

#[test]
fn pcap_version_headers_tshark_reads() {
    if !have_program("tshark") {
        skip_or_fail("tshark is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let frames = example_frames();
    for minor in [0u16, 2, 3, 4] {
        let mut f = Vec::new();
        f.extend(0xa1b2_c3d4u32.to_le_bytes());
        f.extend(2u16.to_le_bytes());
        f.extend(minor.to_le_bytes());
        f.extend([0; 8]);
        f.extend(96u32.to_le_bytes());
        f.extend(1u32.to_le_bytes());
        for (i, frame) in frames.iter().enumerate() {
            f.extend(1_700_000_000u32.to_le_bytes());
            f.extend((1000 * i as u32).to_le_bytes());
            f.extend((frame.len() as u32).to_le_bytes());
            f.extend((frame.len() as u32).to_le_bytes());
            f.extend(frame);
        }
        let path = dir.path().join(format!("v2.{minor}.pcap"));
        std::fs::write(&path, &f).expect("write");
        assert_same(&path);
    }
}
