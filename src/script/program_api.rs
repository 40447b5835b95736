//! Script API: the user's own program (`--server`, `--client`) run inside a lab host.
//!
//! A lab never names a command: `program("server")` hands it the one the user gave (or
//! `()`), and `host.run` starts only such a value. What it does lives in
//! [`crate::session`] and [`crate::program`].

use super::lab_values::LabHost as Host;
use super::{ApiResult, api_error, or_stop, session, to_port, to_usize};
use crate::program::{Program, ProgramError, ProgramSpec, describe_exit};
use crate::session::SessionError;
use rhai::plugin::*;
use rhai::{Array, Engine, INT, Map};
use std::time::Duration;

/// How long `read_line()` and `wait()` wait when the lab gives no time.
const DEFAULT_WAIT_MS: usize = 5000;

pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<ProgramSpec>("UserProgram")
        .register_type_with_name::<Program>("Process");
    engine.register_global_module(exported_module!(program_module).into());
}

fn fail(function: &str, e: ProgramError) -> Box<EvalAltResult> {
    match e {
        ProgramError::Stop(stop) => super::stop_error(stop),
        e => or_stop(api_error(function, e)),
    }
}

fn ms(function: &str, n: INT) -> ApiResult<Duration> {
    Ok(Duration::from_millis(
        to_usize(function, "the wait in ms", n)? as u64,
    ))
}

fn start(host: &Host, p: &ProgramSpec, port: Option<u16>) -> ApiResult<Program> {
    host.session
        .run_program(&host.host, p, port)
        .map_err(|e| match e {
            SessionError::Program(e) => fail("run", e),
            e => api_error("run", e),
        })
}

/// `wait_listening` (TCP) or `wait_udp`.
fn wait_ready(host: &Host, port: INT, udp: bool, ms: INT) -> ApiResult<bool> {
    let f = if udp { "wait_udp" } else { "wait_listening" };
    let port = to_port(f, port)?;
    let wait = self::ms(f, ms)?;
    host.session
        .wait_listening(&host.host, port, udp, wait)
        .map_err(|e| match e {
            SessionError::Program(e) => fail(f, e),
            SessionError::Sock(e) => crate::script::throw_sock(e),
            e => api_error(f, e),
        })
}

#[export_module]
mod program_module {
    use super::*;

    /// The user's own program for one side of the lab (`--server "python3 server.py {port}"`).
    pub type UserProgram = ProgramSpec;
    /// A program the lab started with `host.run`.
    pub type Process = Program;

    /// The program the user gave for `role` ("server" with `--server`, "client" with
    /// `--client`), or `()` when none: the lab then plays that side itself.
    #[rhai_fn(return_raw)]
    pub fn program(ctx: NativeCallContext, role: &str) -> ApiResult<Dynamic> {
        if role != "server" && role != "client" {
            return Err(api_error(
                "program",
                format!("the role is \"server\" or \"client\", not {role:?}"),
            ));
        }
        Ok(session(&ctx)?
            .program_spec(role)
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT))
    }

    /// The side the program plays: "server" or "client".
    #[rhai_fn(get = "role", pure)]
    pub fn spec_role(p: &mut UserProgram) -> String {
        p.role.clone()
    }

    /// The command line as the user typed it.
    #[rhai_fn(get = "command", pure)]
    pub fn spec_command(p: &mut UserProgram) -> String {
        p.command.clone()
    }

    /// Starts the user's program inside this host (its network namespace), contained:
    /// no network beyond the lab, `nobody` when labrun is root, limits on CPU time, memory,
    /// processes and file size, killed at the end of the run. Its placeholders and
    /// LABRUN_* environment get the lab's addresses and the student.
    #[rhai_fn(return_raw)]
    pub fn run(host: &mut Host, program: UserProgram) -> ApiResult<Process> {
        start(host, &program, None)
    }

    /// `run` with options `#{ port: 8888 }`: the lab's port, for `{port}` and `LABRUN_PORT`.
    #[rhai_fn(name = "run", return_raw)]
    pub fn run_with(host: &mut Host, program: UserProgram, options: Map) -> ApiResult<Process> {
        let mut port = None;
        for (k, v) in &options {
            match k.as_str() {
                "port" => {
                    let n = v
                        .as_int()
                        .map_err(|t| api_error("run", format!("`port` must be an int, not {t}")))?;
                    port = Some(to_port("run", n)?);
                }
                other => {
                    return Err(api_error(
                        "run",
                        format!("unknown option `{other}` (known: port)"),
                    ));
                }
            }
        }
        start(host, &program, port)
    }

    /// Waits up to `ms` milliseconds (capped by the run's time limit) until a program in
    /// this host listens on TCP `port`; true when one does (the student's server is ready),
    /// false at once when every program started in this host has ended.
    #[rhai_fn(return_raw)]
    pub fn wait_listening(host: &mut Host, port: INT, ms: INT) -> ApiResult<bool> {
        wait_ready(host, port, false, ms)
    }

    /// Waits up to `ms` milliseconds (capped by the run's time limit) until a program in
    /// this host has a UDP socket bound to `port`; true when one has (a UDP server is ready).
    #[rhai_fn(return_raw)]
    pub fn wait_udp(host: &mut Host, port: INT, ms: INT) -> ApiResult<bool> {
        wait_ready(host, port, true, ms)
    }

    /// The command line as run (placeholders filled in).
    #[rhai_fn(get = "command", pure)]
    pub fn command(p: &mut Process) -> String {
        p.command_line.clone()
    }

    /// The side it plays: "server" or "client".
    #[rhai_fn(get = "role", pure)]
    pub fn role(p: &mut Process) -> String {
        p.role.clone()
    }

    /// Its process id.
    #[rhai_fn(get = "pid", pure)]
    pub fn pid(p: &mut Process) -> INT {
        INT::from(p.pid())
    }

    /// Writes `line` and a newline to its standard input, as if typed at its keyboard;
    /// throws when it no longer reads (it exited or closed its input).
    #[rhai_fn(return_raw)]
    pub fn send_line(p: &mut Process, line: &str) -> ApiResult<()> {
        p.write_line(line).map_err(|e| fail("send_line", e))
    }

    /// Closes its standard input: its next read sees the end of input (Ctrl-D).
    pub fn close_input(p: &mut Process) {
        p.close_input();
    }

    /// The next line it printed on standard output not read yet, waiting up to 5 s; `()`
    /// when none came in time or its output ended.
    #[rhai_fn(return_raw)]
    pub fn read_line(p: &mut Process) -> ApiResult<Dynamic> {
        read_line_within(p, DEFAULT_WAIT_MS as INT)
    }

    /// `read_line` waiting up to `ms` milliseconds (capped by the run's time limit).
    #[rhai_fn(name = "read_line", return_raw)]
    pub fn read_line_within(p: &mut Process, ms: INT) -> ApiResult<Dynamic> {
        let wait = super::ms("read_line", ms)?;
        p.read_line(wait)
            .map(|l| l.map(Dynamic::from).unwrap_or(Dynamic::UNIT))
            .map_err(|e| fail("read_line", e))
    }

    /// Waits up to 5 s for it to end: its exit code (128 + the signal when a signal ended
    /// it), or `()` while it still runs.
    #[rhai_fn(return_raw)]
    pub fn wait(p: &mut Process) -> ApiResult<Dynamic> {
        wait_within(p, DEFAULT_WAIT_MS as INT)
    }

    /// `wait` up to `ms` milliseconds (capped by the run's time limit).
    #[rhai_fn(name = "wait", return_raw)]
    pub fn wait_within(p: &mut Process, ms: INT) -> ApiResult<Dynamic> {
        let wait = super::ms("wait", ms)?;
        p.wait(wait)
            .map(|e| {
                e.map(|e| Dynamic::from(INT::from(e.code())))
                    .unwrap_or(Dynamic::UNIT)
            })
            .map_err(|e| fail("wait", e))
    }

    /// True while it runs.
    #[rhai_fn(get = "running", pure)]
    pub fn running(p: &mut Process) -> bool {
        p.exit().is_none()
    }

    /// Its exit code (128 + the signal when a signal ended it), or `()` while it runs.
    #[rhai_fn(get = "exit_code", pure)]
    pub fn exit_code(p: &mut Process) -> Dynamic {
        p.exit()
            .map(|e| Dynamic::from(INT::from(e.code())))
            .unwrap_or(Dynamic::UNIT)
    }

    /// How it ended, in the report's language: "exited with code 0", "killed by SIGXCPU
    /// (it used up its CPU time limit)", or "still running".
    #[rhai_fn(get = "status", pure, return_raw)]
    pub fn status(ctx: NativeCallContext, p: &mut Process) -> ApiResult<String> {
        let (en, zh) = describe_exit(p.exit(), p.killed_by_labrun());
        Ok(session(&ctx)?.lang().pick(&en, &zh).to_string())
    }

    /// Every line it printed so far, standard output and standard error in arrival order
    /// (standard error lines start with "[stderr] ").
    #[rhai_fn(get = "output", pure)]
    pub fn output(p: &mut Process) -> Array {
        p.output()
            .0
            .into_iter()
            .map(|l| match l.stream {
                crate::program::Stream::Stdout => l.text.into(),
                crate::program::Stream::Stderr => format!("[stderr] {}", l.text).into(),
            })
            .collect()
    }

    /// Kills it and everything it started (SIGKILL to its process group).
    pub fn kill(p: &mut Process) {
        p.kill();
    }
}
