//! Running a shipped lab end to end and checking its report against tshark.

use labrun::analysis::CSV_FIELDS;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The result of one lab run.
pub struct LabRun {
    /// The process output.
    pub output: Output,
    /// The report directory.
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl LabRun {
    /// stdout and stderr together, for assertion messages.
    pub fn text(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }

    /// A report file's text.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The rows of a CSV file of the report (header first).
    pub fn csv(&self, name: &str) -> Vec<Vec<String>> {
        read_csv(&self.dir.join(name))
    }
}

/// Runs `labrun LAB ARGS... --out TMP` from the project root; without `--formats` in
/// `ARGS`, with `--formats none` (printing a PDF takes seconds; the tests of the formats
/// ask for them, and [`refresh_example`] makes them for the committed examples).
pub fn run_lab(lab: &str, args: &[&str]) -> LabRun {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("report");
    let formats: &[&str] = if args.contains(&"--formats") {
        &[]
    } else {
        &["--formats", "none"]
    };
    let output = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg(lab)
        .args(args)
        .args(formats)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    LabRun {
        output,
        dir,
        _tmp: tmp,
    }
}

/// Reads a CSV file into rows of strings.
pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// Asserts that `csv` (packets.csv) equals tshark's fields for `pcap`, frame by frame.
pub fn assert_csv_matches_tshark(csv: &Path, pcap: &Path) {
    assert_csv_matches_tshark_with(csv, pcap, &[]);
}

/// `assert_csv_matches_tshark` with extra tshark options.
pub fn assert_csv_matches_tshark_with(csv: &Path, pcap: &Path, options: &[&str]) {
    let ours = read_csv(csv);
    let theirs = super::tshark::tshark_fields_with(pcap, CSV_FIELDS, options);
    assert_eq!(ours[0], CSV_FIELDS, "header row of {}", csv.display());
    assert_eq!(
        ours.len() - 1,
        theirs.len(),
        "frame count of {}",
        csv.display()
    );
    for (i, (a, b)) in ours[1..].iter().zip(&theirs).enumerate() {
        assert_eq!(
            a,
            b,
            "{}: frame {} differs from tshark",
            csv.display(),
            i + 1
        );
    }
}

/// Every (packets CSV, capture pcapng) pair in a report directory.
pub fn capture_pairs(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut pairs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".pcapng") {
            let csv = match stem.strip_prefix("capture-") {
                Some(rest) => format!("packets-{rest}.csv"),
                None => "packets.csv".to_string(),
            };
            pairs.push((dir.join(csv), entry.path()));
        }
    }
    pairs.sort();
    pairs
}

/// The column of `field` in packets.csv.
pub fn col(field: &str) -> usize {
    CSV_FIELDS.iter().position(|f| *f == field).unwrap()
}

/// The non-zero tcp.len values of data segments from `src` (ip.src) in a packets CSV.
pub fn data_lens(rows: &[Vec<String>], src: &str) -> Vec<String> {
    rows[1..]
        .iter()
        .filter(|r| {
            r[col("ip.src")] == src && !r[col("tcp.len")].is_empty() && r[col("tcp.len")] != "0"
        })
        .map(|r| r[col("tcp.len")].clone())
        .collect()
}

/// Runs `lab` for the golden student and asserts what every lab test first wants: it
/// exited with 0, all `checks` of its checks passed, and each capture's CSV is what tshark
/// reads from its capture file.
pub fn run_lab_against_tshark(lab: &str, checks: usize) -> LabRun {
    let run = run_lab(lab, &["--student", "20215120807 Li Yihang"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text()
            .contains(&format!("{checks} of {checks} checks passed")),
        "{}",
        run.text()
    );
    for (csv, pcap) in &capture_pairs(&run.dir) {
        assert_csv_matches_tshark(csv, pcap);
    }
    run
}

/// Replaces reports/examples/NAME with the files of `from`, so the committed example is
/// what the current labrun produces, and makes its report.pdf and report.docx with
/// `labrun export` (the PDF only where a Chromium-family browser is installed).
pub fn refresh_example(name: &str, from: &Path) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reports/examples")
        .join(name);
    let _ = std::fs::remove_dir_all(&example);
    std::fs::create_dir_all(&example).unwrap();
    for entry in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        std::fs::copy(entry.path(), example.join(entry.file_name())).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg("export")
        .arg(&example)
        .output()
        .unwrap();
    assert!(out.status.success(), "labrun export {name}: {out:?}");
}

/// Runs `labs/<lab>.rhai` in Chinese for 20215120807 李一航, asserts that it passed, that its
/// report holds each of `phrases` and no English sentence left untranslated, refreshes
/// reports/examples/<lab>-zh/ with it and returns the report's Markdown.
pub fn chinese_example(lab: &str, phrases: &[&str]) -> String {
    let zh = run_lab(
        &format!("labs/{lab}.rhai"),
        &["--student", "20215120807 李一航", "--lang", "zh"],
    );
    assert_eq!(zh.output.status.code(), Some(0), "{}", zh.text());
    let md = zh.read("report.md");
    for p in phrases {
        assert!(md.contains(p), "no {p:?} in the zh report:\n{md}");
    }
    let left = super::english::english_phrases(&md);
    assert!(left.is_empty(), "English left in the zh report: {left:?}");
    refresh_example(&format!("{lab}-zh"), &zh.dir);
    md
}
