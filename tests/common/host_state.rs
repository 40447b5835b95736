//! What a lab must leave as it found it: the root namespace's links and named namespaces.

use std::process::Command;

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The interface names of the root network namespace, comma-separated.
pub fn root_links() -> String {
    ip(&["-o", "link"])
        .lines()
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `ip netns list` as printed.
pub fn netns_list() -> String {
    ip(&["netns", "list"])
}
