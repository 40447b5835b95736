//! `labrun new NAME`: a new exercise from a commented template (a lab that runs and passes
//! as it is) and its end-to-end test, for an instructor to edit.

use std::path::{Path, PathBuf};

/// The scaffolder's error.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not usable as a file and function name.
    #[error("`{0}` is not a lab name: use lowercase letters, digits and _ (e.g. `tcp_window`)")]
    BadName(String),
    /// A file would be overwritten.
    #[error("{0} already exists; choose another name or remove it")]
    Exists(PathBuf),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

const LAB: &str = include_str!("lab.rhai.tmpl");
const TEST: &str = include_str!("test.rs.tmpl");

/// Writes `labs/NAME.rhai` and `tests/NAME_lab.rs` under `root`; returns their paths.
pub fn new_lab(root: &Path, name: &str) -> Result<Vec<PathBuf>, ScaffoldError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !valid {
        return Err(ScaffoldError::BadName(name.to_string()));
    }
    let files = [
        (root.join("labs").join(format!("{name}.rhai")), LAB),
        (root.join("tests").join(format!("{name}_lab.rs")), TEST),
    ];
    for (path, _) in &files {
        if path.exists() {
            return Err(ScaffoldError::Exists(path.clone()));
        }
    }
    let mut written = Vec::new();
    for (path, template) in files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| ScaffoldError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, template.replace("{{NAME}}", name)).map_err(|source| {
            ScaffoldError::Io {
                path: path.clone(),
                source,
            }
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_lab_and_its_test_once() {
        let dir = tempfile::tempdir().unwrap();
        let files = new_lab(dir.path(), "tcp_window").unwrap();
        assert_eq!(files.len(), 2);
        let lab = std::fs::read_to_string(&files[0]).unwrap();
        assert!(lab.starts_with("// tcp_window:"));
        assert!(!lab.contains("{{NAME}}"));
        assert!(matches!(
            new_lab(dir.path(), "tcp_window"),
            Err(ScaffoldError::Exists(_))
        ));
        assert!(matches!(
            new_lab(dir.path(), "Bad-Name"),
            Err(ScaffoldError::BadName(_))
        ));
    }
}
