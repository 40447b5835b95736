//! Deterministic loss on the lab link: chosen TCP segments of one direction dropped on the
//! receiving host's ingress (nftables, in labrun's own table `inet labrun_link`), each rule
//! with a counter so the run knows what it really dropped. No netem: these kernels have
//! none, and a rule on the receiver sees the segments as they travel the wire (on the
//! sender, the output hook still sees segmentation offload's super-packets).

use super::{Host, NetworkError};

/// One loss: segments of the connection to the server's `port` dropped on their way to
/// the client or to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    /// true: segments from the client to the server; false: from the server to the client.
    pub to_server: bool,
    /// The server's port of the connection.
    pub port: u16,
    /// The first segment dropped, counted from 1 among the sender's segments after the
    /// three-way handshake (data, a FIN, pure ACKs alike; a retransmission counts again).
    pub segment: u32,
    /// How many consecutive segments are dropped from `segment` on (a segment and its
    /// retransmissions, when nothing else is in flight), at least 1.
    pub times: u32,
}

impl Loss {
    /// The conntrack packet numbers this loss drops: the client's handshake takes two
    /// packets (SYN, ACK), the server's one (SYN-ACK).
    pub fn packets(&self) -> (u64, u64) {
        let skip = if self.to_server { 2 } else { 1 };
        let first = u64::from(self.segment) + skip;
        (first, first + u64::from(self.times.max(1)) - 1)
    }

    /// The nftables rule of this loss on the receiving host (the server for `to_server`).
    fn rule(&self) -> String {
        let (first, last) = self.packets();
        let range = if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        };
        if self.to_server {
            format!(
                "    tcp dport {} ct original packets {range} counter drop\n",
                self.port
            )
        } else {
            format!(
                "    tcp sport {} ct reply packets {range} counter drop\n",
                self.port
            )
        }
    }
}

/// The nftables script that replaces labrun's link table with `losses`, in order.
pub fn loss_script(losses: &[Loss]) -> String {
    let rules: String = losses.iter().map(Loss::rule).collect();
    format!(
        "table inet labrun_link\ndelete table inet labrun_link\ntable inet labrun_link {{\n  chain input {{\n    type filter hook input priority filter - 1; policy accept;\n{rules}  }}\n}}\n"
    )
}

/// The packet counts of the dropping rules in `nft list table` output, in rule order.
pub fn drop_counts(listing: &str) -> Vec<u64> {
    listing
        .lines()
        .filter(|l| l.contains(" drop") && l.contains("counter packets "))
        .filter_map(|l| {
            l.split("counter packets ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

/// Losses set on a sandbox's hosts: what the link will drop and, read back from the
/// rules' counters, what it did drop.
#[derive(Debug, Clone)]
pub struct LinkLoss {
    rules: Vec<(Host, Loss)>,
}

impl LinkLoss {
    /// Sets `losses` on the hosts that receive them (`server` for segments to the server),
    /// replacing earlier ones on both.
    pub fn set(client: &Host, server: &Host, losses: &[Loss]) -> Result<LinkLoss, NetworkError> {
        for host in [client, server] {
            host.require_sandbox("link loss")?;
        }
        let (to_server, to_client): (Vec<Loss>, Vec<Loss>) =
            losses.iter().partition(|l| l.to_server);
        super::firewall::nft(server, &loss_script(&to_server))?;
        super::firewall::nft(client, &loss_script(&to_client))?;
        Ok(LinkLoss {
            rules: losses
                .iter()
                .map(|l| (if l.to_server { server } else { client }.clone(), *l))
                .collect(),
        })
    }

    /// The losses, in the order they were given.
    pub fn losses(&self) -> Vec<Loss> {
        self.rules.iter().map(|(_, l)| *l).collect()
    }

    /// How many segments each loss has dropped so far, in the order they were given
    /// (each host's rules are in the same order as the losses it received).
    pub fn dropped(&self) -> Result<Vec<u64>, NetworkError> {
        let mut counts: Vec<(String, Vec<u64>, usize)> = Vec::new();
        let mut out = Vec::with_capacity(self.rules.len());
        for (host, _) in &self.rules {
            let at = match counts.iter().position(|(n, _, _)| n == host.name()) {
                Some(at) => at,
                None => {
                    let listing = super::firewall::nft(host, "list table inet labrun_link\n")?;
                    counts.push((host.name().to_string(), drop_counts(&listing), 0));
                    counts.len() - 1
                }
            };
            let (_, listed, next) = &mut counts[at];
            out.push(listed.get(*next).copied().unwrap_or(0));
            *next += 1;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_count_past_the_handshake_of_each_side() {
        let to_server = Loss {
            to_server: true,
            port: 8888,
            segment: 1,
            times: 2,
        };
        let to_client = Loss {
            to_server: false,
            port: 8888,
            segment: 3,
            times: 1,
        };
        assert_eq!(to_server.packets(), (3, 4));
        assert_eq!(to_client.packets(), (4, 4));
        let s = loss_script(&[to_server, to_client]);
        assert!(
            s.starts_with("table inet labrun_link\ndelete table inet labrun_link\n"),
            "{s}"
        );
        assert!(
            s.contains("tcp dport 8888 ct original packets 3-4 counter drop"),
            "{s}"
        );
        assert!(
            s.contains("tcp sport 8888 ct reply packets 4 counter drop"),
            "{s}"
        );
    }

    #[test]
    fn counters_are_read_in_rule_order() {
        let listing = "table inet labrun_link {\n\tchain input {\n\t\ttype filter hook input priority filter - 1; policy accept;\n\t\ttcp dport 8888 ct original packets 3-4 counter packets 2 bytes 200 drop\n\t\ttcp dport 8889 ct original packets 5 counter packets 0 bytes 0 drop\n\t}\n}\n";
        assert_eq!(drop_counts(listing), [2, 0]);
    }
}
