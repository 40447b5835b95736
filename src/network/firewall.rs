//! Firewall rules for a sandbox host: ports whose packets are dropped (a scan sees no
//! answer: filtered) or rejected with ICMP port unreachable, and outgoing RSTs that are
//! dropped (the kernel's answer to a SYN-ACK for a crafted SYN never leaves). Applied with the `nft` program
//! run inside the host's network namespace (`sandbox::nft`), in labrun's own table `inet labrun`, so they
//! never touch this machine's firewall and vanish with the sandbox.

use super::{Host, NetworkError};

/// The rules of one host: incoming TCP to these ports is dropped or rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Firewall {
    /// Ports whose incoming TCP segments are silently dropped.
    pub drop: Vec<u16>,
    /// Ports whose incoming TCP segments are answered with ICMP port unreachable.
    pub reject: Vec<u16>,
    /// Local ports whose outgoing RSTs are dropped before they reach the wire.
    pub drop_rst_from: Vec<u16>,
}

impl Firewall {
    /// The nftables script that replaces labrun's table with these rules.
    pub fn script(&self) -> String {
        let mut rules = String::new();
        let set = |ports: &[u16]| {
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.drop.is_empty() {
            rules.push_str(&format!("    tcp dport {{ {} }} drop\n", set(&self.drop)));
        }
        if !self.reject.is_empty() {
            rules.push_str(&format!(
                "    tcp dport {{ {} }} reject with icmpx type port-unreachable\n",
                set(&self.reject)
            ));
        }
        let output = if self.drop_rst_from.is_empty() {
            String::new()
        } else {
            format!(
                "  chain output {{\n    type filter hook output priority filter; policy accept;\n    tcp sport {{ {} }} tcp flags & rst != 0 drop\n  }}\n",
                set(&self.drop_rst_from)
            )
        };
        format!(
            "table inet labrun\ndelete table inet labrun\ntable inet labrun {{\n  chain input {{\n    type filter hook input priority filter; policy accept;\n{rules}  }}\n{output}}}\n"
        )
    }
}

impl Host {
    /// Replaces this sandbox host's firewall rules; returns the ruleset as `nft list` shows it.
    pub fn set_firewall(&self, rules: &Firewall) -> Result<String, NetworkError> {
        self.require_sandbox("firewall")?;
        nft(self, &rules.script())?;
        nft(self, "list table inet labrun\n")
    }

    /// Removes every rule labrun added to this sandbox host.
    pub fn clear_firewall(&self) -> Result<(), NetworkError> {
        self.require_sandbox("firewall")?;
        nft(self, "table inet labrun\ndelete table inet labrun\n").map(|_| ())
    }

    /// Refuses rules (`what`) on a host outside labrun's sandbox.
    pub(super) fn require_sandbox(&self, what: &str) -> Result<(), NetworkError> {
        if self.has_context() {
            Ok(())
        } else {
            Err(NetworkError::Firewall(format!(
                "`{}` is not a sandbox host: {what} rules here would change this machine's own firewall, so labrun adds them only inside its sandbox",
                self.name()
            )))
        }
    }
}

/// Runs `nft -f -` with `script` inside `host`'s namespace; returns its output.
#[cfg(target_os = "linux")]
pub(super) fn nft(host: &Host, script: &str) -> Result<String, NetworkError> {
    crate::sandbox::nft(
        |command| {
            host.within("firewall", || command.spawn())
                .map_err(|e| e.message)
        },
        script,
    )
    .map_err(|e| NetworkError::Firewall(format!("in `{}`: {e}", host.name())))
}

/// Without Linux there is no sandbox host to set rules on.
#[cfg(not(target_os = "linux"))]
pub(super) fn nft(_host: &Host, _script: &str) -> Result<String, NetworkError> {
    Err(NetworkError::Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_replaces_labruns_table() {
        let s = Firewall {
            drop: vec![25],
            reject: vec![110, 111],
            drop_rst_from: vec![],
        }
        .script();
        assert!(!s.contains("chain output"), "{s}");
        assert!(
            s.starts_with("table inet labrun\ndelete table inet labrun\n"),
            "{s}"
        );
        assert!(s.contains("tcp dport { 25 } drop"), "{s}");
        assert!(
            s.contains("tcp dport { 110, 111 } reject with icmpx type port-unreachable"),
            "{s}"
        );
        let out = Firewall {
            drop_rst_from: vec![40000],
            ..Firewall::default()
        }
        .script();
        assert!(
            out.contains("hook output")
                && out.contains("tcp sport { 40000 } tcp flags & rst != 0 drop"),
            "{out}"
        );
    }
}
