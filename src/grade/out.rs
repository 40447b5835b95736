//! A graded submission as the outputs need it, and the outputs: the class CSV, Moodle's
//! grade import CSV, Gradescope's results.json and a feedback file per student.

use crate::report::Report;

/// One submission's result.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The file name.
    pub file: String,
    /// The student ID (file name or roster).
    pub id: Option<String>,
    /// The student's name (roster).
    pub name: String,
    /// Points earned.
    pub score: u32,
    /// Points possible (0 when the capture could not be graded).
    pub total: u32,
    /// Every check: what, passed, points, Wireshark filter.
    pub checks: Vec<CheckRow>,
    /// Whose-capture and copy flags.
    pub flags: Vec<String>,
    /// Why the capture could not be graded.
    pub error: Option<String>,
}

/// One check of a graded submission.
#[derive(Debug, Clone)]
pub struct CheckRow {
    /// What the check says.
    pub what: String,
    /// Whether the capture passed it.
    pub passed: bool,
    /// Its points.
    pub points: u32,
    /// The Wireshark display filter that shows it.
    pub filter: Option<String>,
}

impl Row {
    /// The row of a graded report.
    pub fn graded(file: String, r: &Report) -> Row {
        let (score, total) = r.score();
        Row {
            file,
            score,
            total,
            checks: r
                .checks
                .iter()
                .map(|c| CheckRow {
                    what: c.what.clone(),
                    passed: c.passed,
                    points: c.points,
                    filter: c.filter.clone(),
                })
                .collect(),
            ..Row::default()
        }
    }

    /// The row of a submission that could not be graded.
    pub fn failed(file: String, total: u32, error: String) -> Row {
        Row {
            file,
            total,
            error: Some(error),
            ..Row::default()
        }
    }

    /// The failed checks, `what; what`, and the error if any.
    pub fn failed_checks(&self) -> String {
        let mut parts: Vec<String> = self
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.what.clone())
            .collect();
        if let Some(e) = &self.error {
            parts.insert(0, format!("error: {e}"));
        }
        parts.join("; ")
    }

    /// The failed checks and the flags, for a one-cell feedback.
    fn summary(&self) -> String {
        let mut s = self.failed_checks();
        if !self.flags.is_empty() {
            if !s.is_empty() {
                s.push_str("; ");
            }
            s.push_str("flagged: ");
            s.push_str(&self.flags.join("; "));
        }
        s
    }
}

/// The class CSV: `submission,id,name,score,total,failed_checks,flags`.
pub fn class_csv(rows: &[Row], w: impl std::io::Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(w);
    w.write_record([
        "submission",
        "id",
        "name",
        "score",
        "total",
        "failed_checks",
        "flags",
    ])?;
    for r in rows {
        w.write_record([
            r.file.clone(),
            r.id.clone().unwrap_or_default(),
            r.name.clone(),
            r.score.to_string(),
            r.total.to_string(),
            r.failed_checks(),
            r.flags.join("; "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Moodle's grade import CSV, keyed by ID number: `ID number,Grade,Feedback` (rows without
/// a student ID cannot be imported and are left out).
pub fn moodle_csv(rows: &[Row], w: impl std::io::Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(w);
    w.write_record(["ID number", "Grade", "Feedback"])?;
    for r in rows {
        let Some(id) = &r.id else { continue };
        w.write_record([id.clone(), r.score.to_string(), r.summary()])?;
    }
    w.flush()?;
    Ok(())
}

/// Gradescope's results.json for one submission: `score`, `max_score`, `output` and one
/// entry of `tests` per check (`name`, `score`, `max_score`, `status`, `output`).
pub fn gradescope_json(row: &Row) -> serde_json::Value {
    let tests: Vec<serde_json::Value> = row
        .checks
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.what,
                "score": if c.passed { c.points } else { 0 },
                "max_score": c.points,
                "status": if c.passed { "passed" } else { "failed" },
                "output": match (&c.filter, c.passed) {
                    (Some(f), false) => format!("Wireshark filter: {f}"),
                    _ => String::new(),
                },
            })
        })
        .collect();
    let mut output = row.error.clone().unwrap_or_default();
    if !row.flags.is_empty() {
        if !output.is_empty() {
            output.push('\n');
        }
        output.push_str(&format!("flagged: {}", row.flags.join("; ")));
    }
    serde_json::json!({
        "score": row.score,
        "max_score": row.total,
        "output": output,
        "tests": tests,
    })
}

/// The feedback for one student: the score, each failed check with the Wireshark filter that
/// shows it, and the flags.
pub fn feedback_text(row: &Row) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "submission: {}", row.file);
    if let Some(id) = &row.id {
        let _ = writeln!(out, "student: {id} {}", row.name);
    }
    let _ = writeln!(out, "score: {} / {}", row.score, row.total);
    if let Some(e) = &row.error {
        let _ = writeln!(out, "not graded: {e}");
    }
    let failed: Vec<&CheckRow> = row.checks.iter().filter(|c| !c.passed).collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "failed checks:");
        for c in failed {
            let _ = writeln!(out, "  - {}", c.what);
            if let Some(f) = &c.filter {
                let _ = writeln!(out, "    Wireshark filter: {f}");
            }
        }
    }
    if !row.flags.is_empty() {
        let _ = writeln!(out, "flagged:");
        for f in &row.flags {
            let _ = writeln!(out, "  - {f}");
        }
    }
    out
}

/// Writes each row's feedback file (`feedback_text`) into `dir` as `<submission>.txt`.
pub fn write_feedback(dir: &std::path::Path, rows: &[Row]) -> Result<(), super::GradeError> {
    let fail = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |error| super::GradeError::Feedback { path, error }
    };
    std::fs::create_dir_all(dir).map_err(fail(dir))?;
    for row in rows {
        let stem = std::path::Path::new(&row.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| row.file.clone());
        let path = dir.join(format!("{stem}.txt"));
        std::fs::write(&path, feedback_text(row)).map_err(fail(&path))?;
    }
    Ok(())
}
