//! The sandbox as a lab [`Network`]: hosts whose sockets and captures are made inside
//! their own namespaces, so scripts use the same API as on loopback.

use super::{HostSpec, Netns, Sandbox, SandboxConfig};
use crate::network::{
    Host, NetContext, NetOptions, Network, NetworkError, NetworkKind, TargetPolicy,
};
use std::net::IpAddr;
use std::sync::Arc;

impl NetContext for Netns {
    fn run(&self, f: &mut dyn FnMut()) -> std::io::Result<()> {
        self.enter(f).map_err(super::SandboxError::into_io)
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
    let two = n == 2;
    let description = crate::i18n::Text::new(
        format!(
            "sandbox: {n} hosts on one {} (MTU {mtu}, offloads {}, TCP timestamps {}), {built}",
            if two { "veth link" } else { "switch" },
            onoff(options.offloads),
            onoff(options.timestamps),
        ),
        format!(
            "沙箱：{n} 台主机连在一条{}上（MTU {mtu}，网卡卸载{}，TCP 时间戳{}），{jiancheng}",
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
        keep_alive: Some(sandbox),
    })
}
