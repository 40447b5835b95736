//! Matching ICMP echo replies to their requests ("request in N").

use std::collections::HashMap;
use std::net::IpAddr;

use labrun_wire::{IcmpRepr, IpRepr};

/// Most outstanding echo requests remembered; older ones are forgotten so
/// memory stays bounded on long captures.
const MAX_PENDING: usize = 65_536;

/// Remembers echo requests until their reply shows up.
#[derive(Debug, Default)]
pub(crate) struct EchoMatcher {
    pending: HashMap<(IpAddr, IpAddr, u16, u16), u64>,
}

impl EchoMatcher {
    /// Records a request, or returns the request frame that a reply answers.
    pub fn observe(&mut self, number: u64, ip: &IpRepr, icmp: &IcmpRepr) -> Option<u64> {
        let (id, seq) = icmp.echo()?;
        match icmp.icmp_type {
            8 => {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.clear();
                }
                self.pending
                    .entry((ip.src, ip.dst, id, seq))
                    .or_insert(number);
                None
            }
            0 => self.pending.get(&(ip.dst, ip.src, id, seq)).copied(),
            _ => None,
        }
    }
}
