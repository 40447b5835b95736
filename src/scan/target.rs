//! Which targets may be scanned: loopback, the lab's own hosts, or networks the user
//! names with `--allow-target CIDR`. A name resolves first; the check applies to the address.

use super::{ScanError, ScanResult};
use crate::network::TargetPolicy;
use std::net::{IpAddr, ToSocketAddrs};

/// An address block such as `10.77.0.0/24` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network address.
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `ADDR/PREFIX` or `ADDR`.
    pub fn parse(text: &str) -> ScanResult<Cidr> {
        let bad = |why: &str| {
            ScanError::Option(format!(
                "--allow-target {text:?}: {why} (write e.g. 10.77.0.0/24 or 10.77.0.2)"
            ))
        };
        let (a, p) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad("not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| bad("the prefix length is out of range"))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// True when `ip` lies in this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An address written as text: `10.77.0.2`, `::1`, `[::1]`; an IPv4-mapped IPv6 address
/// is the IPv4 address it maps.
fn literal(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<IpAddr>().ok())
        })
        .map(|ip| ip.to_canonical())
}

/// Resolves a target a lab script names, without ever asking the system resolver (a lab
/// must not cause a DNS query to leave the machine): an address, `localhost` (127.0.0.1),
/// or the name of one of the lab's own `hosts`; any other name is refused.
pub fn lab_target(text: &str, hosts: &[(String, IpAddr)]) -> ScanResult<IpAddr> {
    if let Some(ip) = literal(text) {
        return Ok(ip);
    }
    let name = text.trim();
    if name.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    if let Some((_, ip)) = hosts.iter().find(|(h, _)| h == name) {
        return Ok(*ip);
    }
    let mut names: Vec<&str> = hosts.iter().map(|(h, _)| h.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let known = if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    };
    Err(ScanError::Resolve {
        name: name.to_string(),
        message: format!(
            "labs do not resolve names other than the lab's hosts{known} and localhost              (no DNS query leaves the machine); give an address"
        ),
    })
}

/// Resolves a target: an address as is, a host name through the system resolver (IPv4
/// first, since SYN and FIN scans are IPv4 only).
pub fn resolve_target(text: &str) -> ScanResult<IpAddr> {
    let text = text.trim();
    if let Some(ip) = literal(text) {
        return Ok(ip);
    }
    if text.is_empty() || text.contains(char::is_whitespace) || text.contains(':') {
        return Err(ScanError::Resolve {
            name: text.to_string(),
            message: "not an address or a host name".into(),
        });
    }
    let addrs: Vec<IpAddr> = (text, 0)
        .to_socket_addrs()
        .map_err(|e| ScanError::Resolve {
            name: text.to_string(),
            message: e.to_string(),
        })?
        .map(|a| a.ip())
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| ScanError::Resolve {
            name: text.to_string(),
            message: "the name has no address".into(),
        })
}

/// Checks that `target` may be scanned: loopback, one of the lab's own hosts (`policy`),
/// or inside a block the user allowed explicitly.
pub fn check_target(target: IpAddr, policy: &TargetPolicy, allowed: &[Cidr]) -> ScanResult<()> {
    if policy.allows(target) || allowed.iter().any(|c| c.contains(target)) {
        return Ok(());
    }
    let what = if target.is_unspecified() || target.is_multicast() {
        "it is not a single host".to_string()
    } else {
        "it is neither loopback nor a host of labrun's sandbox".to_string()
    };
    Err(ScanError::Refused {
        target,
        why: format!(
            "{what}. Scan only machines you set up yourself (the lab manual's rule): \
             scanning other people's servers is an attack. If {target} is your own lab \
             machine, say so with --allow-target {target}/32"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        let c = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        assert_eq!(Cidr::parse("10.0.0.7").unwrap().prefix, 32);
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("ten").is_err());
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
    }

    #[test]
    fn only_loopback_lab_hosts_and_allowed_blocks() {
        let policy = TargetPolicy {
            own: vec!["10.77.0.2".parse().unwrap()],
        };
        assert!(check_target("127.0.0.1".parse().unwrap(), &policy, &[]).is_ok());
        assert!(check_target("127.3.4.5".parse().unwrap(), &policy, &[]).is_ok());
        assert!(check_target("10.77.0.2".parse().unwrap(), &policy, &[]).is_ok());
        let e = check_target("192.0.2.7".parse().unwrap(), &policy, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("refusing to scan 192.0.2.7"), "{e}");
        assert!(e.contains("--allow-target 192.0.2.7/32"), "{e}");
        let allow = [Cidr::parse("192.0.2.0/24").unwrap()];
        assert!(check_target("192.0.2.7".parse().unwrap(), &policy, &allow).is_ok());
    }

    #[test]
    fn lab_targets_never_reach_the_resolver() {
        let hosts = vec![
            ("client".to_string(), "10.77.0.1".parse().unwrap()),
            ("server".to_string(), "10.77.0.2".parse().unwrap()),
        ];
        let ip = |t: &str| lab_target(t, &hosts).map(|a| a.to_string());
        assert_eq!(ip("server").unwrap(), "10.77.0.2");
        assert_eq!(ip("localhost").unwrap(), "127.0.0.1");
        assert_eq!(ip("::ffff:127.0.0.1").unwrap(), "127.0.0.1");
        assert_eq!(ip("[::1]").unwrap(), "::1");
        let e = ip("example.invalid").unwrap_err().to_string();
        assert!(
            e.contains("other than the lab's hosts (client, server)"),
            "{e}"
        );
    }

    #[test]
    fn names_resolve_first() {
        assert_eq!(
            resolve_target("localhost").unwrap(),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            resolve_target("[::1]").unwrap(),
            "::1".parse::<IpAddr>().unwrap()
        );
        assert!(resolve_target("two words").is_err());
    }
}
