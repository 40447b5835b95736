//! The relayed lab link with real packets: `sandbox(#{ link: true })` carries the hosts'
//! frames through labrun's relay, and `net.link` rules delay, drop, reorder, duplicate and
//! randomly lose chosen segments. Each case checks the captures on both hosts with tshark
//! (the receiver's capture lacks what the link dropped; Wireshark flags the sender's
//! retransmission, the receiver's out-of-order segment and duplicate ACKs) and the link's
//! own events against the captured frames. One case runs as an ordinary user.
#![cfg(target_os = "linux")]

mod common;

use common::tshark::tshark_fields_with;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A lab that sends `kib` KiB from the client to the server over the relayed link with
/// `rules`, captures on both hosts and prints the sender's TCP_INFO and the link's events.
fn transfer_script(options: &str, rules: &str, kib: usize) -> String {
    format!(
        r#"
let net = sandbox(#{{ link: true, {options} }});
let link = net.link({rules});
let cc = net.client.capture(#{{ filter: "tcp port 9000", name: "client" }});
let sc = net.server.capture(#{{ filter: "tcp port 9000", name: "server" }});
let server = net.server.serve(9000, #{{ on_line: |conn, line| {{}} }});
let c = net.client.connect(`${{net.server.ip}}:9000`, #{{ timeout: 10000 }});
let line = pad("x", 1023, "y") + "\n";
let data = "";
for i in 0..{kib} {{ data += line; }}
c.send(data);
for i in 0..500 {{
    if server.log.filter(|e| e.event == "line").len() >= {kib} {{ break; }}
    sleep(20);
}}
let got = server.log.filter(|e| e.event == "line").len();
expect(got == {kib}, `the server got every line (${{got}})`);
print(`rtt_ms=${{c.tcp_info.rtt_ms}}`);
c.close();
sleep(300);
server.stop();
cc.stop();
sc.stop();
for e in link.events {{
    print(`event ${{e.to}} ${{e.action}} seq=${{e.seq}} len=${{e.len}} rtx=${{e.retransmission}} flags=${{e.flags}}`);
}}
"#
    )
}

/// Like [`transfer_script`], but the client sends `n` lines of 1000 bytes one by one, 2 ms
/// apart, without Nagle: one segment each, the same segments on every run (a bulk send is
/// cut at places that depend on timing).
fn paced_script(rules: &str, n: usize) -> String {
    transfer_script("", rules, n)
        .replace("#{ timeout: 10000 }", "#{ timeout: 10000, nodelay: true }")
        .replace(
            "c.send(data);",
            "let line = pad(\"x\", 999, \"y\") + \"\\n\"; for i in 0..N { c.send(line); sleep(2); }"
                .replace('N', &n.to_string())
                .as_str(),
        )
}

/// A finished run: its directory, exit code and output.
struct Run {
    dir: tempfile::TempDir,
    code: i32,
    text: String,
}

impl Run {
    fn pcap(&self, name: &str) -> PathBuf {
        self.dir
            .path()
            .join(format!("report/capture-{name}.pcapng"))
    }

    /// The link's events as printed: "to action seq=.. len=.. rtx=..", without the flags
    /// (where the sender sets PSH depends on timing).
    fn events(&self) -> Vec<String> {
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix("event "))
            .map(|l| l.split(" flags=").next().unwrap_or(l).to_string())
            .collect()
    }

    fn rtt_ms(&self) -> f64 {
        self.text
            .lines()
            .find_map(|l| l.strip_prefix("rtt_ms="))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no rtt_ms: {}", self.text))
    }
}

/// Runs `script` as a lab (as `user` when given, with a copy of the binary it can read).
fn run_as(script: &str, user: Option<&str>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("t.rhai");
    std::fs::write(&lab, script).unwrap();
    let mut cmd = match user {
        Some(user) => {
            let bin = dir.path().join("labrun");
            std::fs::copy(env!("CARGO_BIN_EXE_labrun"), &bin).unwrap();
            for (program, args) in [
                ("chown", vec!["-R", user, dir.path().to_str().unwrap()]),
                ("chmod", vec!["-R", "a+rX", dir.path().to_str().unwrap()]),
            ] {
                assert!(Command::new(program).args(args).status().unwrap().success());
            }
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(bin);
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_labrun")),
    };
    let o = cmd
        .arg(&lab)
        .arg("--out")
        .arg(dir.path().join("report"))
        .args(["--formats", "none"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    Run {
        dir,
        code: o.status.code().unwrap_or(-1),
        text,
    }
}

fn run(script: &str) -> Run {
    let r = run_as(script, None);
    assert_eq!(r.code, 0, "{}", r.text);
    r
}

/// Whether the machine can run these tests; skips (or fails under CI) with the reason.
fn ready() -> bool {
    if !common::is_root() {
        common::skip_or_fail("the sandbox and its capture need root here (run the tests as root)");
        return false;
    }
    if !common::have_program("tshark") {
        common::skip_or_fail("tshark is not installed (apt-get install tshark)");
        return false;
    }
    true
}

/// `frame.number`, `tcp.seq`, `tcp.len` of the frames matching `filter`.
fn frames(pcap: &Path, filter: &str) -> Vec<(u64, u64, u64)> {
    tshark_fields_with(
        pcap,
        &["frame.number", "tcp.seq", "tcp.len"],
        &["-Y", filter],
    )
    .iter()
    .map(|r| {
        let n = |i: usize| r.get(i).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
        (n(0), n(1), n(2))
    })
    .collect()
}

/// The time from the SYN to the SYN-ACK in a capture, in ms.
fn handshake_rtt_ms(pcap: &Path) -> f64 {
    let rows = tshark_fields_with(
        pcap,
        &["frame.time_relative", "tcp.flags.ack"],
        &["-Y", "tcp.flags.syn == 1"],
    );
    let t = |ack: &str| -> f64 {
        rows.iter()
            .find(|r| {
                r.get(1)
                    .map(|v| v == ack || v == if ack == "1" { "True" } else { "False" })
                    == Some(true)
            })
            .and_then(|r| r[0].parse().ok())
            .unwrap_or_else(|| panic!("no SYN (ack={ack}) in {rows:?}"))
    };
    (t("1") - t("0")) * 1000.0
}

#[test]
fn a_delay_each_way_shows_in_the_capture_and_in_tcp_info() {
    if !ready() {
        return;
    }
    let r = run(&transfer_script(
        "",
        r#"[#{ to: "server", delay_ms: 40 }, #{ to: "client", delay_ms: 40 }]"#,
        64,
    ));
    let rtt = handshake_rtt_ms(&r.pcap("client"));
    assert!((80.0..120.0).contains(&rtt), "handshake RTT {rtt} ms");
    let kernel = r.rtt_ms();
    assert!(
        (kernel - rtt).abs() < 15.0,
        "TCP_INFO rtt {kernel} ms, capture {rtt} ms"
    );
    // Every TCP segment was delayed once and nothing else happened.
    let ev = r.events();
    assert!(ev.iter().all(|e| e.contains(" delayed ")), "{ev:?}");
    let captured = frames(&r.pcap("client"), "tcp").len();
    assert_eq!(ev.len(), captured, "one event per segment: {ev:?}");
}

#[test]
fn a_dropped_third_data_segment_is_missing_at_the_receiver_and_retransmitted() {
    if !ready() {
        return;
    }
    let r = run(&transfer_script(
        TEXTBOOK,
        r#"[#{ to: "server", drop: #{ data: 3 } }]"#,
        16,
    ));
    check_third_segment_dropped(&r);
}

/// The "textbook" profile (SACK and RACK off): the sender retransmits after three duplicate
/// ACKs, which Wireshark flags as a fast retransmission. With Linux's defaults, RACK
/// resends after one SACK within a fraction of a millisecond, and Wireshark calls that
/// resend out of order.
const TEXTBOOK: &str = r#"profile: "textbook""#;

/// The sender's capture shows the 3rd data segment (relative seq 2921) twice, the second
/// flagged by Wireshark; the receiver's only once; the link's one event names it.
fn check_third_segment_dropped(r: &Run) {
    let at = "tcp.srcport != 9000 && tcp.seq == 2921 && tcp.len > 0";
    let sent = frames(&r.pcap("client"), at);
    let got = frames(&r.pcap("server"), at);
    assert_eq!(sent.len(), 2, "{sent:?}\n{}", r.text);
    assert_eq!(got.len(), 1, "{got:?}");
    let flagged = frames(
        &r.pcap("client"),
        "tcp.analysis.retransmission || tcp.analysis.fast_retransmission",
    );
    assert_eq!(flagged, vec![sent[1]], "{}", r.text);
    assert_eq!(
        r.events(),
        ["server dropped seq=2921 len=1460 rtx=false"],
        "{}",
        r.text
    );
    // The report puts the event beside the frame: its comment and the link's table.
    assert_eq!(
        comments(&r.pcap("client"), "lab link"),
        [(
            sent[0].0,
            "the lab link dropped this frame on the way to the server (rule: data 3)".into()
        )]
    );
    let md = std::fs::read_to_string(r.dir.path().join("report/report.md")).unwrap();
    let row = "| server | dropped (data 3) |";
    let line = md
        .lines()
        .find(|l| l.contains(row))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        line.ends_with(&format!("| capture-client.pcapng #{} |", sent[0].0)),
        "{line}"
    );
}

/// The frames of a capture whose comment mentions `what`, with the comment's sentence that
/// does.
fn comments(pcap: &Path, what: &str) -> Vec<(u64, String)> {
    tshark_fields_with(
        pcap,
        &["frame.number", "frame.comment"],
        &["-Y", &format!("frame.comment contains \"{what}\"")],
    )
    .iter()
    .map(|r| {
        let sentence = r[1]
            .split("; ")
            .find(|s| s.contains(what))
            .unwrap_or_default()
            .to_string();
        (r[0].parse().unwrap(), sentence)
    })
    .collect()
}

#[test]
fn a_held_and_a_doubled_segment_are_flagged_at_the_receiver() {
    if !ready() {
        return;
    }
    let r = run(&transfer_script(
        "",
        r#"[#{ to: "server", reorder: #{ data: 2, after: 1 } }, #{ to: "server", duplicate: #{ data: 5 } },
            #{ to: "server", delay_ms: 5 }, #{ to: "client", delay_ms: 5 }]"#,
        16,
    ));
    let server = r.pcap("server");
    let client = r.pcap("client");
    // (The 5 ms each way make the handshake's RTT, which Wireshark takes as the longest
    // time a reordered segment may lag, larger than any scheduling hiccup.)
    // The 2nd segment (seq 1461) arrived after the 3rd (seq 2921): out of order.
    let order: Vec<u64> = frames(&server, "tcp.srcport != 9000 && tcp.len > 0")
        .iter()
        .map(|f| f.1)
        .collect();
    assert_eq!(&order[..3], [1, 2921, 1461], "{order:?}");
    let ooo = frames(&server, "tcp.analysis.out_of_order");
    assert!(
        ooo.iter().any(|f| f.1 == 1461),
        "tshark flags seq 1461 out of order: {ooo:?}"
    );
    // The 5th segment (seq 5841) arrived twice; the second copy is a (spurious)
    // retransmission to Wireshark, and the receiver answered it with a duplicate ACK.
    let fifth = frames(
        &server,
        "tcp.srcport != 9000 && tcp.seq == 5841 && tcp.len > 0",
    );
    assert_eq!(fifth.len(), 2, "{fifth:?}");
    let resent = frames(
        &server,
        "tcp.analysis.retransmission || tcp.analysis.spurious_retransmission",
    );
    assert!(resent.contains(&fifth[1]), "{resent:?} {fifth:?}");
    let dup_acks = frames(&server, "tcp.analysis.duplicate_ack && tcp.srcport == 9000");
    assert!(!dup_acks.is_empty(), "no duplicate ACK for the second copy");
    // The sender sent each once: the link did it, not TCP.
    assert_eq!(
        frames(
            &client,
            "tcp.srcport != 9000 && tcp.seq == 5841 && tcp.len > 0"
        )
        .len(),
        1
    );
    let events: Vec<String> = r
        .events()
        .into_iter()
        .filter(|e| !e.contains(" delayed "))
        .collect();
    assert_eq!(
        events,
        [
            "server reordered seq=1461 len=1460 rtx=false",
            "server duplicated seq=5841 len=1460 rtx=false",
        ],
        "{}",
        r.text
    );
    // The receiver's frames say what the link did to them.
    let notes = comments(&server, "reordered it");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(ooo.iter().any(|f| f.0 == notes[0].0), "{notes:?} {ooo:?}");
    assert_eq!(
        comments(&server, "a copy the lab link sent twice"),
        [(fifth[1].0, "a copy the lab link sent twice".into())]
    );
}

#[test]
fn seeded_random_loss_drops_the_same_segments_on_a_rerun() {
    if !ready() {
        return;
    }
    let rules = r#"[#{ to: "server", random_loss: 0.05, seed: 7 }]"#;
    let dropped = |r: &Run| -> Vec<String> {
        r.events()
            .into_iter()
            .filter(|e| e.contains(" dropped "))
            .collect()
    };
    let a = run(&paced_script(rules, 150));
    let b = run(&paced_script(rules, 150));
    let (da, db) = (dropped(&a), dropped(&b));
    assert!(!da.is_empty(), "seed 7 dropped nothing: {}", a.text);
    assert_eq!(da, db, "the same seed dropped other segments");
    // What the link says it dropped never reached the server.
    for e in &da {
        let seq: u64 = e
            .split("seq=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        let len: u64 = e
            .split("len=")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        let at = format!("tcp.srcport != 9000 && tcp.seq == {seq} && tcp.len == {len}");
        let sent = frames(&a.pcap("client"), &at).len();
        let got = frames(&a.pcap("server"), &at).len();
        assert!(got < sent, "{e}: sent {sent}, received {got}");
    }
}

#[test]
fn a_segment_lost_until_a_deadline_is_recovered_by_the_backed_off_timer() {
    if !ready() {
        return;
    }
    let r = run(&transfer_script(
        TEXTBOOK,
        r#"[#{ to: "server", drop: #{ seq: 1 } },
            #{ to: "server", drop: #{ retransmissions_of: 1, until_ms: 800 } }]"#,
        1,
    ));
    let (client, server) = (r.pcap("client"), r.pcap("server"));
    let data = "tcp.srcport != 9000 && tcp.len > 0";
    let sent = tshark_fields_with(&client, &["frame.time_relative"], &["-Y", data]);
    assert_eq!(frames(&server, data).len(), 1, "one copy arrives");
    // The original and the retransmissions within 800 ms are lost: the timer fires three
    // times, each time waiting about twice as long (RFC 6298, section 5.5).
    assert_eq!(sent.len(), 4, "{sent:?}");
    let t: Vec<f64> = sent.iter().map(|r| r[0].parse().unwrap()).collect();
    let (g1, g2, g3) = (t[1] - t[0], t[2] - t[1], t[3] - t[2]);
    assert!(g1 >= 0.19 && g2 / g1 > 1.6 && g3 / g2 > 1.6, "{t:?}");
    assert!(t[2] - t[0] <= 0.8 && t[3] - t[0] > 0.8, "{t:?}");
    assert_eq!(
        r.events(),
        [
            "server dropped seq=1 len=1024 rtx=false",
            "server dropped seq=1 len=1024 rtx=true",
            "server dropped seq=1 len=1024 rtx=true",
        ],
        "{}",
        r.text
    );
}

#[test]
fn a_lost_syn_ack_is_sent_again_after_a_second() {
    if !ready() {
        return;
    }
    let r = run(&transfer_script(
        "",
        r#"[#{ to: "client", drop: #{ syn: 1 } }]"#,
        1,
    ));
    let synack = "tcp.flags.syn == 1 && tcp.flags.ack == 1";
    let sent = frames(&r.pcap("server"), synack);
    let got = tshark_fields_with(&r.pcap("client"), &["frame.time_relative"], &["-Y", synack]);
    assert!(sent.len() >= 2, "the SYN-ACK is sent again: {sent:?}");
    assert_eq!(got.len(), sent.len() - 1, "{got:?}");
    // The client's SYN left at 0; the answer it got came with the retransmission timer's
    // initial second (RFC 6298, section 2.1).
    let first: f64 = got[0][0].parse().unwrap();
    assert!(
        first >= 0.9,
        "the first SYN-ACK the client got came at {first} s"
    );
    assert_eq!(
        r.events(),
        ["client dropped seq=0 len=0 rtx=false"],
        "{}",
        r.text
    );
}

#[test]
fn a_held_segment_nothing_overtakes_is_sent_after_a_second() {
    if !ready() {
        return;
    }
    // One data segment, held until 5 later frames pass: only the sender's retransmissions
    // (at about 0.2 s and 0.6 s) come, so the relay lets it go after a second.
    let script = transfer_script(
        TEXTBOOK,
        r#"[#{ to: "server", reorder: #{ data: 1, after: 5 } }]"#,
        1,
    )
    .replace("c.close();", "sleep(1500);\nc.close();");
    let r = run(&script);
    let words: Vec<String> = r
        .events()
        .iter()
        .map(|e| e.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        words,
        ["server reordered seq=1", "server hold_expired seq=1"],
        "{}",
        r.text
    );
    let data = "tcp.srcport != 9000 && tcp.len > 0";
    let got = tshark_fields_with(&r.pcap("server"), &["frame.time_relative"], &["-Y", data]);
    let last: f64 = got.last().unwrap()[0].parse().unwrap();
    assert!(got.len() >= 2 && last >= 1.0, "{got:?}");
    assert_eq!(
        comments(&r.pcap("server"), "never came").len(),
        1,
        "{}",
        r.text
    );
}

#[test]
fn bad_link_rules_are_explained() {
    if !ready() {
        return;
    }
    let r = run_as(
        r#"
let net = sandbox(#{ link: true });
let bad = [];
for rules in [
    [#{ to: "server", drop: #{ data: 3 }, bogus: 1 }],
    [#{ to: "server", delay_ms: 20000 }],
    [#{ to: "server", random_loss: 1.5, seed: 1 }],
    [#{ to: "server", random_loss: 0.1 }],
    [#{ to: "server", drop: #{ segment: 3 } }],
    [#{ to: "server", drop: #{ data: 3 }, delay_ms: 5 }],
] {
    try { net.link(rules); bad.push("accepted"); } catch (e) { bad.push(`${e}`); }
}
for b in bad { print(`refused: ${b}`); }
let plain = sandbox(#{});
try { plain.link([]); } catch (e) { print(`refused: ${e}`); }
"#,
        None,
    );
    assert_eq!(r.code, 0, "{}", r.text);
    for phrase in [
        "unknown key `bogus` (known: to, port, drop, delay_ms, reorder, duplicate, random_loss, seed, frames)",
        "`delay_ms` must be 0 to 10000, got 20000",
        "random_loss is a probability, 0.0 to 1.0, got 1.5",
        "`random_loss` needs a `seed`",
        "unknown key `segment` (known: data, seq, syn, fin, ack, retransmissions_of, until_ms)",
        "give exactly one of drop, delay_ms, reorder, duplicate, random_loss (got drop, delay_ms)",
        "build it with sandbox(#{ link: true })",
    ] {
        assert!(r.text.contains(phrase), "{phrase}\n{}", r.text);
    }
    assert!(!r.text.contains("refused: accepted"), "{}", r.text);
}

/// The relay as an ordinary user: its packet sockets need CAP_NET_RAW in the switch's
/// namespace, which labrun's own user namespace gives.
#[test]
fn the_relayed_link_runs_as_an_ordinary_user() {
    if !common::is_root() {
        return common::skip_or_fail("creating a test user needs root");
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let user = "labrun-student";
    let _ = Command::new("useradd")
        .args(["--no-create-home", "--shell", "/bin/sh", user])
        .output();
    let r = run_as(
        &transfer_script(TEXTBOOK, r#"[#{ to: "server", drop: #{ data: 3 } }]"#, 16),
        Some(user),
    );
    if r.text.contains("user namespaces") && r.code == 2 {
        return common::skip_or_fail(&format!(
            "this system forbids unprivileged user namespaces: {}",
            r.text
        ));
    }
    assert_eq!(r.code, 0, "{}", r.text);
    check_third_segment_dropped(&r);
}

/// The tests that count this process's relay threads run one at a time.
static IN_PROCESS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The relay carries a bulk transfer intact, with rules that judge every frame too, and its
/// thread ends with its sandbox. (Its latency and throughput against the veth cable and the
/// bridge are measured by `cargo bench --bench link`.)
#[test]
fn the_relay_carries_a_bulk_transfer_and_ends_with_its_sandbox() {
    use labrun::network::link::{Action, LinkJudge, LinkRule, Select, Toward};
    use labrun::sandbox::{Sandbox, SandboxConfig};
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Instant;
    if !common::is_root() {
        return common::skip_or_fail("building the sandbox in-process needs root");
    }
    let _alone = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    let relay_threads = || {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|c| c.trim() == "labrun-relay")
            .count()
    };
    let relayed = SandboxConfig {
        relay: true,
        ..SandboxConfig::default()
    };
    for judged in [false, true] {
        let sb = Sandbox::build(&relayed).expect("build");
        assert_eq!(relay_threads(), 1);
        if judged {
            // Every frame decoded and judged by a rule that never fires.
            let rules = vec![LinkRule {
                to: Toward::Server,
                port: None,
                all_frames: false,
                action: Action::Drop(Select::Data(1_000_000)),
            }];
            labrun::network::judge_relay(
                sb.relay.as_ref().unwrap(),
                LinkJudge::new(rules, Instant::now()).unwrap(),
            );
        }
        let (client, server) = (&sb.hosts[0], &sb.hosts[1]);
        let listener = server
            .netns
            .enter(|| TcpListener::bind((server.ip, 9000)))
            .unwrap()
            .unwrap();
        let sink = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut all = Vec::new();
            s.read_to_end(&mut all).unwrap();
            all
        });
        let mut c = client
            .netns
            .enter(|| TcpStream::connect((server.ip, 9000)))
            .unwrap()
            .unwrap();
        let data: Vec<u8> = (0..20u32 << 20).map(|i| (i % 251) as u8).collect();
        c.write_all(&data).unwrap();
        drop(c);
        let got = sink.join().unwrap();
        assert!(
            got == data,
            "judged {judged}: {} of {} bytes arrived, or they were corrupted",
            got.len(),
            data.len()
        );
        drop(sb);
        assert_eq!(relay_threads(), 0, "the relay thread outlived its sandbox");
    }
}

/// A relay that cannot open its ports fails with the port's name and leaves no thread.
#[test]
fn a_relay_without_its_ports_fails_cleanly() {
    use labrun::sandbox::{Netns, Relay};
    if !common::is_root() {
        return common::skip_or_fail("a namespace in-process needs root");
    }
    let _alone = IN_PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    let ns = Netns::new().unwrap();
    let e = Relay::start(&ns, "port1", "port2").unwrap_err().to_string();
    assert!(e.contains("port1"), "{e}");
    let threads = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|c| c.trim() == "labrun-relay")
        .count();
    assert_eq!(threads, 0);
}
