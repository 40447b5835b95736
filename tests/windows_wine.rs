//! The Windows build (x86_64-pc-windows-gnu, linked with mingw-w64, without libpcap) run
//! under Wine: `analyze --fields` and `grade` on test captures print the same bytes as
//! the Linux build. CI builds the .exe first (.ci/run); elsewhere the test skips with a
//! one-line reason when Wine or the .exe is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::skip_or_fail;

/// The Windows build: `LABRUN_WINDOWS_EXE`, or where `cargo build --target
/// x86_64-pc-windows-gnu --no-default-features` puts it.
fn windows_exe() -> PathBuf {
    std::env::var_os("LABRUN_WINDOWS_EXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/x86_64-pc-windows-gnu/debug/labrun.exe")
        })
}

fn linux(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labrun"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run labrun")
}

/// Builds tests/wine/bcryptprimitives.c into `dir`: Rust's standard library imports
/// ProcessPrng from that DLL, which Wine 8.0 lacks (Windows 10 and later have it).
fn build_prng_stub(dir: &Path) -> bool {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wine/bcryptprimitives.c");
    Command::new("x86_64-w64-mingw32-gcc")
        .args(["-shared", "-O2", "-o"])
        .arg(dir.join("bcryptprimitives.dll"))
        .arg(source)
        .arg("-ladvapi32")
        .status()
        .is_ok_and(|s| s.success())
}

fn wine(prefix: &Path, dlls: &Path, exe: &Path, args: &[&str]) -> Output {
    // Wine sees the Unix root as drive Z:.
    let dlls = format!("Z:{}", dlls.display()).replace('/', "\\");
    Command::new("wine")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg(exe)
        .args(args)
        .env("WINEPREFIX", prefix)
        .env("WINEPATH", dlls)
        .env("WINEDEBUG", "-all")
        // No Mono or Gecko installer prompts for a console program.
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("NO_COLOR", "1")
        .output()
        .expect("run wine")
}

#[test]
fn windows_build_prints_the_same_bytes_under_wine() {
    let exe = windows_exe();
    if !common::have_program("wine") {
        return skip_or_fail("wine is not installed");
    }
    if !exe.exists() {
        return skip_or_fail(&format!("no Windows build at {}", exe.display()));
    }
    let prefix = tempfile::tempdir().expect("wine prefix");
    let dlls = tempfile::tempdir().expect("dll dir");
    if !build_prng_stub(dlls.path()) {
        return skip_or_fail(
            "x86_64-w64-mingw32-gcc (gcc-mingw-w64-x86-64) cannot build the ProcessPrng stub",
        );
    }
    let fields = "frame.number,frame.time_relative,frame.len,frame.comment,ip.src,ip.dst,tcp.stream,tcp.seq,tcp.ack,tcp.len,tcp.analysis.retransmission,_ws.col.protocol,_ws.col.info";
    let runs: Vec<Vec<&str>> = vec![
        vec![
            "analyze",
            "reports/examples/chat/capture.pcapng",
            "--fields",
            fields,
        ],
        vec![
            "analyze",
            "reports/examples/retransmit/capture.pcapng",
            "--fields",
            fields,
        ],
        vec!["analyze", "tests/corpus/icmpv6.pcap", "--fields", fields],
        vec![
            "grade",
            "labs/chat.rhai",
            "--pcap",
            "reports/examples/chat/capture.pcapng",
        ],
        vec![
            "grade",
            "labs/udp.rhai",
            "--pcap",
            "reports/examples/udp/capture.pcapng",
        ],
        vec![
            "grade",
            "labs/udp.rhai",
            "--pcap",
            "reports/examples/chat/capture.pcapng",
        ],
    ];
    for args in runs {
        let ours = linux(&args);
        let theirs = wine(prefix.path(), dlls.path(), &exe, &args);
        assert!(!ours.stdout.is_empty(), "{args:?} printed nothing on Linux");
        assert_eq!(
            String::from_utf8_lossy(&theirs.stdout),
            String::from_utf8_lossy(&ours.stdout),
            "{args:?}: stdout under Wine (stderr: {})",
            String::from_utf8_lossy(&theirs.stderr)
        );
        assert_eq!(
            theirs.status.code(),
            ours.status.code(),
            "{args:?}: exit code"
        );
    }
}
