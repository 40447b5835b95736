//! Grading with a lab: one capture, a folder of captures or (on Linux) a folder of students'
//! programs, each into a [`Row`] with its student and its flags. What is read once per
//! `grade` call (the lab's declared parameters, the roster, the course key) lives in a
//! [`Grader`]; the command line only prints the rows.

use super::out::Row;
use super::{Entry, GradeError, Roster, flags, student_of};
use crate::i18n::Lang;
use crate::progress::SharedProgress;
use crate::runner::{self, DeclaredArgs, RunOptions, RunOutcome};
use std::path::{Path, PathBuf};

/// What a [`Grader`] is made from.
#[derive(Debug, Clone, Default)]
pub struct GraderOptions {
    /// The lab whose checks grade.
    pub lab: PathBuf,
    /// The lab arguments given after `--`.
    pub args: Vec<(String, String)>,
    /// The language of the reports and of the failed checks.
    pub lang: Lang,
    /// The class roster (empty without one).
    pub roster: Roster,
    /// labrun.toml's course key: each student's own lab parameters.
    pub course_key: Option<String>,
    /// Each lab run's time limit, in seconds.
    pub time_limit: u64,
    /// Whether the lab runs live with students' programs (`--programs`), so it needs no
    /// grading part.
    pub programs: bool,
}

/// One `grade` call's lab and everything its submissions share, read once.
#[derive(Debug)]
pub struct Grader {
    opts: GraderOptions,
    declared: DeclaredArgs,
}

impl Grader {
    /// Reads the lab: it must exist, have a grading part (unless it runs students'
    /// programs) and read every argument given.
    pub fn new(opts: GraderOptions) -> Result<Grader, GradeError> {
        let lab = opts.lab.display().to_string();
        let source = std::fs::read_to_string(&opts.lab).map_err(|e| {
            GradeError::Lab(if e.kind() == std::io::ErrorKind::NotFound {
                format!("cannot read {lab}: no such file (see `labrun list`)")
            } else {
                format!("cannot read {lab}: {e}")
            })
        })?;
        if !opts.programs && !runner::has_grading_part(&source) {
            return Err(GradeError::Lab(format!(
                "{lab} has no grading part (`if grading() {{ ... }}`): `labrun grade` never runs a lab live"
            )));
        }
        let declared = runner::declared_args(&opts.lab, &source);
        if let Some(key) = declared.unknown(opts.args.iter().map(|(k, _)| k.as_str())) {
            return Err(GradeError::Lab(format!(
                "unknown argument `{key}`: {lab} {}",
                declared.describe()
            )));
        }
        Ok(Grader { opts, declared })
    }

    /// The lab's declared parameters and programs.
    pub fn declared(&self) -> &DeclaredArgs {
        &self.declared
    }

    /// The roster.
    pub fn roster(&self) -> &Roster {
        &self.opts.roster
    }

    /// The lab arguments for the submission `file`: those given and, with the course key
    /// and the student ID in the name (or roster), the student's own values of the
    /// parameters the lab reads: the capture must use them.
    pub fn args_for(&self, file: &str) -> Vec<(String, String)> {
        let mut out = self.opts.args.clone();
        let (Some(key), Some((id, _))) = (&self.opts.course_key, student_of(file, self.roster()))
        else {
            return out;
        };
        for (k, v) in crate::config::student_values(key, &id) {
            if !out.iter().any(|(a, _)| *a == k)
                && self.declared.unknown(std::iter::once(k.as_str())).is_none()
            {
                out.push((k, v));
            }
        }
        out
    }

    /// Runs the lab's grading part on the capture `pcap` (its report into `out`, if given).
    pub fn run_on(
        &self,
        pcap: &Path,
        out: Option<PathBuf>,
        progress: Option<SharedProgress>,
    ) -> Result<RunOutcome, GradeError> {
        let opts = RunOptions {
            script: self.opts.lab.clone(),
            keep_report: out.is_some(),
            out,
            reports_base: PathBuf::from("reports"),
            args: self.args_for(&file_name(pcap)),
            network: crate::runner::NetworkChoice {
                mode: crate::runner::NetworkMode::Loopback,
                ..Default::default()
            },
            grade: Some(pcap.to_path_buf()),
            lang: self.opts.lang,
            limits: crate::runner::Limits {
                max_duration: std::time::Duration::from_secs(self.opts.time_limit),
                ..Default::default()
            },
            progress,
            ..RunOptions::default()
        };
        runner::run(&opts).map_err(|e| GradeError::Lab(e.to_string()))
    }

    /// Grades one capture: the run (for its report and summary) and its row, with its
    /// student and its whose-capture flags. A run that failed or checked nothing is an error.
    pub fn capture(
        &self,
        pcap: &Path,
        out: Option<PathBuf>,
        progress: Option<SharedProgress>,
    ) -> Result<(RunOutcome, Row), GradeError> {
        let outcome = self.run_on(pcap, out, progress)?;
        if let Some(e) = &outcome.error {
            return Err(GradeError::Lab(e.to_string()));
        }
        if outcome.report.checks.is_empty() {
            return Err(GradeError::Lab(format!(
                "{}'s grading part checked nothing in this capture",
                self.opts.lab.display()
            )));
        }
        let name = file_name(pcap);
        let mut row = Row::graded(name.clone(), &outcome.report);
        let entry = Entry {
            file: name.clone(),
            id: student_of(&name, self.roster()).map(|(id, _)| id),
            fingerprint: super::fingerprint(pcap).ok(),
        };
        self.name_row(&mut row);
        row.flags = flags(&[entry], self.roster()).remove(0);
        Ok((outcome, row))
    }

    /// Grades every capture (`.pcap`, `.pcapng`, `.cap`) in `dir` into one row each, with
    /// the folder's copy flags; whatever is wrong with an entry stays in its row.
    pub fn folder(&self, dir: &Path) -> Result<Vec<Row>, GradeError> {
        let folder_error = |error| GradeError::Folder {
            path: dir.to_path_buf(),
            error,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(folder_error)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(GradeError::Lab(format!(
                "{} holds no .pcap or .pcapng files",
                dir.display()
            )));
        }
        let mut rows = Vec::with_capacity(files.len());
        let mut fingerprints = Vec::with_capacity(files.len());
        for f in &files {
            let (mut row, fp) = self.entry(f);
            self.name_row(&mut row);
            rows.push(row);
            fingerprints.push(fp);
        }
        self.flag(&mut rows, fingerprints);
        Ok(rows)
    }

    /// Sets the row's student from its file name and the roster.
    pub fn name_row(&self, row: &mut Row) {
        if let Some((id, name)) = student_of(&row.file, self.roster()) {
            row.id = Some(id);
            row.name = name;
        }
    }

    /// Sets each row's whose-capture and copy flags from the fingerprints of its capture.
    pub fn flag(&self, rows: &mut [Row], fingerprints: Vec<Option<super::Fingerprint>>) {
        let entries: Vec<Entry> = rows
            .iter()
            .zip(fingerprints)
            .map(|(row, fingerprint)| Entry {
                file: row.file.clone(),
                id: row.id.clone(),
                fingerprint,
            })
            .collect();
        for (row, f) in rows.iter_mut().zip(flags(&entries, self.roster())) {
            row.flags = f;
        }
    }

    /// Grades one entry of a folder into its row and the fingerprint of its capture.
    fn entry(&self, path: &Path) -> (Row, Option<super::Fingerprint>) {
        let name = file_name(path);
        // A FIFO, a device or a folder is flagged without being opened; a huge file unread.
        match std::fs::metadata(path) {
            Err(e) => return (Row::failed(name, 0, e.to_string()), None),
            Ok(m) => {
                if let Some(kind) = crate::pcapfile::not_regular(m.file_type()) {
                    let e = format!("not a regular file ({kind})");
                    return (Row::failed(name, 0, e), None);
                }
                if m.len() > super::MAX_CAPTURE_BYTES {
                    let e = format!(
                        "too large: {} bytes (at most {} MiB)",
                        m.len(),
                        super::MAX_CAPTURE_BYTES >> 20
                    );
                    return (Row::failed(name, 0, e), None);
                }
            }
        }
        let row = match self.run_on(path, None, None) {
            Ok(o) if o.error.is_none() => Row::graded(name, &o.report),
            Ok(o) => {
                let e = o.error.map(|e| e.to_string()).unwrap_or_default();
                Row::failed(name, o.report.score().1, e)
            }
            Err(e) => Row::failed(name, 0, e.to_string()),
        };
        let fp = if row.error.is_none() {
            super::fingerprint(path).ok()
        } else {
            None
        };
        (row, fp)
    }

    /// Builds and runs each submission's programs in the lab (in parallel up to `jobs`),
    /// into one row each with the folder's copy flags and identical sources flagged.
    #[cfg(target_os = "linux")]
    pub fn programs(
        &self,
        dir: &Path,
        job: &super::programs::Job,
        jobs: usize,
        progress: SharedProgress,
    ) -> Result<Vec<Row>, GradeError> {
        use super::programs;
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let subs = programs::submissions(dir).map_err(|error| GradeError::Folder {
            path: dir.to_path_buf(),
            error,
        })?;
        if subs.is_empty() {
            return Err(GradeError::Lab(format!(
                "{} holds no submission folders",
                dir.display()
            )));
        }
        progress.set_length(subs.len() as u64);
        let next = AtomicUsize::new(0);
        let results: Vec<Mutex<Option<programs::Graded>>> =
            subs.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..jobs.clamp(1, subs.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(sub) = subs.get(i) else { break };
                        let student = student_of(&sub.name, self.roster()).map(|(id, name)| {
                            let name = if name.is_empty() {
                                programs::name_in(&sub.name, &id)
                            } else {
                                name
                            };
                            (id, name)
                        });
                        let kv = self.args_for(&sub.name);
                        let graded = programs::grade(job, sub, student.as_ref(), &kv);
                        *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(graded);
                        progress.inc(1);
                    }
                });
            }
        });
        progress.finish();
        let graded: Vec<programs::Graded> = results
            .into_iter()
            .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect();
        let mut rows: Vec<Row> = graded.iter().map(|g| g.row.clone()).collect();
        for row in &mut rows {
            self.name_row(row);
        }
        self.flag(
            &mut rows,
            graded.iter().map(|g| g.fingerprint.clone()).collect(),
        );
        for (i, row) in rows.iter_mut().enumerate() {
            let mine = graded[i].sources_digest;
            let same: Vec<&str> = graded
                .iter()
                .enumerate()
                .filter(|(j, o)| *j != i && mine.is_some() && o.sources_digest == mine)
                .map(|(_, o)| o.row.file.as_str())
                .collect();
            if !same.is_empty() {
                row.flags
                    .push(format!("the same program source as {}", same.join(", ")));
            }
        }
        Ok(rows)
    }
}

/// A path's file name as text.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
