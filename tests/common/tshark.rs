//! Running tshark on a capture and comparing its fields with ours.

use std::path::Path;
use std::process::Command;

use labrun::analysis::Packet;

/// True when the installed tshark predates 4.2, which spells the column
/// fields `_ws.col.Info` / `_ws.col.Protocol`.
fn old_column_names() -> bool {
    static OLD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OLD.get_or_init(detect_old_column_names)
}

fn detect_old_column_names() -> bool {
    let out = Command::new("tshark").arg("--version").output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let version = text.split_whitespace().nth(2).unwrap_or("4.0").to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) < (4, 2)
}

/// The field name to pass to this tshark for one of our field names.
pub fn tshark_name(field: &str) -> String {
    if old_column_names() {
        match field {
            "_ws.col.info" => return "_ws.col.Info".to_string(),
            "_ws.col.protocol" => return "_ws.col.Protocol".to_string(),
            _ => {}
        }
    }
    field.to_string()
}

/// Runs `tshark -T fields` for `fields` and returns one row per frame.
pub fn tshark_fields(pcap: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    tshark_fields_with(pcap, fields, &[])
}

/// `tshark_fields` with extra tshark options (e.g. `--disable-heuristic http_tcp`).
pub fn tshark_fields_with(pcap: &Path, fields: &[&str], options: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(pcap).args(options).args([
        "-T",
        "fields",
        "-E",
        "header=y",
        "-E",
        "separator=,",
        "-E",
        "quote=d",
    ]);
    for f in fields {
        cmd.arg("-e").arg(tshark_name(f));
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(out.stdout.as_slice());
    reader
        .records()
        .map(|r| {
            r.expect("tshark csv row")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// Asserts that every packet's `fields` equal tshark's, printing the first
/// mismatches as a readable diff.
pub fn assert_same_as_tshark(pcap: &Path, packets: &[Packet], fields: &[&str]) {
    assert_same_as_tshark_with(pcap, packets, fields, &[]);
}

/// `assert_same_as_tshark` with extra tshark options.
pub fn assert_same_as_tshark_with(
    pcap: &Path,
    packets: &[Packet],
    fields: &[&str],
    options: &[&str],
) {
    let rows = tshark_fields_with(pcap, fields, options);
    assert_eq!(
        rows.len(),
        packets.len(),
        "tshark shows {} frames, we decoded {}",
        rows.len(),
        packets.len()
    );
    let mut mismatches = Vec::new();
    for (packet, row) in packets.iter().zip(&rows) {
        for (field, theirs) in fields.iter().zip(row) {
            let ours = packet.field(field).unwrap_or_default();
            if &ours != theirs {
                mismatches.push(format!(
                    "frame {:>4} {:<28} ours: {:?}\n{:>41} tshark: {:?}",
                    packet.number, field, ours, "", theirs
                ));
            }
        }
    }
    if !mismatches.is_empty() {
        let shown: Vec<&String> = mismatches.iter().take(25).collect();
        panic!(
            "{} field(s) differ from tshark in {}:\n{}",
            mismatches.len(),
            pcap.display(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
