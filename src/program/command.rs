//! A user's command line split into words without a shell, and its placeholders filled in.

use super::ProgramError;

/// Splits `text` into words the way a POSIX shell would for a simple command: blanks
/// separate words, 'single quotes' keep everything, "double quotes" keep everything but
/// `\"` and `\\`, a backslash outside quotes keeps the next character. Nothing is
/// expanded, and shell operators are refused: labrun runs the program itself, not a shell.
pub fn split_words(text: &str) -> Result<Vec<String>, ProgramError> {
    let bad = |why: String| Err(ProgramError::Command(format!("`{text}`: {why}")));
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return bad("a ' quote is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return bad("a \" quote is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return bad("a \" quote is not closed".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return bad("it ends with a backslash".into()),
                }
            }
            '|' | '&' | ';' | '<' | '>' | '`' | '(' | ')' => {
                return bad(format!(
                    "`{c}` is shell syntax: labrun runs the program directly, without a shell (quote it if it is part of an argument)"
                ));
            }
            '$' => {
                return bad(
                    "labrun expands no $variables: use the placeholders {server_ip}, {client_ip}, {port}, or read LABRUN_* from the environment".into(),
                );
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return bad("the command is empty".into());
    }
    Ok(words)
}

/// The placeholders a command may use, with their values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placeholders {
    /// `{server_ip}`: the lab's server host.
    pub server_ip: String,
    /// `{client_ip}`: the lab's client host.
    pub client_ip: String,
    /// `{port}`: the lab's port ("" when the lab gave none).
    pub port: String,
    /// `{student_id}`.
    pub student_id: String,
    /// `{student_name}`.
    pub student_name: String,
}

impl Placeholders {
    /// The names and values, in the order the documentation lists them.
    pub fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("server_ip", &self.server_ip),
            ("client_ip", &self.client_ip),
            ("port", &self.port),
            ("student_id", &self.student_id),
            ("student_name", &self.student_name),
        ]
    }

    /// The environment a program gets: `LABRUN_SERVER_IP`, `LABRUN_CLIENT_IP`,
    /// `LABRUN_PORT`, `LABRUN_STUDENT_ID`, `LABRUN_STUDENT_NAME`.
    pub fn env(&self) -> Vec<(String, String)> {
        self.pairs()
            .iter()
            .map(|(k, v)| (format!("LABRUN_{}", k.to_ascii_uppercase()), v.to_string()))
            .collect()
    }

    /// `word` with each `{name}` replaced; an unknown `{name}`, or `{port}` when the lab
    /// gave no port, is an error that lists what there is.
    pub fn fill(&self, word: &str) -> Result<String, ProgramError> {
        let mut out = String::with_capacity(word.len());
        let mut rest = word;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            if name_len == 0 || !after[name_len..].starts_with('}') {
                out.push('{');
                rest = after;
                continue;
            }
            let name = &after[..name_len];
            let Some((_, value)) = self.pairs().into_iter().find(|(k, _)| *k == name) else {
                let known: Vec<String> = self
                    .pairs()
                    .iter()
                    .map(|(k, _)| format!("{{{k}}}"))
                    .collect();
                return Err(ProgramError::Command(format!(
                    "unknown placeholder {{{name}}} in `{word}`: labrun knows {}",
                    known.join(", ")
                )));
            };
            if value.is_empty() {
                return Err(ProgramError::Command(format!(
                    "{{{name}}} in `{word}` has no value in this lab"
                )));
            }
            out.push_str(value);
            rest = &after[name_len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Quotes `word` for showing a command line (a word with blanks or quotes in single quotes).
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%{}".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell_without_one() {
        assert_eq!(
            split_words("python3 server.py 8888").unwrap(),
            ["python3", "server.py", "8888"]
        );
        assert_eq!(
            split_words(r#"./client  '10.77.0.2'  "a b" c\ d "x\"y" ''"#).unwrap(),
            ["./client", "10.77.0.2", "a b", "c d", "x\"y", ""]
        );
        for (cmd, why) in [
            ("python3 s.py > log", "`>` is shell syntax"),
            ("a | b", "`|` is shell syntax"),
            ("a; rm -rf x", "`;` is shell syntax"),
            ("echo $HOME", "no $variables"),
            ("'open", "not closed"),
            ("  ", "empty"),
        ] {
            let e = split_words(cmd).unwrap_err().to_string();
            assert!(e.contains(why), "{cmd}: {e}");
        }
        assert_eq!(split_words("echo 'a > b'").unwrap(), ["echo", "a > b"]);
    }

    #[test]
    fn placeholders_fill_words_and_the_environment() {
        let p = Placeholders {
            server_ip: "10.77.0.2".into(),
            client_ip: "10.77.0.1".into(),
            port: "8888".into(),
            student_id: "20215120807".into(),
            student_name: "Li Yihang".into(),
        };
        assert_eq!(p.fill("{server_ip}:{port}").unwrap(), "10.77.0.2:8888");
        assert_eq!(p.fill("{student_name}").unwrap(), "Li Yihang");
        assert_eq!(p.fill("a{b").unwrap(), "a{b");
        assert_eq!(p.fill("{X}").unwrap(), "{X}");
        let e = p.fill("{host}").unwrap_err().to_string();
        assert!(
            e.contains("unknown placeholder {host}") && e.contains("{port}"),
            "{e}"
        );
        let env = p.env();
        assert!(env.contains(&("LABRUN_PORT".into(), "8888".into())));
        assert!(env.contains(&("LABRUN_STUDENT_NAME".into(), "Li Yihang".into())));
        let none = Placeholders::default();
        assert!(
            none.fill("{port}")
                .unwrap_err()
                .to_string()
                .contains("no value")
        );
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("server.py"), "server.py");
    }
}
