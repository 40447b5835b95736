//! The user's own programs in a run (`--server`, `--client`): starting the one the user
//! gave inside a lab host, stopping them all at the end, and showing each in the report.

use super::{Session, SessionError};
use crate::i18n::Lang;
use crate::network::{Host, NetworkKind};
use crate::program::{Placeholders, Program, ProgramError, ProgramSpec, Stream, describe_exit};
use crate::report::Block;

/// How many programs one run may start.
pub const MAX_PROGRAMS: usize = 16;

/// A program a run started, and where its report section goes.
#[derive(Debug)]
pub struct StartedProgram {
    /// The program.
    pub program: Program,
    /// The number of report blocks when it started: its section goes before the first
    /// section or packet list after that.
    pub at_block: usize,
}

impl Session {
    /// The program the user gave for `role` (`server` or `client`), if any.
    pub fn program_spec(&self, role: &str) -> Option<ProgramSpec> {
        self.lock()
            .programs
            .iter()
            .find(|p| p.role == role)
            .cloned()
    }

    /// Starts the user's program `spec` inside `host`, with the lab's addresses, `port`
    /// and the student in its placeholders and environment.
    pub fn run_program(
        &self,
        host: &Host,
        spec: &ProgramSpec,
        port: Option<u16>,
    ) -> Result<Program, SessionError> {
        let refuse = |m: String| Err(SessionError::Program(ProgramError::Host(m)));
        let network = self
            .lock()
            .networks
            .iter()
            .find(|n| {
                n.hosts
                    .iter()
                    .any(|h| h.name() == host.name() && h.ip() == host.ip())
            })
            .cloned();
        let Some(network) = network else {
            return refuse(format!("`{}` is not a host of this lab", host.name()));
        };
        if network.kind == NetworkKind::Loopback {
            return refuse(format!(
                "the {} program runs only inside the lab's sandbox (the default network) or with \
                 --network host: on loopback nothing would keep it from the rest of the network",
                spec.role
            ));
        }
        if self.lock().started.len() >= MAX_PROGRAMS {
            return refuse(format!("a run starts at most {MAX_PROGRAMS} programs"));
        }
        let ip_of = |name: &str| {
            network
                .host(name)
                .map(|h| h.ip().to_string())
                .unwrap_or_default()
        };
        let (student_id, student_name) = self.student();
        let values = Placeholders {
            server_ip: ip_of("server"),
            client_ip: ip_of("client"),
            port: port.map(|p| p.to_string()).unwrap_or_default(),
            student_id,
            student_name,
        };
        let program = Program::start(host, spec, &values, Default::default())?;
        let mut st = self.lock();
        let at_block = st.report.blocks.len();
        st.started.push(StartedProgram {
            program: program.clone(),
            at_block,
        });
        Ok(program)
    }

    /// Waits up to `timeout` (capped by the run's clock) until a TCP socket in `host`
    /// listens on `port` (with `udp`: a UDP socket is bound to it): a student's server is
    /// ready for the lab's client. False at once when every program started in `host` has
    /// ended.
    pub fn wait_listening(
        &self,
        host: &Host,
        port: u16,
        udp: bool,
        timeout: std::time::Duration,
    ) -> Result<bool, SessionError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let up = host
                .within("wait_listening", || crate::program::ready(port, udp))
                .map_err(SessionError::Sock)?;
            if up {
                return Ok(true);
            }
            if self.programs_ended(host) {
                return Ok(false);
            }
            match crate::clock::slice(deadline) {
                Ok(Some(step)) => {
                    std::thread::sleep(step.min(std::time::Duration::from_millis(20)))
                }
                Ok(None) => return Ok(false),
                Err(stop) => return Err(SessionError::Program(ProgramError::Stop(stop))),
            }
        }
    }

    /// True when programs were started in `host` and every one of them has ended: nothing
    /// there will start listening any more.
    fn programs_ended(&self, host: &Host) -> bool {
        let st = self.lock();
        let mut here = st
            .started
            .iter()
            .filter(|s| s.program.host == host.name())
            .peekable();
        here.peek().is_some() && here.all(|s| s.program.exit().is_some())
    }

    /// Stops every program the run started and puts each one's section in the report.
    pub(super) fn stop_programs(&self, lang: Lang) {
        let started: Vec<StartedProgram> = std::mem::take(&mut self.lock().started);
        for s in &started {
            s.program.stop();
        }
        let mut st = self.lock();
        let unused: Vec<String> = st
            .programs
            .iter()
            .filter(|spec| !started.iter().any(|s| s.program.role == spec.role))
            .map(|spec| spec.role.clone())
            .collect();
        for role in unused {
            let warning = match lang {
                Lang::En => format!(
                    "--{role} was given, but this lab never ran it (it does not take a student's {role} program, or it stopped before)"
                ),
                Lang::Zh => format!(
                    "给出了 --{role}，但本实验没有运行它（本实验不接受学生的{}程序，或在此之前已停止）",
                    if role == "server" {
                        "服务器"
                    } else {
                        "客户端"
                    }
                ),
            };
            st.report.warnings.push(warning);
        }
        // Last first, so earlier positions stay valid.
        for s in started.iter().rev() {
            let blocks = &st.report.blocks;
            let at = (s.at_block.min(blocks.len())..blocks.len())
                .find(|&i| matches!(blocks[i], Block::Section { .. } | Block::Packets(_)))
                .unwrap_or(blocks.len());
            st.report
                .blocks
                .insert(at, program_section(&s.program, lang));
        }
    }
}

/// A fenced code block around `text`, its fence longer than any backtick run inside.
fn fenced(text: &str, info: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{info}\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

/// The fence's info string for a source file: its language, for highlighting.
fn language(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "py" => "python",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" => "cpp",
        "java" => "java",
        "cs" => "csharp",
        "go" => "go",
        "rs" => "rust",
        "js" => "javascript",
        "sh" => "sh",
        _ => "",
    }
}

/// The report section of one program: the command, each source file with line numbers,
/// what it printed, and how it ended.
pub fn program_section(p: &Program, lang: Lang) -> Block {
    let t = |en: &str, zh: &str| lang.pick(en, zh).to_string();
    let role_zh = if p.role == "server" {
        "服务器"
    } else {
        "客户端"
    };
    let title = match lang {
        Lang::En => format!("The student's {} program", p.role),
        Lang::Zh => format!("学生编写的{role_zh}程序"),
    };
    let mut body = match lang {
        Lang::En => format!(
            "labrun ran `{}` inside host `{}` (as {}, with the LABRUN_* environment and limits on CPU time, memory, processes and file size). It was typed as `{}`.\n\n",
            p.command_line, p.host, p.user, p.typed
        ),
        Lang::Zh => format!(
            "labrun 在主机 `{}` 中运行了 `{}`（用户：{}，带 LABRUN_* 环境变量，并限制了 CPU 时间、内存、进程数和文件大小）。输入的命令是 `{}`。\n\n",
            p.host,
            p.command_line,
            p.user.replace("labrun's own user", "与 labrun 相同的用户"),
            p.typed
        ),
    };
    for (path, text) in &p.sources {
        match text {
            Ok(text) => {
                let lines: Vec<&str> = text.lines().collect();
                let width = lines.len().max(1).to_string().len();
                let numbered: String = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("{:>width$}  {l}\n", i + 1))
                    .collect();
                body.push_str(&match lang {
                    Lang::En => format!("**{}** ({} lines):\n\n", path.display(), lines.len()),
                    Lang::Zh => format!("**{}**（{} 行）：\n\n", path.display(), lines.len()),
                });
                body.push_str(&fenced(&numbered, language(path)));
                body.push('\n');
            }
            Err(why) => body.push_str(&match lang {
                Lang::En => format!("**{}**: not shown ({why}).\n\n", path.display()),
                Lang::Zh => format!("**{}**：未显示（{why}）。\n\n", path.display()),
            }),
        }
    }
    let (lines, dropped) = p.output();
    if lines.is_empty() {
        body.push_str(&t("It printed nothing.\n\n", "它没有输出任何内容。\n\n"));
    } else {
        body.push_str(&t(
            "What it printed (standard error marked `[stderr]`):\n\n",
            "它的输出（标准错误输出标为 `[stderr]`）：\n\n",
        ));
        let text: String = lines
            .iter()
            .map(|l| match l.stream {
                Stream::Stdout => format!("{}\n", l.text),
                Stream::Stderr => format!("[stderr] {}\n", l.text),
            })
            .collect();
        body.push_str(&fenced(&text, "text"));
        if dropped > 0 {
            body.push_str(&match lang {
                Lang::En => format!("({dropped} more lines were not kept.)\n"),
                Lang::Zh => format!("（另有 {dropped} 行未保留。）\n"),
            });
        }
        body.push('\n');
    }
    let (en, zh) = describe_exit(p.exit(), p.killed_by_labrun());
    body.push_str(&match lang {
        Lang::En => format!("Exit status: {en}.\n"),
        Lang::Zh => format!("退出状态：{zh}。\n"),
    });
    Block::Section { title, body }
}
