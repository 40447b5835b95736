//! report.pdf: report.html printed to A4 by a headless Chromium-family browser, started the
//! way labrun starts every browser (private profile and temporary files, fixed flags, killed
//! with labrun) and kept offline: it opens a copy of the page in a private directory, and
//! every connection it could try leads nowhere. The page's print stylesheet (report.html)
//! sets the paper, the margins and the page numbers in the footer.

use super::ExportError;
#[cfg(unix)]
use crate::private_dir::PrivateDir;
#[cfg(unix)]
use crate::websocket::{Browser, find_browser};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long printing one report may take at most (a report prints in a few seconds).
pub const PRINT_TIME_LIMIT: Duration = Duration::from_secs(90);

/// The files of a report directory the page may show besides itself (its figures).
#[cfg(unix)]
fn is_figure(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".svg") || lower.ends_with(".png")
}

/// `path` as a `file://` URL, every byte outside the unreserved set and `/` escaped.
#[cfg(unix)]
fn file_url(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut url = String::from("file://");
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[cfg(unix)]
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Without a private directory that outlives a kill (Windows), labrun does not start a
/// browser: report.html prints from any browser.
#[cfg(not(unix))]
pub fn print_pdf(_dir: &Path, _out: &Path, _deadline: Instant) -> Result<(), ExportError> {
    Err(ExportError::Print(
        "this build does not print to PDF: open report.html in a browser and print it".into(),
    ))
}

/// Prints `dir/report.html` to `out` (A4, page numbers in the footer), giving the browser
/// until `deadline` (and at most [`PRINT_TIME_LIMIT`]).
#[cfg(unix)]
pub fn print_pdf(dir: &Path, out: &Path, deadline: Instant) -> Result<(), ExportError> {
    let program = find_browser("chromium").map_err(|_| ExportError::NoBrowser)?;
    let work = PrivateDir::new("print").map_err(io(Path::new("a private directory")))?;
    let page_dir = work
        .subdir("page")
        .map_err(io(Path::new("a private directory")))?;
    for entry in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && (name == "report.html" || is_figure(&name)) {
            std::fs::copy(entry.path(), page_dir.join(&name)).map_err(io(&entry.path()))?;
        }
    }
    let pdf = work.path().join("report.pdf");
    let browser = Browser::start_offline(
        &program,
        &[
            "--no-pdf-header-footer".to_string(),
            "--generate-pdf-document-outline".to_string(),
            format!("--print-to-pdf={}", pdf.display()),
        ],
        &file_url(&page_dir.join("report.html")),
    )
    .map_err(|e| ExportError::Print(e.to_string()))?;
    let deadline = deadline.min(Instant::now() + PRINT_TIME_LIMIT);
    let status = browser.wait_until(deadline);
    let log = browser.output();
    browser.close();
    let made = std::fs::metadata(&pdf).is_ok_and(|m| m.len() > 0);
    match status {
        Some(s) if s.success() && made => {
            std::fs::copy(&pdf, out).map_err(io(out))?;
            Ok(())
        }
        None => Err(ExportError::Print(format!(
            "{} did not finish printing in time",
            program.display()
        ))),
        Some(s) => {
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            Err(ExportError::Print(format!(
                "{} failed ({s}){}{last}",
                program.display(),
                if last.is_empty() { "" } else { ": " }
            )))
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn file_urls_escape_what_a_url_cannot_hold() {
        assert_eq!(
            file_url(Path::new("/tmp/a b/报告#1.html")),
            "file:///tmp/a%20b/%E6%8A%A5%E5%91%8A%231.html"
        );
    }
}
