//! End to end: labs/flow_control.rhai and labs/nagle.rhai in the sandbox, checked against
//! tshark on the same captures. Flow control: every zero window and the window update the
//! report's table names are the frames tshark flags, and the probes the report lists are
//! the frames tshark flags as probes (Linux probes with a keep-alive-shaped segment). Nagle:
//! each round's frames and the delay between a request's header and body are tshark's
//! frame times. Refreshes reports/examples/{flow_control,nagle}[-zh]/.

mod common;

use common::lab::{refresh_example, run_lab_against_tshark};
use common::tshark::tshark_fields_with;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn ready() -> bool {
    if !common::is_root() {
        common::skip_or_fail("the sandbox and its capture need root here (run the tests as root)");
        return false;
    }
    if !common::have_program("tshark") {
        common::skip_or_fail("tshark is not installed (apt-get install tshark)");
        return false;
    }
    true
}

/// The frames tshark shows with display filter `filter`.
fn tshark_frames(pcap: &Path, filter: &str) -> BTreeSet<u64> {
    tshark_fields_with(pcap, &["frame.number"], &["-Y", filter])
        .iter()
        .filter_map(|r| r.first()?.parse().ok())
        .collect()
}

/// The rows of the first table after `heading`, as cells.
fn table_after(md: &str, heading: &str) -> Vec<Vec<String>> {
    let start = md
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading}: {md}"));
    let rest = &md[start..];
    rest.lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn flow_control_lab_names_the_frames_wireshark_flags() {
    if !ready() {
        return;
    }
    let run = run_lab_against_tshark("labs/flow_control.rhai", 5);
    let md = run.read("report.md");
    let pcap = run.dir.join("capture.pcapng");
    let rows = table_after(&md, "## The window shrinks to zero");
    let named = |flag: &str| -> BTreeSet<u64> {
        rows.iter()
            .filter(|r| {
                r[4].split(", ")
                    .any(|f| f == format!("tcp.analysis.{flag}"))
            })
            .map(|r| r[0].parse().unwrap())
            .collect()
    };
    assert_eq!(
        named("zero_window"),
        tshark_frames(&pcap, "tcp.analysis.zero_window"),
        "{md}"
    );
    let updates = tshark_frames(&pcap, "tcp.analysis.window_update");
    assert_eq!(named("window_update").first(), updates.first(), "{md}");
    // Each window in the table is tshark's calculated window of that frame.
    let windows: BTreeMap<u64, String> =
        tshark_fields_with(&pcap, &["frame.number", "tcp.window_size"], &[])
            .into_iter()
            .map(|r| (r[0].parse().unwrap(), r[1].clone()))
            .collect();
    for r in &rows {
        assert_eq!(
            windows[&r[0].parse::<u64>().unwrap()],
            r[3],
            "frame {}",
            r[0]
        );
    }
    // The probes the text lists are the frames tshark flags as probes or keep-alives.
    let listed: BTreeSet<u64> = md
        .split("zero-window probes (frames ")
        .nth(1)
        .and_then(|t| t.split(')').next())
        .unwrap_or_else(|| panic!("no probe list: {md}"))
        .split(", ")
        .map(|n| n.parse().unwrap())
        .collect();
    let probes = tshark_frames(
        &pcap,
        "tcp.analysis.zero_window_probe || tcp.analysis.keep_alive",
    );
    assert_eq!(listed, probes, "{md}");
    assert!(probes.len() >= 3, "{md}");
    refresh_example("flow_control", &run.dir);

    common::lab::chinese_example("flow_control", &["零窗口探测报文段", "窗口更新"]);
}

#[test]
fn nagle_lab_measures_each_round_as_wireshark_does() {
    if !ready() {
        return;
    }
    let run = run_lab_against_tshark("labs/nagle.rhai", 7);
    let md = run.read("report.md");
    let cases = [
        (
            "## Case 1: the body waits for the delayed ACK",
            "capture-nagle.pcapng",
        ),
        (
            "## Case 2: TCP_NODELAY sends the body at once",
            "capture-nodelay.pcapng",
        ),
        (
            "## Case 3: TCP_QUICKACK on the server",
            "capture-quickack.pcapng",
        ),
    ];
    let mut delayed = 0;
    for (heading, pcap) in cases {
        let pcap = run.dir.join(pcap);
        let times: BTreeMap<u64, f64> =
            tshark_fields_with(&pcap, &["frame.number", "frame.time_relative"], &[])
                .into_iter()
                .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
                .collect();
        let client_data = tshark_frames(
            &pcap,
            "tcp.len > 0 && tcp.srcport != 8888 && tcp.srcport != 8889 && tcp.srcport != 8890",
        );
        let rows = table_after(&md, heading);
        assert_eq!(rows.len(), 4, "{heading}\n{md}");
        for r in &rows {
            let (a, b) = match r[1].split_once('–') {
                Some((a, b)) => (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()),
                None => (r[1].parse().unwrap(), r[1].parse().unwrap()),
            };
            assert!(
                client_data.contains(&a) && client_data.contains(&b),
                "{heading} {r:?}"
            );
            let gap = (times[&b] - times[&a]) * 1000.0;
            assert_eq!(format!("{gap:.1}"), r[3], "{heading} {r:?}");
            if heading.contains("Case 1") && gap >= 30.0 {
                delayed += 1;
            }
        }
    }
    assert!(delayed >= 1, "{md}");
    refresh_example("nagle", &run.dir);

    common::lab::chinese_example("nagle", &["Nagle 算法", "推迟确认"]);
}
