//! A student's own program (a server or client in any language) run inside a lab host.
//!
//! The command comes from the user (`--server`, `--client`), never from a lab script: a
//! script can only start the [`ProgramSpec`] the user gave. The command is split into
//! words without a shell ([`split_words`]), its placeholders filled in, and started inside
//! the host's network namespace (it reaches nothing but the lab), contained by
//! `sandbox::contain` on Linux: its own process group, CPU, memory, process, file-size and
//! descriptor limits, `nobody` when labrun is root, death with labrun.
//!
//! Its stdin is a pipe the lab writes lines to (the course's programs read what to send
//! with `input()` or `scanf`); its stdout and stderr are read into lines on threads, kept
//! (bounded) for the report, and read by the lab with deadlines from the run's clock.
//! [`Program::stop`] kills the whole group and anything that left it but still carries the
//! program's marker in its environment; if labrun is killed, the reaper does the same.

mod command;

pub use command::{Placeholders, quote, split_words};

use crate::clock::Stop;
use crate::network::Host;
use crate::private_dir::PrivateDir;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest line kept from a program's output; longer ones are cut into pieces.
const MAX_LINE: usize = 4096;
/// How many output lines a program keeps for the lab and the report.
const MAX_LINES: usize = 2000;
/// How many bytes of output a program keeps.
const MAX_OUTPUT: usize = 256 * 1024;
/// The largest source file shown in the report.
pub const MAX_SOURCE: u64 = 64 * 1024;
/// How long writing a line to a program's input may wait for it to read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`Program::stop`] waits for the killed program to be collected.
const STOP_WAIT: Duration = Duration::from_secs(2);
/// How long a program that ended may take to have its last output read.
const DRAIN_WAIT: Duration = Duration::from_millis(500);
/// What the environment variable marking a program's processes is called.
const MARKER: &str = "LABRUN_RUN_DIR";
/// File extensions that make a word of the command a source file to show.
const SOURCE_EXTS: &[&str] = &[
    "py", "c", "h", "cc", "cpp", "cxx", "hpp", "java", "cs", "go", "rs", "js", "rb", "pl", "sh",
];

/// The program layer's error.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The command line is not usable.
    #[error("{0}")]
    Command(String),
    /// The program could not start.
    #[error("cannot start `{command}`: {source}{hint}")]
    Start {
        /// The command line.
        command: String,
        /// The OS error.
        source: io::Error,
        /// What to do about it, or "".
        hint: String,
    },
    /// The host cannot run programs.
    #[error("{0}")]
    Host(String),
    /// The program's input is closed.
    #[error("cannot write to the program: {0}")]
    Input(String),
    /// The run must stop (time limit, Ctrl-C).
    #[error(transparent)]
    Stop(#[from] Stop),
}

/// A program the user supplied for one side of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    /// The side it plays: `server` or `client`.
    pub role: String,
    /// The command line as typed (`--server "python3 server.py {port}"`).
    pub command: String,
    /// Source files to show besides those on the command line (`--source`).
    pub sources: Vec<PathBuf>,
    /// The directory it runs in (where labrun was started).
    pub cwd: PathBuf,
}

impl ProgramSpec {
    /// Checks the command line (its words and placeholder names) and the source files now,
    /// so a typo is an error before the lab starts.
    pub fn new(
        role: &str,
        command: &str,
        sources: Vec<PathBuf>,
        cwd: PathBuf,
    ) -> Result<ProgramSpec, ProgramError> {
        let probe = Placeholders {
            server_ip: "-".into(),
            client_ip: "-".into(),
            port: "-".into(),
            student_id: "-".into(),
            student_name: "-".into(),
        };
        for word in split_words(command)? {
            probe.fill(&word)?;
        }
        for s in &sources {
            if !s.is_file() {
                return Err(ProgramError::Command(format!(
                    "--source {}: no such file",
                    s.display()
                )));
            }
        }
        Ok(ProgramSpec {
            role: role.to_string(),
            command: command.to_string(),
            sources,
            cwd,
        })
    }
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line a program printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// Where it came from.
    pub stream: Stream,
    /// The line without its newline (invalid UTF-8 replaced).
    pub text: String,
    /// When it arrived, from the program's start.
    pub at: Duration,
}

/// How a program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

impl Exit {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    /// The exit code, or 128 + the signal as a shell reports it.
    pub fn code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }
}

/// The name of signal `sig` (`SIGKILL`), or its number.
fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

/// A program's end in words (English, Chinese): the code, or the signal and why it came.
pub fn describe_exit(exit: Option<Exit>, killed_by_labrun: bool) -> (String, String) {
    match exit {
        None => ("still running".into(), "仍在运行".into()),
        Some(Exit::Code(c)) => (format!("exited with code {c}"), format!("退出码 {c}")),
        Some(Exit::Signal(s)) => {
            let name = signal_name(s);
            let (why, zh) = match s {
                libc::SIGXCPU => (
                    " (it used up its CPU time limit)",
                    "（用完了 CPU 时间限制）",
                ),
                libc::SIGXFSZ => (
                    " (it wrote past its file-size limit)",
                    "（写文件超过了大小限制）",
                ),
                libc::SIGSEGV => (" (a memory access error)", "（内存访问错误）"),
                libc::SIGKILL if killed_by_labrun => (
                    " (labrun stopped it: the lab had finished with it)",
                    "（labrun 停止了它：实验已不再需要它）",
                ),
                _ => ("", ""),
            };
            (
                format!("killed by {name}{why}"),
                format!("被 {name} 终止{zh}"),
            )
        }
    }
}

#[derive(Debug, Default)]
struct State {
    output: Vec<OutputLine>,
    kept: usize,
    dropped: usize,
    /// The next output index `read_line` looks at.
    cursor: usize,
    stdout_open: bool,
    stderr_open: bool,
    exit: Option<Exit>,
    reaped: bool,
    killed: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stdin: Mutex<Option<ChildStdin>>,
    dir: Mutex<Option<PrivateDir>>,
    started: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running (or finished) program; clones share it.
#[derive(Debug, Clone)]
pub struct Program {
    shared: Arc<Shared>,
    pid: u32,
    /// The side it plays (`server`, `client`).
    pub role: String,
    /// The host it runs in.
    pub host: String,
    /// The command line as run (placeholders filled in, words quoted where needed).
    pub command_line: String,
    /// The command line as the user typed it.
    pub typed: String,
    /// The source files shown in the report, with their text (or why it is missing).
    pub sources: Vec<(PathBuf, Result<String, String>)>,
    /// Who it runs as, for the report (`nobody (65534)`, or labrun's own user).
    pub user: String,
}

impl Program {
    /// Starts `spec` inside `host` (its namespace) with `values` as placeholders and
    /// environment, contained with `limits`.
    pub fn start(
        host: &Host,
        spec: &ProgramSpec,
        values: &Placeholders,
        limits: crate::sandbox::contain::Limits,
    ) -> Result<Program, ProgramError> {
        let argv = split_words(&spec.command)?
            .iter()
            .map(|w| values.fill(w))
            .collect::<Result<Vec<_>, _>>()?;
        let command_line = argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
        let sources = source_files(spec, &argv);
        let dir = PrivateDir::new("program").map_err(|source| ProgramError::Start {
            command: command_line.clone(),
            source,
            hint: " (labrun's private directory for it)".into(),
        })?;
        let run_as = crate::sandbox::contain::RunAs::for_this_process();
        // The private directory is the program's home and TMPDIR, so whatever it writes
        // there (Java's and Python's caches, its temporary files) is private to it and
        // removed with the directory; owned by the user the program runs as.
        if let crate::sandbox::contain::RunAs::User(uid, gid) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|source| {
                ProgramError::Start {
                    command: command_line.clone(),
                    source,
                    hint: " (giving labrun's private directory for it to its user)".into(),
                }
            })?;
        }
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
            )
            .env("HOME", dir.path())
            .env("TMPDIR", dir.path())
            .env("LANG", "C.UTF-8")
            // Python buffers print() into a pipe until it exits: unbuffered, the lab sees
            // each line when the program prints it, as a terminal would.
            .env("PYTHONUNBUFFERED", "1")
            .env(MARKER, dir.path())
            .envs(values.env())
            .current_dir(&spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        crate::sandbox::contain::contain(&mut cmd, limits, run_as);
        let user = match run_as {
            crate::sandbox::contain::RunAs::User(uid, _) => format!("nobody ({uid})"),
            crate::sandbox::contain::RunAs::Same => "labrun's own user".to_string(),
        };
        let spawned = host
            .within("run", || cmd.spawn())
            .map_err(|e| ProgramError::Host(e.message))?;
        let mut child = spawned.map_err(|source| {
            let hint = start_hint(&argv[0], &source, &spec.cwd, run_as);
            ProgramError::Start {
                command: command_line.clone(),
                source,
                hint,
            }
        })?;
        let pid = child.id();
        dir.watch_group(pid);
        let stdin = child.stdin.take();
        if let Some(s) = &stdin {
            set_nonblocking(s.as_raw_fd());
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                stdout_open: true,
                stderr_open: true,
                ..State::default()
            }),
            changed: Condvar::new(),
            stdin: Mutex::new(stdin),
            dir: Mutex::new(Some(dir)),
            started: Instant::now(),
        });
        if let Some(out) = child.stdout.take() {
            read_lines(Arc::clone(&shared), out, Stream::Stdout);
        }
        if let Some(err) = child.stderr.take() {
            read_lines(Arc::clone(&shared), err, Stream::Stderr);
        }
        wait_for(Arc::clone(&shared), child);
        Ok(Program {
            shared,
            pid,
            role: spec.role.clone(),
            host: host.name().to_string(),
            command_line,
            typed: spec.command.clone(),
            sources,
            user,
        })
    }

    /// The program's process id (it leads its own process group).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Writes `line` and a newline to the program's input, waiting (bounded) while it
    /// does not read.
    pub fn write_line(&self, line: &str) -> Result<(), ProgramError> {
        let mut guard = self.shared.stdin.lock().unwrap_or_else(|p| p.into_inner());
        let Some(stdin) = guard.as_mut() else {
            return Err(ProgramError::Input("its input is already closed".into()));
        };
        let data = format!("{line}\n");
        let mut rest = data.as_bytes();
        let deadline = Instant::now() + WRITE_TIMEOUT;
        while !rest.is_empty() {
            match stdin.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match crate::clock::slice(deadline)? {
                        Some(d) => std::thread::sleep(d.min(Duration::from_millis(5))),
                        None => {
                            return Err(ProgramError::Input(format!(
                                "it read nothing for {}",
                                crate::util::fmt_duration(WRITE_TIMEOUT)
                            )));
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    *guard = None;
                    return Err(ProgramError::Input(
                        "it no longer reads its input (it closed it or exited)".into(),
                    ));
                }
                Err(e) => return Err(ProgramError::Input(e.to_string())),
            }
        }
        Ok(())
    }

    /// Closes the program's input: its next read sees the end of input (Ctrl-D).
    pub fn close_input(&self) {
        self.shared
            .stdin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// The next line of standard output not read yet, waiting up to `timeout` (capped by
    /// the run's clock): `Ok(None)` when none came in time or the output ended.
    pub fn read_line(&self, timeout: Duration) -> Result<Option<String>, ProgramError> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            let start = st.cursor;
            if let Some(i) = st.output[start..]
                .iter()
                .position(|l| l.stream == Stream::Stdout)
            {
                st.cursor = start + i + 1;
                return Ok(Some(st.output[start + i].text.clone()));
            }
            st.cursor = st.output.len();
            if !st.stdout_open {
                return Ok(None);
            }
            let Some(step) = crate::clock::slice(deadline)? else {
                return Ok(None);
            };
            st = self
                .shared
                .changed
                .wait_timeout(st, step)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits up to `timeout` (capped by the run's clock) for the program to end; its exit,
    /// or `None` while it still runs. Once it has ended, its output is read to the end
    /// (waiting at most [`DRAIN_WAIT`] for what it left in the pipes) before this returns.
    pub fn wait(&self, timeout: Duration) -> Result<Option<Exit>, ProgramError> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        loop {
            if st.reaped {
                drop(st);
                self.drain();
                return Ok(self.exit());
            }
            let Some(step) = crate::clock::slice(deadline)? else {
                return Ok(None);
            };
            st = self
                .shared
                .changed
                .wait_timeout(st, step)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Waits (at most [`DRAIN_WAIT`]) until both output pipes reached their end.
    fn drain(&self) {
        let deadline = Instant::now() + DRAIN_WAIT;
        let mut st = self.shared.lock();
        while (st.stdout_open || st.stderr_open) && Instant::now() < deadline {
            st = self
                .shared
                .changed
                .wait_timeout(st, Duration::from_millis(10))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// How the program ended, `None` while it runs.
    pub fn exit(&self) -> Option<Exit> {
        self.shared.lock().exit
    }

    /// True when labrun killed it (rather than it ending by itself).
    pub fn killed_by_labrun(&self) -> bool {
        self.shared.lock().killed
    }

    /// Everything it printed so far (both streams, in arrival order), and how many lines
    /// were dropped past the bound.
    pub fn output(&self) -> (Vec<OutputLine>, usize) {
        let st = self.shared.lock();
        (st.output.clone(), st.dropped)
    }

    /// Kills the program's process group (SIGKILL); it is collected in the background.
    pub fn kill(&self) {
        let mut st = self.shared.lock();
        if !st.reaped {
            st.killed = true;
            // SAFETY: the group's leader is not collected yet (checked under the lock the
            // collector takes), so the number is still this program's group.
            unsafe {
                libc::kill(-(self.pid as i32), libc::SIGKILL);
            }
        }
    }

    /// Kills the program and everything it started, waits (bounded) for it to be
    /// collected, and removes its private directory. Idempotent.
    pub fn stop(&self) {
        self.kill();
        let _ = self.shared.stdin.lock().map(|mut s| s.take());
        let deadline = Instant::now() + STOP_WAIT;
        let mut st = self.shared.lock();
        while !st.reaped && Instant::now() < deadline {
            st = self
                .shared
                .changed
                .wait_timeout(st, Duration::from_millis(20))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(st);
        self.drain();
        let dir = self
            .shared
            .dir
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(dir) = dir {
            // Processes that left the group (setsid) still carry the marker.
            crate::private_dir::kill_processes_in(dir.path());
        }
    }
}

/// True when a program of the calling thread's network namespace (enter a host first)
/// listens on TCP `port`, or with `udp` has a UDP socket bound to it.
pub fn ready(port: u16, udp: bool) -> bool {
    if udp {
        crate::sandbox::contain::udp_bound(port)
    } else {
        crate::sandbox::contain::tcp_listening(port)
    }
}

/// The source files to show: `--source` files, then words of the command that name a
/// source file, each once.
fn source_files(spec: &ProgramSpec, argv: &[String]) -> Vec<(PathBuf, Result<String, String>)> {
    let mut paths: Vec<PathBuf> = spec.sources.clone();
    for w in argv {
        let p = Path::new(w);
        let is_source = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| SOURCE_EXTS.contains(&e));
        if is_source && spec.cwd.join(p).is_file() && !paths.iter().any(|q| q == p) {
            paths.push(p.to_path_buf());
        }
    }
    paths
        .into_iter()
        .map(|p| {
            let full = spec.cwd.join(&p);
            let text = match std::fs::metadata(&full) {
                Ok(m) if m.len() > MAX_SOURCE => Err(format!(
                    "{} bytes: larger than the {} KiB the report shows",
                    m.len(),
                    MAX_SOURCE / 1024
                )),
                Ok(_) => std::fs::read(&full)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            (p, text)
        })
        .collect()
}

/// Advice for a program that would not start.
fn start_hint(
    program: &str,
    e: &io::Error,
    cwd: &Path,
    run_as: crate::sandbox::contain::RunAs,
) -> String {
    match e.kind() {
        io::ErrorKind::NotFound if program.contains('/') => format!(
            "\n  there is no `{program}` in {} (compile it first, or give its path)",
            cwd.display()
        ),
        io::ErrorKind::NotFound => {
            format!("\n  `{program}` is not installed, or not on PATH")
        }
        io::ErrorKind::PermissionDenied => match run_as {
            crate::sandbox::contain::RunAs::User(uid, _) => format!(
                "\n  the program runs as the unprivileged user nobody ({uid}): it must be able to read \
                 and run it, and to enter {} (chmod a+rx the file and its directories)",
                cwd.display()
            ),
            crate::sandbox::contain::RunAs::Same => {
                "\n  the file is not executable (chmod +x it)".to_string()
            }
        },
        _ => String::new(),
    }
}

fn set_nonblocking(fd: i32) {
    // SAFETY: fcntl on a descriptor this process owns (the pipe to the child's stdin).
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}

/// Reads `pipe` into lines of `stream` on a thread until the program closes it.
fn read_lines(shared: Arc<Shared>, mut pipe: impl Read + Send + 'static, stream: Stream) {
    let thread = std::thread::Builder::new()
        .name("labrun-program-output".into())
        .spawn({
            let shared = Arc::clone(&shared);
            move || {
                let mut buf = [0u8; 4096];
                let mut line: Vec<u8> = Vec::new();
                loop {
                    let n = match pipe.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    for &b in &buf[..n] {
                        if b == b'\n' || line.len() >= MAX_LINE {
                            push_line(&shared, stream, &line);
                            line.clear();
                            if b == b'\n' {
                                continue;
                            }
                        }
                        line.push(b);
                    }
                }
                if !line.is_empty() {
                    push_line(&shared, stream, &line);
                }
                let mut st = shared.lock();
                match stream {
                    Stream::Stdout => st.stdout_open = false,
                    Stream::Stderr => st.stderr_open = false,
                }
                shared.changed.notify_all();
            }
        });
    if thread.is_err() {
        let mut st = shared.lock();
        match stream {
            Stream::Stdout => st.stdout_open = false,
            Stream::Stderr => st.stderr_open = false,
        }
    }
}

fn push_line(shared: &Shared, stream: Stream, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes)
        .trim_end_matches('\r')
        .to_string();
    let mut st = shared.lock();
    if st.output.len() >= MAX_LINES || st.kept + text.len() > MAX_OUTPUT {
        st.dropped += 1;
        return;
    }
    st.kept += text.len();
    let at = shared.started.elapsed();
    st.output.push(OutputLine { stream, text, at });
    shared.changed.notify_all();
}

/// Collects the program when it ends, first killing what it left in its group.
fn wait_for(shared: Arc<Shared>, mut child: Child) {
    let pid = child.id();
    let spawned = std::thread::Builder::new()
        .name("labrun-program-wait".into())
        .spawn({
            let shared = Arc::clone(&shared);
            move || {
                wait_exited(pid);
                let mut st = shared.lock();
                // SAFETY: the leader has exited but is not collected, so the group number
                // is still this program's.
                unsafe {
                    libc::kill(-(pid as i32), libc::SIGKILL);
                }
                let status = child.wait();
                if let Some(dir) = shared
                    .dir
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_ref()
                {
                    dir.forget_group(pid);
                }
                st.exit = status.ok().map(|s| {
                    use std::os::unix::process::ExitStatusExt;
                    match (s.code(), s.signal()) {
                        (Some(c), _) => Exit::Code(c),
                        (None, Some(sig)) => Exit::Signal(sig),
                        (None, None) => Exit::Code(-1),
                    }
                });
                st.reaped = true;
                shared.changed.notify_all();
            }
        });
    if spawned.is_err() {
        // Without a collector the program is killed now rather than left unwatched.
        // SAFETY: the child is not collected yet.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
}

/// Blocks until process `pid` (a child) has exited, without collecting it.
fn wait_exited(pid: u32) {
    loop {
        // SAFETY: waitid with WNOWAIT on our own child fills a zeroed siginfo_t and
        // leaves the child to be collected by `Child::wait`.
        let r = unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
