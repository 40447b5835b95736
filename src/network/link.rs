//! The lab link's rules and what they did: which frames the relay between the two hosts
//! drops, delays, holds back (reorders) or sends twice, decided per direction from what
//! the frame is (a TCP segment's relative sequence number, its flags, whether it is a
//! retransmission), never from chance or timing, so a rerun treats the same segments the
//! same way. Every action becomes a [`LinkEvent`] naming the segment (relative seq and
//! ack, flags, payload length) so it can be matched to a captured frame.
//!
//! No I/O: the relay (Linux, `crate::sandbox`) hands each frame to [`LinkJudge::judge`]
//! and does what the [`Decision`] says. Random loss is a keyed hash of the seed and the
//! segment's identity (relative seq, ack, SYN/FIN/RST/ACK flags, length, and how often that
//! identity was seen), a PRNG that does not depend on the order or timing of frames.

use crate::wire::{LinkType, NetRepr, TcpFlags, TransportRepr, decode_opts};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The longest delay a rule may give a frame, in ms.
pub const MAX_DELAY_MS: u32 = 10_000;
/// The largest count a selector may name (the nth segment, a later-segment count).
pub const MAX_COUNT: u32 = 1_000_000;
/// The most rules one link takes.
pub const MAX_RULES: usize = 64;
/// The longest per-packet delay list.
pub const MAX_DELAY_LIST: usize = 100_000;
/// The most events a link keeps; later ones are only counted.
pub const MAX_EVENTS: usize = 100_000;
/// The most segments of one sender whose first transmission a link remembers (for
/// retransmission rules).
const MAX_REMEMBERED: usize = 200_000;
/// The most connection ends a link keeps track of.
const MAX_CONNECTIONS: usize = 10_000;

/// Which way a frame travels on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Toward {
    /// From the client to the server.
    Server,
    /// From the server to the client.
    Client,
}

impl Toward {
    /// "server" or "client", as scripts write it.
    pub fn name(self) -> &'static str {
        match self {
            Toward::Server => "server",
            Toward::Client => "client",
        }
    }
}

/// Which segments of one direction a rule acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    /// The nth new data segment (from 1; retransmissions do not count).
    Data(u32),
    /// The first transmission of the segment (data, SYN or FIN) at this relative seq.
    Seq(u32),
    /// The nth SYN (a SYN-ACK toward the client; retransmitted SYNs count).
    Syn(u32),
    /// The nth segment with FIN set.
    Fin(u32),
    /// The nth pure ACK (no data, SYN, FIN or RST).
    Ack(u32),
    /// Every retransmission of the data segment at relative `seq` sent within `until_ms`
    /// of its first transmission.
    RetransmissionsOf {
        /// The segment's relative sequence number.
        seq: u32,
        /// How long after the first transmission retransmissions are still hit, in ms.
        until_ms: u32,
    },
}

impl Select {
    /// How a script writes it: `data 3`, `seq 1461`, `retransmissions_of 1 until_ms 800`.
    pub fn describe(&self) -> String {
        match self {
            Select::Data(n) => format!("data {n}"),
            Select::Seq(s) => format!("seq {s}"),
            Select::Syn(n) => format!("syn {n}"),
            Select::Fin(n) => format!("fin {n}"),
            Select::Ack(n) => format!("ack {n}"),
            Select::RetransmissionsOf { seq, until_ms } => {
                format!("retransmissions_of {seq} until_ms {until_ms}")
            }
        }
    }
}

/// What a rule does to the frames it selects.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Drop the selected segment.
    Drop(Select),
    /// Delay every frame by this many ms.
    Delay(u32),
    /// Delay the nth frame by the nth entry, in ms (frames past the list pass at once).
    DelayList(Vec<u32>),
    /// Hold the selected segment back until `after` later frames have passed.
    Reorder {
        /// The segment held back.
        select: Select,
        /// How many later frames overtake it.
        after: u32,
    },
    /// Send the selected segment twice.
    Duplicate(Select),
    /// Drop each frame with this probability, decided by a hash keyed with `seed`.
    RandomLoss {
        /// 0.0 to 1.0.
        probability: f64,
        /// The key: the same seed drops the same segments.
        seed: u64,
    },
}

/// One rule of the link: an action on frames going one way.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRule {
    /// The direction it acts on.
    pub to: Toward,
    /// Only segments of connections with this port (either end), when given.
    pub port: Option<u16>,
    /// Delays and random loss act on every frame (ARP too), not only TCP segments.
    pub all_frames: bool,
    /// What it does.
    pub action: Action,
}

impl LinkRule {
    /// Checks the rule's numbers against the link's bounds.
    pub fn validate(&self) -> Result<(), String> {
        let sel = |s: &Select| -> Result<(), String> {
            let n = match *s {
                Select::Data(n) | Select::Syn(n) | Select::Fin(n) | Select::Ack(n) => n,
                Select::Seq(_) => 1,
                Select::RetransmissionsOf { until_ms, .. } => {
                    if until_ms == 0 || until_ms > 600_000 {
                        return Err(format!("until_ms must be 1 to 600000, got {until_ms}"));
                    }
                    1
                }
            };
            if n == 0 || n > MAX_COUNT {
                return Err(format!(
                    "`{}`: the count must be 1 to {MAX_COUNT}",
                    s.describe()
                ));
            }
            Ok(())
        };
        let delay = |ms: u32| {
            if ms > MAX_DELAY_MS {
                Err(format!("a delay must be 0 to {MAX_DELAY_MS} ms, got {ms}"))
            } else {
                Ok(())
            }
        };
        match &self.action {
            Action::Drop(s) | Action::Duplicate(s) => sel(s),
            Action::Delay(ms) => delay(*ms),
            Action::DelayList(list) => {
                if list.is_empty() || list.len() > MAX_DELAY_LIST {
                    return Err(format!(
                        "a delay list holds 1 to {MAX_DELAY_LIST} entries, got {}",
                        list.len()
                    ));
                }
                list.iter().try_for_each(|ms| delay(*ms))
            }
            Action::Reorder { select, after } => {
                sel(select)?;
                if *after == 0 || *after > 1000 {
                    return Err(format!("`after` must be 1 to 1000, got {after}"));
                }
                Ok(())
            }
            Action::RandomLoss { probability, .. } => {
                if !(0.0..=1.0).contains(probability) {
                    return Err(format!(
                        "random_loss is a probability, 0.0 to 1.0, got {probability}"
                    ));
                }
                Ok(())
            }
        }
    }
}

/// What the relay does with one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// How many copies to send: 0 drops it, 2 duplicates it.
    pub copies: u8,
    /// How long to keep it before sending.
    pub delay: Duration,
    /// Hold it until this many later frames of its direction have passed (0: do not).
    pub hold_after: u32,
}

impl Decision {
    /// Send it once, now.
    pub const PASS: Decision = Decision {
        copies: 1,
        delay: Duration::ZERO,
        hold_after: 0,
    };
}

/// A TCP segment as the link names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentId {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number relative to the sender's ISN (as Wireshark shows it).
    pub seq: u32,
    /// Acknowledgment number relative to the peer's ISN (0 without ACK).
    pub ack: u32,
    /// The flags.
    pub flags: TcpFlags,
    /// Payload bytes.
    pub len: u32,
    /// True when it resends data sent before (its seq is below the highest sent).
    pub retransmission: bool,
    /// The sequence number as on the wire (to find the frame in a capture).
    pub seq_raw: u32,
    /// The acknowledgment number as on the wire.
    pub ack_raw: u32,
}

/// What a link did to one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkAction {
    /// Dropped by a rule (its description, e.g. `data 3` or `random_loss`).
    Dropped(String),
    /// Sent this many ms late.
    Delayed(u32),
    /// Held back until `after` later frames had passed.
    Reordered {
        /// Frames that overtook it.
        after: u32,
    },
    /// Sent twice.
    Duplicated,
    /// Dropped because the relay's queue of delayed frames was full.
    QueueFull,
    /// A held frame sent before enough later frames had passed: none came for a second.
    HoldExpired,
}

impl LinkAction {
    /// The action's one word: dropped, delayed, reordered, duplicated, queue_full,
    /// hold_expired.
    pub fn word(&self) -> &'static str {
        match self {
            LinkAction::Dropped(_) => "dropped",
            LinkAction::Delayed(_) => "delayed",
            LinkAction::Reordered { .. } => "reordered",
            LinkAction::Duplicated => "duplicated",
            LinkAction::QueueFull => "queue_full",
            LinkAction::HoldExpired => "hold_expired",
        }
    }
}

/// One thing the link did.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkEvent {
    /// When, since the run began (or since the link was set outside a run).
    pub t: Duration,
    /// The frame's direction.
    pub to: Toward,
    /// What was done.
    pub action: LinkAction,
    /// The segment, for a TCP frame.
    pub segment: Option<SegmentId>,
    /// What the frame carries: tcp, arp, udp, icmp, ip or other.
    pub kind: &'static str,
    /// The frame's length in bytes.
    pub frame_len: u32,
}

/// The events of one link, shared by the relay and whoever reads them.
#[derive(Debug, Clone)]
pub struct LinkLog(Arc<Mutex<LogInner>>);

#[derive(Debug)]
struct LogInner {
    events: Vec<LinkEvent>,
    unrecorded: u64,
    /// The wall-clock time of the events' zero (to compare with capture timestamps).
    zero: SystemTime,
}

impl LinkLog {
    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, e: LinkEvent) {
        let mut l = self.lock();
        if l.events.len() < MAX_EVENTS {
            l.events.push(e);
        } else {
            l.unrecorded += 1;
        }
    }

    /// The events so far, oldest first.
    pub fn events(&self) -> Vec<LinkEvent> {
        self.lock().events.clone()
    }

    /// A log whose events count from `started` (a moment of the monotonic clock).
    pub fn new(started: Instant) -> LinkLog {
        let zero = SystemTime::now()
            .checked_sub(started.elapsed())
            .unwrap_or(UNIX_EPOCH);
        LinkLog(Arc::new(Mutex::new(LogInner {
            events: Vec::new(),
            unrecorded: 0,
            zero,
        })))
    }

    /// The wall-clock time of the events' zero: an event happened at `zero() + t`, on the
    /// clock that timestamps captured frames.
    pub fn zero(&self) -> SystemTime {
        self.lock().zero
    }

    /// Events past [`MAX_EVENTS`], counted but not kept.
    pub fn unrecorded(&self) -> u64 {
        self.lock().unrecorded
    }
}

/// One end of a connection: what the link knows of what it sent.
#[derive(Debug, Default)]
struct Sender {
    isn: Option<u32>,
    /// The highest relative seq + len sent so far.
    high: Option<u32>,
    /// Relative seq of each data segment's first transmission, and when it was sent.
    first_sent: HashMap<u32, Instant>,
}

/// A rule and its counters.
#[derive(Debug)]
struct RuleState {
    rule: LinkRule,
    /// Segments of the rule's class seen so far (data, SYN, FIN or pure ACK).
    seen: u32,
    /// Frames seen (for delay lists).
    frames: usize,
    /// `seq` rules hit once.
    done: bool,
    /// How often each identity was seen (random loss).
    occurrences: HashMap<(u32, u32, u16, u32), u32>,
}

/// Decides each frame's fate by the link's rules and records what it did.
#[derive(Debug)]
pub struct LinkJudge {
    rules: Vec<RuleState>,
    senders: HashMap<(IpAddr, u16, IpAddr, u16), Sender>,
    started: Instant,
    log: LinkLog,
}

/// What the link learned of a frame before the rules see it.
struct Seen {
    seg: Option<SegmentId>,
    kind: &'static str,
    len: u32,
    /// When this data segment was first sent (a retransmission's original).
    first_sent: Option<Instant>,
}

impl LinkJudge {
    /// A judge of `rules` whose event times count from `started` (the run's start).
    pub fn new(rules: Vec<LinkRule>, started: Instant) -> Result<LinkJudge, String> {
        if rules.len() > MAX_RULES {
            return Err(format!(
                "a link takes at most {MAX_RULES} rules, got {}",
                rules.len()
            ));
        }
        for (i, r) in rules.iter().enumerate() {
            r.validate().map_err(|e| format!("rule {}: {e}", i + 1))?;
        }
        Ok(LinkJudge {
            rules: rules
                .into_iter()
                .map(|rule| RuleState {
                    rule,
                    seen: 0,
                    frames: 0,
                    done: false,
                    occurrences: HashMap::new(),
                })
                .collect(),
            senders: HashMap::new(),
            started,
            log: LinkLog::new(started),
        })
    }

    /// The log this judge records into.
    pub fn log(&self) -> LinkLog {
        self.log.clone()
    }

    /// The rules, in order.
    pub fn rules(&self) -> Vec<LinkRule> {
        self.rules.iter().map(|r| r.rule.clone()).collect()
    }

    fn record(&self, to: Toward, at: Instant, action: LinkAction, seen: &Seen) {
        self.log.push(LinkEvent {
            t: at.saturating_duration_since(self.started),
            to,
            action,
            segment: seen.seg,
            kind: seen.kind,
            frame_len: seen.len,
        });
    }

    /// Records that the relay dropped a frame for lack of room in its queue.
    pub fn queue_full(&mut self, to: Toward, frame: &[u8], at: Instant) {
        let seen = self.look(frame, at, false);
        self.record(to, at, LinkAction::QueueFull, &seen);
    }

    /// Records that the relay sent a held frame before the frames meant to overtake it
    /// had passed (it waits at most a second).
    pub fn hold_expired(&mut self, to: Toward, frame: &[u8], at: Instant) {
        let seen = self.look(frame, at, false);
        self.record(to, at, LinkAction::HoldExpired, &seen);
    }

    /// Decodes the frame and, with `learn`, updates what the link knows of its connection.
    fn look(&mut self, frame: &[u8], at: Instant, learn: bool) -> Seen {
        let f = decode_opts(LinkType::Ethernet, frame, false);
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let ip = match &f.net {
            Some(NetRepr::Arp(_)) => {
                return Seen {
                    seg: None,
                    kind: "arp",
                    len,
                    first_sent: None,
                };
            }
            Some(NetRepr::Ip(ip)) => ip,
            None => {
                return Seen {
                    seg: None,
                    kind: "other",
                    len,
                    first_sent: None,
                };
            }
        };
        let tcp = match &f.transport {
            Some(TransportRepr::Tcp(t)) => t,
            other => {
                let kind = match other {
                    Some(TransportRepr::Udp(_)) => "udp",
                    Some(TransportRepr::Icmpv4(_) | TransportRepr::Icmpv6(_)) => "icmp",
                    _ => "ip",
                };
                return Seen {
                    seg: None,
                    kind,
                    len,
                    first_sent: None,
                };
            }
        };
        let key = (ip.src, tcp.src_port, ip.dst, tcp.dst_port);
        let peer_isn = self
            .senders
            .get(&(ip.dst, tcp.dst_port, ip.src, tcp.src_port))
            .and_then(|s| s.isn);
        let syn = tcp.flags.contains(TcpFlags::SYN);
        if self.senders.len() >= MAX_CONNECTIONS && !self.senders.contains_key(&key) {
            // A scan's thousands of connections: forget the old ones, keep the link bounded.
            self.senders.clear();
        }
        let sender = self.senders.entry(key).or_default();
        if syn && learn {
            // A new SYN with another ISN starts the connection over (a reused port).
            if sender.isn != Some(tcp.seq) {
                *sender = Sender {
                    isn: Some(tcp.seq),
                    ..Sender::default()
                };
            }
        }
        let isn = sender.isn.unwrap_or(0);
        let seq = tcp.seq.wrapping_sub(isn);
        let ack = if tcp.flags.contains(TcpFlags::ACK) {
            tcp.ack.wrapping_sub(peer_isn.unwrap_or(0))
        } else {
            0
        };
        let len = tcp.payload_len;
        let fin = tcp.flags.contains(TcpFlags::FIN);
        let end = seq
            .wrapping_add(len)
            .wrapping_add(u32::from(syn))
            .wrapping_add(u32::from(fin));
        let retransmission = (len > 0 || fin)
            && sender
                .high
                .is_some_and(|h| (seq.wrapping_sub(h) as i32) < 0);
        let mut first_sent = None;
        if len > 0 {
            if retransmission {
                first_sent = sender.first_sent.get(&seq).copied();
            } else if learn && sender.first_sent.len() < MAX_REMEMBERED {
                sender.first_sent.insert(seq, at);
            }
        }
        if learn && sender.high.is_none_or(|h| (end.wrapping_sub(h) as i32) > 0) {
            sender.high = Some(end);
        }
        Seen {
            seg: Some(SegmentId {
                src_port: tcp.src_port,
                dst_port: tcp.dst_port,
                seq,
                ack,
                flags: tcp.flags,
                len,
                retransmission,
                seq_raw: tcp.seq,
                ack_raw: tcp.ack,
            }),
            kind: "tcp",
            len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            first_sent,
        }
    }

    /// What to do with `frame` (an Ethernet frame) going `to`, seen at `at`; records every
    /// action as an event.
    pub fn judge(&mut self, to: Toward, frame: &[u8], at: Instant) -> Decision {
        let seen = self.look(frame, at, true);
        let mut decision = Decision::PASS;
        let mut dropped: Option<String> = None;
        let mut delay_ms: u32 = 0;
        for r in &mut self.rules {
            if r.rule.to != to {
                continue;
            }
            let seg = match (&seen.seg, r.rule.port) {
                (Some(s), Some(p)) if s.src_port != p && s.dst_port != p => continue,
                (None, Some(_)) => continue,
                (s, _) => *s,
            };
            let hit = match seg {
                Some(s) => selects(r, &s, &seen, at),
                None => false,
            };
            match &r.rule.action {
                Action::Drop(_) if hit => {
                    dropped.get_or_insert_with(|| selector_of(&r.rule.action));
                }
                Action::Duplicate(_) if hit => decision.copies = 2,
                Action::Reorder { after, .. } if hit => {
                    decision.hold_after = decision.hold_after.max(*after)
                }
                Action::Delay(ms) if seg.is_some() || r.rule.all_frames => {
                    delay_ms = delay_ms.saturating_add(*ms)
                }
                Action::DelayList(list) if seg.is_some() || r.rule.all_frames => {
                    if let Some(ms) = list.get(r.frames) {
                        delay_ms = delay_ms.saturating_add(*ms);
                    }
                    r.frames += 1;
                }
                Action::RandomLoss { probability, seed } if seg.is_some() || r.rule.all_frames => {
                    // PSH, ECE and CWR depend on timing (where a write ended, congestion),
                    // so they are not part of the identity.
                    let kept =
                        TcpFlags::SYN.0 | TcpFlags::FIN.0 | TcpFlags::RST.0 | TcpFlags::ACK.0;
                    let identity = match seg {
                        Some(s) => (s.seq, s.ack, s.flags.0 & kept, s.len),
                        None => (0, 0, 0, seen.len),
                    };
                    if r.occurrences.len() >= MAX_REMEMBERED {
                        r.occurrences.clear();
                    }
                    let n = r.occurrences.entry(identity).or_insert(0);
                    *n += 1;
                    if draw(*seed, identity, *n) < *probability {
                        dropped.get_or_insert_with(|| "random_loss".to_string());
                    }
                }
                _ => {}
            }
        }
        if let Some(why) = dropped {
            self.record(to, at, LinkAction::Dropped(why), &seen);
            decision.copies = 0;
            return decision;
        }
        // A held frame leaves right after the frames that overtake it, which carry the
        // delay themselves: it gets no delay of its own.
        let delay_ms = if decision.hold_after > 0 {
            0
        } else {
            delay_ms.min(MAX_DELAY_MS)
        };
        decision.delay = Duration::from_millis(u64::from(delay_ms));
        if decision.hold_after > 0 {
            let after = decision.hold_after;
            self.record(to, at, LinkAction::Reordered { after }, &seen);
        }
        if delay_ms > 0 {
            self.record(to, at, LinkAction::Delayed(delay_ms), &seen);
        }
        if decision.copies == 2 {
            self.record(to, at, LinkAction::Duplicated, &seen);
        }
        decision
    }
}

/// The selector of an action, as its event names it.
fn selector_of(a: &Action) -> String {
    match a {
        Action::Drop(s) | Action::Duplicate(s) | Action::Reorder { select: s, .. } => s.describe(),
        Action::RandomLoss { .. } => "random_loss".into(),
        Action::Delay(_) | Action::DelayList(_) => "delay".into(),
    }
}

/// Whether a rule's selector picks `seg`, advancing the rule's counter.
fn selects(r: &mut RuleState, seg: &SegmentId, seen: &Seen, at: Instant) -> bool {
    let select = match &r.rule.action {
        Action::Drop(s) | Action::Duplicate(s) | Action::Reorder { select: s, .. } => *s,
        _ => return false,
    };
    let f = seg.flags;
    let syn = f.contains(TcpFlags::SYN);
    let fin = f.contains(TcpFlags::FIN);
    let rst = f.contains(TcpFlags::RST);
    let mut count = |yes: bool, n: u32| {
        if yes {
            r.seen = r.seen.saturating_add(1);
            r.seen == n
        } else {
            false
        }
    };
    match select {
        Select::Data(n) => count(seg.len > 0 && !seg.retransmission, n),
        Select::Syn(n) => count(syn, n),
        Select::Fin(n) => count(fin, n),
        Select::Ack(n) => count(
            seg.len == 0 && !syn && !fin && !rst && f.contains(TcpFlags::ACK),
            n,
        ),
        Select::Seq(s) => {
            let hit = !r.done && !seg.retransmission && seg.seq == s && (seg.len > 0 || syn || fin);
            r.done |= hit;
            hit
        }
        Select::RetransmissionsOf { seq, until_ms } => {
            seg.retransmission
                && seg.len > 0
                && seg.seq == seq
                && seen.first_sent.is_some_and(|t| {
                    at.saturating_duration_since(t) <= Duration::from_millis(u64::from(until_ms))
                })
        }
    }
}

/// SplitMix64's finaliser: a well-mixed 64-bit value of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A number in [0, 1) fixed by the seed, a segment's identity and its occurrence.
fn draw(seed: u64, (seq, ack, flags, len): (u32, u32, u16, u32), n: u32) -> f64 {
    let mut h = mix(seed);
    for v in [
        u64::from(seq),
        u64::from(ack),
        u64::from(flags),
        u64::from(len),
        u64::from(n),
    ] {
        h = mix(h ^ v);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame with a TCP segment from the client (10.77.0.1:40000) or the server.
    fn seg(from_client: bool, seq: u32, ack: u32, flags: &str, len: usize) -> Vec<u8> {
        let (src, dst, sp, dp) = if from_client {
            ([10, 77, 0, 1], [10, 77, 0, 2], 40000, 8888)
        } else {
            ([10, 77, 0, 2], [10, 77, 0, 1], 8888, 40000)
        };
        let mut b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .tcp(sp, dp, seq, 64240);
        for c in flags.chars() {
            b = match c {
                'S' => b.syn(),
                'A' => b.ack(ack),
                'F' => b.fin(),
                'P' => b.psh(),
                _ => b,
            };
        }
        let mut out = Vec::new();
        b.write(&mut out, &vec![0u8; len]).unwrap();
        out
    }

    fn judge(rules: Vec<LinkRule>) -> (LinkJudge, Instant) {
        let t0 = Instant::now();
        (LinkJudge::new(rules, t0).unwrap(), t0)
    }

    fn rule(to: Toward, action: Action) -> LinkRule {
        LinkRule {
            to,
            port: None,
            all_frames: false,
            action,
        }
    }

    /// The handshake with ISNs 1000 (client) and 5000 (server).
    fn handshake(j: &mut LinkJudge, t: Instant) {
        j.judge(Toward::Server, &seg(true, 1000, 0, "S", 0), t);
        j.judge(Toward::Client, &seg(false, 5000, 1001, "SA", 0), t);
        j.judge(Toward::Server, &seg(true, 1001, 5001, "A", 0), t);
    }

    #[test]
    fn the_third_data_segment_is_dropped_and_named_by_relative_seq() {
        let (mut j, t) = judge(vec![rule(Toward::Server, Action::Drop(Select::Data(3)))]);
        handshake(&mut j, t);
        let mut fates = Vec::new();
        for i in 0..5u32 {
            let d = j.judge(
                Toward::Server,
                &seg(true, 1001 + i * 1460, 5001, "A", 1460),
                t,
            );
            fates.push(d.copies);
        }
        assert_eq!(fates, [1, 1, 0, 1, 1]);
        // Its retransmission is not a new data segment: it passes.
        let d = j.judge(Toward::Server, &seg(true, 1001 + 2920, 5001, "A", 1460), t);
        assert_eq!(d, Decision::PASS);
        let ev = j.log().events();
        assert_eq!(ev.len(), 1);
        let s = ev[0].segment.unwrap();
        assert_eq!((s.seq, s.ack, s.len), (2921, 1, 1460));
        assert_eq!(ev[0].action, LinkAction::Dropped("data 3".into()));
    }

    #[test]
    fn retransmissions_are_dropped_until_the_deadline() {
        let (mut j, t) = judge(vec![
            rule(Toward::Server, Action::Drop(Select::Seq(1))),
            rule(
                Toward::Server,
                Action::Drop(Select::RetransmissionsOf {
                    seq: 1,
                    until_ms: 800,
                }),
            ),
        ]);
        handshake(&mut j, t);
        let s = seg(true, 1001, 5001, "PA", 100);
        let at = |ms| t + Duration::from_millis(ms);
        assert_eq!(j.judge(Toward::Server, &s, at(0)).copies, 0);
        assert_eq!(j.judge(Toward::Server, &s, at(200)).copies, 0);
        assert_eq!(j.judge(Toward::Server, &s, at(600)).copies, 0);
        assert_eq!(j.judge(Toward::Server, &s, at(1400)).copies, 1);
        let ev = j.log().events();
        assert_eq!(ev.len(), 3);
        assert!(ev[1].segment.unwrap().retransmission);
    }

    #[test]
    fn delays_reorders_duplicates_and_acks_by_number() {
        let (mut j, t) = judge(vec![
            rule(Toward::Client, Action::Delay(20)),
            rule(
                Toward::Server,
                Action::Reorder {
                    select: Select::Data(2),
                    after: 1,
                },
            ),
            rule(Toward::Server, Action::Duplicate(Select::Data(3))),
            rule(Toward::Server, Action::Drop(Select::Ack(1))),
            rule(Toward::Server, Action::DelayList(vec![0, 0, 7])),
        ]);
        assert_eq!(
            j.judge(Toward::Server, &seg(true, 1000, 0, "S", 0), t)
                .copies,
            1
        );
        let synack = j.judge(Toward::Client, &seg(false, 5000, 1001, "SA", 0), t);
        assert_eq!(synack.delay, Duration::from_millis(20));
        // The handshake's ACK is the first pure ACK toward the server.
        assert_eq!(
            j.judge(Toward::Server, &seg(true, 1001, 5001, "A", 0), t)
                .copies,
            0
        );
        let d1 = j.judge(Toward::Server, &seg(true, 1001, 5001, "A", 10), t);
        assert_eq!(d1.delay, Duration::from_millis(7));
        let d2 = j.judge(Toward::Server, &seg(true, 1011, 5001, "A", 10), t);
        assert_eq!(d2.hold_after, 1);
        let d3 = j.judge(Toward::Server, &seg(true, 1021, 5001, "A", 10), t);
        assert_eq!(d3.copies, 2);
        // ARP passes untouched.
        let mut arp = Vec::new();
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 2], [0xff; 6])
            .arp(
                etherparse::ArpPacket::new(
                    etherparse::ArpHardwareId::ETHERNET,
                    etherparse::EtherType::IPV4,
                    etherparse::ArpOperation::REQUEST,
                    &[2, 0, 0, 0, 0, 2],
                    &[10, 77, 0, 2],
                    &[0; 6],
                    &[10, 77, 0, 1],
                )
                .unwrap(),
            )
            .write(&mut arp)
            .unwrap();
        assert_eq!(j.judge(Toward::Client, &arp, t), Decision::PASS);
        let words: Vec<&str> = j.log().events().iter().map(|e| e.action.word()).collect();
        assert_eq!(
            words,
            ["delayed", "dropped", "delayed", "reordered", "duplicated"]
        );
    }

    #[test]
    fn random_loss_depends_on_the_seed_and_the_segment_not_the_order() {
        let run = |seed: u64, order: &[u32]| {
            let (mut j, t) = judge(vec![rule(
                Toward::Server,
                Action::RandomLoss {
                    probability: 0.2,
                    seed,
                },
            )]);
            handshake(&mut j, t);
            let mut dropped: Vec<u32> = order
                .iter()
                .filter(|i| {
                    let s = seg(true, 1001 + *i * 1460, 5001, "A", 1460);
                    j.judge(Toward::Server, &s, t).copies == 0
                })
                .copied()
                .collect();
            dropped.sort();
            dropped
        };
        let ordered: Vec<u32> = (0..200).collect();
        let shuffled: Vec<u32> = (0..200).rev().collect();
        let a = run(7, &ordered);
        assert!((20..=60).contains(&a.len()), "{a:?}");
        assert_eq!(a, run(7, &ordered));
        assert_ne!(a, run(8, &ordered));
        // In another order (retransmissions, say) the same segments are dropped.
        assert_eq!(a, run(7, &shuffled));
    }

    #[test]
    fn arp_is_delayed_only_when_a_rule_says_all_frames() {
        let mut arp = Vec::new();
        etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [0xff; 6])
            .arp(
                etherparse::ArpPacket::new(
                    etherparse::ArpHardwareId::ETHERNET,
                    etherparse::EtherType::IPV4,
                    etherparse::ArpOperation::REQUEST,
                    &[2, 0, 0, 0, 0, 1],
                    &[10, 77, 0, 1],
                    &[0; 6],
                    &[10, 77, 0, 2],
                )
                .unwrap(),
            )
            .write(&mut arp)
            .unwrap();
        let mut all = rule(Toward::Server, Action::Delay(30));
        let (mut j, t) = judge(vec![rule(Toward::Server, Action::Delay(10))]);
        assert_eq!(j.judge(Toward::Server, &arp, t), Decision::PASS);
        all.all_frames = true;
        let (mut j, t) = judge(vec![all]);
        assert_eq!(
            j.judge(Toward::Server, &arp, t).delay,
            Duration::from_millis(30)
        );
        assert_eq!(j.log().events()[0].kind, "arp");
    }

    #[test]
    fn bad_rules_are_refused() {
        let bad = |a: Action| rule(Toward::Server, a).validate().unwrap_err();
        assert!(bad(Action::Delay(20_000)).contains("0 to 10000 ms"));
        assert!(
            bad(Action::RandomLoss {
                probability: 1.5,
                seed: 1
            })
            .contains("probability")
        );
        assert!(bad(Action::Drop(Select::Data(0))).contains("count"));
        assert!(
            bad(Action::Reorder {
                select: Select::Data(1),
                after: 0
            })
            .contains("after")
        );
    }
}
