//! Running a lab: load the script, set up the engine and its limits, run it, write the report.

mod args;

pub use crate::script::{BusyClock, Limits, ScriptError, build_engine, from_parse};
pub use crate::session::{NetworkChoice, NetworkMode};
pub use args::{DeclaredArgs, declared_args};

use crate::clock::RunClock;
use crate::i18n::Lang;
use crate::report::{self, Report, Student, Written};
use crate::session::{Session, SessionState};
use rhai::{Dynamic, Engine, Map, Scope};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// The runner's error: anything that stops a lab before its checks could decide.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The script file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The script does not compile.
    #[error("{0}")]
    Syntax(ScriptError),
    /// A `-- key=value` argument the lab does not read.
    #[error("unknown argument `{key}`: {script} {takes}")]
    UnknownArg {
        /// The key given.
        key: String,
        /// The lab script.
        script: String,
        /// "takes port, size" or "takes no arguments".
        takes: String,
    },
    /// `--server` or `--client` for a lab that never asks for that program.
    #[error(
        "{script} does not run a student's {role} program (it never calls program(\"{role}\")): --{role} would be ignored"
    )]
    NoProgram {
        /// The lab script.
        script: String,
        /// `server` or `client`.
        role: String,
    },
    /// The capture to grade cannot be read.
    #[error(transparent)]
    Grade(#[from] crate::analyze::AnalyzeError),
    /// The report could not be written.
    #[error(transparent)]
    Output(#[from] report::OutputError),
}

/// What to run and how.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The lab script.
    pub script: PathBuf,
    /// Exact output directory (`--out`); `None` writes `reports/<lab>-<time>/`.
    pub out: Option<PathBuf>,
    /// Base directory of default report directories.
    pub reports_base: PathBuf,
    /// The student (`--student "ID NAME"`).
    pub student: Option<Student>,
    /// The course key (labrun.toml's `course_key`): the student's own `port` and `size`
    /// ([`crate::config::student_values`]) for a lab that reads them and was not given them.
    pub course_key: Option<String>,
    /// The course (`--course`), shown in the report header.
    pub course: Option<String>,
    /// The cover's school, class, instructor and place (flags or labrun.toml).
    pub cover: report::Cover,
    /// Script arguments (`-- key=value ...`).
    pub args: Vec<(String, String)>,
    /// Network choice.
    pub network: NetworkChoice,
    /// Engine limits.
    pub limits: Limits,
    /// `--browser`: a browser labs may start as their client (None: labrun's own client).
    pub browser: Option<String>,
    /// Write the report (false: only the outcome is returned, as `labrun grade --dir` does).
    pub keep_report: bool,
    /// Grade this capture instead of making traffic (`labrun grade --pcap`): the lab's
    /// `grading()` is true and `graded_capture()` returns this file's trace.
    pub grade: Option<PathBuf>,
    /// Set (e.g. by a Ctrl-C handler) to stop the script at once: at its next operation,
    /// or within a slice of a blocking call ([`crate::clock`]); the report of what ran so
    /// far is still written.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Shows the run's progress (the binary passes a terminal spinner); `None` shows none.
    pub progress: Option<crate::progress::SharedProgress>,
    /// `--lang`: the language of the report's fixed sentences and of the lab's `tr(en, zh)`.
    pub lang: crate::i18n::Lang,
    /// `--deterministic`: normalise what changes between runs, for golden reports.
    pub deterministic: bool,
    /// The formats made beside report.md and report.html (`--formats`): report.pdf and
    /// report.docx ([`crate::export`]); none by default.
    pub formats: crate::export::Formats,
    /// The user's own programs (`--server`, `--client`), which the lab may run.
    #[cfg(target_os = "linux")]
    pub programs: Vec<crate::program::ProgramSpec>,
}

/// The result of a run that got as far as executing the script.
#[derive(Debug)]
pub struct RunOutcome {
    /// The report as built (also written, see `written`).
    pub report: Report,
    /// Where the report went, when one was written.
    pub written: Option<Written>,
    /// One line for each format asked for that could not be made (e.g. no browser for the
    /// PDF): the rest of the report is written all the same.
    pub format_notes: Vec<String>,
    /// The error that ended the script early, if any.
    pub error: Option<ScriptError>,
    /// Wall time of the script.
    pub elapsed: Duration,
}

impl RunOutcome {
    /// Process exit code: 0 all checks passed, 1 a check failed, 2 a script error.
    pub fn exit_code(&self) -> i32 {
        if self.error.is_some() {
            2
        } else if self.report.failed() > 0 {
            1
        } else {
            0
        }
    }
}

/// A lab's name: the file stem of its script.
pub fn lab_name(script: &Path) -> String {
    script
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "lab".to_string())
}

/// A lab's title: the text of its first `//` comment line.
pub fn lab_title(source: &str) -> String {
    lab_title_in(source, Lang::En)
}

/// A lab's title in `lang`: for Chinese, a `// zh: ...` line of the script's opening
/// comment block when there is one, else the first comment line.
pub fn lab_title_in(source: &str, lang: Lang) -> String {
    let comments = || {
        source
            .lines()
            .map(str::trim)
            .skip_while(|l| l.is_empty())
            .map_while(|l| l.strip_prefix("//"))
            .map(|t| t.trim_start_matches('/').trim())
    };
    let zh = comments().find_map(|t| t.strip_prefix("zh:"));
    match (lang, zh) {
        (Lang::Zh, Some(t)) => t.trim().to_string(),
        _ => comments().next().unwrap_or_default().to_string(),
    }
}

/// Compiles `script` without running it (`labrun check`).
pub fn check(script: &Path) -> Result<(), RunError> {
    let source = std::fs::read_to_string(script).map_err(|source| RunError::Read {
        path: script.to_path_buf(),
        source,
    })?;
    let dir = script.parent().unwrap_or(Path::new("."));
    let engine = build_engine(dir, &Limits::default());
    let file = script.display().to_string();
    engine
        .compile(&source)
        .map(|_| ())
        .map_err(|e| RunError::Syntax(from_parse(&file, &e)))
}

/// Runs a lab end to end and writes its report: load the script, build the engine, run it
/// in a fresh session, tear the session down, write the report.
pub fn run(opts: &RunOptions) -> Result<RunOutcome, RunError> {
    // A taken --out is refused before the lab runs, not after.
    if let (Some(out), true) = (&opts.out, opts.keep_report) {
        report::check_out_dir(out)?;
    }
    let lab = load(opts)?;
    let progress = opts.progress.clone().unwrap_or_else(crate::progress::none);
    progress.start(format!("running {}", lab.file));
    let args = with_student_values(opts, &lab);
    let session = Session::new(SessionState {
        choice: opts.network.clone(),
        args: args.clone(),
        browser: opts.browser.clone().unwrap_or_default(),
        #[cfg(target_os = "linux")]
        programs: opts.programs.clone(),
        ..SessionState::new(
            Report {
                header: report_header(opts, &lab),
                ..Report::default()
            },
            lab.file.clone(),
            progress.clone(),
        )
    });
    let mut engine = lab.engine;
    show_output(&mut engine, &progress);
    let started = Instant::now();
    let interrupt = opts.interrupt.clone().unwrap_or_default();
    let clock = Arc::new(RunClock::new(opts.limits.max_duration, interrupt));
    let _installed = crate::clock::install(Arc::clone(&clock));
    watch(&mut engine, &clock, opts.limits.max_busy);
    if let Some(path) = &opts.grade {
        session.lock().graded = Some(load_capture(path)?);
    }

    let mut scope = Scope::new();
    scope.push_constant("student", student_map(opts.student.as_ref()));
    scope.push_constant("args", args_map(&args));
    let result = crate::script::run(engine, lab.ast, &mut scope, &session, &lab.file);
    let elapsed = started.elapsed();
    progress.finish();

    let error = result.err();
    let mut report = session.teardown(&clock);
    if let Some(e) = &error {
        report.error = Some(e.to_string());
    }
    let mut format_notes = Vec::new();
    let written = if opts.keep_report && (error.is_none() || worth_keeping(&report)) {
        Some(write(opts, &report, &lab.name, &mut format_notes)?)
    } else {
        None
    };
    Ok(RunOutcome {
        report,
        written,
        format_notes,
        error,
        elapsed,
    })
}

/// Whether a lab's source has a grading part (`grading()` called outside a comment): the
/// checks `labrun grade` may run on a capture without making traffic.
pub fn has_grading_part(source: &str) -> bool {
    source.lines().any(|line| {
        let code = line.split("//").next().unwrap_or("");
        code.contains("grading()")
    })
}

/// The run's `-- key=value` arguments and, with a course key and a student ID, the
/// student's own values of the parameters the lab reads and the command line did not give.
fn with_student_values(opts: &RunOptions, lab: &LoadedLab) -> Vec<(String, String)> {
    let mut args = opts.args.clone();
    let (Some(key), Some(student)) = (&opts.course_key, &opts.student) else {
        return args;
    };
    let declared = declared_args(&opts.script, &lab.source);
    for (k, v) in crate::config::student_values(key, &student.id) {
        let given = args.iter().any(|(a, _)| *a == k);
        if !given && declared.unknown(std::iter::once(k.as_str())).is_none() {
            args.push((k, v));
        }
    }
    args
}

/// A lab ready to run: its source, compiled script and engine.
struct LoadedLab {
    /// The script path as given, for messages and `file:line`.
    file: String,
    /// The lab's name (file stem).
    name: String,
    source: String,
    engine: Engine,
    ast: rhai::AST,
}

/// Reads and compiles the lab, and refuses `-- key=value` arguments it does not read.
fn load(opts: &RunOptions) -> Result<LoadedLab, RunError> {
    let source = std::fs::read_to_string(&opts.script).map_err(|source| RunError::Read {
        path: opts.script.clone(),
        source,
    })?;
    let file = opts.script.display().to_string();
    let dir = opts.script.parent().unwrap_or(Path::new("."));
    let engine = build_engine(dir, &opts.limits);
    let mut ast = engine
        .compile(&source)
        .map_err(|e| RunError::Syntax(from_parse(&file, &e)))?;
    ast.set_source(file.as_str());
    let declared = declared_args(&opts.script, &source);
    if let Some(key) = declared.unknown(opts.args.iter().map(|(k, _)| k.as_str())) {
        return Err(RunError::UnknownArg {
            key: key.to_string(),
            script: file,
            takes: declared.describe(),
        });
    }
    #[cfg(target_os = "linux")]
    if let Some(p) = opts
        .programs
        .iter()
        .find(|p| !declared.takes_program(&p.role))
    {
        return Err(RunError::NoProgram {
            script: file,
            role: p.role.clone(),
        });
    }
    Ok(LoadedLab {
        name: lab_name(&opts.script),
        file,
        source,
        engine,
        ast,
    })
}

/// The report header: the lab, the student, when and where it ran.
fn report_header(opts: &RunOptions, lab: &LoadedLab) -> report::Header {
    report::Header {
        lab: lab.name.clone(),
        title: lab_title_in(&lab.source, opts.lang),
        script: lab.file.clone(),
        student: opts.student.clone(),
        date: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        labrun_version: env!("CARGO_PKG_VERSION").to_string(),
        network: String::new(),
        hosts: Vec::new(),
        course: opts.course.clone(),
        cover: opts.cover.clone(),
        lab_version: {
            use sha2::Digest;
            let d = sha2::Sha256::digest(lab.source.as_bytes());
            data_encoding::HEXLOWER.encode(&d[..6])
        },
        kernel: kernel_release(),
        os: os_name(),
        hardware: hardware(),
        libpcap: crate::session::libpcap_version(),
        rhai: rhai_version().to_string(),
        nonce: if opts.deterministic {
            DETERMINISTIC_NONCE.to_string()
        } else {
            new_nonce()
        },
        lang: opts.lang,
        deterministic: opts.deterministic,
    }
}

/// Shows the script's `print` and `debug` output above the progress line.
fn show_output(engine: &mut Engine, progress: &crate::progress::SharedProgress) {
    let printer = progress.clone();
    engine.on_print(move |text| printer.suspend(&mut || println!("{text}")));
    let debugger = progress.clone();
    engine.on_debug(move |text, source, pos| {
        let at = match (source, pos.line()) {
            (Some(s), Some(l)) => format!("{s}:{l}: "),
            _ => String::new(),
        };
        debugger.suspend(&mut || eprintln!("{at}{text}"));
    });
}

/// The watchdog: stops the script at Ctrl-C, at the run's deadline, and when it computes
/// for longer than `max_busy` without waiting on anything.
fn watch(engine: &mut Engine, clock: &Arc<RunClock>, max_busy: Duration) {
    let stop_clock = Arc::clone(clock);
    engine.on_progress(move |ops| {
        // Ctrl-C at every operation (one atomic load), the clock every 16 (a few hundred
        // nanoseconds at most): a blocking call ends by the deadline on its own.
        if ops % 16 == 0 || stop_clock.interrupted() {
            if let Err(stop) = stop_clock.check() {
                return Some(Dynamic::from(stop.to_string()));
            }
        }
        if ops % 256 != 0 {
            return None;
        }
        thread_local! {
            static BUSY: std::cell::Cell<BusyClock> = const { std::cell::Cell::new(BusyClock::new()) };
        }
        let now = Instant::now();
        let busy = BUSY.with(|b| {
            let mut clock = b.get();
            let busy = clock.tick(now);
            b.set(clock);
            busy
        });
        if busy > max_busy {
            return Some(Dynamic::from(format!(
                "the script computed for {} without waiting on anything (an endless loop?); labrun stopped it",
                crate::util::fmt_duration(max_busy)
            )));
        }
        None
    });
}

/// Writes the report to `--out`, or to a new `reports/<lab>-<time>/`, with the formats
/// `opts` asks for; why a format could not be made goes to `notes`.
fn write(
    opts: &RunOptions,
    report: &Report,
    lab: &str,
    notes: &mut Vec<String>,
) -> Result<Written, RunError> {
    let (dest, exact) = match &opts.out {
        Some(out) => (out.clone(), true),
        None => (report::default_report_dir(&opts.reports_base, lab), false),
    };
    let written = report::write_report_with(report, &dest, exact, |staged| {
        let deadline = Instant::now() + crate::export::PRINT_TIME_LIMIT;
        let made = crate::export::export(staged, opts.formats, deadline);
        notes.extend(made.notes);
        made.files
    })?;
    Ok(written)
}

/// A failed run still gets a report when it captured or recorded something.
fn worth_keeping(r: &Report) -> bool {
    !r.captures.is_empty() || !r.blocks.is_empty() || !r.checks.is_empty()
}

/// Reads a capture file whole, as a live capture would have delivered it.
fn load_capture(path: &Path) -> Result<crate::capture::Captured, RunError> {
    let mut file = crate::pcapfile::CaptureFile::open(path, None)
        .map_err(crate::analyze::AnalyzeError::from)?;
    let mut frames = Vec::new();
    file.for_each::<crate::analyze::AnalyzeError>(|f| {
        frames.push(crate::analysis::RawFrame {
            ts_sec: f.ts_sec,
            ts_nsec: f.ts_nsec,
            orig_len: f.orig_len,
            data: f.data.to_vec(),
        });
        Ok(())
    })?;
    Ok(crate::capture::Captured {
        iface: format!("file {}", path.display()),
        filter: String::new(),
        dlt: u32::try_from(file.dlt).unwrap_or(1),
        snaplen: 262_144,
        frames,
        stats: Default::default(),
    })
}

/// The run nonce of every `--deterministic` run: the same in every run, so payloads that
/// carry it (the chat lab's) are the same too.
pub const DETERMINISTIC_NONCE: &str = "00000000";

/// Eight hex digits that differ between runs: a hash of the clock, the process id and the
/// address of a fresh allocation.
fn new_nonce() -> String {
    use sha2::Digest;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let here = Box::new(0u8);
    let seed = format!("{}:{}:{:p}", now.as_nanos(), std::process::id(), &*here);
    let d = sha2::Sha256::digest(seed.as_bytes());
    data_encoding::HEXLOWER.encode(&d[..4])
}

/// The operating system and kernel release, e.g. `Linux 6.1.0-18-amd64`.
fn kernel_release() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    if release.is_empty() {
        std::env::consts::OS.to_string()
    } else {
        format!("Linux {release}")
    }
}

/// The operating system's name from os-release (`PRETTY_NAME`), or the OS family.
fn os_name() -> String {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| std::env::consts::OS.to_string())
}

/// The machine as the report's environment names it: architecture, CPU count and model
/// (/proc/cpuinfo), memory (/proc/meminfo); what cannot be read is left out.
fn hardware() -> String {
    let mut parts = vec![std::env::consts::ARCH.to_string()];
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|v| v.split_once(':'))
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    match (cpus, model.is_empty()) {
        (0, _) => {}
        (n, true) => parts.push(format!("{n} CPUs")),
        (n, false) => parts.push(format!("{n} CPUs ({model})")),
    }
    let kib: Option<u64> = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok());
    if let Some(kib) = kib {
        parts.push(format!("{:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0));
    }
    parts.join(", ")
}

/// The version of Rhai labrun was built with, from the workspace's Cargo.lock.
fn rhai_version() -> &'static str {
    const LOCK: &str = include_str!("../../Cargo.lock");
    LOCK.split("[[package]]")
        .find(|p| p.contains("\nname = \"rhai\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map_or("", |v| v.trim_matches('"'))
}

fn student_map(student: Option<&Student>) -> Map {
    let mut m = Map::new();
    let (id, name) = student
        .map(|s| (s.id.clone(), s.name.clone()))
        .unwrap_or_else(|| ("0000000000".to_string(), "Student".to_string()));
    m.insert("given".into(), Dynamic::from_bool(student.is_some()));
    m.insert("text".into(), format!("{id} {name}").into());
    m.insert("id".into(), id.into());
    m.insert("name".into(), name.into());
    m
}

fn args_map(args: &[(String, String)]) -> Map {
    args.iter()
        .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_the_first_comment() {
        assert_eq!(lab_title("// Chat: hello\nlet x = 1;"), "Chat: hello");
        assert_eq!(lab_title("let x = 1;"), "");
        let both = "// Chat: hello\n// zh: 聊天：你好\n//\n// more\nlet x = 1;";
        assert_eq!(lab_title(both), "Chat: hello");
        assert_eq!(lab_title_in(both, Lang::Zh), "聊天：你好");
        assert_eq!(lab_title_in("// Chat\nlet x;", Lang::Zh), "Chat");
    }
}
