//! Which `-- key=value` arguments a lab takes, read from its source before it runs, so a
//! mistyped key is refused instead of silently ignored.
//!
//! A lab declares a key by reading it with a literal name: `arg("port", 8888)`,
//! `args.port`, `args["port"]` or `"port" in args`, in the script or in a module it
//! imports with a literal path. When the script reads `args` any other way (a name in a
//! variable, the whole map passed on, an import whose path is computed), the keys cannot
//! be known from the text and every key is accepted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The keys a lab reads, and whether it may read others too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredArgs {
    /// Keys read with a literal name.
    pub keys: BTreeSet<String>,
    /// The script also reads `args` in a way the scan cannot follow: any key is accepted.
    pub open: bool,
    /// The roles of the user's programs the lab asks for with `program("server")` or
    /// `program("client")`.
    pub programs: BTreeSet<String>,
    /// The lab calls `program(...)` with a role the scan cannot read: any role is taken.
    pub programs_open: bool,
}

impl DeclaredArgs {
    /// The first of `given` keys the lab does not take.
    pub fn unknown<'a>(&self, given: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        if self.open {
            return None;
        }
        given.into_iter().find(|k| !self.keys.contains(*k))
    }

    /// True when the lab may run the user's program for `role` (`server`, `client`).
    pub fn takes_program(&self, role: &str) -> bool {
        self.programs_open || self.programs.contains(role)
    }

    /// "takes port, size" or "takes no arguments".
    pub fn describe(&self) -> String {
        if self.keys.is_empty() {
            "takes no arguments".to_string()
        } else {
            let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
            format!("takes {}", keys.join(", "))
        }
    }
}

/// Most modules followed through imports (a lab imports a handful).
const MAX_MODULES: usize = 64;

/// Scans `source` (the script at `script`) and the modules it imports, resolved as the
/// engine resolves them: relative to the script's folder, with `.rhai` added.
pub fn declared_args(script: &Path, source: &str) -> DeclaredArgs {
    let base = script.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut out = DeclaredArgs::default();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut queue: Vec<String> = vec![source.to_string()];
    while let Some(source) = queue.pop() {
        let (text, code) = lex(&source);
        scan(&text, &code, &mut out);
        for import in imports(&text, &code) {
            match import {
                Some(path) => {
                    let file = base.join(format!("{path}.rhai"));
                    if seen.len() >= MAX_MODULES || !seen.insert(file.clone()) {
                        continue;
                    }
                    // A module that cannot be read fails the run anyway, with its own error.
                    if let Ok(t) = std::fs::read_to_string(&file) {
                        queue.push(t);
                    }
                }
                None => out.open = true,
            }
        }
    }
    out
}

/// Two copies of `src`, byte for byte the same length: `text` with comments blanked, and
/// `code` with string contents blanked too (the code inside a backtick string's `${ }`
/// stays), so words are searched in `code` and literals read from `text` at one offset.
fn lex(src: &str) -> (String, String) {
    let b = src.as_bytes();
    let mut text = b.to_vec();
    let mut code = b.to_vec();
    let blank = |v: &mut Vec<u8>, from: usize, to: usize| {
        for x in &mut v[from..to.min(b.len())] {
            if *x != b'\n' {
                *x = b' ';
            }
        }
    };
    // Open backtick strings, each with the brace depth of the `${` it is inside.
    let mut i = 0;
    let mut interp: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut in_string: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = in_string {
            if c == b'\\' {
                blank(&mut code, i, i + 2);
                i += 2;
                continue;
            }
            if c == q {
                in_string = None;
                i += 1;
                continue;
            }
            if q == b'`' && c == b'$' && b.get(i + 1) == Some(&b'{') {
                interp.push(depth);
                depth += 1;
                in_string = None;
                i += 2;
                continue;
            }
            blank(&mut code, i, i + 1);
            i += 1;
            continue;
        }
        match c {
            b'"' | b'`' => {
                in_string = Some(c);
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut text, i, end);
                blank(&mut code, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                blank(&mut text, i, end);
                blank(&mut code, i, end);
                i = end;
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if interp.last() == Some(&depth) {
                    interp.pop();
                    in_string = Some(b'`');
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    let to_string = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
    (to_string(text), to_string(code))
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Occurrences of the word `word` in `code`: byte offsets of its start.
fn words<'a>(code: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    code.match_indices(word).filter_map(move |(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        let alone =
            !before.is_some_and(|c| is_ident(c) || c == '.') && !after.is_some_and(is_ident);
        alone.then_some(i)
    })
}

/// A string literal (`"..."` or a backtick string without `${`) at the start of `text`:
/// its contents and the rest of the text.
fn literal(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let q = text.chars().next().filter(|c| *c == '"' || *c == '`')?;
    let body = &text[1..];
    let end = body.find(q)?;
    let s = &body[..end];
    if s.contains('\\') || s.contains("${") {
        return None;
    }
    Some((s, &body[end + 1..]))
}

/// Records what every `arg(` and `args` in `code` reads (literals read from `text`), and
/// the role of every `program(` call.
fn scan(text: &str, code: &str, out: &mut DeclaredArgs) {
    for i in words(code, "program") {
        let rest = text[i + 7..].trim_start();
        let Some(call) = rest.strip_prefix('(') else {
            continue;
        };
        match literal(call) {
            Some((role, after)) if after.trim_start().starts_with(')') => {
                out.programs.insert(role.to_string());
            }
            _ => out.programs_open = true,
        }
    }
    for i in words(code, "arg") {
        let rest = text[i + 3..].trim_start();
        let Some(call) = rest.strip_prefix('(') else {
            continue;
        };
        match literal(call) {
            Some((key, after)) if after.trim_start().starts_with(',') => {
                out.keys.insert(key.to_string());
            }
            _ => out.open = true,
        }
    }
    for i in words(code, "args") {
        let rest = text[i + 4..].trim_start();
        if let Some(field) = rest.strip_prefix('.') {
            let name: String = field
                .trim_start()
                .chars()
                .take_while(|c| is_ident(*c))
                .collect();
            let after = field.trim_start()[name.len()..].trim_start();
            // `args.len()`, `args.keys()`...: a method of the map, not a key.
            if !name.is_empty() && !after.starts_with('(') {
                out.keys.insert(name);
                continue;
            }
        } else if let Some(index) = rest.strip_prefix('[') {
            if let Some((key, after)) = literal(index) {
                if after.trim_start().starts_with(']') {
                    out.keys.insert(key.to_string());
                    continue;
                }
            }
        } else if let Some(key) = in_args(&text[..i]) {
            out.keys.insert(key);
            continue;
        }
        out.open = true;
    }
}

/// The key of `"key" in args`, given the code before `args`.
fn in_args(before: &str) -> Option<String> {
    let before = before.trim_end().strip_suffix("in")?;
    let before = before.trim_end();
    let q = before
        .chars()
        .next_back()
        .filter(|c| *c == '"' || *c == '`')?;
    let body = &before[..before.len() - 1];
    let start = body.rfind(q)?;
    let key = &body[start + 1..];
    (!key.contains('\\') && !key.contains("${")).then(|| key.to_string())
}

/// The paths of `import` statements: `Some(path)` for a literal, `None` for a computed one.
fn imports(text: &str, code: &str) -> Vec<Option<String>> {
    words(code, "import")
        .map(|i| literal(&text[i + 6..]).map(|(p, _)| p.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(src: &str) -> DeclaredArgs {
        declared_args(Path::new("lab.rhai"), src)
    }

    #[test]
    fn literal_reads_declare_keys() {
        let d = keys(
            "let p = arg(\"port\", 8888);\nlet s = arg( `size` , 2950);\n\
             if \"mode\" in args { print(`${args.mode} {}`); }\nlet x = args[\"extra\"];\n\
             // arg(\"commented\", 1) and args.gone are comments\n/* args[y] */",
        );
        assert!(!d.open, "{d:?}");
        let k: Vec<&str> = d.keys.iter().map(String::as_str).collect();
        assert_eq!(k, ["extra", "mode", "port", "size"]);
        assert_eq!(d.unknown(["port", "sise"]), Some("sise"));
        assert_eq!(d.describe(), "takes extra, mode, port, size");
    }

    #[test]
    fn program_calls_declare_the_roles_a_lab_takes() {
        let d = keys("let s = program(\"server\");\n// program(\"client\") in a comment");
        assert!(d.takes_program("server"));
        assert!(!d.takes_program("client"));
        assert!(!keys("let x = 1;").takes_program("server"));
        // A method named `program` (`x.program(...)`) is not the function.
        assert!(!keys("let p = x.program(\"client\");").takes_program("client"));
        let open = keys("let r = \"client\"; let p = program(r);");
        assert!(open.takes_program("client") && open.takes_program("server"));
    }

    #[test]
    fn dynamic_reads_accept_any_key() {
        for src in [
            "let k = \"port\"; arg(k, 1);",
            "for k in args.keys() { print(k); }",
            "f(args);",
            "let v = args[name];",
            "print(`${args}`);",
            "import name as m;",
        ] {
            let d = keys(src);
            assert!(d.open, "{src}");
            assert_eq!(d.unknown(["anything"]), None);
        }
    }

    #[test]
    fn no_reads_take_no_arguments() {
        let d = keys("let message = \"args.port\"; // args.port\nlet target = `${1} args`;");
        assert_eq!(d.describe(), "takes no arguments");
        assert_eq!(d.unknown(["port"]), Some("port"));
    }

    #[test]
    fn imported_modules_are_read_too() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(
            dir.path().join("lib/m.rhai"),
            "fn p() { arg(\"depth\", 1) }",
        )
        .unwrap();
        let script = dir.path().join("lab.rhai");
        let d = declared_args(&script, "import \"lib/m\" as m;\nlet p = arg(\"port\", 1);");
        let k: Vec<&str> = d.keys.iter().map(String::as_str).collect();
        assert_eq!(k, ["depth", "port"]);
    }

    #[test]
    fn every_shipped_lab_declares_the_arguments_its_comment_names() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("labs");
        let mut labs = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rhai") {
                continue;
            }
            labs += 1;
            let source = std::fs::read_to_string(&path).unwrap();
            let d = declared_args(&path, &source);
            assert!(!d.open, "{}: {d:?}", path.display());
            let named = source
                .lines()
                .find_map(|l| l.strip_prefix("// Arguments: --"))
                .unwrap_or("");
            for kv in named.split_whitespace().take_while(|w| w.contains('=')) {
                let key = kv.split('=').next().unwrap();
                assert!(d.keys.contains(key), "{}: {key} in {d:?}", path.display());
            }
        }
        assert!(labs >= 9);
    }
}
