//! Options a lab gives for its network: addresses, MTU, offloads, TCP timestamps.

use super::NetworkError;
use std::net::Ipv4Addr;

/// A host of the sandbox: its name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddr {
    /// Host name as scripts see it (`client`, `server`, `attacker`).
    pub name: String,
    /// IPv4 address on the lab link.
    pub ip: Ipv4Addr,
}

/// How the lab sandbox is built; the defaults give the lab manual's textbook wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetOptions {
    /// Hosts on the link, in order.
    pub hosts: Vec<HostAddr>,
    /// Prefix length of the lab subnet.
    pub prefix: u8,
    /// Link MTU.
    pub mtu: u32,
    /// TSO/GSO/GRO on (true) or off (false, the default: segments are cut as on a real wire).
    pub offloads: bool,
    /// `net.ipv4.tcp_timestamps` in the hosts (off by default: 1460-byte segments).
    pub timestamps: bool,
    /// The "textbook" TCP profile (true): SACK and RACK off in every host, so loss is
    /// recovered by three duplicate ACKs or the retransmission timer as RFC 5681 and
    /// RFC 6298 describe; false: Linux's defaults ("linux").
    pub textbook: bool,
    /// `--deterministic` (not a script option): the description leaves out how long the
    /// sandbox took to build, which changes from run to run.
    pub deterministic: bool,
    /// A bottleneck in the lab switch (`rate_kbit`, `queue_bytes`): every port sends at
    /// most `.0` kbit/s and queues at most `.1` bytes (None: the wire's full speed).
    pub bottleneck: Option<(u32, u32)>,
    /// `link: true`: the two hosts' frames cross labrun's relay in a middle namespace, so
    /// `net.link(...)` can drop, delay, reorder and duplicate chosen segments.
    pub link: bool,
}

/// The bottleneck's rate when a script gives only its queue, in kbit/s.
const DEFAULT_RATE_KBIT: u32 = 10_000;
/// The bottleneck's queue when a script gives only its rate, in bytes.
const DEFAULT_QUEUE_BYTES: u32 = 64_000;

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            hosts: vec![
                HostAddr {
                    name: "client".into(),
                    ip: Ipv4Addr::new(10, 77, 0, 1),
                },
                HostAddr {
                    name: "server".into(),
                    ip: Ipv4Addr::new(10, 77, 0, 2),
                },
            ],
            prefix: 24,
            mtu: 1500,
            offloads: false,
            timestamps: false,
            textbook: false,
            deterministic: false,
            bottleneck: None,
            link: false,
        }
    }
}

/// The value of one network option as a script gave it, converted to plain Rust.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// An integer.
    Int(i64),
    /// true or false.
    Bool(bool),
    /// A string.
    Text(String),
    /// An array, each item as text.
    List(Vec<String>),
    /// Anything else, by its script type name (for the error message).
    Other(String),
}

impl OptionValue {
    /// The script's name of the value's type, as error messages show it.
    pub fn type_name(&self) -> &str {
        match self {
            OptionValue::Int(_) => "i64",
            OptionValue::Bool(_) => "bool",
            OptionValue::Text(_) => "string",
            OptionValue::List(_) => "array",
            OptionValue::Other(t) => t,
        }
    }

    fn as_int(&self) -> Option<i64> {
        match self {
            OptionValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            OptionValue::Bool(v) => Some(*v),
            _ => None,
        }
    }
}

impl NetOptions {
    /// Applies one `key: value` from a script's option map.
    pub fn set(&mut self, key: &str, value: &OptionValue) -> Result<(), NetworkError> {
        let bad = |what: &str| {
            NetworkError::Option(format!(
                "network option `{key}` must be {what}, not {}",
                value.type_name()
            ))
        };
        match key {
            "mtu" => {
                let v = value.as_int().ok_or_else(|| bad("an integer"))?;
                self.mtu = u32::try_from(v)
                    .ok()
                    .filter(|m| (68..=65535).contains(m))
                    .ok_or_else(|| {
                        NetworkError::Option(format!("mtu must be 68..=65535, got {v}"))
                    })?;
            }
            "link" => self.link = value.as_bool().ok_or_else(|| bad("true or false"))?,
            "offloads" => self.offloads = value.as_bool().ok_or_else(|| bad("true or false"))?,
            "timestamps" => {
                self.timestamps = value.as_bool().ok_or_else(|| bad("true or false"))?
            }
            "profile" => {
                self.textbook = match value {
                    OptionValue::Text(t) if t == "textbook" => true,
                    OptionValue::Text(t) if t == "linux" => false,
                    _ => return Err(bad("\"textbook\" or \"linux\"")),
                }
            }
            "rate_kbit" | "queue_bytes" => {
                let v = value.as_int().ok_or_else(|| bad("an integer"))?;
                let (range, unit) = if key == "rate_kbit" {
                    (100..=10_000_000, "kbit/s")
                } else {
                    (3_000..=64_000_000, "bytes")
                };
                let n = u32::try_from(v)
                    .ok()
                    .filter(|n| range.contains(n))
                    .ok_or_else(|| {
                        NetworkError::Option(format!(
                            "{key} must be {} to {} {unit}, got {v}",
                            range.start(),
                            range.end()
                        ))
                    })?;
                let (rate, queue) = self
                    .bottleneck
                    .unwrap_or((DEFAULT_RATE_KBIT, DEFAULT_QUEUE_BYTES));
                self.bottleneck = Some(if key == "rate_kbit" {
                    (n, queue)
                } else {
                    (rate, n)
                });
            }
            "prefix" => {
                let v = value.as_int().ok_or_else(|| bad("an integer"))?;
                self.prefix = u8::try_from(v)
                    .ok()
                    .filter(|p| (8..=30).contains(p))
                    .ok_or_else(|| {
                        NetworkError::Option(format!("prefix must be 8..=30, got {v}"))
                    })?;
            }
            "hosts" => {
                let OptionValue::List(names) = value else {
                    return Err(bad("an array of host names"));
                };
                let mut hosts = Vec::new();
                for (i, n) in names.iter().enumerate() {
                    let last = u8::try_from(i + 1)
                        .map_err(|_| NetworkError::Option("too many hosts".into()))?;
                    hosts.push(HostAddr {
                        name: n.clone(),
                        ip: Ipv4Addr::new(10, 77, 0, last),
                    });
                }
                if hosts.len() < 2 {
                    return Err(NetworkError::Option(
                        "a lab network needs at least two hosts".into(),
                    ));
                }
                self.hosts = hosts;
            }
            name => {
                let OptionValue::Text(text) = value else {
                    return Err(bad("an address like \"10.77.0.1\""));
                };
                let ip: Ipv4Addr = text.parse().map_err(|_| {
                    NetworkError::Option(format!("`{name}: \"{text}\"` is not an IPv4 address"))
                })?;
                match self.hosts.iter_mut().find(|h| h.name == name) {
                    Some(h) => h.ip = ip,
                    None => {
                        return Err(NetworkError::Option(format!(
                            "unknown network option `{name}` (known: mtu, offloads, timestamps, profile, rate_kbit, queue_bytes, link, prefix, hosts, or a host name with its address)"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_a_script_map() {
        let mut o = NetOptions::default();
        o.set("mtu", &OptionValue::Int(9000)).unwrap();
        o.set("timestamps", &OptionValue::Bool(true)).unwrap();
        o.set("server", &OptionValue::Text("10.77.0.20".into()))
            .unwrap();
        assert_eq!(o.mtu, 9000);
        assert!(o.timestamps);
        assert_eq!(o.hosts[1].ip, Ipv4Addr::new(10, 77, 0, 20));
        assert!(o.set("mtu", &OptionValue::Int(10)).is_err());
        o.set("rate_kbit", &OptionValue::Int(5000)).unwrap();
        assert_eq!(o.bottleneck, Some((5000, DEFAULT_QUEUE_BYTES)));
        o.set("queue_bytes", &OptionValue::Int(30000)).unwrap();
        assert_eq!(o.bottleneck, Some((5000, 30000)));
        assert!(o.set("rate_kbit", &OptionValue::Int(1)).is_err());
        assert!(
            o.set("bogus", &OptionValue::Text("1.2.3.4".into()))
                .is_err()
        );
        let e = o.set("mtu", &OptionValue::Text("big".into())).unwrap_err();
        assert!(
            e.to_string().ends_with("must be an integer, not string"),
            "{e}"
        );
        let hosts = ["client", "server", "attacker"].map(String::from).to_vec();
        o.set("hosts", &OptionValue::List(hosts)).unwrap();
        assert_eq!(o.hosts[2].ip, Ipv4Addr::new(10, 77, 0, 3));
    }
}
