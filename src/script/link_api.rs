//! Script API: the lab link's deterministic loss (`net.lose`), the relayed link's rules
//! (`net.link`: drop, delay, reorder, duplicate, seeded random loss, with its events), and
//! a socket's kernel TCP state (`conn.tcp_info`, and sampled over time by
//! `conn.sample_tcp_info`). Conversions only: the rules are `network::LinkLoss`'s and
//! `network::link`'s, the sampling `sockets::TcpConn`'s.

use super::lab_values::LabNet;
use super::{ApiResult, api_error, throw_sock, to_port};
use crate::network::link::{Action, LinkEvent, LinkLog, LinkRule, Select, Toward};
use crate::network::{LinkLoss, Loss, Network};
use rhai::plugin::*;
use rhai::{Array, Engine, INT, Map};

/// A running sampler of one connection's TCP_INFO (`conn.sample_tcp_info(ms)`).
#[derive(Debug, Clone)]
pub struct TcpInfoSampler {
    #[cfg(target_os = "linux")]
    inner: crate::sockets::KernelSamples<crate::sandbox::TcpInfo>,
}

/// The relayed link's rules as a script set them (`net.link`), and what they did.
#[derive(Debug, Clone)]
pub struct Link {
    log: LinkLog,
    rules: Array,
    net: Network,
}

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<LinkLoss>("LinkLoss");
    engine.register_type_with_name::<Link>("Link");
    engine.register_type_with_name::<TcpInfoSampler>("TcpInfoSampler");
    engine.register_global_module(exported_module!(link_module).into());
}

/// TCP_INFO as a script sees it (times in ms, cwnd and ssthresh in segments).
#[cfg(target_os = "linux")]
fn info_map(i: &crate::sandbox::TcpInfo) -> Map {
    let mut m = Map::new();
    let ms = |us: u32| Dynamic::from_float(rhai::FLOAT::from(us) / 1000.0);
    m.insert("state".into(), i.state.into());
    m.insert("cwnd".into(), INT::from(i.cwnd).into());
    m.insert("ssthresh".into(), INT::from(i.ssthresh).into());
    m.insert("rto_ms".into(), ms(i.rto_us));
    m.insert("rtt_ms".into(), ms(i.rtt_us));
    m.insert("rttvar_ms".into(), ms(i.rttvar_us));
    m.insert("retransmits".into(), INT::from(i.retransmits).into());
    m.insert("backoff".into(), INT::from(i.backoff).into());
    m.insert("total_retrans".into(), INT::from(i.total_retrans).into());
    m.insert("mss".into(), INT::from(i.snd_mss).into());
    m
}

/// One loss as a script writes it: `#{ to: "server", port: 8888, segment: 3, times: 1 }`.
fn loss(value: &Dynamic) -> ApiResult<Loss> {
    let bad = |m: String| api_error("lose", m);
    let map = value
        .read_lock::<Map>()
        .ok_or_else(|| bad(format!("each loss is a map, not {}", value.type_name())))?;
    let int = |key: &str| -> ApiResult<Option<INT>> {
        match map.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_int()
                .map(Some)
                .map_err(|t| bad(format!("`{key}` must be an integer, not {t}"))),
        }
    };
    for key in map.keys() {
        if !["to", "port", "segment", "times"].contains(&key.as_str()) {
            return Err(bad(format!(
                "unknown key `{key}` (known: to, port, segment, times)"
            )));
        }
    }
    let to_server = match map.get("to").map(|v| v.to_string()).as_deref() {
        Some("server") => true,
        Some("client") => false,
        other => {
            return Err(bad(format!(
                "`to` must be \"server\" or \"client\", not {}",
                other.unwrap_or("missing")
            )));
        }
    };
    let port = to_port(
        "lose",
        int("port")?.ok_or_else(|| bad("`port` is missing".into()))?,
    )?;
    let count = |key: &str, default: INT| -> ApiResult<u32> {
        let v = int(key)?.unwrap_or(default);
        u32::try_from(v)
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| bad(format!("`{key}` must be 1..=1000, got {v}")))
    };
    Ok(Loss {
        to_server,
        port,
        segment: count("segment", 0)?,
        times: count("times", 1)?,
    })
}

/// The keys of a link rule.
const RULE_KEYS: &str = "to, port, drop, delay_ms, reorder, duplicate, random_loss, seed, frames";
/// The keys of a selector (`drop`, `reorder`, `duplicate`).
const SELECT_KEYS: &str = "data, seq, syn, fin, ack, retransmissions_of, until_ms";

/// A non-negative integer of at most `max`, named `key` in errors.
fn bounded(key: &str, v: &Dynamic, max: u32) -> Result<u32, String> {
    let n = v
        .as_int()
        .map_err(|t| format!("`{key}` must be an integer, not {t}"))?;
    u32::try_from(n)
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| format!("`{key}` must be 0 to {max}, got {n}"))
}

/// A selector map: `#{ data: 3 }`, `#{ seq: 1461 }`, `#{ retransmissions_of: 1, until_ms: 800 }`
/// (and `after` when `reorder` is true).
fn selector(what: &str, value: &Dynamic, reorder: bool) -> Result<(Select, u32), String> {
    let bad = |m: String| format!("`{what}`: {m}");
    let map = value.read_lock::<Map>().ok_or_else(|| {
        bad(format!(
            "must be a map like #{{ data: 3 }}, not {}",
            value.type_name()
        ))
    })?;
    let known = if reorder {
        format!("{SELECT_KEYS}, after")
    } else {
        SELECT_KEYS.to_string()
    };
    for key in map.keys() {
        let ok = SELECT_KEYS.split(", ").any(|k| k == key.as_str()) || (reorder && key == "after");
        if !ok {
            return Err(bad(format!("unknown key `{key}` (known: {known})")));
        }
    }
    let max = crate::network::link::MAX_COUNT;
    let get = |k: &str, max: u32| map.get(k).map(|v| bounded(k, v, max)).transpose();
    let mut found = Vec::new();
    if let Some(n) = get("data", max)? {
        found.push(Select::Data(n));
    }
    if let Some(n) = get("seq", u32::MAX)? {
        found.push(Select::Seq(n));
    }
    if let Some(n) = get("syn", max)? {
        found.push(Select::Syn(n));
    }
    if let Some(n) = get("fin", max)? {
        found.push(Select::Fin(n));
    }
    if let Some(n) = get("ack", max)? {
        found.push(Select::Ack(n));
    }
    let until = get("until_ms", 600_000)?;
    if let Some(seq) = get("retransmissions_of", u32::MAX)? {
        let until_ms = until.ok_or_else(|| bad("`retransmissions_of` needs `until_ms`".into()))?;
        found.push(Select::RetransmissionsOf { seq, until_ms });
    } else if until.is_some() {
        return Err(bad("`until_ms` goes with `retransmissions_of`".into()));
    }
    if found.len() != 1 {
        return Err(bad(format!(
            "name exactly one of data, seq, syn, fin, ack, retransmissions_of (got {})",
            found.len()
        )));
    }
    let after = get("after", 1000)?.unwrap_or(1);
    Ok((found[0], after))
}

/// One rule as a script writes it: `#{ to: "server", drop: #{ data: 3 } }`.
fn link_rule(value: &Dynamic) -> Result<LinkRule, String> {
    let bad = |m: String| m;
    let map = value
        .read_lock::<Map>()
        .ok_or_else(|| bad(format!("each rule is a map, not {}", value.type_name())))?;
    for key in map.keys() {
        if !RULE_KEYS.split(", ").any(|k| k == key.as_str()) {
            return Err(bad(format!("unknown key `{key}` (known: {RULE_KEYS})")));
        }
    }
    let to = match map.get("to").map(|v| v.to_string()).as_deref() {
        Some("server") => Toward::Server,
        Some("client") => Toward::Client,
        other => {
            return Err(bad(format!(
                "`to` must be \"server\" or \"client\", not {}",
                other.unwrap_or("missing")
            )));
        }
    };
    let port = match map.get("port") {
        None => None,
        Some(v) => {
            let n = v
                .as_int()
                .map_err(|t| bad(format!("`port` must be an integer, not {t}")))?;
            Some(u16::try_from(n).map_err(|_| format!("`port` must be 0 to 65535, got {n}"))?)
        }
    };
    let all_frames = match map.get("frames").map(|v| v.to_string()).as_deref() {
        None | Some("tcp") => false,
        Some("all") => true,
        Some(other) => {
            return Err(bad(format!(
                "`frames` must be \"tcp\" or \"all\", not {other}"
            )));
        }
    };
    let actions = ["drop", "delay_ms", "reorder", "duplicate", "random_loss"];
    let given: Vec<&str> = actions
        .iter()
        .copied()
        .filter(|k| map.contains_key(*k))
        .collect();
    if given.len() != 1 {
        return Err(bad(format!(
            "a rule does one thing: give exactly one of {} (got {})",
            actions.join(", "),
            if given.is_empty() {
                "none".to_string()
            } else {
                given.join(", ")
            }
        )));
    }
    if map.contains_key("seed") && given[0] != "random_loss" {
        return Err(bad("`seed` goes with `random_loss`".into()));
    }
    let max_delay = crate::network::link::MAX_DELAY_MS;
    let action = match given[0] {
        "drop" => Action::Drop(selector("drop", &map["drop"], false)?.0),
        "duplicate" => Action::Duplicate(selector("duplicate", &map["duplicate"], false)?.0),
        "reorder" => {
            let (select, after) = selector("reorder", &map["reorder"], true)?;
            Action::Reorder { select, after }
        }
        "delay_ms" => {
            let v = &map["delay_ms"];
            match v.read_lock::<Array>() {
                Some(list) => Action::DelayList(
                    list.iter()
                        .map(|d| bounded("delay_ms", d, max_delay))
                        .collect::<Result<_, String>>()?,
                ),
                None => Action::Delay(bounded("delay_ms", v, max_delay)?),
            }
        }
        _ => {
            let v = &map["random_loss"];
            let probability = v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as rhai::FLOAT))
                .map_err(|t| bad(format!("`random_loss` must be a number, not {t}")))?;
            let seed = map
                .get("seed")
                .ok_or_else(|| {
                    bad(
                        "`random_loss` needs a `seed` (the same seed drops the same segments)"
                            .into(),
                    )
                })?
                .as_int()
                .map_err(|t| bad(format!("`seed` must be an integer, not {t}")))?;
            Action::RandomLoss {
                probability,
                seed: seed as u64,
            }
        }
    };
    let rule = LinkRule {
        to,
        port,
        all_frames,
        action,
    };
    rule.validate().map_err(bad)?;
    Ok(rule)
}

/// One event as a script sees it.
fn event_map(e: &LinkEvent) -> Map {
    use crate::network::link::LinkAction;
    let mut m = Map::new();
    m.insert("t".into(), Dynamic::from_float(e.t.as_secs_f64()));
    m.insert("to".into(), e.to.name().into());
    m.insert("action".into(), e.action.word().into());
    match &e.action {
        LinkAction::Dropped(why) => {
            m.insert("rule".into(), why.clone().into());
        }
        LinkAction::Delayed(ms) => {
            m.insert("delay_ms".into(), INT::from(*ms).into());
        }
        LinkAction::Reordered { after } => {
            m.insert("after".into(), INT::from(*after).into());
        }
        LinkAction::Duplicated | LinkAction::QueueFull | LinkAction::HoldExpired => {}
    }
    m.insert("kind".into(), e.kind.into());
    m.insert("frame_len".into(), INT::from(e.frame_len).into());
    if let Some(s) = &e.segment {
        m.insert("src_port".into(), INT::from(s.src_port).into());
        m.insert("dst_port".into(), INT::from(s.dst_port).into());
        m.insert("seq".into(), INT::from(s.seq).into());
        m.insert("ack".into(), INT::from(s.ack).into());
        m.insert("flags".into(), s.flags.names().into());
        m.insert("len".into(), INT::from(s.len).into());
        m.insert("retransmission".into(), s.retransmission.into());
    }
    m
}

#[export_module]
mod link_module {
    use super::*;

    /// Losses set on the lab link (`net.lose`), with what they dropped.
    pub type LinkLoss = crate::network::LinkLoss;

    /// Drops chosen TCP segments on the sandbox link, deterministically (no netem, no
    /// randomness): each loss is `#{ to: "server", port: 8888, segment: 3, times: 1 }`, the
    /// `segment`-th segment the sender sends after the three-way handshake (counted from 1;
    /// pure ACKs and retransmissions count too) on the connection to the server's `port`,
    /// dropped on its way `to` the "server" or the "client", and the `times - 1` segments
    /// right after it (a segment and its retransmissions, when nothing else is in flight).
    /// The receiving host drops them on its ingress, so a capture on the sender shows them
    /// leaving. Replaces earlier losses; the sandbox removes them with itself.
    #[rhai_fn(return_raw)]
    pub fn lose(net: &mut LabNet, losses: Array) -> ApiResult<LinkLoss> {
        let losses = losses.iter().map(loss).collect::<ApiResult<Vec<_>>>()?;
        let host = |name: &str| {
            net.host(name)
                .cloned()
                .ok_or_else(|| api_error("lose", format!("this network has no {name} host")))
        };
        LinkLoss::set(&host("client")?, &host("server")?, &losses).map_err(|e| api_error("lose", e))
    }

    /// The relayed link's rules (`net.link`), with the events of what they did.
    pub type Link = super::Link;

    /// Sets the rules of the sandbox's relayed link, replacing earlier ones. Needs
    /// `sandbox(#{ link: true })`: the two hosts' frames then cross a relay in a middle
    /// namespace (no netem). Each rule is a map with `to` ("server" or "client": the
    /// direction), an optional `port` (only that connection's segments) and one action:
    /// `drop: #{ data: 3 }` (the 3rd new data segment; or `seq: 1461`, the first
    /// transmission at that relative seq; `syn: n`, `fin: n`, `ack: n` (pure ACKs), by
    /// number; `retransmissions_of: 1461, until_ms: 800`, every retransmission of that
    /// segment sent within 800 ms of its first transmission); `delay_ms: 20` (every TCP
    /// segment 20 ms late, at most 10000; or a list, one delay per segment in order);
    /// `reorder: #{ data: 2, after: 1 }` (held back until 1 later frame has passed);
    /// `duplicate: #{ data: 4 }` (sent twice); `random_loss: 0.05, seed: 7` (each
    /// segment lost with that probability, decided by the seed and the segment's identity,
    /// so a rerun drops the same segments). ARP and non-TCP frames pass untouched, unless a
    /// delay or random loss says `frames: "all"`. What the link did is in `.events`.
    #[rhai_fn(return_raw)]
    pub fn link(net: &mut LabNet, rules: Array) -> ApiResult<Link> {
        if rules.len() > crate::network::link::MAX_RULES {
            return Err(api_error(
                "link",
                format!(
                    "at most {} rules, got {}",
                    crate::network::link::MAX_RULES,
                    rules.len()
                ),
            ));
        }
        let parsed = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                link_rule(r).map_err(|e| api_error("link", format!("rule {}: {e}", i + 1)))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let log = net.set_link(parsed).map_err(|e| api_error("link", e))?;
        net.session.add_link(log.clone());
        Ok(Link {
            log,
            rules,
            net: net.net.clone(),
        })
    }

    /// What the link did, oldest first: `#{ t, to, action, ... }` with `t` the seconds
    /// since the run began, `action` one of "dropped" (with `rule`, e.g. "data 3"),
    /// "delayed" (with `delay_ms`), "reordered" (with `after`), "duplicated",
    /// "queue_full" (the relay's queue of late frames was full) or "hold_expired" (a held
    /// frame sent after a second, the frames meant to overtake it never came), and the frame: `kind`
    /// ("tcp", "arp", "udp", "icmp", ...), `frame_len`, and for TCP `src_port`, `dst_port`,
    /// `seq` and `ack` (relative, as Wireshark shows them), `flags` ("PSH, ACK"), `len`
    /// (payload bytes) and `retransmission`.
    #[rhai_fn(get = "events", pure)]
    pub fn link_events(link: &mut Link) -> Array {
        link.log
            .events()
            .iter()
            .map(|e| Dynamic::from_map(event_map(e)))
            .collect()
    }

    /// The rules as the script gave them.
    #[rhai_fn(get = "rules", pure)]
    pub fn link_rules(link: &mut Link) -> Array {
        link.rules.clone()
    }

    /// What the relay has carried so far, in both directions: `#{ frames, bytes }`.
    #[rhai_fn(get = "relayed", pure, return_raw)]
    pub fn link_relayed(link: &mut Link) -> ApiResult<Map> {
        let (frames, bytes) = link
            .net
            .relay_counts()
            .map_err(|e| api_error("relayed", e))?;
        let mut m = Map::new();
        m.insert("frames".into(), (frames as INT).into());
        m.insert("bytes".into(), (bytes as INT).into());
        Ok(m)
    }

    /// Each loss as `#{ to, port, segment, times, dropped }`: `dropped` is how many
    /// segments its rule has dropped so far, read from the rule's counter.
    #[rhai_fn(get = "losses", return_raw)]
    pub fn losses(link: &mut LinkLoss) -> ApiResult<Array> {
        let dropped = link.dropped().map_err(|e| api_error("losses", e))?;
        Ok(link
            .losses()
            .iter()
            .zip(dropped)
            .map(|(l, n)| {
                let mut m = Map::new();
                let to = if l.to_server { "server" } else { "client" };
                m.insert("to".into(), to.into());
                m.insert("port".into(), INT::from(l.port).into());
                m.insert("segment".into(), INT::from(l.segment).into());
                m.insert("times".into(), INT::from(l.times).into());
                m.insert("dropped".into(), (n as INT).into());
                Dynamic::from_map(m)
            })
            .collect())
    }

    /// Samples this socket's TCP_INFO every `every_ms` milliseconds (1 to 1000) on a thread
    /// of its own while the script goes on, a blocking `send` included, until `.stop()` or
    /// the connection closes: `.samples` then holds `#{ t, state, cwnd, ssthresh, rto_ms,
    /// rtt_ms, ... }` (as `tcp_info`, with `t` the seconds since sampling began), at most 100000.
    #[rhai_fn(return_raw)]
    pub fn sample_tcp_info(
        ctx: NativeCallContext,
        c: &mut crate::sockets::TcpConn,
        every_ms: INT,
    ) -> ApiResult<TcpInfoSampler> {
        if !(1..=1000).contains(&every_ms) {
            return Err(api_error(
                "sample_tcp_info",
                format!("every_ms must be 1 to 1000, got {every_ms}"),
            ));
        }
        #[cfg(target_os = "linux")]
        {
            let every = std::time::Duration::from_millis(every_ms as u64);
            let session = crate::script::session(&ctx)?;
            let inner = crate::session::sample_tcp_info(&session, c, every).map_err(throw_sock)?;
            Ok(TcpInfoSampler { inner })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (ctx, c);
            Err(throw_sock(crate::sockets::SockError::usage(
                "sample_tcp_info",
                "reading TCP_INFO needs Linux",
            )))
        }
    }

    /// Stops the sampler (closing the connection also stops it); the samples stay.
    #[rhai_fn(name = "stop")]
    pub fn sampler_stop(s: &mut TcpInfoSampler) {
        #[cfg(target_os = "linux")]
        s.inner.stop.stop();
        #[cfg(not(target_os = "linux"))]
        let _ = s;
    }

    /// The samples so far, oldest first: `[#{ t, state, cwnd, ssthresh, rto_ms, rtt_ms,
    /// rttvar_ms, retransmits, backoff, total_retrans, mss }]`.
    #[rhai_fn(get = "samples", pure)]
    pub fn sampler_samples(s: &mut TcpInfoSampler) -> Array {
        #[cfg(target_os = "linux")]
        {
            let samples = crate::sockets::lock_samples(&s.inner);
            samples
                .iter()
                .map(|(t, i)| {
                    let mut m = info_map(i);
                    m.insert("t".into(), Dynamic::from_float(t.as_secs_f64()));
                    Dynamic::from_map(m)
                })
                .collect()
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = s;
            Array::new()
        }
    }

    /// The kernel's TCP_INFO for this socket now: `#{ state, cwnd, ssthresh, rto_ms,
    /// rtt_ms, rttvar_ms, retransmits, backoff, total_retrans, mss }` (cwnd and ssthresh in
    /// segments; times in ms). Sampled during a transfer it shows the retransmission timer
    /// backing off and the congestion window at work. Throws once the socket is closed.
    #[rhai_fn(get = "tcp_info", return_raw)]
    pub fn tcp_info(c: &mut crate::sockets::TcpConn) -> ApiResult<Map> {
        #[cfg(target_os = "linux")]
        {
            let i = crate::session::tcp_info(c).map_err(throw_sock)?;
            Ok(info_map(&i))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = c;
            Err(throw_sock(crate::sockets::SockError::usage(
                "tcp_info",
                "reading TCP_INFO needs Linux",
            )))
        }
    }
}
