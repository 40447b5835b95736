//! Writing a report directory atomically, never overwriting an earlier report.

use super::{Normaliser, Report, render_markdown, write_packets_csv};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The report writer's error.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The destination already holds a report file.
    #[error(
        "refusing to overwrite {0}: it holds an earlier report (choose another --out, or move it away)"
    )]
    Exists(PathBuf),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// What was written and where.
#[derive(Debug, Clone)]
pub struct Written {
    /// The report directory.
    pub dir: PathBuf,
    /// File names inside it, in writing order.
    pub files: Vec<String>,
}

/// `reports/<lab>-<YYYYmmdd-HHMMSS>` under `base`.
pub fn default_report_dir(base: &Path, lab: &str) -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    base.join(format!("{lab}-{stamp}"))
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes report.md and each capture's pcapng and CSV into `dest`.
///
/// With `exact` (the user's `--out`), `dest` is used as named and any existing report
/// file in it is an error; otherwise a taken `dest` gets a `-2`, `-3`, ... suffix.
/// Files are built in a temporary directory beside `dest` and renamed into place, so a
/// crash never leaves a half-written report. With `--deterministic` (the header says so)
/// everything but the capture files is written from a [`Normaliser`]'s copy of the report.
pub fn write_report(report: &Report, dest: &Path, exact: bool) -> Result<Written, OutputError> {
    write_report_with(report, dest, exact, |_| Vec::new())
}

/// [`write_report`], with `extra` run on the staged directory (its path) once the report's
/// own files are in it: it may write more files there (the formats made from report.md
/// and report.html) and returns their names, which move into place with the rest.
pub fn write_report_with(
    report: &Report,
    dest: &Path,
    exact: bool,
    extra: impl FnOnce(&Path) -> Vec<String>,
) -> Result<Written, OutputError> {
    let normaliser = report
        .header
        .deterministic
        .then(|| Normaliser::for_report(report));
    let normalised = normaliser.as_ref().map(|n| n.report(report));
    let report = normalised.as_ref().unwrap_or(report);
    let files = file_list(report);
    let mut staged = StagedDir::new(dest, exact, &files)?;
    fill(report, normaliser.as_ref(), &mut staged)?;
    for name in extra(&staged.tmp) {
        staged.adopt(&name);
    }
    staged.commit()
}

/// A report directory being written: files go to a temporary directory
/// beside the destination and are renamed into place by [`StagedDir::commit`]
/// (dropped without commit, nothing is left behind).
#[derive(Debug)]
pub struct StagedDir {
    tmp: PathBuf,
    dest: PathBuf,
    files: Vec<String>,
    /// `dest` is an empty directory this writer created to reserve the name.
    reserved: bool,
    committed: bool,
}

impl StagedDir {
    /// Prepares to write into `dest`. With `exact`, any of `expected` files already
    /// in `dest` is an error; otherwise a taken `dest` gets a numeric suffix.
    pub fn new(dest: &Path, exact: bool, expected: &[String]) -> Result<StagedDir, OutputError> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io_at(&parent))?;
        let (dest, reserved) = if exact {
            for f in expected {
                let p = dest.join(f);
                if p.exists() {
                    return Err(OutputError::Exists(p));
                }
            }
            (dest.to_path_buf(), false)
        } else {
            (reserve_dir(dest)?, true)
        };
        let tmp = parent.join(format!(
            ".labrun-tmp-{}-{}",
            std::process::id(),
            dest.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        let _ = fs::remove_dir_all(&tmp);
        let staged = StagedDir {
            tmp,
            dest,
            files: Vec::new(),
            reserved,
            committed: false,
        };
        fs::create_dir_all(&staged.tmp).map_err(io_at(&staged.tmp))?;
        Ok(staged)
    }

    /// Where the report will be once committed.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Creates file `name` in the staging directory, buffered.
    pub fn create(&mut self, name: &str) -> Result<BufWriter<fs::File>, OutputError> {
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_string());
        }
        create(&self.tmp.join(name))
    }

    /// Counts file `name`, written into the staging directory by other means, as one of
    /// the report's files.
    fn adopt(&mut self, name: &str) {
        if !self.files.iter().any(|f| f == name) && self.tmp.join(name).is_file() {
            self.files.push(name.to_string());
        }
    }

    /// Wraps an I/O error on file `name` of this report.
    pub fn io_error(&self, name: &str, source: io::Error) -> OutputError {
        OutputError::Io {
            path: self.dest.join(name),
            source,
        }
    }

    /// Moves every file into place; refuses to replace an existing file.
    pub fn commit(mut self) -> Result<Written, OutputError> {
        place(&self.tmp, &self.dest, &self.files, self.reserved)?;
        self.committed = true;
        Ok(Written {
            dir: self.dest.clone(),
            files: self.files.clone(),
        })
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.tmp);
        if self.reserved && !self.committed {
            // Only the empty directory that reserved the name; never a report.
            let _ = fs::remove_dir(&self.dest);
        }
    }
}

fn file_list(report: &Report) -> Vec<String> {
    let mut files = vec!["report.md".to_string(), "report.html".to_string()];
    for c in &report.captures {
        files.push(c.csv_file());
        files.push(c.pcap_file());
        files.extend(c.figures().iter().map(|f| f.file.clone()));
        files.extend(c.websocket_csv_file());
    }
    files
}

/// The report file `dir` already holds (its `report.md` or `report.html`), if any: what
/// makes `--out DIR` refused, checked before a lab runs so no run is wasted.
pub fn holds_report(dir: &Path) -> Option<PathBuf> {
    ["report.md", "report.html"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.symlink_metadata().is_ok())
}

/// Refuses `--out DIR` when `dir` already holds a report.
pub fn check_out_dir(dir: &Path) -> Result<(), OutputError> {
    match holds_report(dir) {
        Some(p) => Err(OutputError::Exists(p)),
        None => Ok(()),
    }
}

/// Reserves `dest`, or the first free of `dest-2`, `dest-3`, ..., by creating it: the
/// directory is made by exactly one caller, so two runs that finish in the same second
/// each get a name of their own (a check for existence followed by a rename would let
/// both pick the same name and the second lose its report).
pub fn reserve_dir(dest: &Path) -> Result<PathBuf, OutputError> {
    const TRIES: u32 = 10_000;
    for n in 1..=TRIES {
        let path = if n == 1 {
            dest.to_path_buf()
        } else {
            let mut name = dest.as_os_str().to_owned();
            name.push(format!("-{n}"));
            PathBuf::from(name)
        };
        match fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_at(&path)(e)),
        }
    }
    Err(OutputError::Io {
        path: dest.to_path_buf(),
        source: io::Error::other(format!("{TRIES} reports of this name already exist")),
    })
}

fn create(path: &Path) -> Result<BufWriter<fs::File>, OutputError> {
    fs::File::create(path)
        .map(BufWriter::new)
        .map_err(io_at(path))
}

fn write_text(dir: &mut StagedDir, name: &str, text: &str) -> Result<(), OutputError> {
    let mut out = dir.create(name)?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| dir.io_error(name, e))
}

fn fill(
    report: &Report,
    normaliser: Option<&Normaliser>,
    dir: &mut StagedDir,
) -> Result<(), OutputError> {
    let markdown = render_markdown(report);
    write_text(dir, "report.md", &markdown)?;
    let figures: Vec<(String, String)> = report
        .figures()
        .into_iter()
        .map(|f| (f.file.clone(), f.svg.clone()))
        .collect();
    for (file, svg) in &figures {
        write_text(dir, file, svg)?;
    }
    let title = if report.header.title.is_empty() {
        &report.header.lab
    } else {
        &report.header.title
    };
    write_text(
        dir,
        "report.html",
        &super::render_html(title, &markdown, &figures, report.header.lang),
    )?;
    for c in &report.captures {
        let csv = c.csv_file();
        let w = dir.create(&csv)?;
        write_packets_csv(w, &c.trace).map_err(|e| dir.io_error(&csv, e))?;
        let pcap = c.pcap_file();
        let w = dir.create(&pcap)?;
        c.write_capture(w).map_err(|e| dir.io_error(&pcap, e))?;
        if let Some(name) = c.websocket_csv_file() {
            let w = dir.create(&name)?;
            let cell = |c: &str| normaliser.map_or_else(|| c.to_string(), |n| n.text(c));
            super::write_websocket_csv_mapped(w, &c.trace, cell)
                .map_err(|e| dir.io_error(&name, e))?;
        }
    }
    Ok(())
}

fn place(tmp: &Path, dest: &Path, files: &[String], reserved: bool) -> Result<(), OutputError> {
    if !dest.exists() {
        return fs::rename(tmp, dest).map_err(io_at(dest));
    }
    // The reserved name is an empty directory of ours: renaming onto it replaces it in
    // one step (where the system cannot, the files move one by one below).
    if reserved && fs::rename(tmp, dest).is_ok() {
        return Ok(());
    }
    for f in files {
        let to = dest.join(f);
        if to.exists() {
            return Err(OutputError::Exists(to));
        }
    }
    for f in files {
        let to = dest.join(f);
        if to.exists() {
            return Err(OutputError::Exists(to));
        }
        fs::rename(tmp.join(f), &to).map_err(io_at(&to))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let report = Report::default();
        let a = write_report(&report, &dir.path().join("r"), false).unwrap();
        let b = write_report(&report, &dir.path().join("r"), false).unwrap();
        assert_ne!(a.dir, b.dir);
        assert!(b.dir.ends_with("r-2"));
        assert!(b.dir.join("report.md").exists());
        let err = write_report(&report, &dir.path().join("r"), true).unwrap_err();
        assert!(matches!(err, OutputError::Exists(_)));
        // An empty existing directory given with --out is fine.
        fs::create_dir(dir.path().join("empty")).unwrap();
        write_report(&report, &dir.path().join("empty"), true).unwrap();
        assert!(dir.path().join("empty/report.md").exists());
        // A write that fails after reserving its name leaves nothing behind.
        let staged = StagedDir::new(&dir.path().join("gone"), false, &[]).unwrap();
        assert!(dir.path().join("gone").is_dir());
        drop(staged);
        assert!(!dir.path().join("gone").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".labrun-tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
