//! The lab link as a bottleneck and the kernel's TCP state over time: a sandbox with
//! `rate_kbit`/`queue_bytes` (tc's tbf in the lab switch) really limits a transfer, its
//! full queue really drops segments (tshark sees the retransmissions), `sample_tcp_info`
//! samples the sender's congestion window while a blocking send runs, and `congestion()`
//! chooses the algorithm (an unknown one is a clear error).

mod common;

use common::tshark::tshark_fields_with;
use std::process::Command;

/// Runs `script` as a lab; its exit code and output.
fn run_script(dir: &std::path::Path, script: &str) -> (i32, String) {
    let lab = dir.join("t.rhai");
    std::fs::write(&lab, script).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg(&lab)
        .arg("--out")
        .arg(dir.join("report"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

#[test]
fn a_bottleneck_slows_and_drops_and_the_sampler_sees_the_window() {
    if !common::is_root() {
        return common::skip_or_fail("the sandbox needs root here (run the tests as root)");
    }
    if !common::have_program("tshark") {
        return common::skip_or_fail("tshark is not installed (apt-get install tshark)");
    }
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = run_script(
        dir.path(),
        r#"
let net = sandbox(#{ rate_kbit: 4000, queue_bytes: 20000 });
step(net.description);
let cap = net.client.capture(#{ filter: "tcp port 9000", name: "neck" });
let server = net.server.serve(9000, #{ on_line: |conn, line| {} });
let c = net.client.connect(`${net.server.ip}:9000`, #{ timeout: 30000 });
let bad = "";
try { c.congestion("no-such-algorithm"); } catch (e) { bad = `${e}`; }
expect(bad != "", `an unknown algorithm is refused: ${bad}`);
c.congestion("reno");
let sampler = c.sample_tcp_info(2);
// A script gets a few samplers (threads) per connection, not one per loop turn.
let extra = [c.sample_tcp_info(50), c.sample_tcp_info(50), c.sample_tcp_info(50)];
let too_many = "";
try { c.sample_tcp_info(50); } catch (e) { too_many = `${e}`; }
expect(too_many.contains("at most 4 samplers"), `a fifth sampler is refused: ${too_many}`);
for x in extra { x.stop(); }
let line = pad("x", 1023, "y") + "\n";
let data = line;
while byte_len(data) < 500000 { data += data; }
c.send(data);
for i in 0..200 {
    if server.log.filter(|e| e.event == "line").len() >= byte_len(data) / 1024 { break; }
    sleep(20);
}
sampler.stop();
let n = sampler.samples.len();
c.close();
server.stop();
let st = cap.stop().tcp_stream(c);
let took = st.packets[st.packets.len() - 1].time - st.packets[0].time;
let s = sampler.samples;
expect(took >= 0.8, `512 KiB through 4 Mbit/s took at least 0.8 s (${took} s)`);
expect(n > 50, `the sampler kept sampling during the blocking send (${n} samples)`);
expect(s.some(|x| x.cwnd > 10), "the congestion window grew past its initial 10 segments");
expect(s.some(|x| x.ssthresh < 2147483647), "a loss at the full queue set ssthresh");
"#,
    );
    assert_eq!(code, 0, "{text}");
    let md = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(
        md.contains("limited to 4000 kbit/s with a 20000-byte queue"),
        "{md}"
    );
    assert!(
        text.contains("no congestion control `no-such-algorithm`"),
        "{text}"
    );
    let pcap = dir.path().join("report/capture-neck.pcapng");
    let resent = tshark_fields_with(
        &pcap,
        &["frame.number"],
        &["-Y", "tcp.analysis.retransmission"],
    );
    assert!(!resent.is_empty(), "the full queue dropped nothing");
}
