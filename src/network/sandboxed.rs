//! The sandbox as a lab [`Network`] (Linux only): hosts whose sockets and captures are
//! made inside their own namespaces, so scripts use the same API as on loopback.
//!
//! The sandbox module builds namespaces and knows nothing of lab networks; this module
//! wraps what it built (or what another labrun shared) as [`Host`]s.

use super::{
    Host, NetContext, NetOptions, Network, NetworkError, NetworkKind, SandboxHandle, TargetPolicy,
};
use crate::sandbox::{HostSpec, Netns, Sandbox, SandboxConfig, SandboxError};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

impl NetContext for Netns {
    fn run(&self, f: &mut dyn FnMut()) -> std::io::Result<()> {
        self.enter(f).map_err(SandboxError::into_io)
    }
}

/// Builds the sandbox described by `options` and wraps it as a lab network.
pub fn network(options: &NetOptions) -> Result<Network, NetworkError> {
    let config = SandboxConfig {
        hosts: options
            .hosts
            .iter()
            .map(|h| HostSpec::new(&h.name, h.ip, options.prefix))
            .collect(),
        mtu: options.mtu,
        offloads: options.offloads,
        tcp_timestamps: options.timestamps,
        textbook_tcp: options.textbook,
        bottleneck: options
            .bottleneck
            .map(|(rate_kbit, queue_bytes)| crate::sandbox::Bottleneck {
                rate_kbit,
                queue_bytes,
            }),
        relay: options.link,
        ..SandboxConfig::default()
    };
    let sandbox =
        Arc::new(Sandbox::build(&config).map_err(|e| NetworkError::Sandbox(e.to_string()))?);
    let policy = Arc::new(TargetPolicy {
        own: sandbox.hosts.iter().map(|h| IpAddr::V4(h.ip)).collect(),
    });
    let hosts = sandbox
        .hosts
        .iter()
        .map(|h| {
            let ctx: Arc<dyn NetContext> = h.netns.clone();
            Host::new(&h.name, IpAddr::V4(h.ip), &h.iface, Arc::clone(&policy))
                .with_context(ctx)
                .with_mac(&crate::analysis::fmt_mac(&h.mac))
        })
        .collect();
    let onoff = |b: bool| if b { "on" } else { "off" };
    let kaiguan = |b: bool| if b { "开" } else { "关" };
    let (n, mtu) = (sandbox.hosts.len(), options.mtu);
    let ms = format!("{:.1} ms", sandbox.setup_time.as_secs_f64() * 1000.0);
    let (built, jiancheng) = if options.deterministic {
        (
            "built in (normalised)".to_string(),
            "建成用时（已规范化）".to_string(),
        )
    } else {
        (format!("built in {ms}"), format!("用时 {ms} 建成"))
    };
    let two = n == 2 && options.bottleneck.is_none() && !options.link;
    let (neck, pingjing) = match options.bottleneck {
        Some((rate, queue)) => (
            format!(", every switch port limited to {rate} kbit/s with a {queue}-byte queue"),
            format!("，交换机每个端口限速 {rate} kbit/s、队列 {queue} 字节"),
        ),
        None => (String::new(), String::new()),
    };
    let (relayed, zhongji) = if options.link {
        (
            ", frames relayed through labrun's link in the switch",
            "，帧经交换机中 labrun 的链路中继转发",
        )
    } else {
        ("", "")
    };
    let (profile, peizhi) = if options.textbook {
        (
            ", textbook TCP (SACK and RACK off)",
            "，教科书式 TCP（关闭 SACK 和 RACK）",
        )
    } else {
        ("", "")
    };
    let description = crate::i18n::Text::new(
        format!(
            "sandbox: {n} hosts on one {} (MTU {mtu}, offloads {}, TCP timestamps {}{profile}{neck}{relayed}), {built}",
            if two { "veth link" } else { "switch" },
            onoff(options.offloads),
            onoff(options.timestamps),
        ),
        format!(
            "沙箱：{n} 台主机连在一条{}上（MTU {mtu}，网卡卸载{}，TCP 时间戳{}{peizhi}{pingjing}{zhongji}），{jiancheng}",
            if two { " veth 链路" } else { "交换机" },
            kaiguan(options.offloads),
            kaiguan(options.timestamps),
        ),
    );
    Ok(Network {
        kind: NetworkKind::Sandbox,
        hosts,
        role: None,
        peer_port: None,
        description,
        keep_alive: Some(SandboxHandle::Built(sandbox)),
    })
}

/// The server role of an interactive lab: builds the sandbox and publishes it at
/// `rendezvous` for the client role's labrun.
pub fn shared(options: &NetOptions, rendezvous: &Path) -> Result<Network, NetworkError> {
    let mut net = network(options)?;
    let Some(SandboxHandle::Built(sandbox)) = net.keep_alive.take() else {
        return Err(NetworkError::Sandbox("the sandbox vanished".into()));
    };
    let published = crate::sandbox::publish(sandbox, rendezvous)
        .map_err(|e| NetworkError::Sandbox(e.to_string()))?;
    let at = rendezvous.display();
    net.description.en.push_str(&format!(", shared at {at}"));
    net.description.zh.push_str(&format!("，共享于 {at}"));
    net.keep_alive = Some(SandboxHandle::Published(Arc::new(published)));
    Ok(net)
}

/// The network of the sandbox this process joined with [`crate::sandbox::join`].
pub fn joined() -> Result<Network, NetworkError> {
    let joined = crate::sandbox::joined_hosts();
    if joined.is_empty() {
        return Err(NetworkError::Sandbox(
            "this labrun did not join another one's lab network".into(),
        ));
    }
    let policy = Arc::new(TargetPolicy {
        own: joined.iter().map(|h| IpAddr::V4(h.ip)).collect(),
    });
    let hosts = joined
        .iter()
        .map(|h| {
            let ctx: Arc<dyn NetContext> = h.netns.clone();
            Host::new(&h.name, IpAddr::V4(h.ip), &h.iface, Arc::clone(&policy))
                .with_context(ctx)
                .with_mac(&h.mac)
        })
        .collect();
    Ok(Network {
        kind: NetworkKind::Sandbox,
        hosts,
        role: None,
        peer_port: None,
        description: crate::i18n::Text::new(
            "sandbox shared by the chat server's labrun (this one is the client)",
            "与聊天服务器端的 labrun 共用的沙箱（本进程是客户端）",
        ),
        keep_alive: None,
    })
}

/// The relay's judge: the link's rules, and the log the script reads.
struct RuleJudge(super::link::LinkJudge);

impl crate::sandbox::Judge for RuleJudge {
    fn judge(
        &mut self,
        to_server: bool,
        frame: &[u8],
        at: std::time::Instant,
    ) -> crate::sandbox::Verdict {
        let d = self.0.judge(toward(to_server), frame, at);
        crate::sandbox::Verdict {
            copies: d.copies,
            delay: d.delay,
            hold_after: d.hold_after,
        }
    }

    fn queue_full(&mut self, to_server: bool, frame: &[u8], at: std::time::Instant) {
        self.0.queue_full(toward(to_server), frame, at);
    }

    fn hold_expired(&mut self, to_server: bool, frame: &[u8], at: std::time::Instant) {
        self.0.hold_expired(toward(to_server), frame, at);
    }
}

fn toward(to_server: bool) -> super::link::Toward {
    if to_server {
        super::link::Toward::Server
    } else {
        super::link::Toward::Client
    }
}

/// The relay of the sandbox `handle` holds, or why there is none.
fn relay_of(handle: Option<&SandboxHandle>) -> Result<&crate::sandbox::Relay, NetworkError> {
    let sandbox = match handle {
        Some(SandboxHandle::Built(s)) => s,
        Some(SandboxHandle::Published(p)) => &p.sandbox,
        None => {
            return Err(NetworkError::Option(
                "the link's rules need the sandbox this labrun built (sandbox(#{ link: true }))"
                    .into(),
            ));
        }
    };
    sandbox.relay.as_ref().ok_or_else(|| {
        NetworkError::Option(
            "this sandbox has no relayed link: build it with sandbox(#{ link: true }) to use net.link"
                .into(),
        )
    })
}

/// Gives the relay of `handle`'s sandbox a judge of `judge`'s rules (replacing earlier
/// ones).
pub fn set_link(
    handle: Option<&SandboxHandle>,
    judge: super::link::LinkJudge,
) -> Result<(), NetworkError> {
    let relay = relay_of(handle)?;
    if !relay.running() {
        return Err(NetworkError::Sandbox(
            "the link's relay thread stopped unexpectedly".into(),
        ));
    }
    judge_relay(relay, judge);
    Ok(())
}

/// Makes `judge`'s rules decide what `relay` does with each frame (replacing earlier ones):
/// what `net.link` installs.
pub fn judge_relay(relay: &crate::sandbox::Relay, judge: super::link::LinkJudge) {
    relay.set_judge(Some(Box::new(RuleJudge(judge))));
}

/// Frames and bytes the relay of `handle`'s sandbox has carried.
pub fn relay_counts(handle: Option<&SandboxHandle>) -> Result<(u64, u64), NetworkError> {
    use std::sync::atomic::Ordering;
    let s = relay_of(handle)?.stats();
    Ok((
        s.frames.load(Ordering::Relaxed),
        s.bytes.load(Ordering::Relaxed),
    ))
}
