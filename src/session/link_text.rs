//! The relayed link's events beside the frames they affected: which captured frame the
//! link dropped, delayed, held back or doubled ("frame 9 dropped on the way to the
//! server"), for the pcapng comments and the report's table of the link. It lives in the
//! session, which knows both the link (network) and the captures (report).
//!
//! A frame is found by what the relay saw of it: ports, sequence and acknowledgment numbers
//! as on the wire, flags and payload length. Where several frames share them (a segment and
//! its retransmissions), time decides: the sender's copy is the last one captured before
//! the relay read it, the receiver's the first one captured after the relay sent it (plus
//! its delay). Both clocks are this machine's.

use crate::analysis::{Packet, Trace};
use crate::i18n::Lang;
use crate::network::link::{LinkAction, LinkEvent, Toward};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far from the event a frame may be captured and still be its frame.
const WINDOW: Duration = Duration::from_millis(20);

/// Which copy of a frame a capture holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameCopy {
    /// The copy the sender sent, before the link acted.
    Sent,
    /// The copy the receiver got, after the link acted (never for a drop).
    Received,
}

/// One event found in one capture.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkMatch {
    /// The frame number in the capture.
    pub frame: u64,
    /// Which copy it is.
    pub copy: FrameCopy,
    /// The event's index in the link's events.
    pub event: usize,
}

/// Nanoseconds since the Unix epoch of a wall-clock time.
fn nanos(t: SystemTime) -> i128 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

fn packet_nanos(p: &Packet) -> i128 {
    i128::from(p.ts_sec) * 1_000_000_000 + i128::from(p.ts_nsec)
}

/// A segment as the relay and a capture both see it: ports, raw seq and ack, flags, length.
type SegmentKey = (u16, u16, u32, u32, u16, u32);

/// Whether a frame's copy is not yet another moment's event's.
fn free(
    used: &HashMap<(u64, FrameCopy), Duration>,
    frame: u64,
    copy: FrameCopy,
    t: Duration,
) -> bool {
    used.get(&(frame, copy)).is_none_or(|u| *u == t)
}

/// The frames of `trace` the link's `events` (whose zero is `zero`) acted on.
pub fn link_matches(trace: &Trace, events: &[LinkEvent], zero: SystemTime) -> Vec<LinkMatch> {
    let mut by_id: HashMap<SegmentKey, Vec<&Packet>> = HashMap::new();
    for p in &trace.packets {
        if let Some(t) = &p.tcp {
            by_id
                .entry((
                    t.src_port, t.dst_port, t.seq_raw, t.ack_raw, t.flags.0, t.len,
                ))
                .or_default()
                .push(p);
        }
    }
    let zero = nanos(zero);
    let window = WINDOW.as_nanos() as i128;
    // Each frame is one event's, except that events of one moment (a frame delayed and
    // doubled) share it.
    let mut used: HashMap<(u64, FrameCopy), Duration> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let Some(s) = &e.segment else { continue };
        let Some(frames) = by_id.get(&(
            s.src_port, s.dst_port, s.seq_raw, s.ack_raw, s.flags.0, s.len,
        )) else {
            continue;
        };
        let at = zero + e.t.as_nanos() as i128;
        let sent = frames
            .iter()
            .filter(|p| (at - window..=at).contains(&packet_nanos(p)))
            .filter(|p| free(&used, p.number, FrameCopy::Sent, e.t))
            .max_by_key(|p| packet_nanos(p));
        if let Some(p) = sent {
            used.insert((p.number, FrameCopy::Sent), e.t);
            out.push(LinkMatch {
                frame: p.number,
                copy: FrameCopy::Sent,
                event: i,
            });
            continue;
        }
        let delay = match e.action {
            LinkAction::Dropped(_) | LinkAction::QueueFull => continue,
            LinkAction::Delayed(ms) => i128::from(ms) * 1_000_000,
            _ => 0,
        };
        let mut received: Vec<&&Packet> = frames
            .iter()
            .filter(|p| (at..=at + delay + window).contains(&packet_nanos(p)))
            .filter(|p| free(&used, p.number, FrameCopy::Received, e.t))
            .collect();
        received.sort_by_key(|p| packet_nanos(p));
        // A doubled frame arrives twice: the copy is the second.
        let skip = usize::from(matches!(e.action, LinkAction::Duplicated));
        if let Some(p) = received.get(skip) {
            used.insert((p.number, FrameCopy::Received), e.t);
            out.push(LinkMatch {
                frame: p.number,
                copy: FrameCopy::Received,
                event: i,
            });
        }
    }
    out
}

/// "the server" or "the client", in `lang`.
fn toward(to: Toward, lang: Lang) -> &'static str {
    match (to, lang) {
        (Toward::Server, Lang::En) => "the server",
        (Toward::Client, Lang::En) => "the client",
        (Toward::Server, Lang::Zh) => "服务器",
        (Toward::Client, Lang::Zh) => "客户端",
    }
}

/// What the link did to a frame, as its comment says it.
pub fn link_note(e: &LinkEvent, copy: FrameCopy, lang: Lang) -> String {
    let to = toward(e.to, lang);
    match (&e.action, copy, lang) {
        (LinkAction::Dropped(rule), _, Lang::En) => {
            format!("the lab link dropped this frame on the way to {to} (rule: {rule})")
        }
        (LinkAction::Dropped(rule), _, Lang::Zh) => {
            format!("实验链路在去往{to}的途中丢弃了此帧（规则：{rule}）")
        }
        (LinkAction::QueueFull, _, Lang::En) => format!(
            "the lab link dropped this frame on the way to {to}: its queue of late frames was full"
        ),
        (LinkAction::HoldExpired, _, Lang::En) => {
            "the lab link sent this held frame after 1 s: the frames meant to overtake it never came".into()
        }
        (LinkAction::HoldExpired, _, Lang::Zh) => {
            "实验链路扣住此帧 1 秒后发出：应先通过的帧没有到来".into()
        }
        (LinkAction::QueueFull, _, Lang::Zh) => {
            format!("实验链路在去往{to}的途中丢弃了此帧：延迟帧队列已满")
        }
        (LinkAction::Delayed(ms), FrameCopy::Sent, Lang::En) => {
            format!("the lab link delays this frame {ms} ms on the way to {to}")
        }
        (LinkAction::Delayed(ms), FrameCopy::Sent, Lang::Zh) => {
            format!("实验链路在去往{to}的途中将此帧延迟 {ms} ms")
        }
        (LinkAction::Delayed(ms), FrameCopy::Received, Lang::En) => {
            format!("arrived {ms} ms late: the lab link delayed it")
        }
        (LinkAction::Delayed(ms), FrameCopy::Received, Lang::Zh) => {
            format!("晚到 {ms} ms：实验链路延迟了它")
        }
        (LinkAction::Reordered { after }, FrameCopy::Sent, Lang::En) => format!(
            "the lab link holds this frame back on the way to {to} until {after} later frame(s) have passed"
        ),
        (LinkAction::Reordered { after }, FrameCopy::Sent, Lang::Zh) => {
            format!("实验链路在去往{to}的途中扣住此帧，直到其后的 {after} 帧先通过")
        }
        (LinkAction::Reordered { after }, FrameCopy::Received, Lang::En) => {
            format!("arrived after {after} later frame(s): the lab link reordered it")
        }
        (LinkAction::Reordered { after }, FrameCopy::Received, Lang::Zh) => {
            format!("在其后的 {after} 帧之后才到达：实验链路打乱了顺序")
        }
        (LinkAction::Duplicated, FrameCopy::Sent, Lang::En) => {
            format!("the lab link sends this frame twice on the way to {to}")
        }
        (LinkAction::Duplicated, FrameCopy::Sent, Lang::Zh) => {
            format!("实验链路在去往{to}的途中将此帧发送两次")
        }
        (LinkAction::Duplicated, FrameCopy::Received, Lang::En) => {
            "a copy the lab link sent twice".to_string()
        }
        (LinkAction::Duplicated, FrameCopy::Received, Lang::Zh) => {
            "实验链路重复发送的副本".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{RawFrame, Trace};
    use crate::network::link::SegmentId;
    use crate::wire::{LinkType, TcpFlags};

    /// A data segment from the client at `secs` since the epoch.
    fn frame(secs: f64) -> RawFrame {
        let mut data = Vec::new();
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 77, 0, 1], [10, 77, 0, 2], 64)
            .tcp(40000, 9000, 1001, 64240)
            .ack(5001)
            .write(&mut data, &[0u8; 100])
            .unwrap();
        RawFrame {
            ts_sec: secs as i64,
            ts_nsec: ((secs.fract()) * 1e9).round() as u32,
            orig_len: data.len() as u32,
            data,
        }
    }

    fn event(t_ms: u64, action: LinkAction) -> LinkEvent {
        LinkEvent {
            t: Duration::from_millis(t_ms),
            to: Toward::Server,
            action,
            segment: Some(SegmentId {
                src_port: 40000,
                dst_port: 9000,
                seq: 1,
                ack: 1,
                flags: TcpFlags::ACK,
                len: 100,
                retransmission: false,
                seq_raw: 1001,
                ack_raw: 5001,
            }),
            kind: "tcp",
            frame_len: 154,
        }
    }

    #[test]
    fn a_dropped_frame_is_the_senders_copy_just_before_the_event() {
        let zero = UNIX_EPOCH + Duration::from_secs(1000);
        // The original at 1000.100 s, its retransmission at 1000.300 s.
        let frames = [frame(1000.0999), frame(1000.3)];
        let trace = Trace::analyze(LinkType::Ethernet, frames.iter());
        let dropped = event(100, LinkAction::Dropped("data 1".into()));
        let m = link_matches(&trace, &[dropped], zero);
        assert_eq!(
            m,
            [LinkMatch {
                frame: 1,
                copy: FrameCopy::Sent,
                event: 0
            }]
        );
    }

    #[test]
    fn a_delayed_frame_is_found_on_both_sides() {
        let zero = UNIX_EPOCH + Duration::from_secs(1000);
        let delayed = [event(100, LinkAction::Delayed(40))];
        let sender = Trace::analyze(LinkType::Ethernet, [frame(1000.0999)].iter());
        let receiver = Trace::analyze(LinkType::Ethernet, [frame(1000.1401)].iter());
        assert_eq!(
            link_matches(&sender, &delayed, zero)[0].copy,
            FrameCopy::Sent
        );
        assert_eq!(
            link_matches(&receiver, &delayed, zero)[0].copy,
            FrameCopy::Received
        );
        assert_eq!(
            link_note(&delayed[0], FrameCopy::Received, Lang::En),
            "arrived 40 ms late: the lab link delayed it"
        );
        // A dropped frame has no receiver's copy.
        let dropped = [event(100, LinkAction::Dropped("data 1".into()))];
        assert!(link_matches(&receiver, &dropped, zero).is_empty());
    }
}
