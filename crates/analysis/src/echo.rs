//! Matching ICMP echo replies to their requests ("request in N").

use std::collections::HashMap;
use std::net::IpAddr;

use labrun_wire::IpRepr;

/// Most outstanding echo requests remembered; older ones are forgotten so
/// memory stays bounded on long captures.
const MAX_PENDING: usize = 65_536;

/// The key of an echo exchange: Wireshark matches a reply to a request within the
/// conversation of the two addresses, whichever way each of them went.
fn conversation(ip: &IpRepr, id: u16, seq: u16) -> (IpAddr, IpAddr, u16, u16) {
    let (a, b) = if ip.src <= ip.dst {
        (ip.src, ip.dst)
    } else {
        (ip.dst, ip.src)
    };
    (a, b, id, seq)
}

/// Remembers echo requests until their reply shows up.
#[derive(Debug, Default)]
pub(crate) struct EchoMatcher {
    pending: HashMap<(IpAddr, IpAddr, u16, u16), u64>,
}

impl EchoMatcher {
    /// Records an echo request (`request`), or returns the request frame that a reply
    /// answers; ICMPv4 and ICMPv6 alike, keyed by addresses, identifier and sequence.
    pub fn observe(
        &mut self,
        number: u64,
        ip: &IpRepr,
        request: bool,
        id: u16,
        seq: u16,
    ) -> Option<u64> {
        if request {
            if self.pending.len() >= MAX_PENDING {
                self.pending.clear();
            }
            self.pending
                .entry(conversation(ip, id, seq))
                .or_insert(number);
            None
        } else {
            self.pending.get(&conversation(ip, id, seq)).copied()
        }
    }
}
