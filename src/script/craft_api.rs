//! Script API: hand-made TCP and UDP packets, and sending them from a host.

use super::lab_values::LabHost as Host;
use super::{ApiResult, api_error, to_port};
use crate::craft::{self, Crafted, Ethernet, TcpFlags, TcpSpec, UdpSpec};
use rhai::plugin::*;
use rhai::{Blob, Engine, INT, Map};
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<CraftedRef>("Crafted");
    engine.register_global_module(exported_module!(craft_module).into());
}

/// A crafted packet as a script value.
#[derive(Debug, Clone)]
pub struct CraftedRef(pub Arc<Crafted>);

/// A 32-bit sequence number from a script integer, modulo 2^32 (so `rcv_nxt + 10000000`
/// wraps as TCP's sequence space does).
fn seq32(n: INT) -> u32 {
    n.rem_euclid(1 << 32) as u32
}

fn int(function: &str, key: &str, v: &Dynamic) -> ApiResult<INT> {
    v.as_int()
        .map_err(|t| api_error(function, format!("`{key}` must be an integer, not {t}")))
}

fn ranged<T: TryFrom<INT>>(function: &str, key: &str, v: &Dynamic, what: &str) -> ApiResult<T> {
    let n = int(function, key, v)?;
    T::try_from(n).map_err(|_| api_error(function, format!("`{key}` must be {what}, got {n}")))
}

fn ipv4(function: &str, text: &str) -> ApiResult<Ipv4Addr> {
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Ok(a),
        Ok(IpAddr::V6(_)) => Err(api_error(
            function,
            format!("{text}: crafted packets are IPv4 only"),
        )),
        Err(_) => Err(api_error(
            function,
            format!("`{text}` is not an IPv4 address"),
        )),
    }
}

/// An endpoint from `key` ("ip:port", "ip" or a host) and the port key (`sport`/`dport`).
fn endpoint(function: &str, map: &Map, key: &str, port_key: &str) -> ApiResult<SocketAddrV4> {
    let v = map.get(key).ok_or_else(|| {
        api_error(
            function,
            format!("`{key}` is missing (\"ip:port\" or a host)"),
        )
    })?;
    let (ip, port) = if let Some(h) = v.clone().try_cast::<Host>() {
        match h.ip() {
            IpAddr::V4(a) => (a, None),
            IpAddr::V6(_) => {
                return Err(api_error(function, "crafted packets are IPv4 only"));
            }
        }
    } else {
        let text = v.to_string();
        match text.parse::<SocketAddrV4>() {
            Ok(a) => (*a.ip(), Some(a.port())),
            Err(_) => (ipv4(function, &text)?, None),
        }
    };
    let port = match (map.get(port_key), port) {
        (Some(p), _) => to_port(function, int(function, port_key, p)?)?,
        (None, Some(p)) => p,
        (None, None) => {
            return Err(api_error(
                function,
                format!("no port for `{key}`: write \"ip:port\" or give `{port_key}`"),
            ));
        }
    };
    Ok(SocketAddrV4::new(ip, port))
}

fn mac(function: &str, key: &str, v: &Dynamic) -> ApiResult<[u8; 6]> {
    let text = v.to_string();
    let parts: Vec<&str> = text.split([':', '-']).collect();
    let bytes: Option<Vec<u8>> = parts
        .iter()
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect();
    match bytes {
        Some(b) if b.len() == 6 => Ok([b[0], b[1], b[2], b[3], b[4], b[5]]),
        _ => Err(api_error(
            function,
            format!("`{key}` must be a MAC address like 02:00:00:4d:00:01, got `{text}`"),
        )),
    }
}

fn payload(function: &str, v: &Dynamic) -> ApiResult<Vec<u8>> {
    if let Some(b) = v.clone().try_cast::<Blob>() {
        return Ok(b);
    }
    if v.is_string() {
        return Ok(v.to_string().into_bytes());
    }
    Err(api_error(
        function,
        format!("`payload` must be text or a blob, not {}", v.type_name()),
    ))
}

fn ethernet(function: &str, map: &Map) -> ApiResult<Option<Ethernet>> {
    match (map.get("eth_src"), map.get("eth_dst")) {
        (None, None) => Ok(None),
        (Some(s), Some(d)) => Ok(Some(Ethernet {
            src: mac(function, "eth_src", s)?,
            dst: mac(function, "eth_dst", d)?,
        })),
        _ => Err(api_error(
            function,
            "a frame needs both `eth_src` and `eth_dst` (or neither, for an IP packet)",
        )),
    }
}

fn tcp_spec(map: &Map) -> ApiResult<TcpSpec> {
    const F: &str = "tcp_packet";
    const KNOWN: &[&str] = &[
        "src",
        "dst",
        "sport",
        "dport",
        "flags",
        "seq",
        "ack",
        "win",
        "mss",
        "wscale",
        "sack_perm",
        "ts",
        "payload",
        "ttl",
        "bad_checksum",
        "eth_src",
        "eth_dst",
    ];
    if let Some(k) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(api_error(
            F,
            format!("unknown field `{k}` (known: {})", KNOWN.join(", ")),
        ));
    }
    let mut spec = TcpSpec::new(
        endpoint(F, map, "src", "sport")?,
        endpoint(F, map, "dst", "dport")?,
    );
    for (k, v) in map {
        match k.as_str() {
            "flags" => spec.flags = TcpFlags::parse(&v.to_string()).map_err(|e| api_error(F, e))?,
            "seq" => spec.seq = seq32(int(F, k, v)?),
            "ack" => spec.ack = seq32(int(F, k, v)?),
            "win" => spec.window = ranged(F, k, v, "0..=65535")?,
            "mss" => spec.mss = Some(ranged(F, k, v, "0..=65535")?),
            "wscale" => spec.wscale = Some(ranged(F, k, v, "0..=14")?),
            "sack_perm" => {
                spec.sack_perm = v.as_bool().map_err(|t| {
                    api_error(F, format!("`sack_perm` must be true or false, not {t}"))
                })?
            }
            "ts" => {
                let pair = v.clone().try_cast::<rhai::Array>().unwrap_or_default();
                let [val, ecr] = pair.as_slice() else {
                    return Err(api_error(F, "`ts` must be [tsval, tsecr]"));
                };
                spec.timestamps = Some((seq32(int(F, k, val)?), seq32(int(F, k, ecr)?)));
            }
            "payload" => spec.payload = payload(F, v)?,
            "ttl" => spec.ttl = ranged(F, k, v, "1..=255")?,
            "bad_checksum" => {
                spec.bad_checksum = v.as_bool().map_err(|t| {
                    api_error(F, format!("`bad_checksum` must be true or false, not {t}"))
                })?
            }
            _ => {}
        }
    }
    spec.ethernet = ethernet(F, map)?;
    Ok(spec)
}

fn udp_spec(map: &Map) -> ApiResult<UdpSpec> {
    const F: &str = "udp_packet";
    const KNOWN: &[&str] = &[
        "src",
        "dst",
        "sport",
        "dport",
        "payload",
        "ttl",
        "bad_checksum",
        "eth_src",
        "eth_dst",
    ];
    if let Some(k) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(api_error(
            F,
            format!("unknown field `{k}` (known: {})", KNOWN.join(", ")),
        ));
    }
    let mut spec = UdpSpec {
        src: endpoint(F, map, "src", "sport")?,
        dst: endpoint(F, map, "dst", "dport")?,
        payload: Vec::new(),
        ttl: 64,
        bad_checksum: false,
        ethernet: ethernet(F, map)?,
    };
    for (k, v) in map {
        match k.as_str() {
            "payload" => spec.payload = payload(F, v)?,
            "ttl" => spec.ttl = ranged(F, k, v, "1..=255")?,
            "bad_checksum" => {
                spec.bad_checksum = v.as_bool().map_err(|t| {
                    api_error(F, format!("`bad_checksum` must be true or false, not {t}"))
                })?
            }
            _ => {}
        }
    }
    Ok(spec)
}

/// Sends `pkt` from `host`: an IP packet on a raw socket made in the host's namespace, a
/// frame injected on the host's interface.
fn send(host: &Host, pkt: &Crafted) -> ApiResult<()> {
    const F: &str = "send_packet";
    if !host.policy().allows(IpAddr::V4(pkt.dst)) {
        return Err(api_error(
            F,
            format!(
                "{} is not a lab host: labrun sends crafted packets only to loopback or to hosts it created itself",
                pkt.dst
            ),
        ));
    }
    if pkt.ethernet {
        let iface = host.iface().to_string();
        host.within(F, || craft::inject_frame(&iface, &pkt.bytes))
            .map_err(|e| api_error(F, e))?
            .map_err(|e| api_error(F, e))
    } else {
        let socket = host
            .within(F, || craft::raw_ipv4_socket(false))
            .map_err(|e| api_error(F, e))?
            .map_err(|e| api_error(F, e))?;
        craft::send_ip(&socket, pkt.ip_bytes(), pkt.dst)
            .map(|_| ())
            .map_err(|e| api_error(F, e))
    }
}

#[export_module]
mod craft_module {
    use super::*;

    /// A hand-made packet, ready for `host.send_packet(pkt)`.
    pub type Crafted = CraftedRef;

    /// Builds a TCP segment in an IPv4 packet: `#{ src: "10.77.0.1:40000" (or a host plus
    /// `sport`), dst: "10.77.0.2:8888" (or a host plus `dport`), flags: "S" (tcpdump's
    /// letters, `.` is ACK, or "SYN,ACK"), seq, ack (modulo 2^32; ack is written even
    /// without the ACK flag), win: 64240, mss, wscale, sack_perm: true, ts: [tsval, tsecr],
    /// payload: text or blob, ttl: 64, bad_checksum: false, eth_src, eth_dst }`. Checksums
    /// are correct unless `bad_checksum` is true; with `eth_src` and `eth_dst` it is a
    /// whole Ethernet frame. The source address may be any: the IP header is labrun's.
    #[rhai_fn(return_raw)]
    pub fn tcp_packet(fields: Map) -> ApiResult<Crafted> {
        let spec = tcp_spec(&fields)?;
        craft::build_tcp(&spec)
            .map(|c| CraftedRef(Arc::new(c)))
            .map_err(|e| api_error("tcp_packet", e))
    }

    /// Builds a UDP datagram in an IPv4 packet: `#{ src, dst (as for tcp_packet), payload,
    /// ttl: 64, bad_checksum: false, eth_src, eth_dst }`.
    #[rhai_fn(return_raw)]
    pub fn udp_packet(fields: Map) -> ApiResult<Crafted> {
        let spec = udp_spec(&fields)?;
        craft::build_udp(&spec)
            .map(|c| CraftedRef(Arc::new(c)))
            .map_err(|e| api_error("udp_packet", e))
    }

    /// Sends a crafted packet from this host: an IP packet on a raw socket with its own
    /// IP header (the source address is the packet's, not the host's), a frame injected on
    /// the host's interface. Only to loopback or to hosts of labrun's own network.
    #[rhai_fn(return_raw)]
    pub fn send_packet(host: &mut Host, pkt: Crafted) -> ApiResult<()> {
        send(host, &pkt.0)
    }

    /// The packet's bytes (an IPv4 packet, or an Ethernet frame).
    #[rhai_fn(get = "bytes", pure)]
    pub fn bytes(p: &mut Crafted) -> Blob {
        p.0.bytes.clone()
    }

    /// Its length in bytes.
    #[rhai_fn(name = "len", get = "len", pure)]
    pub fn len(p: &mut Crafted) -> INT {
        p.0.bytes.len() as INT
    }

    /// One line in tcpdump's manner: addresses, flags, seq, ack, window, length.
    #[rhai_fn(get = "summary", pure)]
    pub fn summary(p: &mut Crafted) -> String {
        p.0.summary.clone()
    }

    /// The TCP sequence number (raw), or () for UDP.
    #[rhai_fn(get = "seq", pure)]
    pub fn seq(p: &mut Crafted) -> Dynamic {
        p.0.tcp
            .as_ref()
            .map_or(Dynamic::UNIT, |t| Dynamic::from_int(INT::from(t.seq)))
    }

    /// The TCP acknowledgment number (raw), or () for UDP.
    #[rhai_fn(get = "ack", pure)]
    pub fn ack(p: &mut Crafted) -> Dynamic {
        p.0.tcp
            .as_ref()
            .map_or(Dynamic::UNIT, |t| Dynamic::from_int(INT::from(t.ack)))
    }

    /// The TCP flags as Wireshark names them ("SYN, ACK"), or "" for UDP.
    #[rhai_fn(get = "flags", pure)]
    pub fn flags(p: &mut Crafted) -> String {
        p.0.tcp
            .as_ref()
            .map(|t| t.flags.names())
            .unwrap_or_default()
    }

    /// The summary line (for `print` and string interpolation).
    #[rhai_fn(name = "to_string", pure)]
    pub fn to_string(p: &mut Crafted) -> String {
        p.0.summary.clone()
    }

    /// The summary line (for `debug`).
    #[rhai_fn(name = "to_debug", pure)]
    pub fn to_debug(p: &mut Crafted) -> String {
        p.0.summary.clone()
    }
}
