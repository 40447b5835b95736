//! Command-line arguments (clap), and one function per command that hands the work to the
//! library; the terminal's summary is in `summary`, its progress indicators in `term`.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use labrun::i18n::Lang;
use labrun::network::Role;
use labrun::report::Student;
use labrun::runner::{self, NetworkChoice, NetworkMode, RunError, RunOptions};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

const EXAMPLES: &str = "\
Examples:
  labrun labs/chat.rhai --student \"20215120807 Li Yihang\"
  labrun labs/chat.rhai --out my-report -- port=9000
  labrun labs/segment.rhai --network loopback
  labrun labs/chat.rhai --network host --role server --peer 192.168.1.20   (on one machine)
  labrun labs/chat.rhai --network host --role client --peer 192.168.1.10   (on the other)
  labrun check labs/*.rhai
  labrun list
  labrun scan 127.0.0.1 -p 1-1024 --type syn
  labrun api > docs/api.md
  labrun export reports/chat-20261207-101500 --pdf

Exit codes: 0 the lab ran and all its checks passed, 1 a check failed,
2 a usage, script or environment error.";

/// Run TCP/IP lab exercises as scripts: real sockets, a real capture, a report.
#[derive(Debug, Parser)]
#[command(name = "labrun", version, about, after_help = EXAMPLES)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a lab script and write its report (the same as `labrun FILE`).
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Compile lab scripts without running them.
    Check {
        /// Lab scripts to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the labs that ship with labrun.
    List,
    /// Scan TCP ports of a target: connect, SYN or FIN scan, with nmap's states and reasons.
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Print the script API reference (every function, its parameters and what it does).
    Api,
    /// Grade captures someone else made with a lab's capture-only checks: one file
    /// (`--pcap`), or every capture in a folder into one CSV of scores (`--dir`).
    #[command(after_help = GRADE_EXAMPLES)]
    Grade(GradeArgs),
    /// Start a new exercise: labs/NAME.rhai from a commented template, and its test.
    New {
        /// The lab's name, e.g. tcp_window.
        name: String,
    },
    /// Analyze a pcap or pcapng file: report.md, packets.csv, Follow TCP Stream files,
    /// or (`--fields`) tshark-style CSV on stdout.
    #[command(after_help = ANALYZE_EXAMPLES)]
    Analyze(AnalyzeArgs),
    /// Make report.pdf and report.docx again from a report folder (its report.html and
    /// report.md), without running the lab; both unless --pdf or --docx picks one.
    Export {
        /// The report folder, e.g. reports/chat-20261207-101500.
        dir: PathBuf,
        /// Make report.pdf (printed from report.html by a Chromium-family browser).
        #[arg(long)]
        pdf: bool,
        /// Make report.docx (from report.md, figures as PNG images).
        #[arg(long)]
        docx: bool,
    },
}

const ANALYZE_EXAMPLES: &str = "\
Examples:
  labrun analyze capture.pcapng --out chat-analysis
  labrun analyze capture.pcap --stream 0 --out stream0
  labrun analyze capture.pcap --fields frame.number,ip.src,tcp.seq,_ws.col.info
  labrun analyze capture.pcap --filter 'tcp port 80' --fields tcp.stream,tcp.len

Exit codes: 0 done, 2 a usage error or an unreadable capture.";

#[derive(Debug, Args)]
struct AnalyzeArgs {
    /// The capture file (pcap or pcapng).
    #[arg(required_unless_present = "list_fields")]
    file: Option<PathBuf>,
    /// Write the report into DIR (default: reports/analyze-<file>/).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Only frames matching this BPF capture filter, e.g. 'tcp port 8888'.
    #[arg(long, value_name = "BPF")]
    filter: Option<String>,
    /// Only TCP stream N (Wireshark's tcp.stream).
    #[arg(long, value_name = "N")]
    stream: Option<u32>,
    /// Print these fields as CSV on stdout (tshark -T fields -E separator=, -E header=y -E quote=d).
    #[arg(long, value_name = "f1,f2,...", value_delimiter = ',')]
    fields: Option<Vec<String>>,
    /// List the field names --fields understands.
    #[arg(long)]
    list_fields: bool,
    /// The language of report.md: en or zh (default: labrun.toml's `lang`, else en).
    #[arg(long, value_name = "en|zh", value_parser = parse_lang)]
    lang: Option<Lang>,
}

const SCAN_EXAMPLES: &str = "\
Examples:
  labrun scan 127.0.0.1 -p 1-1024
  labrun scan localhost -p - --type syn
  labrun scan 127.0.0.1 -p 22,80,8000-9000 --type fin --format csv
  labrun scan 10.77.0.2 -p 1-1024 --allow-target 10.77.0.0/24   (a lab machine of your own)

Targets must be loopback unless --allow-target covers them: scan only machines you set up
yourself. SYN and FIN scans need root (raw sockets and a capture), or once:
sudo setcap cap_net_raw,cap_net_admin+ep $(which labrun)

Exit codes: 0 the scan finished, 2 a usage or environment error.";

#[derive(Debug, Args)]
struct ScanArgs {
    /// The target: an address or a host name (resolved first; the check applies to the address).
    target: String,
    /// Ports like nmap's -p: `22`, `1-1024,8080,60000-65535`, `-` for every port.
    #[arg(
        short = 'p',
        long = "ports",
        value_name = "SPEC",
        default_value = "1-1024"
    )]
    ports: String,
    /// The kind of scan.
    #[arg(long = "type", value_enum, default_value = "connect")]
    scan_type: ScanTypeArg,
    /// The longest a probe waits for its answer, in ms (the timeout in use adapts to the
    /// measured round-trip time and starts here).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    timeout: u64,
    /// Retries of an unanswered probe.
    #[arg(long, value_name = "N", default_value_t = 2)]
    retries: u32,
    /// Most probes in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    max_in_flight: usize,
    /// Output: a table for people, or CSV rows `port,protocol,state,service,reason`.
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
    /// Also allow targets in this block (repeatable), e.g. 10.77.0.0/24: only for
    /// machines you set up yourself.
    #[arg(long, value_name = "CIDR")]
    allow_target: Vec<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ScanTypeArg {
    /// A full connect per port (nmap -sT); needs no privilege.
    Connect,
    /// A crafted SYN per port, half-open (nmap -sS).
    Syn,
    /// A crafted FIN per port (nmap -sF).
    Fin,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    /// Aligned columns like nmap's, with a summary.
    Table,
    /// port,protocol,state,service,reason for every port.
    Csv,
}

const GRADE_EXAMPLES: &str = "\
Examples:
  labrun grade labs/chat.rhai --pcap student.pcapng
  labrun grade labs/chat.rhai --pcap student.pcap --out graded-report
  labrun grade labs/chat.rhai --dir submissions/ > scores.csv
  labrun grade labs/chat.rhai --dir submissions/ --roster class.csv --feedback feedback/
  labrun grade labs/chat.rhai --dir submissions/ --format moodle > moodle.csv
  labrun grade labs/chat.rhai --pcap /autograder/submission/capture.pcap --format gradescope \\
      > /autograder/results/results.json

Exit codes: 0 every check passed (--pcap) or the folder was graded (--dir),
1 a check failed, 2 a usage error or an unreadable capture.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GradeFormat {
    /// The score summary (--pcap) or one CSV row per submission (--dir).
    Csv,
    /// Moodle's grade import CSV: ID number, Grade, Feedback.
    Moodle,
    /// Gradescope's results.json (score, max_score, output, tests).
    Gradescope,
}

#[derive(Debug, Args)]
struct GradeArgs {
    /// The lab whose checks grade the captures, e.g. labs/chat.rhai.
    lab: PathBuf,
    /// One capture (pcap or pcapng) to grade.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["dir", "programs"],
        required_unless_present_any = ["dir", "programs"]
    )]
    pcap: Option<PathBuf>,
    /// A folder of captures: prints one CSV row per capture (file, score, total, failed checks).
    #[arg(long, value_name = "DIR", conflicts_with = "programs")]
    dir: Option<PathBuf>,
    /// A folder of submissions, one folder each (named with the student ID) holding the
    /// student's programs: the `.py`, `.c` or `.java` file named *server* and/or *client*.
    /// Each is built and run in the lab (its own sandbox, contained, in parallel up to
    /// --jobs), and graded by the lab's checks into the same CSV. Linux only.
    #[arg(long, value_name = "DIR")]
    programs: Option<PathBuf>,
    /// With --programs: the arguments of each server program.
    #[arg(long, value_name = "ARGS", default_value = "{port}")]
    server_args: String,
    /// With --programs: the arguments of each client program.
    #[arg(long, value_name = "ARGS", default_value = "{server_ip} {port}")]
    client_args: String,
    /// With --programs: how many submissions run at once (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// With --pcap: write the report explaining the capture into DIR; with --programs: each
    /// submission's report into DIR/<submission>.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A roster CSV of `id,name` lines: the student of each capture is the roster ID its
    /// file name holds (without it, the first run of 6+ digits in the file name).
    #[arg(long, value_name = "FILE")]
    roster: Option<PathBuf>,
    /// What to print: csv (one row per submission), moodle (a grade import CSV keyed by
    /// ID number) or gradescope (results.json; with --pcap).
    #[arg(long, value_enum, default_value_t = GradeFormat::Csv)]
    format: GradeFormat,
    /// Write a feedback file per submission into DIR (its failed checks, each with the
    /// Wireshark filter that shows it, and its flags).
    #[arg(long, value_name = "DIR")]
    feedback: Option<PathBuf>,
    /// The language of the report and of the failed checks: en or zh (default:
    /// labrun.toml's `lang`, else en).
    #[arg(long, value_name = "en|zh", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Stop grading a capture after SECONDS of wall-clock time (1..=86400).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIME_LIMIT, value_parser = parse_time_limit)]
    time_limit: u64,
    /// Arguments for the lab after `--`, as key=value (e.g. port=9000).
    #[arg(last = true, value_name = "KEY=VALUE")]
    script_args: Vec<String>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The lab script, e.g. labs/chat.rhai.
    file: Option<PathBuf>,
    /// Write report.md, packets.csv and capture.pcapng into DIR (default: reports/<lab>-<time>/).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The student, "ID NAME", e.g. "20215120807 Li Yihang" (default: labrun.toml's `student`).
    #[arg(long, value_name = "\"ID NAME\"")]
    student: Option<String>,
    /// The course shown in the report header (default: labrun.toml's `course`).
    #[arg(long, value_name = "NAME")]
    course: Option<String>,
    /// The school or college on the report's cover (default: labrun.toml's `school`).
    #[arg(long, value_name = "NAME")]
    school: Option<String>,
    /// The class on the report's cover (default: labrun.toml's `class`).
    #[arg(long, value_name = "NAME")]
    class: Option<String>,
    /// The instructor on the report's cover (default: labrun.toml's `instructor`).
    #[arg(long, value_name = "NAME")]
    instructor: Option<String>,
    /// Where the lab was done, on the report's cover (default: labrun.toml's `place`).
    #[arg(long, value_name = "PLACE")]
    place: Option<String>,
    /// Capture on this interface instead of the lab host's own.
    #[arg(long, value_name = "IFACE")]
    iface: Option<String>,
    /// The report's language: en (English) or zh (Chinese, as the lab manuals); the lab's
    /// own text follows it too (default: labrun.toml's `lang`, else en).
    #[arg(long, value_name = "en|zh", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Normalise what changes from run to run (date, frame times, ISNs, ports, TCP
    /// timestamps, IP IDs, nonces, kernel, digests, measured durations) so the same lab
    /// gives a byte-identical report (the pcap files still differ): for golden tests of a
    /// lab, not for handing in.
    #[arg(long)]
    deterministic: bool,
    /// Where the lab's hosts live: labrun's sandbox of network namespaces (the default on
    /// Linux), this machine's loopback, or this machine and a peer (`host`, with --role and --peer).
    #[arg(long, value_enum, value_name = "WHERE")]
    network: Option<NetworkArg>,
    /// With --network host: the side of the lab this machine plays.
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
    /// With --network host: the other machine, ADDR or ADDR:PORT; traffic goes only there.
    #[arg(long, value_name = "ADDR[:PORT]", requires = "role")]
    peer: Option<String>,
    /// Play one side of the lab typed at this terminal (with --role): e.g. the chat lab
    /// becomes a terminal chat; start the server in one terminal, the client in another.
    #[arg(long, requires = "role")]
    interactive: bool,
    /// Let the lab use a real browser as its client, e.g. `chromium` (headless, started by
    /// labrun inside the client's namespace with a temporary profile); the script sees it
    /// as `browser()`.
    #[arg(long, value_name = "BROWSER")]
    browser: Option<String>,
    /// Your own server program, run inside the lab's server host while the lab plays the
    /// client, e.g. "python3 server.py {port}"; placeholders {server_ip} {client_ip} {port}
    /// {student_id} {student_name}, and the same values in LABRUN_SERVER_IP, LABRUN_PORT, ...
    #[arg(long, value_name = "COMMAND")]
    server: Option<String>,
    /// Your own client program, run inside the lab's client host while the lab plays the
    /// server (or your --server), e.g. "./client {server_ip} {port}".
    #[arg(long, value_name = "COMMAND")]
    client: Option<String>,
    /// A source file of your program to show in the report, when the command does not name
    /// it (e.g. client.c for ./client); repeatable.
    #[arg(long, value_name = "FILE")]
    source: Vec<PathBuf>,
    /// Stop the lab after SECONDS of wall-clock time (1..=86400): every wait (recv,
    /// accept, sleep, a capture's wait, a scan) ends by then, the script stops with its
    /// file:line:col and exit code 2, and the report keeps what was captured.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIME_LIMIT, value_parser = parse_time_limit)]
    time_limit: u64,
    /// Also write the run's checks as JSON into FILE (for `grade --programs`).
    #[arg(long, value_name = "FILE", hide = true)]
    result_json: Option<PathBuf>,
    /// The formats written beside report.md and report.html: report.pdf (printed by a
    /// Chromium-family browser, when one is installed) and report.docx; `none` for neither.
    #[arg(long, value_name = "pdf,docx|none", default_value = "pdf,docx", env = "LABRUN_FORMATS", value_parser = labrun::export::Formats::parse)]
    formats: labrun::export::Formats,
    /// Arguments for the script after `--`, as key=value; the script sees them in `args`.
    #[arg(last = true, value_name = "KEY=VALUE")]
    script_args: Vec<String>,
}

/// `--time-limit`'s default, in seconds: the limit of [`runner::Limits::default`].
const DEFAULT_TIME_LIMIT: u64 = 300;
/// The longest `--time-limit`: a day.
const MAX_TIME_LIMIT: u64 = 86_400;

/// Parses `--time-limit SECONDS`: a whole number from 1 to a day.
fn parse_time_limit(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (1..=MAX_TIME_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 1 to {MAX_TIME_LIMIT}"
        )),
    }
}

/// The engine limits with the run's time limit.
fn limits_with(time_limit: u64) -> runner::Limits {
    runner::Limits {
        max_duration: std::time::Duration::from_secs(time_limit),
        ..runner::Limits::default()
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum NetworkArg {
    /// Each host in its own network namespace, joined by a veth link (Linux).
    Sandbox,
    /// Both hosts on this machine's loopback interface.
    Loopback,
    /// This machine's real interface and a peer machine.
    Host,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    /// Listen and accept.
    Server,
    /// Connect.
    Client,
}

/// Parses `--lang`.
fn parse_lang(text: &str) -> Result<Lang, String> {
    Lang::parse(text).ok_or_else(|| format!("unknown language {text:?}: use en or zh"))
}

/// Resolves `--peer ADDR[:PORT]` (a name resolves first; the address is what counts).
fn parse_peer(text: &str) -> Result<SocketAddr> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 0));
    }
    let with_port = if text.contains(':') {
        text.to_string()
    } else {
        format!("{text}:0")
    };
    with_port
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve the peer {text:?}"))?
        .next()
        .with_context(|| format!("the peer {text:?} has no address"))
}

fn network_choice(args: &RunArgs, lab: &str) -> Result<NetworkChoice> {
    let role = args.role.map(|r| match r {
        RoleArg::Server => Role::Server,
        RoleArg::Client => Role::Client,
    });
    let mode = match (args.network, role, &args.peer) {
        (Some(NetworkArg::Host), Some(role), Some(peer)) => NetworkMode::Host {
            role,
            peer: parse_peer(peer)?,
        },
        (Some(NetworkArg::Host), _, _) => {
            bail!(
                "--network host needs --role server|client and --peer ADDR[:PORT] (the other machine)"
            )
        }
        (_, _, Some(_)) => bail!("--peer is for --network host"),
        (_, Some(_), _) if !args.interactive => {
            bail!("--role is for --network host or --interactive")
        }
        (Some(NetworkArg::Sandbox), _, _) => NetworkMode::Sandbox,
        (Some(NetworkArg::Loopback), _, _) => NetworkMode::Loopback,
        (None, _, _) => NetworkMode::default(),
    };
    let interactive = if args.interactive { role } else { None };
    // Computed before labrun enters a user namespace, where the user id reads as 0.
    #[cfg(target_os = "linux")]
    let rendezvous = interactive.map(|_| labrun::sandbox::own_rendezvous_path(lab));
    #[cfg(not(target_os = "linux"))]
    let rendezvous = {
        let _ = lab;
        None
    };
    Ok(NetworkChoice {
        mode,
        iface: args.iface.clone(),
        interactive,
        rendezvous,
    })
}

/// Parses the command line, runs the command, returns the exit code.
pub fn main() -> Result<u8> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Run(args)) => run(args),
        Some(Command::Check { files }) => check(&files),
        Some(Command::List) => list(),
        Some(Command::Grade(args)) => grade(args),
        Some(Command::New { name }) => new_lab(&name),
        Some(Command::Scan(args)) => scan(args),
        Some(Command::Api) => api(),
        Some(Command::Analyze(args)) => analyze(args),
        Some(Command::Export { dir, pdf, docx }) => export(&dir, pdf, docx),
        None => run(cli.run),
    }
}

/// `labrun export DIR`: makes the report's formats again from its folder. A format that
/// cannot be made (no browser) is one line on stderr, not a failure.
fn export(dir: &Path, pdf: bool, docx: bool) -> Result<u8> {
    use labrun::export::{Formats, PRINT_TIME_LIMIT, export};
    if !dir.join("report.md").is_file() {
        bail!(
            "{} is not a report folder: it has no report.md (give the folder a lab run wrote)",
            dir.display()
        );
    }
    let formats = if pdf || docx {
        Formats { pdf, docx }
    } else {
        Formats::ALL
    };
    let made = export(dir, formats, std::time::Instant::now() + PRINT_TIME_LIMIT);
    for note in &made.notes {
        eprintln!("note: {note}");
    }
    for file in &made.files {
        println!("wrote {}", dir.join(file).display());
    }
    Ok(0)
}

/// `labrun new NAME`: writes a lab from the template, and its test.
fn new_lab(name: &str) -> Result<u8> {
    for f in labrun::scaffold::new_lab(Path::new("."), name)? {
        println!("created {}", f.display());
    }
    println!("run it: labrun labs/{name}.rhai; see docs/writing-a-lab.md");
    Ok(0)
}

/// `labrun api`: the script API reference, as docs/api.md holds it.
fn api() -> Result<u8> {
    let engine = runner::build_engine(Path::new("."), &Default::default());
    print!("{}", labrun::script::api_markdown(&engine));
    Ok(0)
}

/// `labrun FILE`: runs a lab and prints its summary.
fn run(args: RunArgs) -> Result<u8> {
    let result_json = args.result_json.clone();
    let opts = run_options(args)?;
    let outcome = runner::run(&opts);
    // The spinner goes with the run, before anything is printed.
    drop(opts);
    match outcome {
        Ok(outcome) => {
            #[cfg(target_os = "linux")]
            if let Some(path) = result_json {
                let error = outcome.error.as_ref().map(|e| e.to_string());
                let json = labrun::grade::programs::result_json(&outcome.report, error);
                std::fs::write(&path, json.to_string())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            #[cfg(not(target_os = "linux"))]
            let _ = result_json;
            Ok(crate::summary::print_run(&outcome))
        }
        Err(RunError::Syntax(e)) => {
            eprintln!("error: {e}");
            Ok(2)
        }
        Err(e) => Err(e.into()),
    }
}

/// Checks a run's arguments, readies the process for the lab network and gathers the
/// run's options (flags over labrun.toml).
fn run_options(args: RunArgs) -> Result<RunOptions> {
    let Some(script) = args.file.clone() else {
        bail!("no lab given: try `labrun labs/segment.rhai`, or `labrun list` to see the labs");
    };
    let network = network_choice(&args, &runner::lab_name(&script))?;
    if !script.is_file() {
        bail!(
            "cannot read {}: no such file (see `labrun list`)",
            script.display()
        );
    }
    #[cfg(target_os = "linux")]
    let programs = program_specs(&args)?;
    #[cfg(not(target_os = "linux"))]
    if args.server.is_some() || args.client.is_some() {
        bail!(
            "--server and --client need Linux: the program runs inside the lab's network namespace"
        );
    }
    prepare_process(&network)?;
    let config = labrun::config::load(Path::new("."))?.overridden_by(labrun::config::Config {
        student: args.student.clone(),
        course: args.course.clone(),
        school: args.school.clone(),
        class: args.class.clone(),
        instructor: args.instructor.clone(),
        place: args.place.clone(),
        lang: args.lang,
        course_key: None,
    });
    let student = match &config.student {
        Some(s) => Some(Student::parse(s).with_context(|| {
            format!("--student needs \"ID NAME\", e.g. \"20215120807 Li Yihang\"; got {s:?}")
        })?),
        None => None,
    };
    Ok(RunOptions {
        cover: labrun::report::Cover {
            school: config.school,
            class: config.class,
            instructor: config.instructor,
            place: config.place,
        },
        course: config.course,
        course_key: config.course_key,
        lang: config.lang.unwrap_or_default(),
        deterministic: args.deterministic,
        formats: args.formats,
        script,
        out: args.out,
        reports_base: PathBuf::from("reports"),
        student,
        args: key_values(&args.script_args)?,
        network,
        limits: limits_with(args.time_limit),
        browser: args.browser.clone(),
        grade: None,
        keep_report: true,
        interrupt: Some(interrupt_flag()),
        progress: Some(crate::term::spinner()),
        #[cfg(target_os = "linux")]
        programs,
    })
}

/// The user's programs from --server, --client and --source: each --source file goes to
/// the program whose command names its stem (`server.c` to `./server`), else to the first.
#[cfg(target_os = "linux")]
fn program_specs(args: &RunArgs) -> Result<Vec<labrun::program::ProgramSpec>> {
    use labrun::program::{ProgramSpec, split_words};
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let given: Vec<(&str, &String)> = [("server", &args.server), ("client", &args.client)]
        .into_iter()
        .filter_map(|(role, c)| c.as_ref().map(|c| (role, c)))
        .collect();
    if given.is_empty() {
        if let Some(s) = args.source.first() {
            bail!(
                "--source {} needs --server or --client (the program it belongs to)",
                s.display()
            );
        }
        return Ok(Vec::new());
    }
    let mut sources: Vec<Vec<PathBuf>> = vec![Vec::new(); given.len()];
    for src in &args.source {
        let stem = src
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let owner = given
            .iter()
            .position(|(_, c)| {
                split_words(c).unwrap_or_default().iter().any(|w| {
                    Path::new(w)
                        .file_stem()
                        .is_some_and(|s| s.to_string_lossy() == stem)
                })
            })
            .unwrap_or(0);
        sources[owner].push(src.clone());
    }
    given
        .into_iter()
        .zip(sources)
        .map(|((role, command), sources)| {
            ProgramSpec::new(role, command, sources, cwd.clone())
                .with_context(|| format!("--{role}"))
        })
        .collect()
}

/// Readies the process for the run's network before any thread starts: the client of an
/// interactive sandbox lab joins the server's sandbox, any other sandbox or loopback run
/// lets an ordinary user enter a user namespace; a host network needs neither.
fn prepare_process(network: &NetworkChoice) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        let host = matches!(network.mode, NetworkMode::Host { .. });
        let join = match (&network.mode, network.interactive, &network.rendezvous) {
            (NetworkMode::Sandbox, Some(Role::Client), Some(path)) => Some(path.as_path()),
            _ => None,
        };
        labrun::sandbox::prepare_process(join, !host)?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = network;
    Ok(())
}

/// A flag the first Ctrl-C sets (the script stops and the report is written); a second
/// Ctrl-C exits at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        for sig in [SIGINT, SIGTERM] {
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&flag));
            let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
        }
    }
    flag
}

fn key_values(args: &[String]) -> Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("script arguments are key=value, got {a:?}"),
        })
        .collect()
}

fn grade(args: GradeArgs) -> Result<u8> {
    use labrun::grade::class::{Grader, GraderOptions};
    let grader = Grader::new(GraderOptions {
        lab: args.lab.clone(),
        args: key_values(&args.script_args)?,
        lang: labrun::config::lang(Path::new("."), args.lang)?,
        roster: match &args.roster {
            Some(p) => labrun::grade::read_roster(p)?,
            None => labrun::grade::Roster::new(),
        },
        course_key: labrun::config::load(Path::new("."))
            .ok()
            .and_then(|c| c.course_key),
        time_limit: args.time_limit,
        programs: args.programs.is_some(),
    })?;
    if args.format == GradeFormat::Gradescope && args.pcap.is_none() {
        bail!("--format gradescope grades one submission: give --pcap FILE");
    }
    let rows = match (&args.pcap, &args.dir, &args.programs) {
        (Some(pcap), _, _) => return grade_pcap(&args, pcap, &grader),
        (None, Some(dir), _) => grader.folder(dir)?,
        #[cfg(target_os = "linux")]
        (None, None, Some(dir)) => grade_programs(&args, dir, &grader)?,
        #[cfg(not(target_os = "linux"))]
        (None, None, Some(_)) => {
            bail!("--programs needs Linux: the programs run inside the lab's network namespaces")
        }
        (None, None, None) => bail!("give --pcap FILE, --dir FOLDER or --programs FOLDER"),
    };
    if let Some(dir) = &args.feedback {
        labrun::grade::out::write_feedback(dir, &rows)?;
    }
    match args.format {
        GradeFormat::Moodle => labrun::grade::out::moodle_csv(&rows, std::io::stdout())?,
        _ => labrun::grade::out::class_csv(&rows, std::io::stdout())?,
    }
    Ok(0)
}

/// `labrun grade --pcap`: grades one capture and prints its score and checks (or its
/// results.json, or its Moodle row).
fn grade_pcap(args: &GradeArgs, pcap: &Path, grader: &labrun::grade::class::Grader) -> Result<u8> {
    let spinner = args.format == GradeFormat::Csv;
    let (outcome, row) =
        grader.capture(pcap, args.out.clone(), spinner.then(crate::term::spinner))?;
    if let Some(dir) = &args.feedback {
        labrun::grade::out::write_feedback(dir, std::slice::from_ref(&row))?;
    }
    let r = &outcome.report;
    let code = if r.failed() == 0 { 0 } else { 1 };
    match args.format {
        GradeFormat::Csv => {
            print!(
                "{}",
                crate::summary::grade_text(pcap, r, outcome.written.as_ref())
            );
            for f in &row.flags {
                println!("  FLAG  {f}");
            }
        }
        GradeFormat::Moodle => labrun::grade::out::moodle_csv(&[row], std::io::stdout())?,
        GradeFormat::Gradescope => {
            println!(
                "{}",
                serde_json::to_string_pretty(&labrun::grade::out::gradescope_json(&row))?
            );
        }
    }
    Ok(code)
}

/// `labrun grade --programs`: the rows of each submission's programs run in the lab, in
/// parallel up to --jobs, with a bar of submissions done.
#[cfg(target_os = "linux")]
fn grade_programs(
    args: &GradeArgs,
    dir: &Path,
    grader: &labrun::grade::class::Grader,
) -> Result<Vec<labrun::grade::out::Row>> {
    let declared = grader.declared();
    let takes = (
        declared.takes_program("server"),
        declared.takes_program("client"),
    );
    if takes == (false, false) {
        bail!(
            "{} runs no program of the student's (it never calls program(\"server\") or program(\"client\"))",
            args.lab.display()
        );
    }
    let out = match &args.out {
        Some(o) => {
            std::fs::create_dir_all(o).with_context(|| format!("cannot create {}", o.display()))?;
            Some(std::fs::canonicalize(o)?)
        }
        None => None,
    };
    let job = labrun::grade::programs::Job {
        labrun: std::env::current_exe().context("cannot find labrun's own executable")?,
        lab: std::fs::canonicalize(&args.lab)
            .with_context(|| format!("cannot read {}", args.lab.display()))?,
        takes,
        args: (args.server_args.clone(), args.client_args.clone()),
        lang: labrun::config::lang(Path::new("."), args.lang)?
            .code()
            .to_string(),
        time_limit: args.time_limit,
        out,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let bar = crate::term::count_bar(0, "submissions");
    Ok(grader.programs(dir, &job, jobs.clamp(1, 64), bar)?)
}

fn check(files: &[PathBuf]) -> Result<u8> {
    let mut bad = 0;
    for f in files {
        match runner::check(f) {
            Ok(()) => println!("ok    {}", f.display()),
            Err(e) => {
                bad += 1;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(if bad == 0 { 0 } else { 2 })
}

fn list() -> Result<u8> {
    let dir = labrun::labs::labs_dir()
        .context("no labs directory found (run from the labrun folder, or set LABRUN_LABS)")?;
    let labs =
        labrun::labs::list(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let width = labs.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for l in labs {
        println!("{:width$}  {}  ({})", l.name, l.title, l.path.display());
    }
    Ok(0)
}

fn scan(args: ScanArgs) -> Result<u8> {
    use labrun::network::{Network, TargetPolicy};
    use labrun::scan::{self, Cidr, ScanOptions, ScanType};
    let ports = scan::parse_ports(&args.ports)?;
    let allowed = args
        .allow_target
        .iter()
        .map(|c| Cidr::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let target = scan::resolve_target(&args.target)?;
    scan::check_target(target, &TargetPolicy::default(), &allowed)?;
    if args.timeout == 0 {
        bail!("--timeout must be at least 1 ms");
    }
    let host = if target.is_loopback() {
        Network::loopback(None).hosts.remove(0)
    } else {
        let net = Network::two_machines(Role::Client, SocketAddr::new(target, 0), None)?;
        net.hosts
            .into_iter()
            .next()
            .context("no local host routes to the target")?
    };
    let progress = crate::term::port_bar(ports.len() as u64);
    let options = ScanOptions {
        scan_type: match args.scan_type {
            ScanTypeArg::Connect => ScanType::Connect,
            ScanTypeArg::Syn => ScanType::Syn,
            ScanTypeArg::Fin => ScanType::Fin,
        },
        max_timeout: std::time::Duration::from_millis(args.timeout),
        retries: args.retries,
        max_in_flight: args.max_in_flight,
        progress: Some(progress),
        cancel: Some(interrupt_flag()),
    };
    let report = scan::scan(&host, target, &ports, &options)?;
    match args.format {
        FormatArg::Table => print!("{}", scan::output::table(&report)),
        FormatArg::Csv => print!("{}", scan::output::csv(&report)),
    }
    Ok(0)
}

fn analyze(args: AnalyzeArgs) -> Result<u8> {
    use labrun::analyze::{
        AnalyzeError, CaptureFile, ReportOptions, write_analysis_report, write_fields,
    };
    use std::io::Write;
    if args.list_fields {
        let mut out = std::io::stdout().lock();
        for f in labrun::analysis::SUPPORTED_FIELDS {
            writeln!(out, "{f}")?;
        }
        return Ok(0);
    }
    let Some(path) = args.file else {
        bail!("no capture given: try `labrun analyze capture.pcap`");
    };
    if let (Some(out), None) = (&args.out, &args.fields) {
        labrun::report::check_out_dir(out)?;
    }
    let fail = |e: AnalyzeError| -> Result<u8> {
        eprintln!("error: {e}");
        Ok(2)
    };
    let mut file = match CaptureFile::open(&path, args.filter.as_deref()) {
        Ok(f) => f,
        Err(e) => return fail(e.into()),
    };
    if let Some(fields) = &args.fields {
        labrun::analyze::out::widen_stdout_pipe();
        let stdout = std::io::stdout().lock();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
        return match write_fields(&mut file, fields, args.stream, &mut out) {
            Ok(_) => Ok(0),
            Err(AnalyzeError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
            Err(e) => {
                let _ = out.flush();
                fail(e)
            }
        };
    }
    let opts = ReportOptions {
        out: args.out.clone().unwrap_or_else(|| {
            labrun::analyze::report::default_dir(std::path::Path::new("reports"), &path)
        }),
        exact: args.out.is_some(),
        path,
        stream: args.stream,
        filter: args.filter,
        lang: labrun::config::lang(Path::new("."), args.lang)?,
    };
    match write_analysis_report(&mut file, &opts) {
        Ok(a) => {
            let w = &a.written;
            println!("report: {}/ ({})", w.dir.display(), w.files.join(", "));
            match a.damaged {
                // The report of what was readable is kept; the exit code is --fields'.
                Some(e) => {
                    eprintln!("error: {e} (the report holds the frames before the damage)");
                    Ok(2)
                }
                None => Ok(0),
            }
        }
        Err(e) => fail(e),
    }
}
