//! The lab network in this process, as root: the textbook wire, settings per namespace,
//! three hosts on a switch, and nothing left behind after a drop.
#![cfg(target_os = "linux")]

mod common;

use common::host_state::{netns_list, root_links};
use common::lab_wire::{client_to_server, send_and_capture};
use common::{is_root, skip_or_fail};
use labrun::sandbox::{HostSpec, Netns, Sandbox, SandboxConfig};
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

/// Tests that compare the root namespace's state must not see another test's sandbox
/// half-built; the others may run in parallel with each other.
static ROOT_STATE: Mutex<()> = Mutex::new(());

fn need_root() -> bool {
    if is_root() {
        return true;
    }
    skip_or_fail(
        "building the sandbox in-process needs root (the user-namespace path is tested in sandbox_process)",
    );
    false
}

/// Runs a command inside a namespace (a child forked from a thread inherits its netns).
fn run_in(ns: &Netns, prog: &str, args: &[&str]) -> String {
    let out = ns
        .enter(|| Command::new(prog).args(args).output())
        .expect("enter")
        .unwrap_or_else(|e| panic!("{prog}: {e}"));
    assert!(
        out.status.success(),
        "{prog} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True when iproute2's `ip` runs (it has no `--version`).
fn have_ip() -> bool {
    Command::new("ip")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn root_sysctl(path: &str) -> String {
    std::fs::read_to_string(path)
        .expect("read sysctl")
        .trim()
        .to_string()
}

fn build(cfg: &SandboxConfig) -> Sandbox {
    let _guard = ROOT_STATE.lock().unwrap_or_else(|p| p.into_inner());
    Sandbox::build(cfg).expect("build sandbox")
}

#[test]
fn textbook_wire_1460_1460_30() {
    if !need_root() {
        return;
    }
    let sb = build(&SandboxConfig::default());
    let r = client_to_server(&sb, 2950);
    assert_eq!(r.received, 2950);
    assert_eq!(r.data_segments, vec![1460, 1460, 30], "{r:?}");
    assert!(
        r.arp_frames >= 2,
        "ARP request and reply before the SYN: {r:?}"
    );
}

#[test]
fn timestamps_on_give_1448_1448_54() {
    if !need_root() {
        return;
    }
    let cfg = SandboxConfig {
        tcp_timestamps: true,
        ..SandboxConfig::default()
    };
    let sb = build(&cfg);
    let r = client_to_server(&sb, 2950);
    assert_eq!(r.data_segments, vec![1448, 1448, 54], "{r:?}");
}

#[test]
fn offloads_on_give_one_2950_byte_segment() {
    if !need_root() {
        return;
    }
    let cfg = SandboxConfig {
        offloads: true,
        ..SandboxConfig::default()
    };
    let sb = build(&cfg);
    let r = client_to_server(&sb, 2950);
    assert_eq!(r.data_segments, vec![2950], "{r:?}");
}

#[test]
fn hosts_have_their_addresses_macs_mtu_and_offloads() {
    if !need_root() {
        return;
    }
    if !have_ip() || !common::have_program("ethtool") {
        skip_or_fail("`ip` and `ethtool` are needed to inspect the sandbox");
        return;
    }
    let cfg = SandboxConfig {
        mtu: 1400,
        ..SandboxConfig::default()
    };
    let sb = build(&cfg);
    let client = sb.host("client").expect("client");
    assert_eq!(client.iface, "eth0");
    let link = run_in(&client.netns, "ip", &["-o", "link", "show", "eth0"]);
    assert!(link.contains("mtu 1400"), "{link}");
    assert!(link.contains("link/ether 02:00:00:00:00:01"), "{link}");
    assert!(link.contains("state UP"), "{link}");
    let lo = run_in(&client.netns, "ip", &["-o", "link", "show", "lo"]);
    assert!(lo.contains("UP"), "{lo}");
    let addr = run_in(&client.netns, "ip", &["-o", "addr", "show", "eth0"]);
    assert!(addr.contains("inet 10.77.0.1/24"), "{addr}");
    assert!(!addr.contains("inet6"), "IPv6 is off: {addr}");
    let server = sb.host("server").expect("server");
    let k = run_in(&server.netns, "ethtool", &["-k", "eth0"]);
    for feature in [
        "tcp-segmentation-offload: off",
        "generic-segmentation-offload: off",
        "generic-receive-offload: off",
    ] {
        assert!(k.contains(feature), "{feature} in\n{k}");
    }
    let ts = client
        .netns
        .enter(|| root_sysctl("/proc/sys/net/ipv4/tcp_timestamps"))
        .expect("enter");
    assert_eq!(ts, "0");
}

#[test]
fn timestamps_are_per_namespace_and_the_host_keeps_its_value() {
    if !need_root() {
        return;
    }
    let path = "/proc/sys/net/ipv4/tcp_timestamps";
    let before = root_sysctl(path);
    for on in [false, true] {
        let cfg = SandboxConfig {
            tcp_timestamps: on,
            ..SandboxConfig::default()
        };
        let sb = build(&cfg);
        for h in &sb.hosts {
            let inside = h.netns.enter(|| root_sysctl(path)).expect("enter");
            assert_eq!(inside, if on { "1" } else { "0" }, "in {}", h.name);
        }
        assert_eq!(
            root_sysctl(path),
            before,
            "the machine's own setting changed"
        );
    }
    assert_eq!(root_sysctl(path), before);
}

#[test]
fn three_hosts_share_one_switched_link() {
    if !need_root() {
        return;
    }
    let mut cfg = SandboxConfig::default();
    cfg.hosts
        .push(HostSpec::new("attacker", Ipv4Addr::new(10, 77, 0, 66), 24));
    let sb = build(&cfg);
    assert!(sb.switch.is_some());
    let client = sb.host("client").expect("client");
    let server = sb.host("server").expect("server");
    let attacker = sb.host("attacker").expect("attacker");
    assert_eq!(attacker.mac, [2, 0, 0, 0, 0, 3]);
    let r = send_and_capture(client, server, 2950);
    assert_eq!(r.data_segments, vec![1460, 1460, 30], "{r:?}");
    let r = send_and_capture(attacker, server, 100);
    assert_eq!(r.data_segments, vec![100], "{r:?}");
    let r = send_and_capture(client, attacker, 100);
    assert_eq!(r.data_segments, vec![100], "{r:?}");
}

#[test]
fn enter_switches_back_also_after_a_panic() {
    if !need_root() {
        return;
    }
    let home = Netns::current().expect("current").id();
    let ns = Netns::new().expect("new netns");
    assert_ne!(ns.id(), home);
    let inside = ns
        .enter(|| Netns::current().expect("current").id())
        .expect("enter");
    assert_eq!(inside, ns.id());
    assert_eq!(Netns::current().expect("current").id(), home);
    let caught = std::panic::catch_unwind(|| ns.enter(|| panic!("inside the lab")));
    assert!(caught.is_err());
    assert_eq!(Netns::current().expect("current").id(), home);
}

/// Every `net:[N]` a process on this machine holds (thread namespaces and open descriptors).
fn held_namespaces() -> Vec<u64> {
    let mut ids = Vec::new();
    let mut links = Vec::new();
    for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = p.path();
        for t in std::fs::read_dir(pid.join("task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            links.push(t.path().join("ns/net"));
        }
        for fd in std::fs::read_dir(pid.join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            links.push(fd.path());
        }
    }
    for l in links {
        if let Ok(target) = std::fs::read_link(&l) {
            let t = target.to_string_lossy();
            if let Some(n) = t.strip_prefix("net:[").and_then(|s| s.strip_suffix(']')) {
                ids.extend(n.parse::<u64>().ok());
            }
        }
    }
    ids
}

#[test]
fn build_is_fast_and_drop_leaves_nothing() {
    if !need_root() {
        return;
    }
    if !have_ip() {
        skip_or_fail("`ip` is needed to compare the machine's links");
        return;
    }
    let _guard = ROOT_STATE.lock().unwrap_or_else(|p| p.into_inner());
    let links_before = root_links();
    let netns_before = netns_list();
    let threads_before = std::fs::read_dir("/proc/self/task").expect("tasks").count();
    let mut times = Vec::new();
    let mut ids = Vec::new();
    for hosts in [2, 2, 2, 3] {
        let mut cfg = SandboxConfig::default();
        if hosts == 3 {
            cfg.hosts
                .push(HostSpec::new("attacker", Ipv4Addr::new(10, 77, 0, 66), 24));
        }
        let t = Instant::now();
        let sb = Sandbox::build(&cfg).expect("build");
        times.push((hosts, t.elapsed()));
        ids.extend(sb.hosts.iter().map(|h| h.netns.id()));
        ids.extend(sb.switch.as_ref().map(|s| s.id()));
        let held = held_namespaces();
        assert!(ids.iter().rev().take(hosts).all(|id| held.contains(id)));
        assert_eq!(
            root_links(),
            links_before,
            "sandbox links leaked into the machine"
        );
    }
    eprintln!("sandbox build times: {times:?}");
    for (hosts, t) in &times {
        assert!(t.as_millis() < 500, "{hosts} hosts took {t:?}");
    }
    let held = held_namespaces();
    for id in &ids {
        assert!(
            !held.contains(id),
            "namespace net:[{id}] still held after drop"
        );
    }
    assert_eq!(root_links(), links_before);
    assert_eq!(netns_list(), netns_before);
    let threads_after = std::fs::read_dir("/proc/self/task").expect("tasks").count();
    assert!(threads_after <= threads_before + 1, "threads left running");
}
