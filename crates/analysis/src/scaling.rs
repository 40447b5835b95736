//! What each connection's handshake announced about window scaling and SACK (RFC 7323,
//! RFC 2018), with one segment that shows a scaled window: the facts a report needs to
//! explain a `Win=` above 65535 and `WS=`/`SACK_PERM` in the Info column. Pure: it reads
//! the packets the analyzer already made.

use crate::{Packet, WinScale};
use labrun_wire::TcpFlags;

/// What one end's SYN (or SYN-ACK) announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynAnnounce {
    /// Frame of the SYN.
    pub frame: u64,
    /// The window scale option's shift count, if the SYN carried one.
    pub shift: Option<u8>,
    /// True when the SYN carried SACK permitted.
    pub sack_perm: bool,
}

/// A segment whose window field Wireshark shows scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaledWindow {
    /// Frame number.
    pub frame: u64,
    /// The 16-bit window field on the wire (`tcp.window_size_value`).
    pub field: u16,
    /// The shift applied to it.
    pub shift: u8,
    /// field × 2^shift (`tcp.window_size`), what the Info column's `Win=` shows.
    pub scaled: u32,
}

/// The window-scaling and SACK facts of one TCP stream whose SYN and SYN-ACK were captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowScaling {
    /// Wireshark's `tcp.stream`.
    pub stream: u32,
    /// The client's SYN.
    pub client: SynAnnounce,
    /// The server's SYN-ACK.
    pub server: SynAnnounce,
    /// The segment with the largest scaled window that differs from its field (the first
    /// such segment on a tie), if any.
    pub example: Option<ScaledWindow>,
}

impl WindowScaling {
    /// True when both SYNs carried the option, so both directions scale (RFC 7323, 2.2).
    pub fn scaling_on(&self) -> bool {
        self.client.shift.is_some() && self.server.shift.is_some()
    }

    /// True when both SYNs carried SACK permitted, so SACK may be used (RFC 2018).
    pub fn sack_on(&self) -> bool {
        self.client.sack_perm && self.server.sack_perm
    }

    /// True when `other` announced the same options (shifts and SACK) in both SYNs.
    pub fn same_options(&self, other: &WindowScaling) -> bool {
        let key = |a: &SynAnnounce| (a.shift, a.sack_perm);
        key(&self.client) == key(&other.client) && key(&self.server) == key(&other.server)
    }
}

/// The streams of `packets` whose first SYN and SYN-ACK were both captured and at least
/// one of them announced window scaling or SACK permitted, in `tcp.stream` order.
pub fn window_scaling(packets: &[Packet]) -> Vec<WindowScaling> {
    // Per stream: the first SYN, the first SYN-ACK, the best example so far.
    let mut found: Vec<(
        Option<SynAnnounce>,
        Option<SynAnnounce>,
        Option<ScaledWindow>,
    )> = Vec::new();
    for p in packets {
        let Some(t) = &p.tcp else { continue };
        let i = t.stream as usize;
        if found.len() <= i {
            found.resize(i + 1, (None, None, None));
        }
        let entry = &mut found[i];
        let announce = SynAnnounce {
            frame: p.number,
            shift: t.options.wscale,
            sack_perm: t.options.sack_perm,
        };
        if t.flags.contains(TcpFlags::SYN) {
            let slot = if t.flags.contains(TcpFlags::ACK) {
                &mut entry.1
            } else {
                &mut entry.0
            };
            slot.get_or_insert(announce);
            continue;
        }
        let (Some(scaled), WinScale::Shift(shift)) = (t.window_size, t.win_scale) else {
            continue;
        };
        if scaled == u32::from(t.window_value) {
            continue;
        }
        if entry.2.is_none_or(|e| scaled > e.scaled) {
            entry.2 = Some(ScaledWindow {
                frame: p.number,
                field: t.window_value,
                shift,
                scaled,
            });
        }
    }
    found
        .into_iter()
        .enumerate()
        .filter_map(|(i, (c, s, example))| {
            let (client, server) = (c?, s?);
            let any = client.shift.is_some()
                || server.shift.is_some()
                || client.sack_perm
                || server.sack_perm;
            any.then_some(WindowScaling {
                stream: i as u32,
                client,
                server,
                example,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RawFrame, Trace};
    use etherparse::{PacketBuilder, TcpOptionElement};
    use labrun_wire::LinkType;

    fn seg(
        from_client: bool,
        seq: u32,
        ack: Option<u32>,
        syn: bool,
        opts: &[TcpOptionElement],
        win: u16,
    ) -> RawFrame {
        let (src, dst, sport, dport) = if from_client {
            ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
        };
        let mut b = PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4(src, dst, 64)
            .tcp(sport, dport, seq, win);
        if syn {
            b = b.syn();
        }
        if let Some(a) = ack {
            b = b.ack(a);
        }
        let b = b.options(opts).unwrap();
        let mut data = Vec::new();
        b.write(&mut data, &[]).unwrap();
        RawFrame {
            ts_sec: 1,
            ts_nsec: 0,
            orig_len: data.len() as u32,
            data,
        }
    }

    fn trace(client_ws: Option<u8>, server_ws: Option<u8>) -> Trace {
        let opts = |ws: Option<u8>| {
            let mut o = vec![TcpOptionElement::SelectiveAcknowledgementPermitted];
            if let Some(s) = ws {
                o.push(TcpOptionElement::WindowScale(s));
            }
            o
        };
        let frames = [
            seg(true, 1000, None, true, &opts(client_ws), 64240),
            seg(false, 5000, Some(1001), true, &opts(server_ws), 65160),
            seg(true, 1001, Some(5001), false, &[], 63),
            seg(false, 5001, Some(1001), false, &[], 69),
        ];
        Trace::analyze(LinkType::Ethernet, frames.iter())
    }

    #[test]
    fn both_shifts_scale_and_the_largest_window_is_the_example() {
        let t = trace(Some(10), Some(10));
        let facts = window_scaling(&t.packets);
        assert_eq!(facts.len(), 1);
        let f = facts[0];
        assert!(f.scaling_on() && f.sack_on());
        assert_eq!((f.client.frame, f.client.shift), (1, Some(10)));
        assert_eq!((f.server.frame, f.server.shift), (2, Some(10)));
        let e = f.example.unwrap();
        assert_eq!((e.frame, e.field, e.shift, e.scaled), (4, 69, 10, 70656));
        // The same numbers Wireshark shows in the Info column.
        assert!(
            t.packets[3].info.contains("Win=70656"),
            "{}",
            t.packets[3].info
        );
    }

    #[test]
    fn one_sided_scaling_scales_nothing() {
        let t = trace(Some(7), None);
        let f = window_scaling(&t.packets)[0];
        assert!(!f.scaling_on() && f.sack_on());
        assert_eq!(f.example, None);
        assert!(
            t.packets[3].info.contains("Win=69"),
            "{}",
            t.packets[3].info
        );
    }

    #[test]
    fn a_stream_without_its_syn_ack_is_left_out() {
        let t = trace(Some(7), Some(7));
        assert!(window_scaling(&t.packets[..1]).is_empty());
        assert!(window_scaling(&[]).is_empty());
    }
}
