//! End to end: labs/segment.rhai in the sandbox shows 1460/1460/30 with timestamps off,
//! 1448/1448/54 with timestamps on and one 2950-byte segment on loopback, every capture's
//! packets.csv equal to tshark's view of it. Refreshes reports/examples/segment/ and, from a
//! run in Chinese, reports/examples/segment-zh/.

mod common;

use common::lab::{
    assert_csv_matches_tshark, capture_pairs, col, data_lens, refresh_example, run_lab,
};

#[test]
fn segment_lab_shows_the_manuals_numbers() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let run = run_lab("labs/segment.rhai", &["--student", "20215120807 Li Yihang"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text().contains("9 of 9 checks passed"),
        "{}",
        run.text()
    );

    let pairs = capture_pairs(&run.dir);
    assert_eq!(pairs.len(), 3, "three captures: {pairs:?}");
    for (csv, pcap) in &pairs {
        assert_csv_matches_tshark(csv, pcap);
    }

    let main = run.csv("packets.csv");
    assert_eq!(data_lens(&main, "10.77.0.1"), ["1460", "1460", "30"]);
    let seqs: Vec<&str> = main[1..]
        .iter()
        .filter(|r| {
            r[col("ip.src")] == "10.77.0.1"
                && r[col("tcp.len")] != "0"
                && !r[col("tcp.len")].is_empty()
        })
        .map(|r| r[col("tcp.seq")].as_str())
        .collect();
    assert_eq!(seqs, ["1", "1461", "2921"]);
    let acks: Vec<&str> = main[1..]
        .iter()
        .filter(|r| r[col("ip.src")] == "10.77.0.2" && r[col("tcp.flags.str")] == "·······A····")
        .map(|r| r[col("tcp.ack")].as_str())
        .collect();
    assert!(acks.contains(&"2951"), "the receiver acks 2951: {acks:?}");

    let ts = run.csv("packets-timestamps.csv");
    assert_eq!(data_lens(&ts, "10.77.0.1"), ["1448", "1448", "54"]);
    let lo = run.csv("packets-loopback.csv");
    assert_eq!(
        data_lens(&lo, "127.0.0.1").first().map(String::as_str),
        Some("2950")
    );

    let md = run.read("report.md");
    assert!(md.contains("**ack 2951 = first seq 1 + 2950**"), "{md}");
    assert!(md.contains("1 + 1460 = 1461, 1461 + 1460 = 2921"), "{md}");
    assert!(md.contains("Who has 10.77.0.2? Tell 10.77.0.1"), "{md}");

    let handshake = [
        "handshake 1/3",
        "handshake 2/3",
        "handshake 3/3",
        "close 1/4",
    ];
    common::tshark::assert_comments_match_tshark(&run.dir.join("capture.pcapng"), &handshake);
    refresh_example("segment", &run.dir);

    // The same lab in Chinese, as the lab manuals are written: a real run, its own example.
    let zh = run_lab(
        "labs/segment.rhai",
        &["--student", "20215120807 李一航", "--lang", "zh"],
    );
    assert_eq!(zh.output.status.code(), Some(0), "{}", zh.text());
    let md = zh.read("report.md");
    assert!(md.contains("**ack 2951 = 第一个 seq 1 + 2950**"), "{md}");
    assert!(
        md.contains("### A. 检查与得分") && md.contains("9 项检查中通过 9 项"),
        "{md}"
    );
    let left = common::english::english_phrases(&md);
    assert!(left.is_empty(), "English left in the zh report: {left:?}");
    let zh_steps = ["第一次握手", "第二次握手", "第三次握手", "第一次挥手"];
    let comments =
        common::tshark::assert_comments_match_tshark(&zh.dir.join("capture.pcapng"), &zh_steps);
    assert!(
        comments
            .values()
            .any(|c| c.contains("ack=1 (客户端 ISN + 1)")),
        "{comments:?}"
    );
    refresh_example("segment-zh", &zh.dir);
}
