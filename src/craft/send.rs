//! Sending crafted packets (a raw IPv4 socket with its own IP header, or a whole frame
//! through libpcap) and matching captured frames against a BPF filter.

use super::{CraftError, CraftResult};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// A raw IPv4 socket (`IPPROTO_RAW`, which implies `IP_HDRINCL`): every packet sent on it
/// carries its own IP header, source address included. Non-blocking when `nonblocking`,
/// otherwise sends wait at most one second.
pub fn raw_ipv4_socket(nonblocking: bool) -> CraftResult<Socket> {
    let s = Socket::new(
        Domain::IPV4,
        Type::RAW,
        // IPPROTO_RAW is 255 everywhere (IANA's reserved protocol number).
        Some(Protocol::from(255)),
    )
    .map_err(|e| CraftError::io("open a raw IPv4 socket", e))?;
    if nonblocking {
        s.set_nonblocking(true)
            .map_err(|e| CraftError::io("make the raw socket non-blocking", e))?;
    } else {
        s.set_write_timeout(Some(Duration::from_secs(1)))
            .map_err(|e| CraftError::io("set the raw socket's send timeout", e))?;
    }
    Ok(s)
}

/// Sends the IPv4 packet `ip` (header included) to `dst` on a raw socket.
pub fn send_ip(socket: &Socket, ip: &[u8], dst: Ipv4Addr) -> CraftResult<usize> {
    socket
        .send_to(ip, &SockAddr::from(SocketAddr::new(IpAddr::V4(dst), 0)))
        .map_err(|e| CraftError::io(format!("send a crafted packet to {dst}"), e))
}

/// Without libpcap no frame is injected.
#[cfg(not(feature = "live-capture"))]
pub fn inject_frame(iface: &str, _frame: &[u8]) -> CraftResult<()> {
    Err(CraftError::Pcap {
        action: format!("inject a crafted frame on `{iface}`"),
        message: crate::util::NO_LIVE_CAPTURE.to_string(),
        hint: String::new(),
    })
}

/// Injects the Ethernet frame `frame` on interface `iface` through libpcap, as it is.
#[cfg(feature = "live-capture")]
pub fn inject_frame(iface: &str, frame: &[u8]) -> CraftResult<()> {
    let err = |action: &str, e: pcap::Error| {
        let message = e.to_string();
        let hint = if message.contains("ermission") || message.contains("not permitted") {
            "\n  injecting frames needs root or cap_net_raw: run as root, or once \
             `sudo setcap cap_net_raw,cap_net_admin+ep $(which labrun)`"
                .to_string()
        } else {
            String::new()
        };
        CraftError::Pcap {
            action: format!("{action} on `{iface}`"),
            message,
            hint,
        }
    };
    let mut cap = pcap::Capture::from_device(iface)
        .map_err(|e| err("open the interface", e))?
        .immediate_mode(true)
        .timeout(10)
        .snaplen(64)
        .buffer_size(1 << 16)
        .open()
        .map_err(|e| err("open the interface", e))?;
    cap.sendpacket(frame)
        .map_err(|e| err("inject a crafted frame", e))
}

/// A compiled BPF filter that tells whether a captured frame matches.
pub struct BpfMatcher {
    #[cfg(feature = "live-capture")]
    program: pcap::BpfProgram,
    text: String,
}

impl std::fmt::Debug for BpfMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BpfMatcher({:?})", self.text)
    }
}

impl BpfMatcher {
    /// Compiles `filter` (tcpdump's syntax; "" matches everything) for frames of libpcap
    /// link type `dlt`.
    #[cfg(feature = "live-capture")]
    pub fn new(dlt: u32, filter: &str) -> CraftResult<BpfMatcher> {
        let fail = |e: pcap::Error| CraftError::Pcap {
            action: format!("bad filter `{filter}`"),
            message: e.to_string(),
            hint: String::new(),
        };
        let dead =
            pcap::Capture::dead(pcap::Linktype(i32::try_from(dlt).unwrap_or(1))).map_err(fail)?;
        let program = dead.compile(filter, true).map_err(fail)?;
        Ok(BpfMatcher {
            program,
            text: filter.to_string(),
        })
    }

    /// Without libpcap there is no BPF compiler: refused with the reason.
    #[cfg(not(feature = "live-capture"))]
    pub fn new(_dlt: u32, filter: &str) -> CraftResult<BpfMatcher> {
        Err(CraftError::Pcap {
            action: format!("bad filter `{filter}`"),
            message: crate::util::NO_LIVE_CAPTURE.to_string(),
            hint: String::new(),
        })
    }

    /// True when `frame` passes the filter.
    #[cfg(feature = "live-capture")]
    pub fn matches(&self, frame: &[u8]) -> bool {
        self.program.filter(frame)
    }

    /// Never reached: [`BpfMatcher::new`] fails without libpcap.
    #[cfg(not(feature = "live-capture"))]
    pub fn matches(&self, _frame: &[u8]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::craft::{Ethernet, TcpFlags, TcpSpec, build_tcp};

    #[test]
    fn bpf_matcher_checks_flags() {
        let mut spec = TcpSpec::new(
            "10.77.0.2:8888".parse().unwrap(),
            "10.77.0.1:40000".parse().unwrap(),
        );
        spec.flags = TcpFlags::RST;
        spec.ethernet = Some(Ethernet {
            src: [2, 0, 0, 0, 0, 2],
            dst: [2, 0, 0, 0, 0, 1],
        });
        let rst = build_tcp(&spec).unwrap();
        let m = BpfMatcher::new(1, "tcp[tcpflags] & tcp-rst != 0 and src port 8888").unwrap();
        assert!(m.matches(&rst.bytes));
        let m = BpfMatcher::new(1, "tcp[tcpflags] & tcp-syn != 0").unwrap();
        assert!(!m.matches(&rst.bytes));
        assert!(BpfMatcher::new(1, "no such ((").is_err());
    }
}
