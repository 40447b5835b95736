//! The captures of a run share one memory budget.

use super::run::labrun;

fn can_sandbox() -> bool {
    if super::common::is_root() {
        return true;
    }
    super::common::skip_or_fail("capturing in the lab sandbox needs root");
    false
}

#[test]
fn three_hundred_captures_are_refused_at_the_budget() {
    if !can_sandbox() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    let m = labrun(&[
        "tests/hostile/many_captures.rhai",
        "--out",
        report.to_str().unwrap(),
    ]);
    m.assert_clean_error();
    assert!(
        m.stderr.contains("tests/hostile/many_captures.rhai:6:26")
            && m.stderr.contains("capture memory budget"),
        "the error names the script position and the budget: {}",
        m.stderr
    );
    assert!(!m.stdout.contains("all 300 captures started"));
    // 64 rings of 8 MiB fill the 512 MiB budget; before the budget 300 rings took 23 GB.
    assert!(
        m.max_rss_kib < 900 * 1024,
        "peak resident memory {} MiB",
        m.max_rss_kib / 1024
    );
}

#[test]
fn forty_captures_fit_the_budget() {
    if !can_sandbox() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    let m = labrun(&[
        "tests/hostile/forty_captures.rhai",
        "--out",
        report.to_str().unwrap(),
    ]);
    assert_eq!(m.code, Some(0), "{}", m.text());
    assert!(m.tmp_left.is_empty(), "left in TMPDIR: {:?}", m.tmp_left);
    eprintln!(
        "40 captures: peak resident memory {} MiB in {:.2} s",
        m.max_rss_kib / 1024,
        m.elapsed.as_secs_f64()
    );
    assert!(
        m.max_rss_kib < 600 * 1024,
        "peak resident memory {} MiB",
        m.max_rss_kib / 1024
    );
    // Every capture was written and really holds the exchange.
    let pcaps = std::fs::read_dir(&report)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".pcapng")
        })
        .count();
    assert_eq!(pcaps, 40);
}
