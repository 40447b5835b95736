//! Script API: the lab link's deterministic loss (`net.lose`) and a socket's kernel TCP
//! state (`conn.tcp_info`, and sampled over time by `conn.sample_tcp_info`). Conversions
//! only: the rules are `network::LinkLoss`'s, the sampling `sockets::TcpConn`'s.

use super::lab_values::LabNet;
use super::{ApiResult, api_error, throw_sock, to_port};
use crate::network::{LinkLoss, Loss};
use rhai::plugin::*;
use rhai::{Array, Engine, INT, Map};

/// A running sampler of one connection's TCP_INFO (`conn.sample_tcp_info(ms)`).
#[derive(Debug, Clone)]
pub struct TcpInfoSampler {
    #[cfg(target_os = "linux")]
    inner: crate::sockets::KernelSamples<crate::sandbox::TcpInfo>,
}

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<LinkLoss>("LinkLoss");
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
