//! report.html is self-contained and prints to A4: headless Chromium prints the segment
//! lab's report to PDF, and the PDF has A4 pages, the flow graph and the whole packet table.

mod common;

use common::lab::run_lab;
use std::process::Command;

#[test]
fn segment_report_prints_to_a4_with_its_flow_graph() {
    if !common::is_root() {
        return common::skip_or_fail(
            "the sandbox and its capture need root here (run the tests as root)",
        );
    }
    for tool in ["chromium", "pdftotext"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output();
        if !found.is_ok_and(|o| o.status.success()) {
            return common::skip_or_fail(&format!(
                "{tool} is not installed (apt-get install chromium poppler-utils)"
            ));
        }
    }
    let run = run_lab("labs/segment.rhai", &["--student", "20215120807 Li Yihang"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    let html = run.read("report.html");
    assert!(
        html.contains("<svg") && html.contains("Flow graph of tcp.stream 0"),
        "figures inlined"
    );
    assert!(!html.contains("<script"), "no script");
    assert!(!html.contains("<img"), "no external image");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no network access"
    );

    let profile = tempfile::tempdir().unwrap();
    let pdf = run.dir.join("report.pdf");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", run.dir.join("report.html").display()))
        .output()
        .unwrap();
    assert!(
        pdf.is_file(),
        "chromium printed no PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("(A4)"), "A4 pages: {info}");

    let text = Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Flow graph of tcp.stream 0"), "{text}");
    assert!(
        text.contains("[SYN] seq=0 len=0"),
        "the flow graph's arrows are in the PDF: {text}"
    );
    assert!(
        text.contains("handshake") && text.contains("close"),
        "phases marked"
    );
    // The rightmost column of the widest table is printed, not cut off at the page edge.
    assert!(
        text.contains("SACK_PERM"),
        "the packet table's Info column: {text}"
    );
    // The checks table's last column (the script position) wraps inside its cell.
    assert!(
        text.contains("labs/segment."),
        "the checks table's last column: {text}"
    );
    assert!(text.contains("score 9 / 9"), "{text}");
}
