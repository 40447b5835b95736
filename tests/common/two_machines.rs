//! Two namespaces made by a test standing in for two machines joined by a cable
//! (10.78.0.1 and 10.78.0.2), for `--network host` tests.

use std::process::Command;

/// Two named namespaces joined by a veth pair, removed on drop.
pub struct TwoMachines {
    /// The first machine's namespace (10.78.0.1 on ethA).
    pub a: String,
    /// The second machine's namespace (10.78.0.2 on ethB).
    pub b: String,
}

fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

impl TwoMachines {
    /// Makes the two namespaces, named after `tag` and this process.
    pub fn new(tag: &str) -> TwoMachines {
        let id = std::process::id();
        let m = TwoMachines {
            a: format!("lrtest-{tag}-a-{id}"),
            b: format!("lrtest-{tag}-b-{id}"),
        };
        ip(&["netns", "add", &m.a]);
        ip(&["netns", "add", &m.b]);
        ip(&[
            "link", "add", "ethA", "netns", &m.a, "type", "veth", "peer", "name", "ethB", "netns",
            &m.b,
        ]);
        for (ns, dev, addr) in [
            (&m.a, "ethA", "10.78.0.1/24"),
            (&m.b, "ethB", "10.78.0.2/24"),
        ] {
            ip(&["-n", ns, "addr", "add", addr, "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        m
    }
}

impl Drop for TwoMachines {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
