//! The formats a student hands in, made from a written report directory: report.pdf
//! (report.html printed to A4 by a Chromium-family browser) and report.docx (report.md as a
//! Word document, its SVG figures as PNG images). A lab run makes them beside report.md
//! and report.html; `labrun export DIR` makes them again from the directory alone.
//!
//! A missing browser is not an error: the PDF is left out with one line that says how to
//! get one, and everything else is written.

mod docx;
mod figure;
mod pdf;

pub use docx::markdown_to_docx;
pub use figure::{FigureRenderer, PNG_DPI};
pub use pdf::{PRINT_TIME_LIMIT, print_pdf};

use std::path::{Path, PathBuf};
use std::time::Instant;

/// The PDF's file name in a report directory.
pub const PDF: &str = "report.pdf";
/// The Word document's file name in a report directory.
pub const DOCX: &str = "report.docx";

/// The export layer's error.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No Chromium-family browser is installed: the PDF cannot be printed.
    #[error(
        "report.pdf not written: no Chromium-family browser found (looked for {}); install one, e.g. `apt install chromium`, then run `labrun export DIR`",
        crate::websocket::CHROMIUM_FAMILY.join(", ")
    )]
    NoBrowser,
    /// The browser ran but made no PDF (it failed, or did not finish in time).
    #[error("report.pdf not written: {0}")]
    Print(String),
    /// A report file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The Word document could not be assembled.
    #[error("report.docx not written: {0}")]
    Docx(String),
}

/// Which formats to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    /// report.pdf.
    pub pdf: bool,
    /// report.docx.
    pub docx: bool,
}

impl Formats {
    /// Both formats.
    pub const ALL: Formats = Formats {
        pdf: true,
        docx: true,
    };
    /// Neither format.
    pub const NONE: Formats = Formats {
        pdf: false,
        docx: false,
    };

    /// Parses `pdf,docx`, `pdf`, `docx` or `none` (as `--formats` takes them).
    pub fn parse(text: &str) -> Result<Formats, String> {
        let mut f = Formats::NONE;
        for word in text.split(',').map(str::trim) {
            match word {
                "pdf" => f.pdf = true,
                "docx" => f.docx = true,
                "none" => {}
                other => {
                    return Err(format!(
                        "unknown format `{other}`: the formats are pdf and docx (or none)"
                    ));
                }
            }
        }
        Ok(f)
    }

    /// The file names these formats write, in writing order.
    pub fn files(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.docx {
            v.push(DOCX);
        }
        if self.pdf {
            v.push(PDF);
        }
        v
    }
}

impl Default for Formats {
    fn default() -> Self {
        Formats::NONE
    }
}

/// What [`export`] made: the files written and, for each format left out, why.
#[derive(Debug, Default)]
pub struct Exported {
    /// File names written into the directory.
    pub files: Vec<String>,
    /// One line per format that could not be made (never fatal).
    pub notes: Vec<String>,
}

/// Makes `formats` from the report in `dir` (report.md for the Word document, report.html
/// for the PDF), writing each as `<name>` through a temporary file renamed into place, so
/// an earlier file of that name is replaced whole or not at all. The PDF's browser gets
/// until `deadline`. A format that cannot be made becomes a note, not an error.
pub fn export(dir: &Path, formats: Formats, deadline: Instant) -> Exported {
    let mut out = Exported::default();
    if formats.docx {
        match write_docx(dir) {
            Ok(()) => out.files.push(DOCX.to_string()),
            Err(e) => out.notes.push(e.to_string()),
        }
    }
    if formats.pdf {
        match write_pdf(dir, deadline) {
            Ok(()) => out.files.push(PDF.to_string()),
            Err(e) => out.notes.push(e.to_string()),
        }
    }
    out
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The temporary name a file of `dir` is written under before it is renamed to `name`.
fn temporary(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Renames `tmp` to `dir/name`, removing `tmp` when that fails.
fn put_in_place(tmp: &Path, dir: &Path, name: &str) -> Result<(), ExportError> {
    let to = dir.join(name);
    std::fs::rename(tmp, &to).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        io_at(&to)(e)
    })
}

fn write_docx(dir: &Path) -> Result<(), ExportError> {
    let md_path = dir.join("report.md");
    let markdown = std::fs::read_to_string(&md_path).map_err(io_at(&md_path))?;
    let bytes = markdown_to_docx(&markdown, dir)?;
    let tmp = temporary(dir, DOCX);
    std::fs::write(&tmp, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_at(&tmp)(e)
    })?;
    put_in_place(&tmp, dir, DOCX)
}

fn write_pdf(dir: &Path, deadline: Instant) -> Result<(), ExportError> {
    let html = dir.join("report.html");
    if !html.is_file() {
        return Err(io_at(&html)(std::io::ErrorKind::NotFound.into()));
    }
    let tmp = temporary(dir, PDF);
    match print_pdf(dir, &tmp, deadline) {
        Ok(()) => put_in_place(&tmp, dir, PDF),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_as_the_flag_takes_them() {
        assert_eq!(Formats::parse("pdf,docx"), Ok(Formats::ALL));
        assert_eq!(Formats::parse("none"), Ok(Formats::NONE));
        assert_eq!(
            Formats::parse("docx"),
            Ok(Formats {
                pdf: false,
                docx: true
            })
        );
        assert!(Formats::parse("odt").unwrap_err().contains("pdf and docx"));
        assert_eq!(Formats::ALL.files(), vec![DOCX, PDF]);
    }

    #[test]
    fn a_word_document_is_made_from_markdown_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("report.md"),
            "# T\n\n## 步骤\n\n| No. | Time |\n|---|---|\n| 1 | 0.000024946 |\n\n```\ncode\n```\n\n![gone](missing.svg)\n",
        )
        .unwrap();
        let made = export(
            dir.path(),
            Formats {
                pdf: false,
                docx: true,
            },
            Instant::now(),
        );
        assert_eq!(made.files, vec![DOCX.to_string()], "{:?}", made.notes);
        let bytes = std::fs::read(dir.path().join(DOCX)).unwrap();
        assert!(bytes.starts_with(b"PK"), "a docx is a zip file");
        // Nothing but the report's files is left in the folder.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
