//! `labrun grade LAB --programs DIR`: each submission's own server and client, built and
//! run in the lab, into the same rows as graded captures.
//!
//! A submission is a folder (named after the student, as a capture file is) holding its
//! sources: the server is the `.py`, `.c` or `.java` file whose name contains "server", the
//! client the one whose name contains "client". Each submission gets a copy of its files in
//! a private directory owned by the user its programs run as; C and Java are compiled there
//! contained (as that user, with limits and a deadline), so a source cannot make the
//! compiler read a file its author could not; then a separate labrun process runs the lab
//! with `--server` / `--client` in a sandbox of its own, and writes its checks to a file
//! the programs cannot reach.

use crate::private_dir::PrivateDir;
use crate::sandbox::contain::{Limits, RunAs, contain};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::out::{CheckRow, Row};

/// The most files, and the largest file, copied from one submission.
const MAX_FILES: usize = 64;
const MAX_FILE_BYTES: u64 = 1 << 20;
/// How long a compiler may take.
const COMPILE_TIME: Duration = Duration::from_secs(60);

/// A source language labrun knows how to build and start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// `python3 file.py`.
    Python,
    /// `cc -O2 -pthread -o name file.c`, then `./name`.
    C,
    /// `javac -d . File.java`, then `java -cp . File`.
    Java,
}

impl Language {
    fn of(path: &Path) -> Option<Language> {
        match path.extension()?.to_str()? {
            "py" => Some(Language::Python),
            "c" => Some(Language::C),
            "java" => Some(Language::Java),
            _ => None,
        }
    }
}

/// One side's program in a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Its file name inside the submission.
    pub file: String,
    /// How it is built and started.
    pub language: Language,
}

/// A submission folder and the programs found in it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The folder's name (it holds the student ID).
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// The server program, if any.
    pub server: Option<Source>,
    /// The client program, if any.
    pub client: Option<Source>,
}

/// The first source (by name) in `dir` whose file name contains `role`.
fn find(files: &[String], role: &str) -> Option<Source> {
    files
        .iter()
        .filter(|f| f.to_ascii_lowercase().contains(role))
        .find_map(|f| {
            Language::of(Path::new(f)).map(|language| Source {
                file: f.clone(),
                language,
            })
        })
}

/// The regular files of `dir` (not following links), sorted.
fn files_of(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_file() {
            files.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    files.sort();
    Ok(files)
}

/// The submissions in `dir`: each folder, sorted by name.
pub fn submissions(dir: &Path) -> std::io::Result<Vec<Submission>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if !e.file_type()?.is_dir() {
            continue;
        }
        let files = files_of(&e.path()).unwrap_or_default();
        out.push(Submission {
            name: e.file_name().to_string_lossy().into_owned(),
            dir: e.path(),
            server: find(&files, "server"),
            client: find(&files, "client"),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What every submission of one `grade --programs` call shares.
#[derive(Debug, Clone)]
pub struct Job {
    /// The labrun executable that runs each lab.
    pub labrun: PathBuf,
    /// The lab, as an absolute path.
    pub lab: PathBuf,
    /// Whether the lab takes a `--server` and a `--client` program.
    pub takes: (bool, bool),
    /// The arguments of the server and client commands (`{port}`, `{server_ip} {port}`).
    pub args: (String, String),
    /// The report language, `en` or `zh`.
    pub lang: String,
    /// Each lab run's time limit, in seconds.
    pub time_limit: u64,
    /// Where each submission's report goes (`DIR/<submission>`), if kept.
    pub out: Option<PathBuf>,
}

/// A submission's outcome: its row, and the capture its run made (for the folder's flags).
#[derive(Debug)]
pub struct Graded {
    /// The row (score, checks, or why it could not be graded).
    pub row: Row,
    /// The run's capture while it is still on disk, fingerprinted by the caller.
    pub fingerprint: Option<super::Fingerprint>,
    /// SHA-256 of the submission's program sources, to flag identical programs.
    pub sources_digest: Option<[u8; 32]>,
}

/// Builds and runs one submission's programs in the lab; `student` is `(id, name)` and
/// `kv` the lab arguments. Whatever goes wrong stays in the row.
pub fn grade(
    job: &Job,
    sub: &Submission,
    student: Option<&(String, String)>,
    kv: &[(String, String)],
) -> Graded {
    let mut graded = Graded {
        row: Row::failed(sub.name.clone(), 0, String::new()),
        fingerprint: None,
        sources_digest: None,
    };
    match run(job, sub, student, kv, &mut graded) {
        Ok(row) => graded.row = row,
        Err(e) => graded.row = Row::failed(sub.name.clone(), 0, e),
    }
    graded
}

fn run(
    job: &Job,
    sub: &Submission,
    student: Option<&(String, String)>,
    kv: &[(String, String)],
    graded: &mut Graded,
) -> Result<Row, String> {
    let server = sub.server.as_ref().filter(|_| job.takes.0);
    let client = sub.client.as_ref().filter(|_| job.takes.1);
    if server.is_none() && client.is_none() {
        let wanted = match job.takes {
            (true, true) => "*server* or *client* program",
            (true, false) => "*server* program",
            (false, true) => "*client* program",
            (false, false) => return Err("the lab takes no program of the user's".into()),
        };
        return Err(format!("no {wanted} (.py, .c or .java) in the folder"));
    }
    let run_as = RunAs::for_this_process();
    // The programs' copy, owned by the user they run as; the results, out of their reach.
    let work_dir = PrivateDir::new("submission").map_err(|e| format!("private directory: {e}"))?;
    let results = PrivateDir::new("grade").map_err(|e| format!("private directory: {e}"))?;
    let work = work_dir.path();
    graded.sources_digest = Some(copy_submission(&sub.dir, work, [server, client], run_as)?);
    let mut cmd = Command::new(&job.labrun);
    cmd.arg("run").arg(&job.lab);
    for (flag, source, args) in [
        ("--server", server, &job.args.0),
        ("--client", client, &job.args.1),
    ] {
        if let Some(s) = source {
            let command = build(work, s, run_as)?;
            cmd.arg(flag).arg(format!("{command} {args}"));
        }
    }
    let report = match &job.out {
        Some(dir) => dir.join(&sub.name),
        None => results.path().join("report"),
    };
    let result = results.path().join("result.json");
    if let Some((id, name)) = student {
        let name = if name.is_empty() { "-" } else { name.as_str() };
        cmd.arg("--student").arg(format!("{id} {name}"));
    }
    cmd.arg("--out")
        .arg(&report)
        .args(["--lang", &job.lang])
        .arg("--time-limit")
        .arg(job.time_limit.to_string())
        .arg("--result-json")
        .arg(&result)
        // A class's reports are read on screen; printing each to PDF would triple the time.
        .args(["--formats", "none"])
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if !kv.is_empty() {
        cmd.arg("--");
        cmd.args(kv.iter().map(|(k, v)| format!("{k}={v}")));
    }
    let (status, stderr) = wait_for(cmd, Duration::from_secs(job.time_limit + 30))?;
    let text = std::fs::read_to_string(&result).map_err(|_| {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        format!("the lab run ended ({status}) without a result: {last}")
    })?;
    graded.fingerprint = first_capture(&report).and_then(|p| super::fingerprint(&p).ok());
    row_of(&sub.name, &text)
}

/// Copies the submission's regular files into `work` (at most 64, 1 MiB each; not
/// labrun.toml, which would set the run's own options), gives them to `run_as`, and
/// returns the SHA-256 of the programs' sources.
fn copy_submission(
    from: &Path,
    work: &Path,
    sources: [Option<&Source>; 2],
    run_as: RunAs,
) -> Result<[u8; 32], String> {
    use sha2::Digest;
    let files = files_of(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    if files.len() > MAX_FILES {
        return Err(format!("{} files: at most {MAX_FILES}", files.len()));
    }
    for f in files.iter().filter(|f| f.as_str() != "labrun.toml") {
        let src = from.join(f);
        let len = std::fs::metadata(&src).map(|m| m.len()).unwrap_or(0);
        if len > MAX_FILE_BYTES {
            return Err(format!("{f}: {len} bytes, at most 1 MiB per file"));
        }
        let dst = work.join(f);
        std::fs::copy(&src, &dst).map_err(|e| format!("cannot copy {f}: {e}"))?;
        give(&dst, run_as)?;
    }
    give(work, run_as)?;
    let mut digest = sha2::Sha256::new();
    for s in sources.into_iter().flatten() {
        let text = std::fs::read(work.join(&s.file)).unwrap_or_default();
        digest.update(&text);
        digest.update([0u8]);
    }
    Ok(digest.finalize().into())
}

/// Gives `path` to the user the programs run as (nothing to do when that is labrun's own).
fn give(path: &Path, run_as: RunAs) -> Result<(), String> {
    if let RunAs::User(uid, gid) = run_as {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .map_err(|e| format!("cannot give {} to its user: {e}", path.display()))?;
    }
    Ok(())
}

/// Compiles `s` in `work` when it needs it (contained, as `run_as`) and returns the
/// command that starts it, without its arguments.
fn build(work: &Path, s: &Source, run_as: RunAs) -> Result<String, String> {
    let stem = Path::new(&s.file)
        .file_stem()
        .map(|x| x.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem.is_empty()
        || !stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{}: a program's file name is letters, digits, _ and -",
            s.file
        ));
    }
    let (compiler, args, command): (&str, Vec<String>, String) = match s.language {
        Language::Python => return Ok(format!("python3 {}", s.file)),
        Language::C => (
            "cc",
            vec![
                "-O2".into(),
                "-pthread".into(),
                "-o".into(),
                stem.clone(),
                s.file.clone(),
            ],
            format!("./{stem}"),
        ),
        Language::Java => (
            "javac",
            vec![
                "-encoding".into(),
                "UTF-8".into(),
                "-d".into(),
                ".".into(),
                s.file.clone(),
            ],
            format!("java -cp . {stem}"),
        ),
    };
    let mut cmd = Command::new(compiler);
    cmd.args(&args)
        .current_dir(work)
        .env_clear()
        .env(
            "PATH",
            std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
        )
        .env("HOME", work)
        .env("TMPDIR", work)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let limits = Limits {
        cpu_seconds: COMPILE_TIME.as_secs(),
        memory: 2 << 30,
        processes: 64,
        file_size: 64 << 20,
        open_files: 256,
    };
    contain(&mut cmd, limits, run_as);
    let (status, stderr) = wait_for(cmd, COMPILE_TIME)?;
    if status != "exit 0" {
        let first: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .collect();
        return Err(format!(
            "{} does not compile ({compiler}: {status}): {}",
            s.file,
            first.join(" / ")
        ));
    }
    Ok(command)
}

/// Runs `cmd` to its end or `limit` (then kills its process group), and returns how it
/// ended and the first 64 KiB of its standard error.
fn wait_for(mut cmd: Command, limit: Duration) -> Result<(String, String), String> {
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let mut err = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.take(64 << 10).read_to_end(&mut text);
            let _ = std::io::copy(e, &mut std::io::sink());
        }
        String::from_utf8_lossy(&text).into_owned()
    });
    let end = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                // SAFETY: kill has no memory preconditions; a contained child leads its
                // own process group, so this reaches everything it started.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Err(format!(
                    "{:?} did not finish in {} s",
                    cmd.get_program(),
                    limit.as_secs()
                ));
            }
        }
    };
    let stderr = reader.join().unwrap_or_default();
    let how = match status.code() {
        Some(c) => format!("exit {c}"),
        None => "killed by a signal".to_string(),
    };
    Ok((how, stderr))
}

/// A student's name from a submission folder's name without the roster: what is left of
/// `20215120807-LiYihang` once the ID is taken out (`LiYihang`), else `-`.
pub fn name_in(folder: &str, id: &str) -> String {
    let rest = folder.replacen(id, " ", 1);
    let name = rest
        .split(|c: char| c == '-' || c == '_' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        "-".to_string()
    } else {
        name
    }
}

/// The report's main capture: `capture.pcapng` or `capture.pcap`, else the first capture.
fn first_capture(report: &Path) -> Option<PathBuf> {
    for name in ["capture.pcapng", "capture.pcap"] {
        if report.join(name).is_file() {
            return Some(report.join(name));
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(report)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    files.into_iter().next()
}

/// The result file a lab run writes with `--result-json`: its checks and its error.
pub fn result_json(r: &crate::report::Report, error: Option<String>) -> serde_json::Value {
    serde_json::json!({
        "checks": r.checks.iter().map(|c| serde_json::json!({
            "what": c.what, "passed": c.passed, "points": c.points, "filter": c.filter,
        })).collect::<Vec<_>>(),
        "error": error,
    })
}

/// The row of a submission from its run's result file.
fn row_of(file: &str, text: &str) -> Result<Row, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("unreadable result of the lab run: {e}"))?;
    let checks: Vec<CheckRow> = v["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| CheckRow {
                    what: c["what"].as_str().unwrap_or("").to_string(),
                    passed: c["passed"].as_bool().unwrap_or(false),
                    points: c["points"].as_u64().unwrap_or(1) as u32,
                    filter: c["filter"].as_str().map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    let total = checks.iter().map(|c| c.points).sum();
    let score = checks.iter().filter(|c| c.passed).map(|c| c.points).sum();
    Ok(Row {
        file: file.to_string(),
        score,
        total,
        checks,
        error: v["error"].as_str().map(str::to_string),
        ..Row::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_server_and_client_by_name_and_language() {
        let files: Vec<String> = [
            "ChatServer.java",
            "README.txt",
            "chat_client.py",
            "notes_server.txt",
        ]
        .map(String::from)
        .to_vec();
        let s = find(&files, "server").unwrap();
        assert_eq!(
            (s.file.as_str(), s.language),
            ("ChatServer.java", Language::Java)
        );
        let c = find(&files, "client").unwrap();
        assert_eq!(
            (c.file.as_str(), c.language),
            ("chat_client.py", Language::Python)
        );
        assert!(find(&["server.rs".to_string()], "server").is_none());
    }

    #[test]
    fn a_name_from_the_folder_name() {
        assert_eq!(name_in("20215120807-LiYihang", "20215120807"), "LiYihang");
        assert_eq!(name_in("Li_Yihang_20215120807", "20215120807"), "Li Yihang");
        assert_eq!(name_in("20215120807", "20215120807"), "-");
    }

    #[test]
    fn a_result_file_becomes_a_row() {
        let row = row_of(
            "20215120807-li",
            r#"{"checks":[{"what":"a","passed":true,"points":2,"filter":"tcp"},{"what":"b","passed":false,"points":1,"filter":null}],"error":null}"#,
        )
        .unwrap();
        assert_eq!((row.score, row.total), (2, 3));
        assert_eq!(row.failed_checks(), "b");
        assert!(row_of("x", "not json").is_err());
    }
}
