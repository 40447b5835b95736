//! The formats a student hands in, checked with real tools on reports of real lab runs:
//! the chat and segment labs in English and Chinese are run with `--formats pdf,docx`, then
//! - report.pdf: `pdfinfo` counts its A4 pages (within the limits the course sets),
//!   `pdftotext -layout` finds every h2 heading of report.md in order, and every number and
//!   word of report.md's tables whole (a cell broken inside "0.000024946" or "Destination"
//!   leaves a token the text no longer has);
//! - report.docx: python-docx sees the headings in Word's Heading styles, in report.md's
//!   order, and at least one table and one image; LibreOffice converts one to PDF;
//! - `labrun export DIR` makes both again from the folder alone, and without a browser
//!   writes the DOCX and says in one line how to get one, exiting 0.

mod common;

use common::lab::{LabRun, run_lab};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// The Python that has python-docx (Debian's, when another is first on PATH).
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").is_file() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Why the tools these tests need are missing, if they are.
fn missing_tools() -> Option<String> {
    if !common::is_root() {
        return Some("the sandbox and its capture need root here".into());
    }
    let browser = labrun::websocket::CHROMIUM_FAMILY
        .iter()
        .any(|b| common::have_program(b));
    if !browser {
        return Some("no Chromium-family browser (apt-get install chromium)".into());
    }
    for (prog, pkg) in [("pdfinfo", "poppler-utils"), ("pdftotext", "poppler-utils")] {
        let ok = Command::new(prog).arg("-v").output().is_ok();
        if !ok {
            return Some(format!("{prog} is missing (apt-get install {pkg})"));
        }
    }
    let docx = Command::new(python())
        .args(["-c", "import docx"])
        .status()
        .is_ok_and(|s| s.success());
    if !docx {
        return Some("python-docx is missing (apt-get install python3-docx)".into());
    }
    None
}

/// The text of report.md's level-2 headings, without Markdown marks.
fn h2_headings(md: &str) -> Vec<String> {
    md.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| plain(h).split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Markdown text with its inline marks removed.
fn plain(s: &str) -> String {
    s.replace(['`', '*'], "").replace("\\|", "|")
}

/// Trims what may stand around a word in either text.
fn trim_token(t: &str) -> &str {
    t.trim_matches(|c: char| "[](){},;\"'".contains(c))
}

/// The numbers and ASCII words of report.md's table cells, each with how often it occurs
/// there: what must come out of the PDF whole.
fn table_tokens(md: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for line in md.lines().filter(|l| l.starts_with('|')) {
        if line.chars().all(|c| "|-: ".contains(c)) {
            continue;
        }
        for word in plain(line).split(|c: char| c.is_whitespace() || c == '|') {
            let word = trim_token(word);
            let ascii = word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".:/_-".contains(c));
            if word.chars().count() >= 3 && ascii {
                *out.entry(word.to_string()).or_default() += 1;
            }
        }
    }
    out
}

/// Runs a tool and returns its stdout, failing the test with its stderr.
fn tool(prog: &str, args: &[&str]) -> String {
    let out = Command::new(prog).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{prog} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// report.pdf's page count.
fn pdf_pages(pdf: &Path) -> usize {
    let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in {info}"))
}

/// Checks report.pdf against report.md: A4 pages, at most `max_pages`, the h2 headings in
/// order, every table token whole.
fn check_pdf(dir: &Path, max_pages: usize) {
    let pdf = dir.join("report.pdf");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let info = tool("pdfinfo", &[pdf.to_str().unwrap()]);
    assert!(info.contains("(A4)"), "not A4: {info}");
    let pages = pdf_pages(&pdf);
    assert!(
        (2..=max_pages).contains(&pages),
        "{}: {pages} pages, at most {max_pages} expected",
        dir.display()
    );
    let text = tool("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    // Headings in order, whatever the lines they were wrapped on.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut from = 0;
    let headings = h2_headings(&md);
    assert!(headings.len() >= 3, "{headings:?}");
    for h in &headings {
        match flat[from..].find(h.as_str()) {
            Some(at) => from += at + h.len(),
            None => panic!("heading {h:?} not found in order in {}", pdf.display()),
        }
    }
    // The page numbers in the footer, "n / N" (pdftotext may drop the spaces).
    let footer = flat.replace(" / ", "/");
    for n in [1, pages] {
        assert!(
            footer.contains(&format!("{n}/{pages}")),
            "no page number {n}"
        );
    }
    // Every number and word of the tables whole: a broken cell leaves pieces instead.
    let mut found: HashMap<&str, usize> = HashMap::new();
    for word in text.split(|c: char| c.is_whitespace() || !c.is_ascii()) {
        *found.entry(trim_token(word)).or_default() += 1;
    }
    let tokens = table_tokens(&md);
    assert!(tokens.len() > 30, "{tokens:?}");
    let broken: Vec<String> = tokens
        .iter()
        .filter(|(t, n)| found.get(t.as_str()).copied().unwrap_or(0) < **n)
        .map(|(t, n)| {
            format!(
                "{t} ({n} in tables, {} in the PDF)",
                found.get(t.as_str()).copied().unwrap_or(0)
            )
        })
        .collect();
    assert!(
        broken.is_empty(),
        "table cells broken in {}: {broken:?}",
        pdf.display()
    );
}

/// Checks report.docx with python-docx: the h2 headings of report.md in order in Heading 2
/// style, a Heading 1, at least one table and one image.
fn check_docx(dir: &Path) {
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let script = r#"
import sys, docx
d = docx.Document(sys.argv[1])
for p in d.paragraphs:
    if p.style is not None and p.style.name.startswith('Heading'):
        print(p.style.name + '\t' + ' '.join(p.text.split()))
print('tables\t%d' % len(d.tables))
print('images\t%d' % len(d.inline_shapes))
"#;
    let docx = dir.join("report.docx");
    let out = tool(python(), &["-c", script, docx.to_str().unwrap()]);
    let lines: Vec<(&str, &str)> = out.lines().filter_map(|l| l.split_once('\t')).collect();
    let count = |k: &str| -> usize {
        lines
            .iter()
            .find(|(a, _)| *a == k)
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(count("tables") >= 1, "{out}");
    assert!(count("images") >= 1, "{out}");
    assert!(lines.iter().any(|(s, _)| *s == "Heading 1"), "{out}");
    let h2: Vec<&str> = lines
        .iter()
        .filter(|(s, _)| *s == "Heading 2")
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(
        h2,
        h2_headings(&md),
        "Heading 2 paragraphs of {}",
        docx.display()
    );
}

fn run_with_formats(lab: &str, lang: &str) -> LabRun {
    let run = run_lab(
        lab,
        &[
            "--student",
            "20215120807 Li Yihang",
            "--lang",
            lang,
            "--formats",
            "pdf,docx",
        ],
    );
    assert!(
        matches!(run.output.status.code(), Some(0 | 1)),
        "{}",
        run.text()
    );
    for f in ["report.md", "report.html", "report.pdf", "report.docx"] {
        assert!(run.dir.join(f).is_file(), "{f} missing: {}", run.text());
    }
    run
}

#[test]
fn chat_and_segment_reports_print_and_open_in_both_languages() {
    if let Some(why) = missing_tools() {
        return common::skip_or_fail(&why);
    }
    for (lab, max_pages) in [("labs/chat.rhai", 7), ("labs/segment.rhai", 12)] {
        for lang in ["en", "zh"] {
            let run = run_with_formats(lab, lang);
            check_pdf(&run.dir, max_pages);
            check_docx(&run.dir);
        }
    }
}

#[test]
fn export_remakes_the_formats_and_a_missing_browser_is_one_line() {
    if let Some(why) = missing_tools() {
        return common::skip_or_fail(&why);
    }
    let run = run_lab("labs/chat.rhai", &["--lang", "zh", "--formats", "none"]);
    assert_eq!(run.output.status.code(), Some(0), "{}", run.text());
    assert!(!run.dir.join("report.pdf").exists());
    assert!(!run.dir.join("report.docx").exists());
    let labrun = env!("CARGO_BIN_EXE_labrun");
    let out = Command::new(labrun)
        .arg("export")
        .arg(&run.dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    check_pdf(&run.dir, 7);
    check_docx(&run.dir);
    // No temporary file is left beside them.
    let names: Vec<String> = std::fs::read_dir(&run.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");

    // LibreOffice opens the Word document (when it is installed: Word and WPS read the
    // same file).
    if common::have_program("libreoffice") {
        let lo = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let out = Command::new("libreoffice")
            .env("HOME", home.path())
            .args(["--headless", "--convert-to", "pdf", "--outdir"])
            .arg(lo.path())
            .arg(run.dir.join("report.docx"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(pdf_pages(&lo.path().join("report.pdf")) >= 2);
    } else {
        common::skip_or_fail("libreoffice is missing (apt-get install libreoffice-writer-nogui)");
    }

    // Without a browser on PATH: the DOCX is made, one line says how to get a browser,
    // and the exit code is still 0.
    std::fs::remove_file(run.dir.join("report.docx")).unwrap();
    std::fs::remove_file(run.dir.join("report.pdf")).unwrap();
    let out = Command::new(labrun)
        .arg("export")
        .arg(&run.dir)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("apt install chromium"), "{err}");
    assert!(run.dir.join("report.docx").is_file());
    assert!(!run.dir.join("report.pdf").exists());

    // Not a report folder: a one-line error, exit 2... of the binary's usual kind.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(labrun)
        .arg("export")
        .arg(empty.path())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a report folder"),
        "{out:?}"
    );
}
