//! The student's own programs on the wire: the reference programs of examples/programs/
//! (Python and C) run through the chat and segment labs with `--server` / `--client`,
//! inside the sandbox, and the captured packets show what they sent.

#![cfg(target_os = "linux")]

mod common;

use common::lab::{LabRun, col, run_lab};
use std::path::{Path, PathBuf};

const STUDENT: &str = "20215120807 Li Yihang";

/// Skips (or fails under CI) unless the sandbox and the program's toolchain are usable.
fn ready(tools: &[&str]) -> bool {
    if !common::is_root() {
        common::skip_or_fail("the sandbox and its capture need root here (run the tests as root)");
        return false;
    }
    for tool in tools {
        if !common::have_program(tool) {
            common::skip_or_fail(&format!("{tool} is not installed"));
            return false;
        }
    }
    true
}

/// Compiles examples/programs/c/`name`.c into a directory the unprivileged user the
/// program runs as can enter; returns the directory (kept while it lives) and the binary.
fn compile_c(name: &str) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join(name);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/programs/c/{name}.c"));
    let out = std::process::Command::new("cc")
        .args(["-Wall", "-Werror", "-O1", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, bin)
}

/// Runs `lab` with `args` and checks that it exited 0 with all `checks` checks passed.
fn run_passing(lab: &str, args: &[&str], checks: u32) -> LabRun {
    let run = run_lab(lab, args);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(
        run.text()
            .contains(&format!("{checks} of {checks} checks passed")),
        "{}",
        run.text()
    );
    run
}

/// One TCP segment of the capture: source address, destination port, payload.
struct Segment {
    src: String,
    dst_port: u16,
    syn: bool,
    payload: Vec<u8>,
}

/// The TCP segments of the report's capture.pcapng (Ethernet, IPv4).
fn segments(run: &LabRun) -> Vec<Segment> {
    let (_, frames) = common::capture::read_pcap(&run.dir.join("capture.pcapng"));
    frames
        .iter()
        .filter_map(|f| {
            let d = &f.data;
            if d.len() < 14 + 20 || d[12..14] != [0x08, 0x00] || d[14 + 9] != 6 {
                return None;
            }
            let ip = &d[14..];
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let tcp = &ip[ihl..];
            let doff = usize::from(tcp[12] >> 4) * 4;
            Some(Segment {
                src: format!("{}.{}.{}.{}", ip[12], ip[13], ip[14], ip[15]),
                dst_port: u16::from_be_bytes([tcp[2], tcp[3]]),
                syn: tcp[13] & 0x02 != 0 && tcp[13] & 0x10 == 0,
                payload: ip[ihl + doff..total].to_vec(),
            })
        })
        .collect()
}

/// Everything `src` sent, in capture order.
fn sent_by(segs: &[Segment], src: &str) -> String {
    let bytes: Vec<u8> = segs
        .iter()
        .filter(|s| s.src == src)
        .flat_map(|s| s.payload.iter().copied())
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn assert_handshake_to_port(segs: &[Segment], port: u16) {
    let syn = segs.iter().find(|s| s.syn).expect("a SYN was captured");
    assert_eq!(syn.src, "10.77.0.1");
    assert_eq!(syn.dst_port, port);
}

#[test]
fn a_python_server_answers_the_labs_client_with_its_own_id_and_name() {
    if !ready(&["python3"]) {
        return;
    }
    let run = run_passing(
        "labs/chat.rhai",
        &[
            "--student",
            STUDENT,
            "--server",
            "python3 examples/programs/python/chat_server.py {port}",
        ],
        7,
    );
    let segs = segments(&run);
    assert_handshake_to_port(&segs, 8888);
    assert!(
        sent_by(&segs, "10.77.0.1").starts_with(STUDENT),
        "the lab's hello"
    );
    assert_eq!(
        sent_by(&segs, "10.77.0.2"),
        format!("{STUDENT}\n"),
        "the student's server's own answer"
    );
    let md = run.read("report.md");
    for want in [
        "## The student's server program",
        "labrun ran `python3 examples/programs/python/chat_server.py 8888` inside host `server` (as nobody (65534)",
        "**examples/programs/python/chat_server.py** (29 lines):",
        "```python\n 1  # TCP chat server",
        "listening on port 8888\nconnected: 10.77.0.1 ",
        "Exit status: exited with code 0.",
    ] {
        assert!(md.contains(want), "{want:?} missing:\n{md}");
    }
    // The program's section comes before the wire is explained.
    assert!(md.find("## The student's server program") < md.find("## Three-way handshake"));
    common::lab::refresh_example("chat-student-server", &run.dir);
}

#[test]
fn a_c_client_reads_its_message_from_the_keyboard() {
    if !ready(&["cc"]) {
        return;
    }
    let (_dir, bin) = compile_c("chat_client");
    let command = format!("{} {{server_ip}} {{port}}", bin.display());
    let run = run_passing(
        "labs/chat.rhai",
        &[
            "--student",
            STUDENT,
            "--client",
            &command,
            "--source",
            "examples/programs/c/chat_client.c",
        ],
        8,
    );
    let segs = segments(&run);
    assert_handshake_to_port(&segs, 8888);
    // What labrun typed at the program's keyboard went onto the wire as one line.
    assert_eq!(sent_by(&segs, "10.77.0.1"), format!("{STUDENT}\n"));
    assert!(sent_by(&segs, "10.77.0.2").contains("Li Yihang"));
    let md = run.read("report.md");
    for want in [
        "## The student's client program",
        "**examples/programs/c/chat_client.c**",
        "```c\n",
        "type your student ID and name:\nthe server answered: Hello Li Yihang, your ID is 20215120807",
        "Exit status: exited with code 0.",
    ] {
        assert!(md.contains(want), "{want:?} missing:\n{md}");
    }
}

#[test]
fn a_python_server_and_a_c_client_talk_while_the_lab_watches() {
    if !ready(&["python3", "cc"]) {
        return;
    }
    let (_dir, bin) = compile_c("chat_client");
    let client = format!("{} {{server_ip}} {{port}}", bin.display());
    let run = run_passing(
        "labs/chat.rhai",
        &[
            "--student",
            STUDENT,
            "--server",
            "python3 examples/programs/python/chat_server.py {port}",
            "--client",
            &client,
        ],
        9,
    );
    let segs = segments(&run);
    assert_handshake_to_port(&segs, 8888);
    assert_eq!(sent_by(&segs, "10.77.0.1"), format!("{STUDENT}\n"));
    assert_eq!(sent_by(&segs, "10.77.0.2"), format!("{STUDENT}\n"));
    let md = run.read("report.md");
    assert!(md.contains("## The student's server program"), "{md}");
    assert!(md.contains("## The student's client program"), "{md}");
    assert!(md.contains(&format!("received: {STUDENT}")), "{md}");
}

/// The data lengths the client 10.77.0.1 sent, and the highest ack the server sent.
fn segment_numbers(run: &LabRun) -> (Vec<String>, u64) {
    let rows = run.csv("packets.csv");
    let lens = common::lab::data_lens(&rows, "10.77.0.1");
    let last_ack = rows[1..]
        .iter()
        .filter(|r| r[col("ip.src")] == "10.77.0.2")
        .filter_map(|r| r[col("tcp.ack")].parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    (lens, last_ack)
}

#[test]
fn the_kernel_cuts_a_python_clients_send_into_1460_1460_30() {
    if !ready(&["python3"]) {
        return;
    }
    let run = run_passing(
        "labs/segment.rhai",
        &[
            "--student",
            STUDENT,
            "--client",
            "python3 examples/programs/python/segment_client.py {server_ip} {port}",
        ],
        7,
    );
    let (lens, last_ack) = segment_numbers(&run);
    assert_eq!(lens, ["1460", "1460", "30"]);
    assert!(last_ack >= 2951, "the FIN's ack is 2952; the data's 2951");
    let segs = segments(&run);
    assert!(sent_by(&segs, "10.77.0.1").starts_with(STUDENT));
    let md = run.read("report.md");
    assert!(
        md.contains(
            "cut the data into 3 segment(s) of 1460 / 1460 / 30 bytes at relative seq 1, 1461, 2921"
        ),
        "{md}"
    );
    assert!(md.contains("**ack 2951 = 1 + 2950**"), "{md}");
}

#[test]
fn the_kernel_cuts_a_c_clients_send_and_the_chinese_report_says_so() {
    if !ready(&["cc"]) {
        return;
    }
    let (_dir, bin) = compile_c("segment_client");
    let command = format!("{} {{server_ip}} {{port}}", bin.display());
    let run = run_lab(
        "labs/segment.rhai",
        &[
            "--student",
            STUDENT,
            "--lang",
            "zh",
            "--client",
            &command,
            "--source",
            "examples/programs/c/segment_client.c",
        ],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    let (lens, _) = segment_numbers(&run);
    assert_eq!(lens, ["1460", "1460", "30"]);
    let md = run.read("report.md");
    for want in [
        "## 学生编写的客户端程序",
        "**examples/programs/c/segment_client.c**",
        "退出状态：退出码 0。",
        "## 内核如何切分学生程序发送的数据",
    ] {
        assert!(md.contains(want), "{want:?} missing:\n{md}");
    }
    assert_eq!(common::english::english_phrases(&md), Vec::new(), "{md}");
}

#[test]
fn bad_commands_are_refused_before_the_lab_starts() {
    for (args, want) in [
        (
            vec!["--server", "python3 server.py > log"],
            "--server: `python3 server.py > log`: `>` is shell syntax",
        ),
        (
            vec!["--client", "./client {host}"],
            "unknown placeholder {host}",
        ),
        (
            vec!["--server", "python3 s.py", "--source", "no-such-file.c"],
            "--source no-such-file.c: no such file",
        ),
        (
            vec!["--source", "README.md"],
            "--source README.md needs --server or --client",
        ),
    ] {
        let run = run_lab("labs/chat.rhai", &args);
        assert_eq!(run.output.status.code(), Some(2), "{}", run.text());
        assert!(run.text().contains(want), "{want:?}: {}", run.text());
        assert_eq!(run.text().trim().lines().count(), 1, "{}", run.text());
    }
    // A lab that never asks for the program refuses it rather than ignore it.
    let run = run_lab("labs/rst.rhai", &["--server", "python3 server.py {port}"]);
    assert_eq!(run.output.status.code(), Some(2), "{}", run.text());
    assert!(
        run.text().contains(
            "labs/rst.rhai does not run a student's server program (it never calls program(\"server\"))"
        ),
        "{}",
        run.text()
    );
}

#[test]
fn a_java_server_and_a_java_client_talk_while_the_lab_watches() {
    if !ready(&["javac", "java"]) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("javac")
        .arg("-d")
        .arg(dir.path())
        .args([
            "examples/programs/java/ChatServer.java",
            "examples/programs/java/ChatClient.java",
            "examples/programs/java/SegmentClient.java",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let classes = dir.path().display().to_string();
    let server = format!("java -cp {classes} ChatServer {{port}}");
    let client = format!("java -cp {classes} ChatClient {{server_ip}} {{port}}");
    let run = run_passing(
        "labs/chat.rhai",
        &[
            "--student",
            STUDENT,
            "--server",
            &server,
            "--client",
            &client,
            "--source",
            "examples/programs/java/ChatServer.java",
            "--source",
            "examples/programs/java/ChatClient.java",
        ],
        9,
    );
    let segs = segments(&run);
    assert_handshake_to_port(&segs, 8888);
    assert_eq!(sent_by(&segs, "10.77.0.1"), format!("{STUDENT}\n"));
    assert_eq!(sent_by(&segs, "10.77.0.2"), format!("{STUDENT}\n"));
    let md = run.read("report.md");
    assert!(
        md.contains("**examples/programs/java/ChatServer.java**"),
        "{md}"
    );
    assert!(md.contains("```java\n"), "{md}");
    assert!(
        md.contains("the server answered: 20215120807 Li Yihang"),
        "{md}"
    );

    let segment = format!("java -cp {classes} SegmentClient {{server_ip}} {{port}}");
    let run = run_lab(
        "labs/segment.rhai",
        &["--student", STUDENT, "--client", &segment],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    let (lens, _) = segment_numbers(&run);
    assert_eq!(lens, ["1460", "1460", "30"]);
}

/// Runs the multi_client lab against the student's `server` command: three connections
/// to port 9000, each greeted, answered and closed.
fn three_clients(server: &str) {
    let run = run_passing(
        "labs/multi_client.rhai",
        &["--student", STUDENT, "--server", server],
        8,
    );
    let segs = segments(&run);
    let syns: Vec<&Segment> = segs.iter().filter(|s| s.syn).collect();
    assert_eq!(syns.len(), 3, "three connections");
    assert!(
        syns.iter()
            .all(|s| s.dst_port == 9000 && s.src == "10.77.0.1")
    );
    let answers = sent_by(&segs, "10.77.0.2");
    assert!(answers.contains("Hello Li Yihang!\n"), "{answers}");
    assert_eq!(answers.matches("Good bye!\n").count(), 3, "{answers}");
    let md = run.read("report.md");
    assert!(md.contains("## The student's server program"), "{md}");
    assert!(md.contains("said: Li Yihang"), "{md}");
}

#[test]
fn a_threaded_python_server_serves_three_clients_at_once() {
    if !ready(&["python3"]) {
        return;
    }
    three_clients("python3 examples/programs/python/multi_server.py {port}");
}

/// The UDP datagrams of the report's capture: (source address, payload).
fn udp_datagrams(run: &LabRun) -> Vec<(String, String)> {
    let (_, frames) = common::capture::read_pcap(&run.dir.join("capture.pcapng"));
    frames
        .iter()
        .filter_map(|f| {
            let d = &f.data;
            if d.len() < 14 + 28 || d[12..14] != [0x08, 0x00] || d[14 + 9] != 17 {
                return None;
            }
            let ip = &d[14..];
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            Some((
                format!("{}.{}.{}.{}", ip[12], ip[13], ip[14], ip[15]),
                String::from_utf8_lossy(&ip[ihl + 8..total]).into_owned(),
            ))
        })
        .collect()
}

/// Runs the udp lab with the student's UDP `server` command, then with the `client`
/// command, and checks each datagram on the wire and what the program printed.
fn udp_server_and_client(server: &str, client: &str) {
    let run = run_lab("labs/udp.rhai", &["--student", STUDENT, "--server", server]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    let dgrams = udp_datagrams(&run);
    assert!(
        dgrams[0].0 == "10.77.0.1" && dgrams[0].1.starts_with(STUDENT),
        "{dgrams:?}"
    );
    assert_eq!(dgrams[1], ("10.77.0.2".to_string(), STUDENT.to_string()));
    assert!(run.read("report.md").contains("received from 10.77.0.1 "));

    let run = run_lab("labs/udp.rhai", &["--student", STUDENT, "--client", client]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    let dgrams = udp_datagrams(&run);
    assert_eq!(dgrams[0], ("10.77.0.1".to_string(), STUDENT.to_string()));
    assert_eq!(dgrams[1].0, "10.77.0.2");
    assert!(
        run.read("report.md")
            .contains("the server answered: Hello Li Yihang, your ID is 20215120807")
    );
}

#[test]
fn a_python_udp_server_and_client_each_send_one_datagram() {
    if !ready(&["python3"]) {
        return;
    }
    udp_server_and_client(
        "python3 examples/programs/python/udp_server.py {port}",
        "python3 examples/programs/python/udp_client.py {server_ip} {port}",
    );
}

#[test]
fn a_c_udp_server_and_client_each_send_one_datagram() {
    if !ready(&["cc"]) {
        return;
    }
    let (_server_dir, server) = compile_c("udp_server");
    let (_client_dir, client) = compile_c("udp_client");
    udp_server_and_client(
        &format!("{} {{port}}", server.display()),
        &format!("{} {{server_ip}} {{port}}", client.display()),
    );
}

#[test]
fn a_forking_c_server_serves_three_clients_at_once() {
    if !ready(&["cc"]) {
        return;
    }
    let (_dir, server) = compile_c("multi_server");
    three_clients(&format!("{} {{port}}", server.display()));
}

#[test]
fn a_python_websocket_server_is_reached_by_labruns_client_and_chromium() {
    if !ready(&["python3"]) {
        return;
    }
    let chromium = common::have_program("chromium");
    let mut args = vec![
        "--student",
        STUDENT,
        "--server",
        "python3 examples/programs/python/ws_server.py {port}",
    ];
    if chromium {
        args.extend_from_slice(&["--browser", "chromium"]);
    } else {
        common::skip_or_fail(
            "chromium is not installed: only labrun's own client reaches the server",
        );
    }
    let run = run_lab("labs/websocket.rhai", &args);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    let want = if chromium { "9 of 9" } else { "8 of 8" };
    assert!(run.text().contains(want), "{}", run.text());
    let segs = segments(&run);
    assert_handshake_to_port(&segs, 8888);
    let server = sent_by(&segs, "10.77.0.2");
    assert!(
        server.contains("HTTP/1.1 101 Switching Protocols\r\n"),
        "{server}"
    );
    // The server's text frame (unmasked) carries its own ID and name.
    assert!(server.contains(STUDENT), "{server}");
    let md = run.read("report.md");
    assert!(md.contains("received: 20215120807 Li Yihang"), "{md}");
    if chromium {
        assert_eq!(md.matches("GET /ws HTTP/1.1\n").count(), 2, "{md}");
    }
}

#[test]
fn an_interactive_server_reads_its_answer_from_the_keyboard() {
    if !ready(&["python3"]) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = dir.path().join("server.py");
    std::fs::write(
        &server,
        "import socket, sys\n\
         s = socket.socket()\n\
         s.bind(('', int(sys.argv[1])))\n\
         s.listen(1)\n\
         conn, addr = s.accept()\n\
         print('the client says:', conn.recv(1024).decode().strip())\n\
         reply = input('your answer: ')\n\
         conn.sendall((reply + '\\n').encode())\n\
         conn.recv(1024)\n\
         conn.close()\n",
    )
    .unwrap();
    std::fs::set_permissions(&server, std::fs::Permissions::from_mode(0o644)).unwrap();
    let command = format!("python3 {} {{port}}", server.display());
    let run = run_lab(
        "labs/chat.rhai",
        &["--student", STUDENT, "--server", &command],
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    let segs = segments(&run);
    assert_eq!(sent_by(&segs, "10.77.0.2"), format!("{STUDENT}\n"));
}

/// `labrun grade --programs DIR` on a class folder: each submission's own programs built and
/// run in the lab in a sandbox of its own; the reference programs in Python, C and Java
/// get full marks, a client that sends nothing does not, a copy is flagged naming the
/// other, and a source that does not compile or a folder without programs costs its row.
#[test]
fn grade_programs_builds_and_runs_each_submission_in_the_lab() {
    use std::os::unix::fs::PermissionsExt;
    if !ready(&["python3", "cc", "javac", "java"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let subs = dir.path().join("subs");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/programs");
    let folder = |name: &str, files: &[(&str, &str)]| {
        let d = subs.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (from, to) in files {
            std::fs::copy(examples.join(from), d.join(to)).unwrap();
        }
        d
    };
    folder(
        "20215120807-LiYihang",
        &[
            ("python/chat_server.py", "chat_server.py"),
            ("python/chat_client.py", "chat_client.py"),
        ],
    );
    folder(
        "20215120808-ZhangSan",
        &[
            ("java/ChatServer.java", "ChatServer.java"),
            ("java/ChatClient.java", "ChatClient.java"),
        ],
    );
    folder(
        "20215120809-WangWu",
        &[
            ("c/chat_server.c", "chat_server.c"),
            ("c/chat_client.c", "chat_client.c"),
        ],
    );
    folder(
        "20215120810-ZhaoLiu",
        &[
            ("python/chat_server.py", "chat_server.py"),
            ("python/chat_client.py", "chat_client.py"),
        ],
    );
    let silent = folder("20215120811-QianQi", &[]);
    std::fs::write(
        silent.join("client.py"),
        "import socket, sys\ns = socket.create_connection((sys.argv[1], int(sys.argv[2])))\ns.close()\n",
    )
    .unwrap();
    let broken = folder("20215120812-SunBa", &[]);
    std::fs::write(
        broken.join("client.c"),
        "#include \"/etc/shadow\"\nint main( {\n",
    )
    .unwrap();
    folder("20215120813-ZhouJiu", &[]);
    for e in walk(dir.path()) {
        let mode = if e.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&e, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let out = dir.path().join("reports");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["grade", "labs/chat.rhai", "--programs"])
        .arg(&subs)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no row for {name}: {text}"))
            .clone()
    };
    for full in [
        "20215120807-LiYihang",
        "20215120808-ZhangSan",
        "20215120809-WangWu",
    ] {
        let r = row(full);
        assert!(
            r[3] == r[4] && r[4].parse::<u32>().unwrap() >= 5,
            "{full}: {r:?}"
        );
        // Each submission's report, with the capture its programs made.
        assert!(
            out.join(full).join("report.md").is_file(),
            "{full}'s report"
        );
    }
    let li = row("20215120807-LiYihang");
    assert!(
        li[6].contains("the same program source as 20215120810-ZhaoLiu"),
        "{li:?}"
    );
    assert!(!row("20215120808-ZhangSan")[6].contains("same program source"));
    let qian = row("20215120811-QianQi");
    assert!(
        qian[3].parse::<u32>().unwrap() < qian[4].parse::<u32>().unwrap(),
        "{qian:?}"
    );
    let sun = row("20215120812-SunBa");
    // Compiled as the unprivileged user: the source cannot pull in a file its author could not read.
    assert!(
        sun[5].contains("does not compile") && sun[5].contains("Permission denied"),
        "{sun:?}"
    );
    assert!(row("20215120813-ZhouJiu")[5].contains("no *server* or *client* program"));
}

/// Every path under `dir`, `dir` included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if dir.is_dir() {
        for e in std::fs::read_dir(dir).unwrap() {
            out.extend(walk(&e.unwrap().path()));
        }
    }
    out
}
