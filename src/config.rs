//! `labrun.toml` in the working directory: who the student is and which course, so the
//! flags need not be typed on every run. Command-line flags win over the file.
//!
//! ```toml
//! student = "20215120807 Li Yihang"
//! course = "Computer Networks, autumn 2026"
//! school = "School of Computer Science"
//! class = "CS 2021-3"
//! instructor = "Prof. Wang"
//! place = "Lab building 3-201"
//! lang = "zh"
//! ```

use std::path::Path;

/// The configuration file's error.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong value.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with its line when known.
        message: String,
    },
}

/// What `labrun.toml` may set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// `"ID NAME"`, as for `--student`.
    pub student: Option<String>,
    /// The course name, as for `--course`.
    pub course: Option<String>,
    /// The school or college, as for `--school` (the report's cover).
    pub school: Option<String>,
    /// The class, as for `--class` (the report's cover).
    pub class: Option<String>,
    /// The instructor, as for `--instructor` (the report's cover).
    pub instructor: Option<String>,
    /// Where the lab was done, as for `--place` (the report's cover).
    pub place: Option<String>,
    /// The report language, as for `--lang`.
    pub lang: Option<crate::i18n::Lang>,
    /// The course's secret: with it each student's lab parameters (`port`, `size`) are
    /// derived from the key and the student ID ([`student_values`]), so copies show.
    pub course_key: Option<String>,
}

impl Config {
    /// This configuration with every setting `flags` gives replaced: the command line
    /// wins over the file.
    pub fn overridden_by(self, flags: Config) -> Config {
        Config {
            student: flags.student.or(self.student),
            course: flags.course.or(self.course),
            school: flags.school.or(self.school),
            class: flags.class.or(self.class),
            instructor: flags.instructor.or(self.instructor),
            place: flags.place.or(self.place),
            lang: flags.lang.or(self.lang),
            course_key: flags.course_key.or(self.course_key),
        }
    }
}

/// The language `flag` (`--lang`) names, else `dir/labrun.toml`'s `lang`, else English;
/// the file is read only when the flag is absent.
pub fn lang(dir: &Path, flag: Option<crate::i18n::Lang>) -> Result<crate::i18n::Lang, ConfigError> {
    match flag {
        Some(lang) => Ok(lang),
        None => Ok(load(dir)?.lang.unwrap_or_default()),
    }
}

/// The name of the configuration file.
pub const FILE: &str = "labrun.toml";

/// Reads `dir/labrun.toml`; no file is an empty configuration.
pub fn load(dir: &Path) -> Result<Config, ConfigError> {
    let path = dir.join(FILE);
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: shown,
                source,
            });
        }
    };
    parse(&text).map_err(|message| ConfigError::Invalid {
        path: shown,
        message,
    })
}

/// Parses the file's text.
pub fn parse(text: &str) -> Result<Config, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| e.to_string().trim().to_string())?;
    let mut config = Config::default();
    for (key, value) in &table {
        let text = value
            .as_str()
            .ok_or_else(|| format!("`{key}` must be a string, e.g. {key} = \"...\""))?
            .to_string();
        match key.as_str() {
            "student" => config.student = Some(text),
            "course" => config.course = Some(text),
            "course_key" => config.course_key = Some(text),
            "school" => config.school = Some(text),
            "class" => config.class = Some(text),
            "instructor" => config.instructor = Some(text),
            "place" => config.place = Some(text),
            "lang" => {
                config.lang = Some(
                    crate::i18n::Lang::parse(&text)
                        .ok_or_else(|| format!("`lang` is \"en\" or \"zh\", got {text:?}"))?,
                )
            }
            other => {
                return Err(format!(
                    "unknown setting `{other}` (known: student, course, school, class, instructor, place, lang, course_key)"
                ));
            }
        }
    }
    Ok(config)
}

/// A student's own lab parameters, derived from the course key and the student ID: `port`
/// in 20000..=59999, `size` in 2921..=4000 (more than two full 1460-byte segments) and
/// `segment` in 2..=7 (which of ten segments the retransmission lab loses, so that three
/// segments still follow it).
/// The same key and ID always give the same values; labrun uses them for a lab's `port`
/// and `size` when the command line does not give them, and `grade` expects them.
pub fn student_values(key: &str, id: &str) -> Vec<(String, String)> {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("labrun course key\0{key}\0{id}").as_bytes());
    let word = |i: usize| u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
    vec![
        ("port".to_string(), (20_000 + word(0) % 40_000).to_string()),
        ("size".to_string(), (2_921 + word(4) % 1_080).to_string()),
        ("segment".to_string(), (2 + word(8) % 6).to_string()),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn student_values_depend_on_key_and_id_only() {
        let a = super::student_values("k", "20215120807");
        assert_eq!(a, super::student_values("k", "20215120807"));
        assert_ne!(a, super::student_values("k", "20215120808"));
        assert_ne!(a, super::student_values("k2", "20215120807"));
        let port: u32 = a[0].1.parse().unwrap();
        let size: u32 = a[1].1.parse().unwrap();
        assert!((20_000..60_000).contains(&port) && (2_921..=4_000).contains(&size));
    }

    use super::*;

    #[test]
    fn reads_student_and_course() {
        let c = parse("student = \"1 Ada\"\ncourse = \"Networks\"\n").unwrap();
        assert_eq!(c.student.as_deref(), Some("1 Ada"));
        assert_eq!(c.course.as_deref(), Some("Networks"));
        assert!(
            parse("student = 3\n")
                .unwrap_err()
                .contains("must be a string")
        );
        assert!(
            parse("colour = \"red\"\n")
                .unwrap_err()
                .contains("unknown setting")
        );
        assert!(parse("student = \n").is_err());
        let cover =
            parse("school = \"CS\"\nclass = \"3\"\ninstructor = \"Wang\"\nplace = \"3-201\"\n")
                .unwrap();
        assert_eq!(
            [cover.school, cover.class, cover.instructor, cover.place],
            [Some("CS"), Some("3"), Some("Wang"), Some("3-201")].map(|v| v.map(String::from))
        );
        let unknown = parse("teacher = \"Wang\"\n").unwrap_err();
        assert!(
            unknown.contains("school, class, instructor, place"),
            "{unknown}"
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = parse("student = \"1 Ada\"\ncourse = \"Networks\"\nlang = \"zh\"\n").unwrap();
        let flags = Config {
            course: Some("Security".into()),
            ..Config::default()
        };
        let c = file.overridden_by(flags);
        assert_eq!(c.student.as_deref(), Some("1 Ada"));
        assert_eq!(c.course.as_deref(), Some("Security"));
        assert_eq!(c.lang, Some(crate::i18n::Lang::Zh));
    }
}
