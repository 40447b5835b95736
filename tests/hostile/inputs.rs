//! Sizes, report names and inputs.

use super::run::{Ran, hostile, labrun, labrun_in, labrun_in_cmd, root};

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Runs a hostile script on loopback with its report in a fresh folder.
fn run_script(name: &str, extra: &[&str]) -> (Ran, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let script = hostile(name);
    let report = out.path().join("report");
    let mut args: Vec<&OsStr> = vec![
        script.as_os_str(),
        OsStr::new("--network"),
        OsStr::new("loopback"),
        OsStr::new("--out"),
        report.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    (labrun(&args), out)
}

// ---- 6. sizes are checked before allocating ----

#[test]
fn pad_of_two_to_the_62_is_a_script_error() {
    let (ran, _out) = run_script("pad_overflow.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr
            .contains("pad_overflow.rhai:3:9: pad: 4611686018427387904 bytes is more than a script string may hold (16 MiB)"),
        "{}",
        ran.text()
    );
}

#[test]
fn pad_of_a_gigabyte_fails_before_allocating() {
    let (ran, _out) = run_script("pad_gigabyte.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains(
            "pad_gigabyte.rhai:3:9: pad: 1073741824 bytes is more than a script string may hold (16 MiB)"
        ),
        "{}",
        ran.text()
    );
    ran.assert_peak_below_mib(200);
    assert!(ran.elapsed < Duration::from_secs(5), "{}", ran.text());
}

#[test]
fn recv_exact_of_a_terabyte_is_refused_before_reading() {
    let (ran, _out) = run_script("recv_exact_huge.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("recv_exact_huge.rhai:8:18: recv_exact: 1099511627776 bytes is more than a script string may hold (16 MiB)"),
        "{}",
        ran.text()
    );
    ran.assert_peak_below_mib(200);
}

// ---- 7. report names are reserved atomically ----

#[test]
fn racing_writers_each_get_their_own_report_name() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("reports/lab-20260101-120000");
    let threads: Vec<_> = (0..24)
        .map(|_| {
            let base = base.clone();
            std::thread::spawn(move || {
                labrun::report::write_report(&labrun::report::Report::default(), &base, false)
                    .map(|w| w.dir)
            })
        })
        .collect();
    let mut dirs: Vec<PathBuf> = threads
        .into_iter()
        .map(|t| t.join().unwrap().expect("every writer gets a report"))
        .collect();
    dirs.sort();
    dirs.dedup();
    assert_eq!(dirs.len(), 24, "{dirs:?}");
    for d in &dirs {
        assert!(d.join("report.md").is_file(), "{}", d.display());
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = std::iter::once("lab-20260101-120000".to_string())
        .chain((2..=24).map(|n| format!("lab-20260101-120000-{n}")))
        .collect();
    expected.sort();
    assert_eq!(names, expected, "no staging directory is left either");
}

#[test]
fn reserving_a_name_races_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("r");
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let base = base.clone();
            std::thread::spawn(move || labrun::report::reserve_dir(&base).unwrap())
        })
        .collect();
    let mut got: Vec<PathBuf> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 64);
    assert!(got.contains(&base));
    assert!(got.contains(&dir.path().join("r-64")));
}

#[test]
fn two_runs_in_the_same_second_both_keep_their_report() {
    let cwd = tempfile::tempdir().unwrap();
    let script = hostile("same_second.rhai");
    // Start just after a second begins, so both (about 20 ms each) end within it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let into = Duration::from_nanos(u64::from(now.subsec_nanos()));
    std::thread::sleep(Duration::from_millis(1050) - into);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (cwd, script) = (cwd.path().to_path_buf(), script.clone());
            std::thread::spawn(move || {
                labrun_in(
                    &cwd,
                    &[
                        script.as_os_str(),
                        OsStr::new("--network"),
                        OsStr::new("loopback"),
                    ],
                    None,
                )
            })
        })
        .collect();
    for r in runs {
        let ran = r.join().unwrap();
        assert_eq!(ran.code, Some(0), "{}", ran.text());
        assert!(ran.tmp_left.is_empty(), "{:?}", ran.tmp_left);
    }
    let mut names: Vec<String> = std::fs::read_dir(cwd.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for n in &names {
        let md = cwd.path().join("reports").join(n).join("report.md");
        assert!(md.is_file(), "{}", md.display());
    }
    if names[0].len() == "same_second-20260101-120000".len() {
        // Same second (the usual case): the second run got the -2 name.
        assert_eq!(names[1], format!("{}-2", names[0]), "{names:?}");
    }
}

#[test]
fn out_holding_a_report_is_refused_before_the_lab_runs() {
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("report.md"), "an earlier report\n").unwrap();
    let script = hostile("out_taken.rhai");
    let ran = labrun(&[
        script.as_os_str(),
        OsStr::new("--network"),
        OsStr::new("loopback"),
        OsStr::new("--out"),
        out.path().as_os_str(),
    ]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("refusing to overwrite") && ran.stderr.contains("report.md"),
        "{}",
        ran.text()
    );
    assert!(!ran.stdout.contains("the lab ran"), "{}", ran.text());
    assert!(ran.elapsed < Duration::from_millis(1000), "{}", ran.text());
    let names: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no capture or other file was added");
    assert_eq!(
        std::fs::read_to_string(out.path().join("report.md")).unwrap(),
        "an earlier report\n"
    );
}

// ---- 8. inputs ----

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

fn example_capture() -> PathBuf {
    root().join("reports/examples/chat/capture.pcapng")
}

#[test]
fn analyze_of_a_fifo_without_a_writer_ends_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stuck.pcap");
    mkfifo(&fifo);
    for mode in [&["--fields", "frame.number"][..], &[][..]] {
        let mut args = vec![OsStr::new("analyze"), fifo.as_os_str()];
        args.extend(mode.iter().map(OsStr::new));
        let out = dir.path().join("out");
        if mode.is_empty() {
            args.extend([OsStr::new("--out"), out.as_os_str()]);
        }
        let ran = labrun(&args);
        ran.assert_clean_error();
        assert!(ran.elapsed < Duration::from_secs(2), "{}", ran.text());
        assert!(
            ran.stderr
                .contains("stuck.pcap: not a regular file (a FIFO with no writer"),
            "{}",
            ran.text()
        );
        assert!(!out.exists(), "no report for a capture that never came");
    }
}

#[test]
fn analyze_of_a_fifo_with_a_writer_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("piped.pcap");
    mkfifo(&fifo);
    let bytes = std::fs::read(example_capture()).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::fs::write(fifo, bytes)
        })
    };
    let ran = labrun(&[
        OsStr::new("analyze"),
        fifo.as_os_str(),
        OsStr::new("--fields"),
        OsStr::new("frame.number"),
    ]);
    writer.join().unwrap().unwrap();
    assert_eq!(ran.code, Some(0), "{}", ran.text());
    let direct = labrun(&[
        OsStr::new("analyze"),
        example_capture().as_os_str(),
        OsStr::new("--fields"),
        OsStr::new("frame.number"),
    ]);
    assert_eq!(ran.stdout, direct.stdout);
}

#[test]
fn analyze_of_dev_zero_says_not_a_regular_file() {
    let ran = labrun(&["analyze", "/dev/zero", "--fields", "frame.number"]);
    ran.assert_clean_error();
    assert!(
        ran.stderr
            .contains("cannot read /dev/zero: not a regular file (a character device)"),
        "{}",
        ran.text()
    );
    assert!(!ran.stderr.contains("empty"), "{}", ran.text());
    assert!(ran.elapsed < Duration::from_secs(2));
}

#[test]
fn grade_dir_flags_a_fifo_and_grades_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example_capture(), dir.path().join("alice.pcap")).unwrap();
    mkfifo(&dir.path().join("bob.pcap"));
    std::fs::copy(example_capture(), dir.path().join("carol.pcap")).unwrap();
    let ran = labrun(&[
        OsStr::new("grade"),
        OsStr::new("labs/chat.rhai"),
        OsStr::new("--dir"),
        dir.path().as_os_str(),
    ]);
    assert_eq!(ran.code, Some(0), "{}", ran.text());
    assert!(ran.elapsed < Duration::from_secs(10), "{}", ran.text());
    let rows: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(rows.len(), 4, "{}", ran.text());
    assert!(rows[1].starts_with("alice.pcap,,,6,6,,"), "{}", ran.text());
    assert_eq!(
        rows[2],
        "bob.pcap,,,0,0,error: not a regular file (a FIFO),"
    );
    assert!(rows[3].starts_with("carol.pcap,,,6,6,,"), "{}", ran.text());
}

#[test]
fn analyze_out_on_a_damaged_capture_keeps_the_report_and_exits_like_fields() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(example_capture()).unwrap();
    let cut = dir.path().join("cut.pcap");
    // Cut inside the last frame: the frames before it are readable.
    std::fs::write(&cut, &whole[..whole.len() - 30]).unwrap();
    let fields = labrun(&[
        OsStr::new("analyze"),
        cut.as_os_str(),
        OsStr::new("--fields"),
        OsStr::new("frame.number"),
    ]);
    let out = dir.path().join("report");
    let report = labrun(&[
        OsStr::new("analyze"),
        cut.as_os_str(),
        OsStr::new("--out"),
        out.as_os_str(),
    ]);
    assert_eq!(fields.code, Some(2), "{}", fields.text());
    assert_eq!(report.code, fields.code, "{}", report.text());
    assert!(
        report.stderr.contains("is damaged after frame"),
        "{}",
        report.text()
    );
    assert_eq!(report.stderr.lines().count(), 1, "{}", report.text());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("damaged"), "the report says so too");
    assert!(out.join("packets.csv").is_file());
}

#[test]
fn analyze_out_holding_a_report_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.md"), "earlier\n").unwrap();
    let ran = labrun(&[
        OsStr::new("analyze"),
        OsStr::new("/dev/zero"),
        OsStr::new("--out"),
        dir.path().as_os_str(),
    ]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("refusing to overwrite"),
        "{}",
        ran.text()
    );
}

#[test]
fn ipv4_mapped_loopback_is_loopback() {
    let (ran, out) = run_script("mapped_loopback.rhai", &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.text());
    assert!(
        ran.stdout.contains("2 of 2 checks passed"),
        "{}",
        ran.text()
    );
    assert!(out.path().join("report/report.md").is_file());
}

#[test]
fn scan_of_a_name_is_refused_without_a_lookup() {
    let (ran, _out) = run_script("scan_name.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("scan_name.rhai:4:20: scan: cannot resolve the target \"example.invalid\": labs do not resolve names other than the lab's hosts (client, server) and localhost"),
        "{}",
        ran.text()
    );
    // Fast: a resolver timeout (5 s per server) would show here.
    assert!(ran.elapsed < Duration::from_secs(2), "{}", ran.text());
}

#[test]
fn scan_of_a_lab_host_name_and_localhost_needs_no_lookup() {
    let (ran, _out) = run_script("scan_lab_host_name.rhai", &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.text());
    assert!(
        ran.stdout.contains("2 of 2 checks passed"),
        "{}",
        ran.text()
    );
}

#[test]
fn scan_never_consults_the_system_resolver() {
    if !crate::common::is_root() {
        crate::common::skip_or_fail("mounting a private /etc/hosts needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.1 localhost somehost\n").unwrap();
    let script = hostile("scan_hosts_file_name.rhai");
    let out = dir.path().join("report");
    // In a mount namespace of its own, /etc/hosts names `somehost`: the system resolver
    // would answer 127.0.0.1 (an allowed target) without any DNS server.
    let inner = format!(
        "mount --bind '{}' /etc/hosts && getent hosts somehost >&2 && exec '{}' '{}' --network loopback --out '{}'",
        hosts.display(),
        env!("CARGO_BIN_EXE_labrun"),
        script.display(),
        out.display()
    );
    let ran = labrun_in_cmd(Command::new("unshare").args([
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        &inner,
    ]));
    assert!(
        ran.stderr.contains("127.0.0.1"),
        "the hosts file is in place: {}",
        ran.text()
    );
    assert_eq!(ran.code, Some(2), "{}", ran.text());
    assert!(
        ran.stderr
            .contains("cannot resolve the target \"somehost\": labs do not resolve names"),
        "{}",
        ran.text()
    );
}

fn nofile_64() -> i32 {
    let lim = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 64,
    };
    // SAFETY: setrlimit with a valid struct, in the child before exec.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }
}

fn emfile_run(network: &str, setup: fn() -> i32) {
    let out = tempfile::tempdir().unwrap();
    let script = hostile("emfile.rhai");
    let report = out.path().join("report");
    let ran = labrun_in(
        root(),
        &[
            script.as_os_str(),
            OsStr::new("--network"),
            OsStr::new(network),
            OsStr::new("--out"),
            report.as_os_str(),
        ],
        Some(setup),
    );
    assert_eq!(ran.code, Some(0), "{network}: {}", ran.text());
    assert!(
        ran.stdout
            .contains(&format!("then EMFILE (errno {})", libc::EMFILE)),
        "{network}: {}",
        ran.text()
    );
    assert!(report.join("report.md").is_file());
    assert!(ran.tmp_left.is_empty(), "{:?}", ran.tmp_left);
}

#[test]
fn running_out_of_descriptors_is_emfile_on_loopback() {
    emfile_run("loopback", nofile_64);
}

#[test]
fn running_out_of_descriptors_is_emfile_in_the_sandbox() {
    if !crate::common::is_root() {
        crate::common::skip_or_fail("the sandbox test of EMFILE runs as root");
        return;
    }
    emfile_run("sandbox", nofile_64);
}

#[test]
fn an_unknown_argument_is_refused_naming_the_keys() {
    let (ran, out) = run_script("unknown_arg.rhai", &["--", "port=7831", "foo=1"]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("unknown argument `foo`: ")
            && ran.stderr.contains("unknown_arg.rhai takes count, port"),
        "{}",
        ran.text()
    );
    assert!(!ran.stdout.contains("the lab ran"), "{}", ran.text());
    assert!(!out.path().join("report").exists());

    let (ran, _out) = run_script("no_args.rhai", &["--", "port=1"]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("no_args.rhai takes no arguments"),
        "{}",
        ran.text()
    );

    let (ran, _out) = run_script("unknown_arg.rhai", &["--", "port=7831", "count=4"]);
    assert_eq!(ran.code, Some(0), "{}", ran.text());
    assert!(
        ran.stdout
            .contains("the lab ran with port 7831 and count 4"),
        "{}",
        ran.text()
    );
}

#[test]
fn an_http_body_of_100_terabytes_is_refused_before_allocating() {
    let (ran, _out) = run_script("http_body_huge.rhai", &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.text());
    assert!(ran.stdout.contains("reply of 0 bytes"), "{}", ran.text());
    assert!(
        ran.stdout.contains("1 of 1 checks passed"),
        "{}",
        ran.text()
    );
    assert!(!ran.stderr.contains("panicked"), "{}", ran.text());
    ran.assert_peak_below_mib(200);
}

#[test]
fn join_of_many_copies_of_a_long_string_stops_at_the_limit() {
    let (ran, _out) = run_script("join_huge.rhai", &[]);
    ran.assert_clean_error();
    assert!(
        ran.stderr.contains("join_huge.rhai:8:11: join: the text would be longer than a script string may hold (16 MiB)"),
        "{}",
        ran.text()
    );
    ran.assert_peak_below_mib(200);
}

#[test]
fn grade_dir_refuses_an_unknown_argument_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(example_capture(), dir.path().join("alice.pcap")).unwrap();
    let ran = labrun(&[
        OsStr::new("grade"),
        OsStr::new("labs/chat.rhai"),
        OsStr::new("--dir"),
        dir.path().as_os_str(),
        OsStr::new("--"),
        OsStr::new("prot=9000"),
    ]);
    ran.assert_clean_error();
    assert_eq!(ran.stdout, "", "no rows: {}", ran.text());
    assert!(
        ran.stderr
            .contains("unknown argument `prot`: labs/chat.rhai takes close_delay, port"),
        "{}",
        ran.text()
    );
}
