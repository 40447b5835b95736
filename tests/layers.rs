//! The layers the workspace promises (docs/architecture.md), checked on the real manifest
//! and sources: the wire and analysis crates stay free of rhai, capture, sockets, threads,
//! the terminal and the command line, and do no file, process or terminal I/O.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

/// Crates the two library crates must never reach, directly or through a dependency.
const FORBIDDEN: &[&str] = &[
    "rhai",
    "pcap",
    "socket2",
    "mio",
    "tungstenite",
    "indicatif",
    "clap",
];

/// Every package `root` depends on (normal dependencies, transitively), from `cargo metadata`.
fn dependency_closure(meta: &serde_json::Value, root: &str) -> BTreeSet<String> {
    let packages = meta["packages"].as_array().expect("packages");
    let name_of: HashMap<&str, &str> = packages
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let nodes: HashMap<&str, &serde_json::Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("resolve")
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    let start = packages
        .iter()
        .find(|p| p["name"] == root)
        .and_then(|p| p["id"].as_str())
        .unwrap_or_else(|| panic!("{root} is not a workspace package"));
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(id) = todo.pop() {
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            let dep_id = dep["pkg"].as_str().unwrap();
            if normal && seen.insert(name_of[dep_id].to_string()) {
                todo.push(dep_id);
            }
        }
    }
    seen
}

#[test]
fn wire_and_analysis_depend_on_no_io_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let members = meta["workspace_members"].as_array().expect("members").len();
    assert!(members >= 3, "the workspace has {members} members");
    for krate in ["labrun-wire", "labrun-analysis"] {
        let deps = dependency_closure(&meta, krate);
        let bad: Vec<&&str> = FORBIDDEN.iter().filter(|f| deps.contains(**f)).collect();
        assert!(bad.is_empty(), "{krate} depends on {bad:?} (all: {deps:?})");
    }
    let analysis = dependency_closure(&meta, "labrun-analysis");
    assert!(analysis.contains("labrun-wire"));
}

#[test]
fn wire_and_analysis_sources_do_no_io() {
    // What a decoding or analysis file must not name: files, processes, threads, sockets,
    // the terminal, the environment, the clock.
    const IO: &[&str] = &[
        "std::fs",
        "std::process",
        "std::thread",
        "std::net::Tcp",
        "std::net::Udp",
        "std::io::stdin",
        "std::io::stdout",
        "std::io::stderr",
        "println!",
        "eprintln!",
        "std::env",
        "SystemTime::now",
        "Instant::now",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for krate in ["crates/wire/src", "crates/analysis/src"] {
        for entry in std::fs::read_dir(root.join(krate)).expect("crate sources") {
            let path = entry.expect("entry").path();
            // tests.rs holds a crate's unit tests (declared under #[cfg(test)]).
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            // Unit tests may print; the library may not.
            let lib = text.split("#[cfg(test)]").next().unwrap_or("");
            for needle in IO {
                assert!(!lib.contains(needle), "{} uses {needle}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} source files found");
}
