//! End-to-end tests of the command line that need no privileges: errors, exit codes,
//! limits, `check`, `list`, and socket errors reaching scripts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn labrun() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_labrun"));
    // No PDF or Word document unless a test asks (tests/report_formats.rs does).
    c.env("LABRUN_FORMATS", "none");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn run(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = labrun().args(args).output().unwrap();
    (out, t.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn syntax_error_names_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let f = script(dir.path(), "broken.rhai", "let x = 1;\nlet y = (x + ;\n");
    let (out, took) = run(&[f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let want = format!("{}:2:14: syntax error", f.display());
    assert!(stderr(&out).contains(&want), "stderr: {}", stderr(&out));
    assert!(took < Duration::from_secs(10));
}

#[test]
fn silent_recv_times_out_with_the_function_named() {
    let dir = tempfile::tempdir().unwrap();
    let f = script(
        dir.path(),
        "silent.rhai",
        "let net = network();\nlet l = net.server.listen(0);\nlet c = net.client.connect(l.addr);\n\
         let s = l.accept();\nfn wait(conn) {\n  conn.recv()\n}\nwait(s);\n",
    );
    let (out, took) = run(&[f.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}:6:8: in function `wait`: recv: timed out after 5 s",
            f.display()
        )),
        "stderr: {err}"
    );
    assert!(err.contains("ETIMEDOUT"), "{err}");
    assert!(err.contains("called from"), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn endless_loop_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let f = script(
        dir.path(),
        "loop.rhai",
        "let x = 1;\nloop {\n  x += 1;\n}\n",
    );
    let (out, took) = run(&[f.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{}:3:", f.display())), "{err}");
    assert!(err.contains("endless loop"), "{err}");
    // The loop is stopped by its budget of script operations, which a loaded machine
    // spends more slowly: the bound only shows that it ends, not how fast.
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn endless_recursion_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let f = script(dir.path(), "rec.rhai", "fn f(n) { f(n + 1) }\nf(0);\n");
    let (out, _) = run(&[f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rec.rhai:"), "{}", stderr(&out));
}

#[test]
fn os_errors_reach_the_script_as_values() {
    // Port 1 on loopback: nobody listens there on a test machine, so connect is refused.
    let dir = tempfile::tempdir().unwrap();
    let f = script(
        dir.path(),
        "refused.rhai",
        r#"let net = network();
let l = net.server.listen(0);
let addr = l.addr;
l.close();
let seen = "";
try {
    net.client.connect(addr);
} catch (e) {
    seen = e.name;
    expect(e.errno > 0, "the error carries its errno");
    expect(e.op == "connect", "the error names the call");
}
expect_eq(seen, "ECONNREFUSED", "connect to a closed port is refused");
"#,
    );
    let out_dir = dir.path().join("out");
    let (out, _) = run(&[f.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("3 of 3 checks passed"),
        "{}",
        stdout(&out)
    );
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(
        md.contains("| PASS | 1/1 | connect to a closed port is refused"),
        "{md}"
    );
}

#[test]
fn a_failed_check_exits_1_and_says_what_was_seen() {
    let dir = tempfile::tempdir().unwrap();
    let f = script(
        dir.path(),
        "fail.rhai",
        "step(\"compare\");\nexpect_eq([1460, 1460, 30], [2950], \"three segments\", \"tcp.len > 0\");\n",
    );
    let out_dir = dir.path().join("out");
    let (out, _) = run(&[f.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("FAIL  three segments — expected [2950], saw [1460, 1460, 30]"),
        "{text}"
    );
    assert!(text.contains("[wireshark: tcp.len > 0]"), "{text}");
}

#[test]
fn out_never_overwrites_an_earlier_report() {
    let dir = tempfile::tempdir().unwrap();
    let f = script(dir.path(), "ok.rhai", "expect(true, \"fine\");\n");
    let out_dir = dir.path().join("out");
    let (first, _) = run(&[f.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(first.status.code(), Some(0));
    let before = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    let (second, _) = run(&[f.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        stderr(&second).contains("refusing to overwrite"),
        "{}",
        stderr(&second)
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("report.md")).unwrap(),
        before
    );
}

#[test]
fn script_arguments_and_student_reach_the_script() {
    let dir = tempfile::tempdir().unwrap();
    let f = script(
        dir.path(),
        "args.rhai",
        "expect_eq(args.port, \"9000\", \"args\");\nexpect_eq(student.id, \"42\", \"id\");\n\
         expect_eq(student.name, \"Ada Lovelace\", \"name\");\n",
    );
    let out_dir = dir.path().join("out");
    let (out, _) = run(&[
        f.to_str().unwrap(),
        "--student",
        "42 Ada Lovelace",
        "--out",
        out_dir.to_str().unwrap(),
        "--",
        "port=9000",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn traffic_to_other_hosts_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // 192.0.2.1 is TEST-NET-1 (documentation only); labrun must refuse before any packet.
    let f = script(
        dir.path(),
        "far.rhai",
        "let net = network();\nnet.client.connect(\"192.0.2.1:80\");\n",
    );
    let (out, _) = run(&[f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a lab host"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_compiles_every_shipped_lab() {
    let labs: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("labs"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(!labs.is_empty());
    let mut args = vec!["check"];
    args.extend(labs.iter().map(String::as_str));
    let (out, _) = run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let bad = script(dir.path(), "bad.rhai", "fn (\n");
    let (out, _) = run(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.rhai:1:"), "{}", stderr(&out));
}

#[test]
fn list_help_and_version() {
    let (out, _) = run(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("chat"), "{}", stdout(&out));
    let (out, _) = run(&["--help"]);
    assert!(stdout(&out).contains("Examples:"));
    let (out, _) = run(&["--version"]);
    assert!(stdout(&out).starts_with("labrun "));
    let (out, _) = run(&["no/such/lab.rhai"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read no/such/lab.rhai"),
        "{}",
        stderr(&out)
    );
    let (out, _) = run(&["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn docs_api_md_is_what_labrun_api_prints() {
    let (out, _) = run(&["api"]);
    assert_eq!(out.status.code(), Some(0));
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md")).unwrap();
    assert!(
        stdout(&out) == committed,
        "docs/api.md is stale: regenerate it with `cargo run -- api > docs/api.md`"
    );
    assert!(
        committed.contains("host.serve(port: int, handlers: map) -> Server"),
        "{committed}"
    );
}

/// A reader that stops early (`labrun analyze --list-fields | head -1`) ends labrun quietly,
/// with the status a SIGPIPE gives, instead of an "error: Broken pipe" line.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::Stdio;
    let mut child = labrun()
        .args(["analyze", "--list-fields"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before labrun has started: its first write meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(stderr(&out), "");
    assert_eq!(out.status.code(), Some(141), "{out:?}");
}
