//! The script API reference, generated from the engine's own metadata (`labrun api`):
//! every registered function with its parameter names, types and doc comment, grouped by
//! the type it works on, so the reference can never drift from the code.

use rhai::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One documented function or property.
#[derive(Debug, Clone)]
struct Entry {
    /// How a script writes it: `host.connect(addr: string) -> TcpConn`, `packet.seq -> int`.
    usage: String,
    /// The doc comment, without the `///`.
    doc: String,
}

/// Rhai's Rust-flavoured type names, as a script author reads them.
fn script_type(t: &str) -> String {
    let t = t.trim().trim_start_matches("&mut ").trim_start_matches('&');
    // Fallible natives return ApiResult<T> (or Result<T, ..>): the script sees T.
    for wrapper in ["ApiResult<", "Result<"] {
        if let Some(inner) = t.strip_prefix(wrapper).and_then(|r| r.strip_suffix('>')) {
            let inner = inner.split(", Box<").next().unwrap_or(inner);
            return script_type(inner);
        }
    }
    match t {
        "i64" | "INT" => "int".into(),
        "f64" | "FLOAT" => "float".into(),
        "bool" => "bool".into(),
        "String" | "str" | "ImmutableString" => "string".into(),
        "()" => "()".into(),
        "Dynamic" => "any".into(),
        "Array" | "Vec<Dynamic>" => "array".into(),
        "Map" => "map".into(),
        "Blob" | "Vec<u8>" => "blob".into(),
        "FnPtr" => "Fn".into(),
        other => {
            let name = other.rsplit("::").next().unwrap_or(other);
            // Rust names of script types, as scripts know them.
            match name {
                "TraceRef" => "Trace",
                "PacketRef" => "Packet",
                "StreamRef" => "TcpStream",
                "ScriptCapture" => "Capture",
                "ScriptServer" => "Server",
                "UdpSock" => "UdpSocket",
                "ProgramSpec" => "UserProgram",
                "Program" => "Process",
                n => n,
            }
            .to_string()
        }
    }
}

fn doc_of(f: &Value) -> String {
    f.get("docComments")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .filter_map(Value::as_str)
                .flat_map(|c| c.lines())
                .map(|l| l.trim().trim_start_matches("///").trim())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Builds the reference as Markdown from `engine`'s registered functions (labrun's own,
/// not Rhai's standard library).
pub fn api_markdown(engine: &Engine) -> String {
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let meta: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
    let mut groups: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    let functions = meta
        .get("functions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for f in &functions {
        let Some(name) = f.get("name").and_then(Value::as_str) else {
            continue;
        };
        if name.starts_with("set$") || name.starts_with("anon$") {
            continue;
        }
        let params: Vec<(String, String)> = f
            .get("params")
            .and_then(Value::as_array)
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let n = p
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("_")
                            .to_string();
                        let t = p.get("type").and_then(Value::as_str).unwrap_or("?");
                        (n, script_type(t))
                    })
                    .filter(|(n, _)| n != "ctx" && n != "_ctx")
                    .collect()
            })
            .unwrap_or_default();
        let ret = f
            .get("returnType")
            .and_then(Value::as_str)
            .map(script_type)
            .filter(|t| t != "()")
            .map(|t| format!(" -> {t}"))
            .unwrap_or_default();
        let (group, usage) = if let Some(prop) = name.strip_prefix("get$") {
            let owner = params.first().map(|(_, t)| t.clone()).unwrap_or_default();
            (owner.clone(), format!("{}.{prop}{ret}", lower(&owner)))
        } else {
            let is_method = params.first().is_some_and(|(_, t)| is_custom(t));
            if is_method {
                let owner = params[0].1.clone();
                let rest = fmt_params(&params[1..]);
                (
                    owner.clone(),
                    format!("{}.{name}({rest}){ret}", lower(&owner)),
                )
            } else {
                (
                    "functions".to_string(),
                    format!("{name}({}){ret}", fmt_params(&params)),
                )
            }
        };
        groups.entry(group).or_default().push(Entry {
            usage,
            doc: doc_of(f),
        });
    }
    let mut md = String::from(
        "# labrun script API\n\nGenerated by `labrun api` from the functions labrun registers \
         (names, types and doc comments come from the code itself). Rhai's own language and \
         standard library are described at https://rhai.rs/book/.\n",
    );
    let order = |g: &str| if g == "functions" { 0 } else { 1 };
    let mut names: Vec<&String> = groups.keys().collect();
    names.sort_by_key(|g| (order(g), g.to_string()));
    for g in names {
        let mut entries = groups[g].clone();
        entries.sort_by(|a, b| a.usage.cmp(&b.usage));
        entries.dedup_by(|a, b| a.usage == b.usage);
        let title = if g == "functions" {
            "Global functions".to_string()
        } else {
            format!("`{g}`")
        };
        let _ = writeln!(md, "\n## {title}\n");
        for e in entries {
            let _ = writeln!(md, "- `{}` — {}", e.usage, e.doc);
        }
    }
    md
}

fn fmt_params(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(n, t)| format!("{n}: {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_custom(t: &str) -> bool {
    t.chars().next().is_some_and(char::is_uppercase) && t != "Fn"
}

fn lower(t: &str) -> String {
    let mut out = String::new();
    for (i, c) in t.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_documented() {
        let mut engine = Engine::new();
        crate::script::register(&mut engine);
        let md = api_markdown(&engine);
        assert!(md.contains("host.connect(addr: string) -> TcpConn"), "{md}");
        assert!(md.contains("packet.seq -> int"), "{md}");
        let undocumented: Vec<&str> = md.lines().filter(|l| l.ends_with(" — ")).collect();
        assert!(
            undocumented.is_empty(),
            "functions without a doc comment: {undocumented:#?}"
        );
    }
}
