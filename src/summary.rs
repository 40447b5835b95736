//! What labrun prints on the terminal after a lab run or a grading: the summary line, one
//! line per check and where the report went, in the report's language.

use labrun::i18n::Lang;
use labrun::report::{Report, Written};
use labrun::runner::RunOutcome;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

/// Prints a run's outcome (warnings and errors on stderr, the summary on stdout) and
/// returns the exit code: 0 all checks passed, 1 a check failed, 2 an error.
pub fn print_run(outcome: &RunOutcome) -> u8 {
    let r = &outcome.report;
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    if outcome.written.is_none() {
        if let Some(e) = &outcome.error {
            eprintln!("error: {e}");
        }
        return 2;
    }
    print!("{}", run_text(r, outcome.elapsed, outcome.written.as_ref()));
    for note in &outcome.format_notes {
        eprintln!("note: {note}");
    }
    if let Some(e) = &outcome.error {
        eprintln!("error: {e}");
    }
    u8::try_from(outcome.exit_code()).unwrap_or(2)
}

/// The summary of a run: `lab: N steps, P of C checks passed (S s)`, each check with its
/// mark (and for a failed one its detail and Wireshark filter), and the report's folder.
pub fn run_text(r: &Report, elapsed: Duration, written: Option<&Written>) -> String {
    let mut out = String::new();
    let passed = r.checks.len() - r.failed();
    let lang = r.header.lang;
    let (lab, steps, checks, secs) = (
        &r.header.lab,
        r.steps(),
        r.checks.len(),
        elapsed.as_secs_f64(),
    );
    let _ = match lang {
        Lang::En => {
            writeln!(
                out,
                "{lab}: {steps} steps, {passed} of {checks} checks passed ({secs:.1} s)"
            )
        }
        Lang::Zh => {
            writeln!(
                out,
                "{lab}：{steps} 个步骤，{checks} 项检查通过 {passed} 项（{secs:.1} s）"
            )
        }
    };
    for c in &r.checks {
        let mark = if c.passed {
            lang.pick("PASS", "通过")
        } else {
            lang.pick("FAIL", "未通过")
        };
        let _ = write!(out, "  {mark}  {}", c.what);
        if let Some(d) = c.detail.as_ref().filter(|_| !c.passed) {
            let _ = write!(out, " — {d}");
        }
        if let Some(f) = c.filter.as_ref().filter(|_| !c.passed) {
            let _ = write!(out, "  [wireshark: {f}]");
        }
        out.push('\n');
    }
    if let Some(w) = written {
        let _ = writeln!(
            out,
            "{}{}/ ({})",
            lang.pick("report: ", "报告："),
            w.dir.display(),
            w.files.join(", ")
        );
    }
    out
}

/// The summary of one graded capture: its score, each check with its points (and for a
/// failed one its Wireshark filter), and the report's folder when one was written.
pub fn grade_text(pcap: &Path, r: &Report, written: Option<&Written>) -> String {
    let mut out = String::new();
    let (earned, total) = r.score();
    let _ = writeln!(out, "{}: score {earned} / {total}", pcap.display());
    // The lab's steps say what was graded: which conversation, on which port.
    for b in &r.blocks {
        if let labrun::report::Block::Step(text) = b {
            let _ = writeln!(out, "  {text}");
        }
    }
    for c in &r.checks {
        let mark = if c.passed { "PASS" } else { "FAIL" };
        let _ = write!(
            out,
            "  {mark}  {} ({} point{})",
            c.what,
            c.points,
            if c.points == 1 { "" } else { "s" }
        );
        if let Some(f) = c.filter.as_ref().filter(|_| !c.passed) {
            let _ = write!(out, "  [wireshark: {f}]");
        }
        out.push('\n');
    }
    if let Some(w) = written {
        let _ = writeln!(out, "report: {}/", w.dir.display());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use labrun::report::Check;
    use std::path::PathBuf;

    fn check(what: &str, passed: bool) -> Check {
        Check {
            what: what.into(),
            passed,
            detail: (!passed).then(|| "saw 2".to_string()),
            filter: Some("tcp.flags.syn == 1".into()),
            at: "lab.rhai:3".into(),
            points: 1,
        }
    }

    #[test]
    fn summary_in_both_languages() {
        let mut r = Report::default();
        r.header.lab = "segment".into();
        r.checks = vec![check("one SYN", true), check("three segments", false)];
        let written = Written {
            dir: PathBuf::from("reports/x"),
            files: vec!["report.md".into()],
        };
        let en = run_text(&r, Duration::from_millis(1234), Some(&written));
        assert_eq!(
            en,
            "segment: 0 steps, 1 of 2 checks passed (1.2 s)\n  PASS  one SYN\n  FAIL  three segments — saw 2  [wireshark: tcp.flags.syn == 1]\nreport: reports/x/ (report.md)\n"
        );
        r.header.lang = Lang::Zh;
        let zh = run_text(&r, Duration::from_millis(1234), None);
        assert!(zh.starts_with(
            "segment：0 个步骤，2 项检查通过 1 项（1.2 s）\n  通过  one SYN\n  未通过"
        ));
        let row = labrun::grade::out::Row::graded("x.pcap".into(), &r);
        assert_eq!(row.failed_checks(), "three segments");
    }
}
