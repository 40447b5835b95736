//! Turning Rhai's errors into `file:line:col: message` lines that name the function.

use crate::sockets::SockError;
use rhai::{EvalAltResult, ParseError, Position};
use std::fmt;

/// A script error located in a file: what a student or instructor sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The script (or imported module) file.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub col: usize,
    /// The message, starting with the function that failed where one did.
    pub message: String,
    /// Call sites from the innermost caller outwards, e.g. `labs/chat.rhai:30:5 (explain)`.
    pub called_from: Vec<String>,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )?;
        } else {
            write!(f, "{}: {}", self.file, self.message)?;
        }
        for c in &self.called_from {
            write!(f, "\n  called from {c}")?;
        }
        Ok(())
    }
}

fn pos_of(pos: Position) -> (usize, usize) {
    (pos.line().unwrap_or(0), pos.position().unwrap_or(0))
}

/// Locates a syntax error in `file`.
pub fn from_parse(file: &str, err: &ParseError) -> ScriptError {
    let (line, col) = pos_of(err.position());
    ScriptError {
        file: file.to_string(),
        line,
        col,
        message: format!("syntax error: {}", err.err_type()),
        called_from: Vec::new(),
    }
}

/// Locates a runtime error, following calls into script functions and modules.
pub fn from_eval(file: &str, err: &EvalAltResult) -> ScriptError {
    let mut file = file.to_string();
    let mut called_from = Vec::new();
    let mut current = err;
    let mut function: Option<String> = None;
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) => {
                let (l, c) = pos_of(*pos);
                // A call from labrun itself (a server handler) has no script position.
                if l > 0 {
                    called_from.push(format!("{file}:{l}:{c} (call to `{name}`)"));
                }
                if !source.is_empty() {
                    file = source.clone();
                }
                function = Some(name.clone());
                current = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                let (l, c) = pos_of(*pos);
                called_from.push(format!("{file}:{l}:{c} (import \"{path}\")"));
                file = path.clone();
                current = inner;
            }
            _ => break,
        }
    }
    called_from.reverse();
    let (mut line, mut col) = pos_of(current.position());
    let mut message = describe(current);
    if let EvalAltResult::ErrorDataRace(_, _) = current {
        let source = std::fs::read_to_string(&file).unwrap_or_default();
        let (at, hint) = data_race_hint(&source, &message);
        if line == 0 {
            if let Some((l, c)) = at {
                (line, col) = (l, c);
            }
        }
        message.push_str(&hint);
    }
    if let Some(f) = function {
        message = format!("in function `{f}`: {message}");
    }
    ScriptError {
        file,
        line,
        col,
        message,
        called_from,
    }
}

/// Rhai reports a data race (a closure reading a variable that the call it is passed to is
/// made through, as in `s.packets.some(|p| p.x == s.y)`) without a position. Finds the
/// call in `source`: the lines with `.name(` and a closure; with exactly one, its line and
/// column; and the advice that fixes it.
fn data_race_hint(source: &str, message: &str) -> (Option<(usize, usize)>, String) {
    let name = message.split('\'').nth(1).unwrap_or("");
    let call = format!(".{name}(");
    let lines: Vec<(usize, usize)> = source
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let c = l.find(&call)?;
            l[c..].contains('|').then_some((i + 1, c + 2))
        })
        .collect();
    let advice = " (a closure passed to it reads a variable that the call is made through; copy what the closure needs into a variable of its own first, e.g. `let server = s.server;`)";
    match lines.as_slice() {
        [one] => (Some(*one), advice.to_string()),
        [] => (None, advice.to_string()),
        many => {
            let list: Vec<String> = many.iter().map(|(l, _)| l.to_string()).collect();
            (
                None,
                format!(
                    "{advice}; it is one of the calls on lines {}",
                    list.join(", ")
                ),
            )
        }
    }
}

/// The error's text without Rhai's own position suffix.
fn describe(err: &EvalAltResult) -> String {
    match err {
        EvalAltResult::ErrorRuntime(value, _) => {
            if let Some(e) = value.clone().try_cast::<SockError>() {
                e.to_string()
            } else if value.is_string() {
                value.to_string()
            } else {
                format!("error thrown: {value}")
            }
        }
        EvalAltResult::ErrorTooManyOperations(_) => {
            "the script ran too many operations without finishing (an endless loop?); labrun stopped it".to_string()
        }
        EvalAltResult::ErrorTerminated(token, _) => token.to_string(),
        EvalAltResult::ErrorStackOverflow(_) => {
            "functions call each other too deeply (endless recursion?)".to_string()
        }
        _ => strip_position(&err.to_string()),
    }
}

/// Rhai's Display ends with ` (line L, position C)`; the location is printed in front instead.
fn strip_position(text: &str) -> String {
    match text.rfind(" (line ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_race_is_located_and_explained() {
        let src = "let t = #{ a: [1], b: 1 };\nlet ok = t.a.some(|p| p == t.b);\n";
        let (at, hint) =
            data_race_hint(src, "Data race detected on argument #1 of function 'some'");
        assert_eq!(at, Some((2, 14)));
        assert!(hint.contains("copy what the closure needs"), "{hint}");
        let two = format!("{src}let no = t.a.some(|p| p == t.b);\n");
        let (at, hint) =
            data_race_hint(&two, "Data race detected on argument #1 of function 'some'");
        assert_eq!(at, None);
        assert!(hint.ends_with("lines 2, 3"), "{hint}");
    }

    fn run(script: &str) -> ScriptError {
        let engine = rhai::Engine::new();
        let mut ast = engine.compile(script).unwrap();
        ast.set_source("labs/t.rhai");
        let err = engine.run_ast(&ast).unwrap_err();
        from_eval("labs/t.rhai", &err)
    }

    #[test]
    fn runtime_errors_point_into_functions() {
        let e = run("fn inner(x) {\n  x.no_such_method()\n}\nlet a = 1;\ninner(a);\n");
        assert_eq!((e.line, e.col), (2, 5));
        assert!(
            e.message.starts_with("in function `inner`:"),
            "{}",
            e.message
        );
        assert!(
            e.called_from[0].starts_with("labs/t.rhai:5:1"),
            "{:?}",
            e.called_from
        );
        assert!(
            e.to_string()
                .starts_with("labs/t.rhai:2:5: in function `inner`")
        );
    }

    #[test]
    fn thrown_strings_keep_their_text() {
        let e = run("let x = 1;\nthrow \"boom\";\n");
        assert_eq!(e.to_string(), "labs/t.rhai:2:1: boom");
    }

    #[test]
    fn syntax_errors_are_located() {
        let engine = rhai::Engine::new();
        let err = engine.compile("let x = ;").unwrap_err();
        let e = from_parse("labs/t.rhai", &err);
        assert_eq!(e.line, 1);
        assert!(e.message.starts_with("syntax error"));
    }
}
