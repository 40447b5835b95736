use super::*;
use crate::network::TargetPolicy;
use crate::sandbox::contain::Limits;

fn host() -> Host {
    Host::new(
        "server",
        [127, 0, 0, 1].into(),
        "lo",
        Arc::<TargetPolicy>::default(),
    )
}

fn start(command: &str, limits: Limits) -> Program {
    let spec = ProgramSpec::new("server", command, Vec::new(), PathBuf::from("/")).unwrap();
    let values = Placeholders {
        server_ip: "127.0.0.1".into(),
        port: "8888".into(),
        student_id: "20215120807".into(),
        student_name: "Li Yihang".into(),
        ..Placeholders::default()
    };
    Program::start(&host(), &spec, &values, limits).unwrap()
}

/// Processes whose environment holds `needle` (a program's marker).
fn processes_with(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn a_program_reads_its_input_prints_lines_and_exits() {
    let p = start(
        "sh -c 'echo ready; read line; echo \"got $line from $LABRUN_STUDENT_NAME\"; echo oops >&2; exit 3' {port}",
        Limits::default(),
    );
    let wait = Duration::from_secs(5);
    assert_eq!(p.read_line(wait).unwrap().as_deref(), Some("ready"));
    p.write_line("20215120807 Li Yihang").unwrap();
    assert_eq!(
        p.read_line(wait).unwrap().as_deref(),
        Some("got 20215120807 Li Yihang from Li Yihang")
    );
    assert_eq!(p.wait(wait).unwrap(), Some(Exit::Code(3)));
    assert_eq!(p.read_line(wait).unwrap(), None, "the output ended");
    let (lines, dropped) = p.output();
    assert_eq!(dropped, 0);
    assert!(
        lines
            .iter()
            .any(|l| l.stream == Stream::Stderr && l.text == "oops"),
        "{lines:?}"
    );
    assert_eq!(
        p.command_line,
        "sh -c 'echo ready; read line; echo \"got $line from $LABRUN_STUDENT_NAME\"; echo oops >&2; exit 3' 8888"
    );
    assert!(p.write_line("late").is_err(), "its input is gone");
    p.stop();
}

#[test]
fn a_silent_program_times_out_and_is_killed_with_its_children() {
    let p = start("sh -c 'sleep 60 & sleep 60; echo never'", Limits::default());
    let t = Instant::now();
    assert_eq!(p.read_line(Duration::from_millis(300)).unwrap(), None);
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(p.wait(Duration::from_millis(100)).unwrap(), None);
    p.stop();
    assert_eq!(p.exit(), Some(Exit::Signal(libc::SIGKILL)));
    assert!(p.killed_by_labrun());
    let (en, _) = describe_exit(p.exit(), true);
    assert!(en.contains("labrun stopped it"), "{en}");
}

#[test]
fn a_busy_loop_meets_its_cpu_limit() {
    let p = start(
        "sh -c 'while :; do :; done'",
        Limits {
            cpu_seconds: 1,
            ..Limits::default()
        },
    );
    let exit = p.wait(Duration::from_secs(10)).unwrap();
    assert!(
        matches!(exit, Some(Exit::Signal(libc::SIGXCPU | libc::SIGKILL))),
        "{exit:?}"
    );
    let (en, zh) = describe_exit(exit, false);
    assert!(en.starts_with("killed by SIG"), "{en}");
    assert!(zh.contains("终止"), "{zh}");
    p.stop();
}

#[test]
fn a_fork_bomb_is_bounded_and_leaves_nothing_behind() {
    let uid = crate::sandbox::contain::RunAs::for_this_process().uid();
    // The limit counts every task of the user, other tests' programs included.
    let before = crate::sandbox::contain::processes_of(uid) as usize;
    let p = start(
        "sh -c 'echo $LABRUN_RUN_DIR; f() { f & f; }; f'",
        Limits {
            processes: 16,
            ..Limits::default()
        },
    );
    let marker = p.read_line(Duration::from_secs(5)).unwrap().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let during = processes_with(&format!("{MARKER}={marker}")).len();
    assert!(
        during <= before + 16 + 1,
        "{during} processes despite the limit"
    );
    p.stop();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        processes_with(&format!("{MARKER}={marker}")),
        Vec::<u32>::new()
    );
}

#[test]
fn a_process_that_leaves_the_group_is_found_by_its_marker() {
    if !Path::new("/usr/bin/setsid").exists() {
        return;
    }
    let p = start(
        "sh -c 'echo $LABRUN_RUN_DIR; setsid sleep 60 & sleep 60'",
        Limits::default(),
    );
    let marker = p.read_line(Duration::from_secs(5)).unwrap().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(processes_with(&format!("{MARKER}={marker}")).len() >= 2);
    p.stop();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        processes_with(&format!("{MARKER}={marker}")),
        Vec::<u32>::new()
    );
}

#[test]
fn root_runs_the_program_as_nobody() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let p = start("id -u", Limits::default());
    let uid = p.read_line(Duration::from_secs(5)).unwrap();
    let expected = match crate::sandbox::contain::RunAs::for_this_process() {
        crate::sandbox::contain::RunAs::User(uid, _) => uid.to_string(),
        crate::sandbox::contain::RunAs::Same => "0".to_string(),
    };
    assert_eq!(uid, Some(expected));
    p.stop();
}

#[test]
fn a_missing_program_says_what_to_do() {
    let spec = ProgramSpec::new(
        "client",
        "./no-such-client 1",
        Vec::new(),
        PathBuf::from("/"),
    )
    .unwrap();
    let e = Program::start(&host(), &spec, &Placeholders::default(), Limits::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot start `./no-such-client 1`"), "{e}");
    assert!(e.contains("compile it first"), "{e}");
    let e = ProgramSpec::new("client", "x", vec!["/no/such.c".into()], PathBuf::from("/"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--source /no/such.c: no such file"), "{e}");
}

#[test]
fn a_memory_hog_meets_its_memory_limit() {
    if !Path::new("/usr/bin/python3").exists() {
        return;
    }
    let p = start(
        "python3 -c 'x = bytearray(2 << 30); print(\"allocated\")'",
        Limits {
            memory: 256 << 20,
            ..Limits::default()
        },
    );
    let exit = p.wait(Duration::from_secs(10)).unwrap();
    assert!(matches!(exit, Some(e) if !e.success()), "{exit:?}");
    let (lines, _) = p.output();
    assert!(
        lines.iter().any(|l| l.text.contains("MemoryError")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.text == "allocated"));
    p.stop();
}

#[test]
fn the_program_has_no_capabilities() {
    let p = start(
        "grep -E '^Cap(Eff|Prm|Bnd|Amb):' /proc/self/status",
        Limits::default(),
    );
    let mut lines = Vec::new();
    while let Some(l) = p.read_line(Duration::from_secs(5)).unwrap() {
        lines.push(l);
    }
    assert_eq!(lines.len(), 4, "{lines:?}");
    for l in &lines {
        assert!(l.ends_with("\t0000000000000000"), "{lines:?}");
    }
    p.stop();
}

#[test]
fn a_programs_home_and_temporary_files_are_private_and_removed() {
    let p = start(
        "sh -c 'touch \"$TMPDIR/scratch\" && [ \"$HOME\" = \"$TMPDIR\" ] && stat -c %a \"$TMPDIR\" && echo \"$TMPDIR\"'",
        Limits::default(),
    );
    let wait = Duration::from_secs(5);
    assert_eq!(p.read_line(wait).unwrap().as_deref(), Some("700"));
    let dir = PathBuf::from(p.read_line(wait).unwrap().expect("the directory"));
    assert!(dir.join("scratch").exists(), "{}", dir.display());
    assert_eq!(p.wait(wait).unwrap(), Some(Exit::Code(0)));
    drop(p);
    // The directory goes when the program's group is gone and its output is read: soon,
    // but on another thread.
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while dir.exists() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!dir.exists(), "{} is left behind", dir.display());
}
