//! The TCP state each end enters with each segment of the handshake and the close (RFC 9293,
//! figure 5), inferred from the flags, sequence and acknowledgment numbers a capture shows,
//! and the textbook's ordinals (first to third handshake, first to fourth wave). Pure: it
//! reads the packets the analyzer made. A state is claimed only where the segments prove
//! it: a RST changes the receiver's state only when its number was acceptable, and a stream
//! whose SYN was not captured gets no states at all.

use crate::{Packet, Side};
use labrun_wire::TcpFlags;
use std::net::IpAddr;

/// A state of RFC 9293's connection state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpState {
    /// No connection.
    Closed,
    /// Waiting for a SYN.
    Listen,
    /// SYN sent, waiting for the SYN-ACK.
    SynSent,
    /// SYN received and answered, waiting for its ACK.
    SynRcvd,
    /// Open: data may flow both ways.
    Established,
    /// Sent FIN first, waiting for its ACK.
    FinWait1,
    /// Own FIN acknowledged, waiting for the peer's FIN.
    FinWait2,
    /// The peer's FIN received; the application has not closed yet.
    CloseWait,
    /// Both FINs crossed (simultaneous close).
    Closing,
    /// Sent FIN after the peer's, waiting for its ACK.
    LastAck,
    /// Closed first and acknowledged the peer's FIN: waits 2 MSL.
    TimeWait,
}

impl TcpState {
    /// The RFC's name, e.g. "SYN-SENT", "TIME-WAIT".
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRcvd => "SYN-RCVD",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }
}

/// The textbook's name of a segment: the n-th of the handshake or of the close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// First, second or third handshake segment.
    Handshake(u8),
    /// First to fourth segment of the close ("wave").
    Close(u8),
    /// The passive closer's FIN+ACK that is the second and third wave at once (a
    /// three-packet close).
    CloseSecondAndThird,
}

/// What one segment did to the two ends' states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateChange {
    /// Frame number.
    pub frame: u64,
    /// Wireshark's `tcp.stream`.
    pub stream: u32,
    /// Who sent the segment (the client is the first SYN's sender).
    pub sender: Side,
    /// The state its sender is in after sending it, when sending it changed the state.
    pub sender_enters: Option<TcpState>,
    /// The state its receiver enters on receiving it, when it changed.
    pub receiver_enters: Option<TcpState>,
    /// Its place in the handshake or the close, if it has one.
    pub step: Option<Step>,
    /// True for a RST: its receiver closes on receipt, which a capture at one point of
    /// the path cannot see (a firewall may drop it on the way).
    pub rst: bool,
}

/// One stream's ends as the machine tracks them.
#[derive(Clone, Copy)]
struct Conn {
    client: (IpAddr, u16),
    state: [TcpState; 2],
    /// The client's ISN, for a RST in SYN-SENT.
    client_isn: u32,
    /// The raw sequence number just after each end's FIN.
    fin_end: [Option<u32>; 2],
    /// The last acknowledgment number each end sent.
    last_ack: [Option<u32>; 2],
    /// True once an end's FIN+ACK (second and third wave at once) was seen.
    done: bool,
}

/// The state changes of every TCP segment of `packets` that changed a state, in order.
pub fn tcp_states<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> Vec<StateChange> {
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut out = Vec::new();
    for p in packets {
        let (Some(t), Some(ip)) = (&p.tcp, &p.ip) else {
            continue;
        };
        let i = t.stream as usize;
        if conns.len() <= i {
            conns.resize(i + 1, None);
        }
        let syn = t.flags.contains(TcpFlags::SYN);
        let ack = t.flags.contains(TcpFlags::ACK);
        let fin = t.flags.contains(TcpFlags::FIN);
        let rst = t.flags.contains(TcpFlags::RST);
        if conns[i].is_none() {
            if !syn || ack {
                continue;
            }
            conns[i] = Some(Conn {
                client: (ip.src, t.src_port),
                state: [TcpState::Closed, TcpState::Listen],
                client_isn: t.seq_raw,
                fin_end: [None, None],
                last_ack: [None, None],
                done: false,
            });
        }
        let Some(c) = conns[i].as_mut() else { continue };
        if c.done {
            continue;
        }
        let from = if (ip.src, t.src_port) == c.client {
            Side::Client
        } else {
            Side::Server
        };
        let (me, peer) = (from.index(), from.peer().index());
        let mut change = StateChange {
            frame: p.number,
            stream: t.stream,
            sender: from,
            sender_enters: None,
            receiver_enters: None,
            step: None,
            rst,
        };
        let set = |c: &mut Conn, side: usize, to: TcpState, slot: &mut Option<TcpState>| {
            if c.state[side] != to {
                c.state[side] = to;
                *slot = Some(to);
            }
        };
        let acks_peer_fin = ack && c.fin_end[peer] == Some(t.ack_raw);
        if rst {
            // Acceptable: in SYN-SENT when it acknowledges the SYN; else exactly at the
            // receiver's next expected number (RFC 5961, 3.2).
            let accepted = match c.state[peer] {
                TcpState::SynSent => ack && t.ack_raw == c.client_isn.wrapping_add(1),
                TcpState::Closed | TcpState::Listen | TcpState::TimeWait => false,
                _ => c.last_ack[peer] == Some(t.seq_raw),
            };
            if accepted {
                set(c, peer, TcpState::Closed, &mut change.receiver_enters);
                c.done = true;
            }
        } else if syn && !ack {
            if from == Side::Client && c.state[me] == TcpState::Closed {
                set(c, me, TcpState::SynSent, &mut change.sender_enters);
                change.step = Some(Step::Handshake(1));
            }
        } else if syn {
            if from == Side::Server && c.state[me] == TcpState::Listen {
                // The client is ESTABLISHED once it sends the third segment, which proves it
                // took this SYN-ACK (a crafted SYN's sender may have no connection at all).
                set(c, me, TcpState::SynRcvd, &mut change.sender_enters);
                change.step = Some(Step::Handshake(2));
            }
        } else if fin {
            let end = t.seq_raw.wrapping_add(t.len).wrapping_add(1);
            c.fin_end[me].get_or_insert(end);
            match c.state[me] {
                TcpState::Established => {
                    set(c, me, TcpState::FinWait1, &mut change.sender_enters);
                    if c.state[peer] == TcpState::FinWait1 {
                        // The FINs crossed.
                        set(c, me, TcpState::Closing, &mut change.sender_enters);
                        set(c, peer, TcpState::Closing, &mut change.receiver_enters);
                    } else if c.state[peer] == TcpState::Established {
                        set(c, peer, TcpState::CloseWait, &mut change.receiver_enters);
                        change.step = Some(Step::Close(1));
                    }
                }
                TcpState::CloseWait => {
                    set(c, me, TcpState::LastAck, &mut change.sender_enters);
                    match c.state[peer] {
                        TcpState::FinWait2 => {
                            set(c, peer, TcpState::TimeWait, &mut change.receiver_enters);
                            change.step = Some(Step::Close(3));
                        }
                        TcpState::FinWait1 if acks_peer_fin => {
                            set(c, peer, TcpState::TimeWait, &mut change.receiver_enters);
                            change.step = Some(Step::CloseSecondAndThird);
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        } else if acks_peer_fin {
            match c.state[peer] {
                TcpState::FinWait1 => {
                    set(c, peer, TcpState::FinWait2, &mut change.receiver_enters);
                    change.step = Some(Step::Close(2));
                }
                TcpState::LastAck => {
                    set(c, peer, TcpState::Closed, &mut change.receiver_enters);
                    change.step = Some(Step::Close(4));
                    c.done = true;
                }
                TcpState::Closing => {
                    set(c, peer, TcpState::TimeWait, &mut change.receiver_enters);
                }
                _ => {}
            }
        } else if ack && c.state[peer] == TcpState::SynRcvd && c.state[me] == TcpState::SynSent {
            set(c, me, TcpState::Established, &mut change.sender_enters);
            set(c, peer, TcpState::Established, &mut change.receiver_enters);
            change.step = Some(Step::Handshake(3));
        }
        if ack {
            c.last_ack[me] = Some(t.ack_raw);
        }
        if change.sender_enters.is_some() || change.receiver_enters.is_some() {
            out.push(change);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RawFrame, Trace};
    use etherparse::PacketBuilder;
    use labrun_wire::LinkType;

    /// A segment: from the client?, flags ("S", "SA", "A", "FA", "PA", "R", "RA"), seq,
    /// ack, payload length.
    fn seg(client: bool, flags: &str, seq: u32, ack: u32, len: usize) -> RawFrame {
        let (src, dst, sport, dport) = if client {
            ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80)
        } else {
            ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
        };
        let mut b = PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4(src, dst, 64)
            .tcp(sport, dport, seq, 1000);
        for f in flags.chars() {
            b = match f {
                'S' => b.syn(),
                'A' => b.ack(ack),
                'F' => b.fin(),
                'P' => b.psh(),
                'R' => b.rst(),
                _ => b,
            };
        }
        let mut data = Vec::new();
        b.write(&mut data, &vec![b'x'; len]).unwrap();
        RawFrame {
            ts_sec: 1,
            ts_nsec: 0,
            orig_len: data.len() as u32,
            data,
        }
    }

    /// (frame, sender enters, receiver enters, step) of one change.
    type Row = (
        u64,
        Option<&'static str>,
        Option<&'static str>,
        Option<Step>,
    );

    fn states(frames: &[RawFrame]) -> Vec<Row> {
        let t = Trace::analyze(LinkType::Ethernet, frames.iter());
        tcp_states(&t.packets)
            .into_iter()
            .map(|c| {
                (
                    c.frame,
                    c.sender_enters.map(TcpState::name),
                    c.receiver_enters.map(TcpState::name),
                    c.step,
                )
            })
            .collect()
    }

    const C: bool = true;
    const S: bool = false;

    fn handshake() -> Vec<RawFrame> {
        vec![
            seg(C, "S", 100, 0, 0),
            seg(S, "SA", 500, 101, 0),
            seg(C, "A", 101, 501, 0),
        ]
    }

    #[test]
    fn handshake_and_four_way_close() {
        let mut f = handshake();
        f.extend([
            seg(C, "PA", 101, 501, 5),
            seg(S, "A", 501, 106, 0),
            seg(C, "FA", 106, 501, 0),
            seg(S, "A", 501, 107, 0),
            seg(S, "FA", 501, 107, 0),
            seg(C, "A", 107, 502, 0),
        ]);
        use Step::*;
        assert_eq!(
            states(&f),
            [
                (1, Some("SYN-SENT"), None, Some(Handshake(1))),
                (2, Some("SYN-RCVD"), None, Some(Handshake(2))),
                (
                    3,
                    Some("ESTABLISHED"),
                    Some("ESTABLISHED"),
                    Some(Handshake(3))
                ),
                (6, Some("FIN-WAIT-1"), Some("CLOSE-WAIT"), Some(Close(1))),
                (7, None, Some("FIN-WAIT-2"), Some(Close(2))),
                (8, Some("LAST-ACK"), Some("TIME-WAIT"), Some(Close(3))),
                (9, None, Some("CLOSED"), Some(Close(4))),
            ]
        );
    }

    #[test]
    fn three_packet_close_merges_the_second_and_third_wave() {
        let mut f = handshake();
        f.extend([
            seg(C, "FA", 101, 501, 0),
            seg(S, "FA", 501, 102, 0),
            seg(C, "A", 102, 502, 0),
        ]);
        let s = states(&f);
        assert_eq!(
            s[3],
            (
                4,
                Some("FIN-WAIT-1"),
                Some("CLOSE-WAIT"),
                Some(Step::Close(1))
            )
        );
        assert_eq!(
            s[4],
            (
                5,
                Some("LAST-ACK"),
                Some("TIME-WAIT"),
                Some(Step::CloseSecondAndThird)
            )
        );
        assert_eq!(s[5], (6, None, Some("CLOSED"), Some(Step::Close(4))));
    }

    #[test]
    fn refused_connect_and_rsts_out_of_place() {
        // A RST+ACK acknowledging the SYN closes the client.
        let s = states(&[seg(C, "S", 100, 0, 0), seg(S, "RA", 0, 101, 0)]);
        assert_eq!(s[1], (2, None, Some("CLOSED"), None));
        // A RST not at the receiver's next expected number changes nothing; the exact one does.
        let mut f = handshake();
        f.extend([seg(S, "R", 5000, 0, 0), seg(S, "R", 501, 0, 0)]);
        let s = states(&f);
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[3], (5, None, Some("CLOSED"), None));
        // Without the SYN nothing is claimed.
        assert!(states(&[seg(C, "A", 101, 501, 0), seg(S, "FA", 501, 101, 0)]).is_empty());
    }
}
