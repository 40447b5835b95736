//! Script API: the lab network, its hosts, TCP and UDP sockets, and socket errors.

use super::lab_values::{LabHost, LabNet};
use super::{ApiResult, api_error, session, string_size, throw_sock, to_port, to_usize};
use crate::network::{NetOptions, NetworkKind, OptionValue};
use crate::sockets::{self, SockError, TcpOptions};
use rhai::plugin::*;
use rhai::{Blob, Engine, INT, Map};
use std::time::Duration;

pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<LabNet>("Network")
        .register_type_with_name::<LabHost>("Host")
        .register_type_with_name::<sockets::TcpListener>("TcpListener")
        .register_type_with_name::<sockets::TcpConn>("TcpConn")
        .register_type_with_name::<sockets::UdpSock>("UdpSocket")
        .register_type_with_name::<SockError>("SockError");
    engine.register_global_module(exported_module!(net_module).into());
}

/// Refuses a UDP destination that is not loopback or a host of one of the run's networks.
fn check_udp_target(ctx: &NativeCallContext, to: std::net::SocketAddr) -> ApiResult<()> {
    if session(ctx)?.udp_target_allowed(to) {
        return Ok(());
    }
    Err(throw_sock(SockError {
        op: "send_to".into(),
        name: "EACCES".into(),
        errno: 0,
        message: format!(
            "{} is not a lab host: labrun sends only to loopback or to hosts it created itself",
            to.ip()
        ),
    }))
}

/// A script value as a network option's plain value.
fn option_value(v: &Dynamic) -> OptionValue {
    if let Ok(i) = v.as_int() {
        OptionValue::Int(i)
    } else if let Ok(b) = v.as_bool() {
        OptionValue::Bool(b)
    } else if v.is_string() {
        OptionValue::Text(v.to_string())
    } else if let Some(items) = v.read_lock::<rhai::Array>() {
        OptionValue::List(items.iter().map(|n| n.to_string()).collect())
    } else {
        OptionValue::Other(v.type_name().to_string())
    }
}

fn net_options(map: &Map) -> ApiResult<NetOptions> {
    let mut o = NetOptions::default();
    if let Some(hosts) = map.get("hosts") {
        o.set("hosts", &option_value(hosts))
            .map_err(|e| api_error("network", e))?;
    }
    for (k, v) in map.iter().filter(|(k, _)| k.as_str() != "hosts") {
        o.set(k, &option_value(v))
            .map_err(|e| api_error("network", e))?;
    }
    Ok(o)
}

fn network_error(e: crate::session::SessionError) -> Box<EvalAltResult> {
    api_error("network", e)
}

fn ms(function: &str, n: INT) -> ApiResult<Duration> {
    let n = u64::try_from(n)
        .map_err(|_| api_error(function, format!("a timeout must be >= 0 ms, got {n}")))?;
    Ok(Duration::from_millis(n))
}

fn tcp_options(function: &str, map: &Map) -> ApiResult<TcpOptions> {
    let mut o = TcpOptions::default();
    for (k, v) in map {
        let int = || {
            v.as_int().map_err(|t| {
                api_error(
                    function,
                    format!("option `{k}` must be an integer, not {t}"),
                )
            })
        };
        match k.as_str() {
            "mss" => {
                o.mss = Some(
                    u32::try_from(int()?)
                        .map_err(|_| api_error(function, "mss must be positive"))?,
                )
            }
            "nodelay" => {
                o.nodelay = v.as_bool().map_err(|t| {
                    api_error(
                        function,
                        format!("option `nodelay` must be true or false, not {t}"),
                    )
                })?
            }
            "timeout" => o.timeout = Some(ms(function, int()?)?),
            "backlog" => o.backlog = Some(i32::try_from(int()?).unwrap_or(128)),
            "rcvbuf" | "sndbuf" => {
                let bytes = u32::try_from(int()?)
                    .ok()
                    .filter(|b| (1024..=(64 << 20)).contains(b))
                    .ok_or_else(|| {
                        api_error(function, format!("{k} must be 1024 to 67108864 bytes"))
                    })?;
                if k == "rcvbuf" {
                    o.rcvbuf = Some(bytes);
                } else {
                    o.sndbuf = Some(bytes);
                }
            }
            other => {
                return Err(api_error(
                    function,
                    format!(
                        "unknown option `{other}` (known: mss, nodelay, timeout, backlog, rcvbuf, sndbuf)"
                    ),
                ));
            }
        }
    }
    Ok(o)
}

#[export_module]
mod net_module {
    use super::*;

    /// The lab's network (`net.client`, `net.server`).
    pub type Network = super::LabNet;
    /// One lab host: makes sockets and captures on its own address and interface.
    pub type Host = super::LabHost;
    /// A listening TCP socket.
    pub type TcpListener = crate::sockets::TcpListener;
    /// A connected TCP socket (either end of a connection).
    pub type TcpConn = crate::sockets::TcpConn;
    /// A bound UDP socket.
    pub type UdpSocket = crate::sockets::UdpSock;
    /// The error a socket call throws: `e.name` ("ECONNREFUSED"), `e.errno`, `e.message`, `e.op`.
    pub type SockError = crate::sockets::SockError;

    /// The lab network: hosts `client` and `server` where the run puts them (`--network`:
    /// labrun's sandbox by default, or loopback, or two machines). Made once per run.
    #[rhai_fn(return_raw)]
    pub fn network(ctx: NativeCallContext) -> ApiResult<Network> {
        let session = session(&ctx)?;
        let net = session.network().map_err(network_error)?;
        Ok(LabNet { net, session })
    }

    /// A new lab network with options, e.g. `network(#{ mtu: 1500, timestamps: true })`
    /// (options: mtu, offloads, timestamps, prefix, hosts, or a host name with its address;
    /// they shape the sandbox and are ignored on loopback and real interfaces).
    #[rhai_fn(name = "network", return_raw)]
    pub fn network_with(ctx: NativeCallContext, options: Map) -> ApiResult<Network> {
        let session = session(&ctx)?;
        let opts = net_options(&options)?;
        let net = session.network_with(&opts).map_err(network_error)?;
        Ok(LabNet { net, session })
    }

    /// A sandbox network whatever `--network` says (Linux), with options as for `network`.
    #[rhai_fn(return_raw)]
    pub fn sandbox(ctx: NativeCallContext, options: Map) -> ApiResult<Network> {
        let session = session(&ctx)?;
        let opts = net_options(&options)?;
        let net = session
            .make_network(Some(NetworkKind::Sandbox), &opts)
            .map_err(network_error)?;
        Ok(LabNet { net, session })
    }

    /// Both hosts on this machine's loopback interface, whatever `--network` says.
    #[rhai_fn(return_raw)]
    pub fn loopback(ctx: NativeCallContext) -> ApiResult<Network> {
        let session = session(&ctx)?;
        let net = session
            .make_network(Some(NetworkKind::Loopback), &NetOptions::default())
            .map_err(network_error)?;
        Ok(LabNet { net, session })
    }

    /// `sandbox`, `loopback` or `host` (two machines).
    #[rhai_fn(get = "kind", pure)]
    pub fn kind(net: &mut Network) -> String {
        net.kind.as_str().to_string()
    }

    /// In a two-machine lab, the role this machine plays (`server` or `client`); else "".
    #[rhai_fn(get = "role", pure)]
    pub fn role(net: &mut Network) -> String {
        net.role.map(|r| r.as_str().to_string()).unwrap_or_default()
    }

    /// The port given with `--peer ADDR:PORT`, or ().
    #[rhai_fn(get = "peer_port", pure)]
    pub fn net_peer_port(net: &mut Network) -> Dynamic {
        net.peer_port
            .map(|p| Dynamic::from_int(INT::from(p)))
            .unwrap_or(Dynamic::UNIT)
    }

    /// Every host of the network.
    #[rhai_fn(get = "hosts", pure)]
    pub fn hosts(net: &mut Network) -> rhai::Array {
        net.hosts
            .iter()
            .map(|h| Dynamic::from(net.lab_host(h)))
            .collect()
    }

    /// The host called `name`, e.g. `net.host("attacker")`.
    #[rhai_fn(return_raw)]
    pub fn host(net: &mut Network, name: &str) -> ApiResult<Host> {
        net.host(name).map(|h| net.lab_host(h)).ok_or_else(|| {
            let names: Vec<&str> = net.hosts.iter().map(|h| h.name()).collect();
            api_error(
                "host",
                format!("no host `{name}` (this network has {})", names.join(", ")),
            )
        })
    }

    /// `net.client`: the host that connects.
    #[rhai_fn(get = "client", pure, return_raw)]
    pub fn client(net: &mut Network) -> ApiResult<Host> {
        net.host("client")
            .map(|h| net.lab_host(h))
            .ok_or_else(|| api_error("client", "this network has no client host"))
    }

    /// `net.server`: the host that listens.
    #[rhai_fn(get = "server", pure, return_raw)]
    pub fn server(net: &mut Network) -> ApiResult<Host> {
        net.host("server")
            .map(|h| net.lab_host(h))
            .ok_or_else(|| api_error("server", "this network has no server host"))
    }

    /// A one-line description of the network in the report's language, e.g. `loopback (lo)`.
    #[rhai_fn(get = "description", pure)]
    pub fn description(net: &mut Network) -> String {
        net.describe(net.session.lang())
    }

    /// The host's name.
    #[rhai_fn(get = "name", pure)]
    pub fn host_name(h: &mut Host) -> String {
        h.name().to_string()
    }

    /// The host's IP address as text.
    #[rhai_fn(get = "ip", pure)]
    pub fn host_ip(h: &mut Host) -> String {
        h.ip().to_string()
    }

    /// The MAC address of the host's interface, or "" when unknown (loopback).
    #[rhai_fn(get = "mac", pure)]
    pub fn host_mac(h: &mut Host) -> String {
        h.mac().unwrap_or_default().to_string()
    }

    /// True when this labrun can make sockets on the host (false for the peer machine).
    #[rhai_fn(get = "is_local", pure)]
    pub fn host_is_local(h: &mut Host) -> bool {
        h.is_local()
    }

    /// The interface a capture on this host opens.
    #[rhai_fn(get = "iface", pure)]
    pub fn host_iface(h: &mut Host) -> String {
        h.iface().to_string()
    }

    /// Listens on `port` (0: any free port); the kernel completes handshakes on the backlog.
    #[rhai_fn(return_raw)]
    pub fn listen(h: &mut Host, port: INT) -> ApiResult<TcpListener> {
        h.listen(to_port("listen", port)?, TcpOptions::default())
            .map_err(throw_sock)
    }

    /// Listens with options `#{ mss: 1460, nodelay: true, timeout: 5000, backlog: 16, rcvbuf: 4096, sndbuf: 65536 }`
    /// (`timeout`: ms each accept waits, capped by the run's time limit, `--time-limit`).
    #[rhai_fn(name = "listen", return_raw)]
    pub fn listen_with(h: &mut Host, port: INT, options: Map) -> ApiResult<TcpListener> {
        let o = tcp_options("listen", &options)?;
        h.listen(to_port("listen", port)?, o).map_err(throw_sock)
    }

    /// Connects to `addr` ("ip:port"); throws a SockError (e.g. ECONNREFUSED) on failure.
    #[rhai_fn(return_raw)]
    pub fn connect(h: &mut Host, addr: &str) -> ApiResult<TcpConn> {
        let to = sockets::parse_addr("connect", addr).map_err(throw_sock)?;
        h.connect(to, TcpOptions::default()).map_err(throw_sock)
    }

    /// Connects with options `#{ mss: 1460, nodelay: true, timeout: 5000, rcvbuf: 4096, sndbuf: 65536 }` (`timeout`: ms
    /// each blocking call waits, capped by the run's time limit, `--time-limit`).
    #[rhai_fn(name = "connect", return_raw)]
    pub fn connect_with(h: &mut Host, addr: &str, options: Map) -> ApiResult<TcpConn> {
        let o = tcp_options("connect", &options)?;
        let to = sockets::parse_addr("connect", addr).map_err(throw_sock)?;
        h.connect(to, o).map_err(throw_sock)
    }

    /// Binds a UDP socket on `port` (0: any free port).
    #[rhai_fn(return_raw)]
    pub fn udp(h: &mut Host, port: INT) -> ApiResult<UdpSocket> {
        h.udp(to_port("udp", port)?).map_err(throw_sock)
    }

    /// The listener's address, "ip:port".
    #[rhai_fn(get = "addr", pure)]
    pub fn listener_addr(l: &mut TcpListener) -> String {
        l.addr().to_string()
    }

    /// The listener's port.
    #[rhai_fn(get = "port", pure)]
    pub fn listener_port(l: &mut TcpListener) -> INT {
        INT::from(l.addr().port())
    }

    /// Takes the next completed connection off the backlog (waits up to the timeout).
    #[rhai_fn(return_raw)]
    pub fn accept(l: &mut TcpListener) -> ApiResult<TcpConn> {
        l.accept().map_err(throw_sock)
    }

    /// Closes the listening socket.
    #[rhai_fn(name = "close")]
    pub fn listener_close(l: &mut TcpListener) {
        l.close();
    }

    /// This end's address, "ip:port".
    #[rhai_fn(get = "local_addr", pure)]
    pub fn local_addr(c: &mut TcpConn) -> String {
        c.local_addr().to_string()
    }

    /// The other end's address, "ip:port".
    #[rhai_fn(get = "peer_addr", pure)]
    pub fn peer_addr(c: &mut TcpConn) -> String {
        c.peer_addr().to_string()
    }

    /// This end's port.
    #[rhai_fn(get = "local_port", pure)]
    pub fn local_port(c: &mut TcpConn) -> INT {
        INT::from(c.local_addr().port())
    }

    /// The other end's port.
    #[rhai_fn(get = "peer_port", pure)]
    pub fn peer_port(c: &mut TcpConn) -> INT {
        INT::from(c.peer_addr().port())
    }

    /// The deadline of each blocking call, in milliseconds (default 5000).
    #[rhai_fn(get = "timeout", pure)]
    pub fn get_timeout(c: &mut TcpConn) -> INT {
        INT::try_from(c.timeout().as_millis()).unwrap_or(INT::MAX)
    }

    /// Sets the deadline of each blocking call, in milliseconds. The run's time limit
    /// (`--time-limit`) caps it: a wait never outlasts the run, and Ctrl-C ends it at once.
    #[rhai_fn(set = "timeout", return_raw)]
    pub fn set_timeout(c: &mut TcpConn, millis: INT) -> ApiResult<()> {
        c.set_timeout(ms("timeout", millis)?);
        Ok(())
    }

    /// Sends the text's UTF-8 bytes; returns how many were sent.
    #[rhai_fn(return_raw)]
    pub fn send(c: &mut TcpConn, text: &str) -> ApiResult<INT> {
        c.send(text.as_bytes())
            .map(|n| n as INT)
            .map_err(throw_sock)
    }

    /// Sends raw bytes; returns how many were sent.
    #[rhai_fn(name = "send", return_raw)]
    pub fn send_blob(c: &mut TcpConn, data: Blob) -> ApiResult<INT> {
        c.send(&data).map(|n| n as INT).map_err(throw_sock)
    }

    /// Receives what arrives first (up to 64 KiB) as text; "" means the peer closed.
    #[rhai_fn(return_raw)]
    pub fn recv(c: &mut TcpConn) -> ApiResult<String> {
        c.recv(65536).map(text).map_err(throw_sock)
    }

    /// Receives up to `max` bytes as text; "" means the peer closed.
    #[rhai_fn(name = "recv", return_raw)]
    pub fn recv_max(c: &mut TcpConn, max: INT) -> ApiResult<String> {
        c.recv(to_usize("recv", "max", max)?)
            .map(text)
            .map_err(throw_sock)
    }

    /// Receives exactly `n` bytes as text (fails if the peer closes first); `n` is at most
    /// the longest string a script may hold (16 MiB).
    #[rhai_fn(return_raw)]
    pub fn recv_exact(ctx: NativeCallContext, c: &mut TcpConn, n: INT) -> ApiResult<String> {
        c.recv_exact(string_size(&ctx, n)?)
            .map(text)
            .map_err(throw_sock)
    }

    /// Receives up to `max` bytes as a blob (raw bytes).
    #[rhai_fn(return_raw)]
    pub fn recv_blob(c: &mut TcpConn, max: INT) -> ApiResult<Blob> {
        c.recv(to_usize("recv_blob", "max", max)?)
            .map_err(throw_sock)
    }

    /// Receives up to and including `delim` (e.g. "\n"), at most 1 MiB.
    #[rhai_fn(return_raw)]
    pub fn recv_until(c: &mut TcpConn, delim: &str) -> ApiResult<String> {
        c.recv_until(delim.as_bytes(), 1 << 20)
            .map(text)
            .map_err(throw_sock)
    }

    /// Half-closes: sends FIN and keeps receiving (`shutdown(SHUT_WR)`).
    #[rhai_fn(return_raw)]
    pub fn shutdown(c: &mut TcpConn) -> ApiResult<()> {
        c.shutdown_write().map_err(throw_sock)
    }

    /// SO_LINGER in seconds; `linger(0)` makes `close()` send RST instead of FIN.
    #[rhai_fn(return_raw)]
    pub fn linger(c: &mut TcpConn, secs: INT) -> ApiResult<()> {
        let secs = u64::try_from(secs).map_err(|_| api_error("linger", "seconds must be >= 0"))?;
        c.set_linger(Some(secs)).map_err(throw_sock)
    }

    /// The kernel's TCP state of this socket now, by RFC 9293's name ("ESTABLISHED",
    /// "CLOSE-WAIT", ...; Linux's TCP_INFO): sampled during the run, it confirms the states
    /// the capture shows. Throws once the socket is closed.
    #[rhai_fn(get = "state", return_raw)]
    pub fn state(c: &mut TcpConn) -> ApiResult<String> {
        crate::session::tcp_state(c).map_err(throw_sock)
    }

    /// The kernel's state of this host's connection `local` ↔ `remote` ("ip:port" each, as
    /// `conn.local_addr` and `conn.peer_addr` give them) now: "FIN-WAIT-2", "TIME-WAIT", ...,
    /// or "CLOSED" when the kernel keeps no such connection. It also reads a socket the lab
    /// already closed, from the host's /proc/net/tcp (what `ss` shows), where `conn.state`
    /// cannot.
    #[rhai_fn(return_raw)]
    pub fn tcp_state(host: &mut Host, local: &str, remote: &str) -> ApiResult<String> {
        let addr = |s: &str| {
            s.parse::<std::net::SocketAddr>()
                .map_err(|_| api_error("tcp_state", format!("`{s}` is not an ip:port address")))
        };
        crate::session::connection_state(&host.host, addr(local)?, addr(remote)?)
            .map_err(throw_sock)
    }

    /// Keepalive: a probe after `idle_secs` seconds without traffic, then one every
    /// `interval_secs`; after `count` unanswered probes the kernel gives the connection up,
    /// resets it, and the next call fails with ETIMEDOUT. Each at least 1, at most 3600.
    #[rhai_fn(return_raw)]
    pub fn keepalive(
        c: &mut TcpConn,
        idle_secs: INT,
        interval_secs: INT,
        count: INT,
    ) -> ApiResult<()> {
        let check = |v: INT, what: &str| {
            u64::try_from(v)
                .ok()
                .filter(|v| (1..=3600).contains(v))
                .ok_or_else(|| api_error("keepalive", format!("{what} must be 1..=3600")))
        };
        let idle = check(idle_secs, "idle_secs")?;
        let interval = check(interval_secs, "interval_secs")?;
        let count = check(count, "count")?;
        c.set_keepalive(
            std::time::Duration::from_secs(idle),
            std::time::Duration::from_secs(interval),
            count as u32,
        )
        .map_err(throw_sock)
    }

    /// TCP_NODELAY: `nodelay(true)` turns Nagle's algorithm off.
    #[rhai_fn(return_raw)]
    pub fn nodelay(c: &mut TcpConn, on: bool) -> ApiResult<()> {
        c.set_nodelay(on).map_err(throw_sock)
    }

    /// TCP_CONGESTION (Linux): the congestion control algorithm of this connection, e.g.
    /// `congestion("reno")` or `congestion("cubic")` (the algorithms this kernel offers).
    #[rhai_fn(return_raw)]
    pub fn congestion(c: &mut TcpConn, name: &str) -> ApiResult<()> {
        c.set_congestion(name).map_err(throw_sock)
    }

    /// TCP_QUICKACK (Linux): `quickack(true)` makes the kernel acknowledge what arrives at
    /// once instead of delaying its ACK (up to 40 ms here); the kernel may turn it off
    /// again, so set it before each receive.
    #[rhai_fn(return_raw)]
    pub fn quickack(c: &mut TcpConn, on: bool) -> ApiResult<()> {
        c.set_quickack(on).map_err(throw_sock)
    }

    /// The MSS this connection uses (TCP_MAXSEG).
    #[rhai_fn(return_raw)]
    pub fn mss(c: &mut TcpConn) -> ApiResult<INT> {
        c.mss().map(INT::from).map_err(throw_sock)
    }

    /// Closes the socket: FIN normally, RST with `linger(0)` or unread data.
    #[rhai_fn(name = "close")]
    pub fn conn_close(c: &mut TcpConn) {
        c.close();
    }

    /// The UDP socket's address, "ip:port".
    #[rhai_fn(get = "addr", pure)]
    pub fn udp_addr(u: &mut UdpSocket) -> String {
        u.local_addr().to_string()
    }

    /// The UDP socket's port.
    #[rhai_fn(get = "port", pure)]
    pub fn udp_port(u: &mut UdpSocket) -> INT {
        INT::from(u.local_addr().port())
    }

    /// Sends one datagram with the text to `addr`; returns the byte count.
    #[rhai_fn(return_raw)]
    pub fn send_to(
        ctx: NativeCallContext,
        u: &mut UdpSocket,
        text: &str,
        addr: &str,
    ) -> ApiResult<INT> {
        let to = sockets::parse_addr("send_to", addr).map_err(throw_sock)?;
        check_udp_target(&ctx, to)?;
        u.send_to(text.as_bytes(), to)
            .map(|n| n as INT)
            .map_err(throw_sock)
    }

    /// Connects the UDP socket to `addr`: `send` then goes there, and an ICMP port
    /// unreachable it answers with makes the next call fail with ECONNREFUSED.
    #[rhai_fn(name = "connect", return_raw)]
    pub fn udp_connect(ctx: NativeCallContext, u: &mut UdpSocket, addr: &str) -> ApiResult<()> {
        let to = sockets::parse_addr("connect", addr).map_err(throw_sock)?;
        check_udp_target(&ctx, to)?;
        u.connect(to).map_err(throw_sock)
    }

    /// Sends one datagram with the text to the connected address; returns the byte count.
    #[rhai_fn(name = "send", return_raw)]
    pub fn udp_send(u: &mut UdpSocket, text: &str) -> ApiResult<INT> {
        u.send(text.as_bytes())
            .map(|n| n as INT)
            .map_err(throw_sock)
    }

    /// Waits for one datagram: `#{ data: "...", from: "ip:port", len: N }`.
    #[rhai_fn(return_raw)]
    pub fn recv_from(u: &mut UdpSocket) -> ApiResult<Map> {
        let d = u.recv_from(65536).map_err(throw_sock)?;
        let mut m = Map::new();
        m.insert("len".into(), (d.data.len() as INT).into());
        m.insert("data".into(), text(d.data).into());
        m.insert("from".into(), d.from.to_string().into());
        Ok(m)
    }

    /// Sets the deadline of each blocking call, in milliseconds. The run's time limit
    /// (`--time-limit`) caps it: a wait never outlasts the run, and Ctrl-C ends it at once.
    #[rhai_fn(set = "timeout", return_raw)]
    pub fn udp_set_timeout(u: &mut UdpSocket, millis: INT) -> ApiResult<()> {
        u.set_timeout(ms("timeout", millis)?);
        Ok(())
    }

    /// Closes the UDP socket.
    #[rhai_fn(name = "close")]
    pub fn udp_close(u: &mut UdpSocket) {
        u.close();
    }

    /// The failed operation, e.g. "connect".
    #[rhai_fn(get = "op", pure)]
    pub fn err_op(e: &mut SockError) -> String {
        e.op.clone()
    }

    /// The errno name, e.g. "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT".
    #[rhai_fn(get = "name", pure)]
    pub fn err_name(e: &mut SockError) -> String {
        e.name.clone()
    }

    /// The errno number (0 when the error is labrun's own, like a usage error).
    #[rhai_fn(get = "errno", pure)]
    pub fn err_errno(e: &mut SockError) -> INT {
        e.errno
    }

    /// The OS's message with the addresses involved.
    #[rhai_fn(get = "message", pure)]
    pub fn err_message(e: &mut SockError) -> String {
        e.message.clone()
    }

    /// The whole error as one line.
    #[rhai_fn(name = "to_string", pure)]
    pub fn err_to_string(e: &mut SockError) -> String {
        e.to_string()
    }

    /// The whole error as one line (for `print` and `debug`).
    #[rhai_fn(name = "to_debug", pure)]
    pub fn err_to_debug(e: &mut SockError) -> String {
        e.to_string()
    }
}

/// Bytes as script text; invalid UTF-8 is shown with replacement characters.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
