//! The lab network (Linux only): hosts in private network namespaces on one Ethernet link,
//! built through netlink and ioctls, gone when the process ends.
//!
//! Each host gets its own anonymous network namespace ([`Netns`]) with `lo` up and one
//! interface `eth0` (a veth end) carrying its IPv4 address, MTU and MAC address.
//!
//! - **Two hosts**: one veth pair, one end in each host namespace: a plain cable.
//! - **Three or more hosts**: a learning bridge `br0` in an extra "switch" namespace, with
//!   one veth pair per host (`eth0` in the host, `portN` on the switch). Like a real
//!   switch, it forwards unicast frames only to the port of their destination once it has
//!   learned where that is, so a third host sees broadcasts (ARP requests) but not the
//!   others' unicast traffic unless it redirects it (ARP spoofing).
//!
//! With `offloads` off, TSO, GSO and GRO are switched off on every veth end, so a capture
//! on `eth0` shows the segments the wire carries (1460/1460/30 for a 2950-byte send with
//! TCP timestamps off) rather than the kernel's 64 KiB super-packets. TCP timestamps are
//! set per namespace, never on the machine itself. IPv6 is off in the lab namespaces unless
//! asked for, so captures hold no router solicitations or multicast reports.
//!
//! Nothing is named or mounted: the namespaces live as long as their [`Netns`] values (and
//! any socket or thread inside them) and die with the process, even on SIGKILL; their
//! interfaces die with them. As an ordinary user, call [`ensure_privileges`] first thing in
//! `main`: labrun then enters its own user namespace, like `unshare -rn`.

pub mod contain;
mod ethtool;
mod netlink;
mod netns;
mod nftables;
mod privilege;
mod relay;
mod rendezvous;
mod tc;
mod tcp_info;

pub use netns::Netns;
pub use nftables::nft;
pub use privilege::{Privilege, ensure_privileges, prepare_process};
pub use relay::{Judge, Relay, RelayStats, Verdict};
pub use rendezvous::{
    Published, SharedHost, join, joined_hosts, own_rendezvous_path, publish, rendezvous_path,
};
pub use tcp_info::{TcpInfo, connection_state, tcp_info, tcp_state};

use crate::analysis::fmt_mac;
use netlink::{LinkSpec, NetlinkFailure, Rtnl, ifindex};
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The name of every host's interface on the lab link.
pub const HOST_IFACE: &str = "eth0";
/// The name of the bridge in the switch namespace (three or more hosts).
pub const BRIDGE_IFACE: &str = "br0";

/// Everything that can go wrong building or using the lab network.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The configuration cannot describe a working network.
    #[error("bad lab network: {0}")]
    Config(String),
    /// The kernel refused a new network namespace.
    #[error("cannot create a network namespace: {source}{hint}")]
    Namespace {
        /// The errno.
        source: io::Error,
        /// What to do about it, if known.
        hint: String,
    },
    /// A thread could not switch into a lab namespace.
    #[error("cannot enter a lab host's network namespace: {source}{hint}")]
    Enter {
        /// The errno.
        source: io::Error,
        /// What to do about it, if known.
        hint: String,
    },
    /// A thread could not switch back to its own namespace after working in a lab host.
    #[error("cannot switch back from a lab host's network namespace: {0}")]
    Restore(io::Error),
    /// A netlink request (create a link, set it up, add an address) failed.
    #[error("cannot {action}: {source}{detail}{hint}")]
    Netlink {
        /// What labrun was doing.
        action: String,
        /// The errno.
        source: io::Error,
        /// The kernel's explanation, as ` (text)`, or "".
        detail: String,
        /// What to do about it, as an indented line, or "".
        hint: String,
    },
    /// An offload could not be switched.
    #[error("cannot switch {offload} off on `{iface}` in `{host}`: {source}")]
    Offload {
        /// `tso`, `gso`, `gro`, or `offloads` when the whole request failed.
        offload: &'static str,
        /// The interface.
        iface: String,
        /// The host (or `switch`).
        host: String,
        /// The errno.
        source: io::Error,
    },
    /// A per-namespace kernel setting could not be written.
    #[error("cannot set {setting} = {value} in `{host}`: {source}")]
    Sysctl {
        /// The setting, e.g. `net.ipv4.tcp_timestamps`.
        setting: String,
        /// The value.
        value: String,
        /// The host.
        host: String,
        /// The errno.
        source: io::Error,
    },
    /// The system forbids unprivileged user namespaces: the full explanation and fixes.
    #[error("{0}")]
    UserNamespacesForbidden(String),
    /// A step of entering labrun's own user namespace failed.
    #[error("cannot set up labrun's user namespace ({step}): {source}")]
    UserNamespace {
        /// The step.
        step: String,
        /// The errno.
        source: io::Error,
    },
    /// [`ensure_privileges`] ran after threads were started.
    #[error(
        "labrun must enter its user namespace before starting any thread, but this process already has {0} threads (a bug in labrun: ensure_privileges belongs at the top of main)"
    )]
    Threads(usize),
    /// `nft` could not be run in a lab host, or refused the rules.
    #[error("{0}")]
    Nft(String),
    /// `tc` could not set the bottleneck in the lab switch.
    #[error("{0}")]
    Tc(String),
    /// A worker thread panicked (a bug in labrun).
    #[error("the {0} thread stopped unexpectedly")]
    Thread(String),
    /// Any other system call failed.
    #[error("cannot {action}: {source}")]
    Io {
        /// What labrun was doing.
        action: String,
        /// The errno.
        source: io::Error,
    },
}

impl SandboxError {
    /// The OS error behind entering or leaving a namespace, errno kept (EMFILE stays
    /// EMFILE for a script); anything else as an error of its own text.
    pub fn into_io(self) -> io::Error {
        match self {
            SandboxError::Io { source, .. }
            | SandboxError::Enter { source, .. }
            | SandboxError::Restore(source) => source,
            other => io::Error::other(other.to_string()),
        }
    }

    fn netlink(action: impl Into<String>, e: NetlinkFailure) -> SandboxError {
        let hint = match e.source.raw_os_error() {
            Some(libc::EOPNOTSUPP) => {
                "\n  this kernel lacks veth or bridge support (modules `veth`, `bridge`); as root: `modprobe veth bridge`".to_string()
            }
            _ => privilege_hint(&e.source),
        };
        SandboxError::Netlink {
            action: action.into(),
            detail: e.detail.map(|d| format!(" ({d})")).unwrap_or_default(),
            source: e.source,
            hint,
        }
    }
}

/// The advice for a permission error, or "".
fn privilege_hint(e: &io::Error) -> String {
    if e.raw_os_error() == Some(libc::EPERM) {
        "\n  building the lab network needs root or labrun's own user namespace: run labrun as root, \
         or as an ordinary user on a system that allows unprivileged user namespaces"
            .to_string()
    } else {
        String::new()
    }
}

/// One host to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// Its name in scripts and reports (`client`, `server`, `attacker`).
    pub name: String,
    /// Its IPv4 address on the lab link.
    pub ip: Ipv4Addr,
    /// The prefix length of the lab subnet (24 for a /24).
    pub prefix: u8,
    /// Its MAC address; `None` gives the deterministic `02:00:00:00:00:0N` for host N
    /// (counting from 1).
    pub mac: Option<[u8; 6]>,
}

impl HostSpec {
    /// A host with an address and the default MAC address.
    pub fn new(name: &str, ip: Ipv4Addr, prefix: u8) -> HostSpec {
        HostSpec {
            name: name.to_string(),
            ip,
            prefix,
            mac: None,
        }
    }
}

/// What to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// The hosts, at least two; the first two are joined by a cable, more need a switch.
    pub hosts: Vec<HostSpec>,
    /// The MTU of every interface on the lab link.
    pub mtu: u32,
    /// Keep the kernel's default offloads (true: TSO, GSO and GRO on) or switch every
    /// segmentation and receive-coalescing offload off (false: the textbook wire).
    pub offloads: bool,
    /// `net.ipv4.tcp_timestamps` in every host (false: SYNs without the timestamp option
    /// and 1460-byte segments at MTU 1500).
    pub tcp_timestamps: bool,
    /// `net.ipv4.tcp_sack=0` and `net.ipv4.tcp_recovery=0` in every host: loss recovery
    /// by duplicate ACKs and the retransmission timer only, as the textbooks teach.
    pub textbook_tcp: bool,
    /// Keep IPv6 on the lab link (false: no IPv6 chatter in captures).
    pub ipv6: bool,
    /// A bottleneck in the lab switch (even for two hosts): every switch port sends at most
    /// this rate and queues at most this much, dropping the rest.
    pub bottleneck: Option<Bottleneck>,
    /// The two hosts' frames cross the switch namespace through labrun's relay (a thread
    /// with a packet socket on each port) instead of a bridge, so the link can drop, delay,
    /// reorder and duplicate chosen frames ([`Sandbox::relay`]). Two hosts, offloads off.
    pub relay: bool,
}

/// A slow link with a finite queue: what the congestion lab's TCP has to share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bottleneck {
    /// The rate, in kbit/s.
    pub rate_kbit: u32,
    /// The queue, in bytes.
    pub queue_bytes: u32,
}

impl Default for SandboxConfig {
    /// `client` 10.77.0.1/24 and `server` 10.77.0.2/24, MTU 1500, offloads off, TCP
    /// timestamps off, IPv6 off.
    fn default() -> Self {
        SandboxConfig {
            hosts: vec![
                HostSpec::new("client", Ipv4Addr::new(10, 77, 0, 1), 24),
                HostSpec::new("server", Ipv4Addr::new(10, 77, 0, 2), 24),
            ],
            mtu: 1500,
            offloads: false,
            tcp_timestamps: false,
            textbook_tcp: false,
            ipv6: false,
            bottleneck: None,
            relay: false,
        }
    }
}

impl SandboxConfig {
    /// Checks that the configuration describes a working network.
    pub fn validate(&self) -> Result<(), SandboxError> {
        let bad = |m: String| Err(SandboxError::Config(m));
        if self.hosts.len() < 2 {
            return bad(format!(
                "a lab network needs at least two hosts, got {}",
                self.hosts.len()
            ));
        }
        if self.relay && self.hosts.len() != 2 {
            return bad(format!(
                "the relayed link joins exactly two hosts, not {}",
                self.hosts.len()
            ));
        }
        if self.relay && self.offloads {
            return bad(
                "the relayed link needs offloads off (it carries frames as the wire does, not the kernel's super-packets)".into(),
            );
        }
        if self.hosts.len() > 250 {
            return bad(format!("at most 250 hosts, got {}", self.hosts.len()));
        }
        if !(68..=65535).contains(&self.mtu) {
            return bad(format!(
                "MTU {} is out of range: IPv4 needs 68 to 65535",
                self.mtu
            ));
        }
        for (i, h) in self.hosts.iter().enumerate() {
            if h.name.is_empty() {
                return bad(format!("host {} has an empty name", i + 1));
            }
            if !(1..=30).contains(&h.prefix) {
                return bad(format!(
                    "host `{}`: prefix /{} must be between /1 and /30",
                    h.name, h.prefix
                ));
            }
            if h.ip.is_unspecified()
                || h.ip.is_loopback()
                || h.ip.is_multicast()
                || h.ip.is_broadcast()
            {
                return bad(format!(
                    "host `{}`: {} cannot be a host address",
                    h.name, h.ip
                ));
            }
            let mac = host_mac(h, i);
            if mac[0] & 1 != 0 || mac == [0; 6] {
                return bad(format!(
                    "host `{}`: {} is not a unicast MAC address",
                    h.name,
                    fmt_mac(&mac)
                ));
            }
            for (j, other) in self.hosts.iter().enumerate().take(i) {
                if other.name == h.name {
                    return bad(format!("two hosts are named `{}`", h.name));
                }
                if other.ip == h.ip {
                    return bad(format!(
                        "hosts `{}` and `{}` both have address {}",
                        other.name, h.name, h.ip
                    ));
                }
                if host_mac(other, j) == mac {
                    return bad(format!(
                        "hosts `{}` and `{}` both have MAC address {}",
                        other.name,
                        h.name,
                        fmt_mac(&mac)
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A host of a built sandbox.
#[derive(Debug, Clone)]
pub struct SandboxHost {
    /// Its name.
    pub name: String,
    /// Its IPv4 address.
    pub ip: Ipv4Addr,
    /// Its prefix length.
    pub prefix: u8,
    /// The MAC address of its interface.
    pub mac: [u8; 6],
    /// Its interface on the lab link ([`HOST_IFACE`]); capture here.
    pub iface: String,
    /// Its network namespace: create sockets and open captures inside [`Netns::enter`].
    pub netns: Arc<Netns>,
}

/// A built lab network. Dropping it (and every socket in it) removes everything.
#[derive(Debug)]
pub struct Sandbox {
    /// The hosts, in the order of the configuration.
    pub hosts: Vec<SandboxHost>,
    /// The switch namespace holding the bridge, with three or more hosts.
    pub switch: Option<Arc<Netns>>,
    /// The configuration it was built from.
    pub config: SandboxConfig,
    /// How long building took.
    pub setup_time: Duration,
    /// The relay between the two hosts' switch ports, when the configuration asks for it.
    pub relay: Option<Relay>,
}

impl Sandbox {
    /// Builds the network: namespaces, links, addresses and settings, all up and ready.
    pub fn build(cfg: &SandboxConfig) -> Result<Sandbox, SandboxError> {
        let started = Instant::now();
        cfg.validate()?;
        let nets = cfg
            .hosts
            .iter()
            .map(|_| Netns::new().map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        // Settings first: interfaces created afterwards inherit `default` (IPv6 off).
        for (spec, ns) in cfg.hosts.iter().zip(&nets) {
            ns.enter(|| host_settings(cfg, &spec.name))??;
        }
        let mut relay = None;
        let switch = if cfg.hosts.len() == 2 && cfg.bottleneck.is_none() && !cfg.relay {
            let peer = LinkSpec {
                name: HOST_IFACE,
                mac: host_mac(&cfg.hosts[1], 1),
                mtu: cfg.mtu,
                netns: Some(nets[1].as_raw_fd()),
            };
            let link = LinkSpec {
                name: HOST_IFACE,
                mac: host_mac(&cfg.hosts[0], 0),
                mtu: cfg.mtu,
                netns: None,
            };
            nets[0].enter(|| {
                let mut rtnl = open_rtnl()?;
                rtnl.add_veth(&link, &peer).map_err(|e| {
                    SandboxError::netlink(
                        format!(
                            "create the veth pair between `{}` and `{}`",
                            cfg.hosts[0].name, cfg.hosts[1].name
                        ),
                        e,
                    )
                })
            })??;
            None
        } else {
            let switch = Arc::new(Netns::new()?);
            switch.enter(|| build_switch(cfg, &nets))??;
            if cfg.relay {
                relay = Some(Relay::start(&switch, "port1", "port2")?);
            }
            if let Some(b) = cfg.bottleneck {
                for i in 0..cfg.hosts.len() {
                    let port = format!("port{}", i + 1);
                    tc::bottleneck(&switch, &port, b.rate_kbit, b.queue_bytes)?;
                }
            }
            Some(switch)
        };
        let mut hosts = Vec::with_capacity(cfg.hosts.len());
        for (i, (spec, ns)) in cfg.hosts.iter().zip(nets).enumerate() {
            ns.enter(|| configure_host(cfg, spec))??;
            hosts.push(SandboxHost {
                name: spec.name.clone(),
                ip: spec.ip,
                prefix: spec.prefix,
                mac: host_mac(spec, i),
                iface: HOST_IFACE.to_string(),
                netns: ns,
            });
        }
        Ok(Sandbox {
            hosts,
            switch,
            config: cfg.clone(),
            setup_time: started.elapsed(),
            relay,
        })
    }

    /// The host called `name`.
    pub fn host(&self, name: &str) -> Option<&SandboxHost> {
        self.hosts.iter().find(|h| h.name == name)
    }
}

/// The MAC address of host number `index` (from 0).
fn host_mac(spec: &HostSpec, index: usize) -> [u8; 6] {
    spec.mac
        .unwrap_or([0x02, 0, 0, 0, 0, (index + 1).min(255) as u8])
}

fn open_rtnl() -> Result<Rtnl, SandboxError> {
    Rtnl::open().map_err(|source| SandboxError::Io {
        action: "open a netlink socket".into(),
        source,
    })
}

/// Writes a per-namespace setting under /proc/sys (the calling thread's namespace).
fn write_sysctl(setting: &str, value: &str, host: &str) -> Result<(), SandboxError> {
    let path = format!("/proc/sys/{}", setting.replace('.', "/"));
    std::fs::write(&path, value).map_err(|source| SandboxError::Sysctl {
        setting: setting.to_string(),
        value: value.to_string(),
        host: host.to_string(),
        source,
    })
}

/// TCP timestamps and IPv6, inside a host's namespace, before its interface exists.
fn host_settings(cfg: &SandboxConfig, host: &str) -> Result<(), SandboxError> {
    let ts = if cfg.tcp_timestamps { "1" } else { "0" };
    write_sysctl("net.ipv4.tcp_timestamps", ts, host)?;
    if cfg.textbook_tcp {
        write_sysctl("net.ipv4.tcp_sack", "0", host)?;
        write_sysctl("net.ipv4.tcp_recovery", "0", host)?;
    }
    disable_ipv6(cfg, host)
}

fn disable_ipv6(cfg: &SandboxConfig, host: &str) -> Result<(), SandboxError> {
    // A kernel booted without IPv6 has no such settings and nothing to switch off.
    if !cfg.ipv6 && std::path::Path::new("/proc/sys/net/ipv6").exists() {
        write_sysctl("net.ipv6.conf.default.disable_ipv6", "1", host)?;
        write_sysctl("net.ipv6.conf.all.disable_ipv6", "1", host)?;
    }
    Ok(())
}

fn index_of(name: &str, host: &str) -> Result<u32, SandboxError> {
    ifindex(name).map_err(|source| SandboxError::Io {
        action: format!("find interface `{name}` in `{host}`"),
        source,
    })
}

/// With `offloads` off, switches them off on `iface`; with it on, keeps the defaults.
fn set_offloads(cfg: &SandboxConfig, iface: &str, host: &str) -> Result<(), SandboxError> {
    if cfg.offloads {
        return Ok(());
    }
    ethtool::offloads_off(iface).map_err(|(offload, source)| SandboxError::Offload {
        offload,
        iface: iface.to_string(),
        host: host.to_string(),
        source,
    })
}

/// Inside a host's namespace: `lo` up, offloads, address, `eth0` up.
fn configure_host(cfg: &SandboxConfig, spec: &HostSpec) -> Result<(), SandboxError> {
    let host = spec.name.as_str();
    let mut rtnl = open_rtnl()?;
    let lo = index_of("lo", host)?;
    rtnl.set_up(lo, true)
        .map_err(|e| SandboxError::netlink(format!("bring `lo` up in `{host}`"), e))?;
    set_offloads(cfg, HOST_IFACE, host)?;
    let eth = index_of(HOST_IFACE, host)?;
    rtnl.add_ipv4(eth, spec.ip, spec.prefix).map_err(|e| {
        SandboxError::netlink(
            format!(
                "add {}/{} to `{HOST_IFACE}` in `{host}`",
                spec.ip, spec.prefix
            ),
            e,
        )
    })?;
    rtnl.set_up(eth, true)
        .map_err(|e| SandboxError::netlink(format!("bring `{HOST_IFACE}` up in `{host}`"), e))
}

/// Inside the switch namespace: the bridge and one veth pair per host, all up (with the
/// relay, the ports stay off any bridge: the relay alone carries frames between them).
fn build_switch(cfg: &SandboxConfig, nets: &[Arc<Netns>]) -> Result<(), SandboxError> {
    disable_ipv6(cfg, "switch")?;
    let mut rtnl = open_rtnl()?;
    if cfg.relay {
        for (i, (spec, ns)) in cfg.hosts.iter().zip(nets).enumerate() {
            let port = format!("port{}", i + 1);
            add_port(cfg, &mut rtnl, spec, i, ns, &port)?;
        }
        return Ok(());
    }
    let bridge = LinkSpec {
        name: BRIDGE_IFACE,
        mac: [0x02, 0, 0, 0, 0xff, 0],
        mtu: cfg.mtu,
        netns: None,
    };
    rtnl.add_bridge(&bridge)
        .map_err(|e| SandboxError::netlink("create the bridge of the lab switch", e))?;
    let br = index_of(BRIDGE_IFACE, "switch")?;
    for (i, (spec, ns)) in cfg.hosts.iter().zip(nets).enumerate() {
        let port = format!("port{}", i + 1);
        let index = add_port(cfg, &mut rtnl, spec, i, ns, &port)?;
        rtnl.set_master(index, br)
            .map_err(|e| SandboxError::netlink(format!("attach `{port}` to the bridge"), e))?;
    }
    rtnl.set_up(br, true)
        .map_err(|e| SandboxError::netlink("bring the bridge up", e))
}

/// One veth pair from the switch (`port`, up, offloads as configured) to host `i`'s
/// `eth0`; its index in the switch.
fn add_port(
    cfg: &SandboxConfig,
    rtnl: &mut Rtnl,
    spec: &HostSpec,
    i: usize,
    ns: &Netns,
    port: &str,
) -> Result<u32, SandboxError> {
    let link = LinkSpec {
        name: port,
        mac: [0x02, 0, 0, 0, 0xff, (i + 1).min(255) as u8],
        mtu: cfg.mtu,
        netns: None,
    };
    let peer = LinkSpec {
        name: HOST_IFACE,
        mac: host_mac(spec, i),
        mtu: cfg.mtu,
        netns: Some(ns.as_raw_fd()),
    };
    rtnl.add_veth(&link, &peer).map_err(|e| {
        SandboxError::netlink(format!("connect `{}` to the lab switch", spec.name), e)
    })?;
    let index = index_of(port, "switch")?;
    set_offloads(cfg, port, "switch")?;
    rtnl.set_up(index, true)
        .map_err(|e| SandboxError::netlink(format!("bring `{port}` up"), e))?;
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_textbook_pair() {
        let cfg = SandboxConfig::default();
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.hosts[0].ip, Ipv4Addr::new(10, 77, 0, 1));
        assert_eq!(cfg.hosts[1].ip, Ipv4Addr::new(10, 77, 0, 2));
        assert_eq!(fmt_mac(&host_mac(&cfg.hosts[1], 1)), "02:00:00:00:00:02");
        assert!(!cfg.offloads && !cfg.tcp_timestamps);
    }

    #[test]
    fn bad_configurations_are_explained() {
        let mut cfg = SandboxConfig::default();
        cfg.hosts[1].ip = cfg.hosts[0].ip;
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("both have address 10.77.0.1"), "{e}");
        let mut cfg = SandboxConfig::default();
        cfg.hosts[1].mac = Some([0x01, 0, 0, 0, 0, 1]);
        assert!(cfg.validate().unwrap_err().to_string().contains("unicast"));
        let mut cfg = SandboxConfig::default();
        cfg.hosts.pop();
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("two hosts")
        );
        let cfg = SandboxConfig {
            mtu: 20,
            ..SandboxConfig::default()
        };
        assert!(cfg.validate().unwrap_err().to_string().contains("MTU 20"));
    }
}
