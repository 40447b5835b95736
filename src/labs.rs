//! Finding the labs that ship with labrun (`labrun list`).

use std::path::{Path, PathBuf};

/// A shipped lab: its script and the title from its first comment line.
#[derive(Debug, Clone)]
pub struct LabEntry {
    /// Lab name (file stem).
    pub name: String,
    /// Path of the script.
    pub path: PathBuf,
    /// One-line description.
    pub title: String,
}

/// The labs directory: `$LABRUN_LABS`, else `./labs`, else `labs/` beside the source tree
/// the binary was built from.
pub fn labs_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LABRUN_LABS") {
        return Some(PathBuf::from(dir));
    }
    let here = PathBuf::from("labs");
    if here.is_dir() {
        return Some(here);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs");
    built.is_dir().then_some(built)
}

/// The `*.rhai` labs in `dir` (not its `lib/` modules), sorted by name.
pub fn list(dir: &Path) -> std::io::Result<Vec<LabEntry>> {
    let mut labs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rhai") && path.is_file() {
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            labs.push(LabEntry {
                name: crate::runner::lab_name(&path),
                title: crate::runner::lab_title(&source),
                path,
            });
        }
    }
    labs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(labs)
}
