//! A lab host: an address and an interface, making sockets and captures for scripts.

use super::TargetPolicy;
use crate::capture::{CaptureConfig, CaptureError, LiveCapture};
use crate::sockets::{SockError, SockResult, TcpConn, TcpListener, TcpOptions, UdpSock};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Where a host's sockets and captures are made: e.g. inside its own network namespace.
///
/// Sockets keep the namespace they were created in, so only creation (and the connect
/// that follows) runs inside the context; reads and writes work from anywhere.
pub trait NetContext: std::fmt::Debug + Send + Sync {
    /// Runs `f` inside this context and returns to the caller's own afterwards; the OS
    /// error (its errno kept) when the context cannot be entered.
    fn run(&self, f: &mut dyn FnMut()) -> std::io::Result<()>;
}

/// One end of a lab conversation.
#[derive(Debug, Clone)]
pub struct Host {
    name: String,
    ip: IpAddr,
    iface: String,
    mac: Option<String>,
    policy: Arc<TargetPolicy>,
    context: Option<Arc<dyn NetContext>>,
    local: bool,
}

impl Host {
    /// A host called `name` with address `ip` whose captures open `iface`.
    pub fn new(name: &str, ip: IpAddr, iface: &str, policy: Arc<TargetPolicy>) -> Host {
        Host {
            name: name.to_string(),
            ip,
            iface: iface.to_string(),
            mac: None,
            policy,
            context: None,
            local: true,
        }
    }

    /// The same host, making its sockets and captures inside `context`.
    pub fn with_context(mut self, context: Arc<dyn NetContext>) -> Host {
        self.context = Some(context);
        self
    }

    /// The same host, with its interface's MAC address (shown in reports).
    pub fn with_mac(mut self, mac: &str) -> Host {
        self.mac = Some(mac.to_string());
        self
    }

    /// The same host, marked as another machine: this labrun cannot make sockets on it.
    pub fn remote(mut self) -> Host {
        self.local = false;
        self
    }

    /// False for the peer machine in a two-machine lab (`--network host`).
    pub fn is_local(&self) -> bool {
        self.local
    }

    /// True when the host lives in a context of its own (a sandbox namespace).
    pub fn has_context(&self) -> bool {
        self.context.is_some()
    }

    /// The rule of which destinations this host may reach.
    pub fn policy(&self) -> &TargetPolicy {
        &self.policy
    }

    /// The MAC address of the host's interface, when known.
    pub fn mac(&self) -> Option<&str> {
        self.mac.as_deref()
    }

    /// Runs `f` where this host's sockets live (its namespace), or directly.
    pub fn within<T>(&self, op: &str, f: impl FnOnce() -> T) -> SockResult<T> {
        if !self.local {
            return Err(SockError::usage(
                op,
                format!(
                    "`{}` is the other machine ({}): run this side of the lab there with --role {}",
                    self.name, self.ip, self.name
                ),
            ));
        }
        let Some(ctx) = &self.context else {
            return Ok(f());
        };
        let mut f = Some(f);
        let mut out = None;
        ctx.run(&mut || {
            if let Some(f) = f.take() {
                out = Some(f());
            }
        })
        .map_err(|e| SockError::from_io(op, &e, &format!("entering host `{}`", self.name)))?;
        out.ok_or_else(|| SockError::usage(op, "the host's context did not run the call"))
    }

    /// The host's name (`client`, `server`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The interface a capture on this host opens.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// Checks that `op` may send from this host to `to` (the run's traffic rule).
    pub fn check_target(&self, op: &str, to: SocketAddr) -> SockResult<()> {
        if self.policy.allows(to.ip()) {
            Ok(())
        } else {
            Err(SockError {
                op: op.to_string(),
                name: "EACCES".to_string(),
                errno: 0,
                message: format!(
                    "{} is not a lab host: labrun sends only to loopback or to hosts it created itself",
                    to.ip()
                ),
            })
        }
    }

    /// Listens on `port` of this host's address (0: a free port).
    pub fn listen(&self, port: u16, opts: TcpOptions) -> SockResult<TcpListener> {
        self.within("listen", || {
            TcpListener::bind(SocketAddr::new(self.ip, port), opts)
        })?
    }

    /// Connects from this host to `to`.
    pub fn connect(&self, to: SocketAddr, opts: TcpOptions) -> SockResult<TcpConn> {
        self.check_target("connect", to)?;
        self.within("connect", || {
            TcpConn::connect(to, Some(SocketAddr::new(self.ip, 0)), opts)
        })?
    }

    /// Binds a UDP socket on `port` of this host's address (0: a free port).
    pub fn udp(&self, port: u16) -> SockResult<UdpSock> {
        self.within("udp", || UdpSock::bind(SocketAddr::new(self.ip, port)))?
    }

    /// Checks that a UDP datagram may be sent to `to`.
    pub fn check_udp_target(&self, to: SocketAddr) -> SockResult<()> {
        self.check_target("send_to", to)
    }

    /// A capture configuration for this host's interface.
    pub fn capture_config(&self, filter: &str) -> CaptureConfig {
        CaptureConfig::new(&self.iface, filter)
    }

    /// Starts a capture on this host's interface, opened inside the host's context.
    pub fn start_capture(&self, config: CaptureConfig) -> Result<LiveCapture, CaptureError> {
        let iface = config.iface.clone();
        self.within("capture", || LiveCapture::start(config))
            .map_err(|e| CaptureError::Open {
                iface,
                message: e.message,
                hint: String::new(),
            })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context that cannot be entered because the process is out of descriptors.
    #[derive(Debug)]
    struct OutOfFiles;

    impl NetContext for OutOfFiles {
        fn run(&self, _f: &mut dyn FnMut()) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(libc::EMFILE))
        }
    }

    #[test]
    fn a_host_that_cannot_be_entered_keeps_the_errno() {
        let h = Host::new("client", [10, 77, 0, 1].into(), "veth0", Arc::default())
            .with_context(Arc::new(OutOfFiles));
        let e = h.udp(0).unwrap_err();
        assert_eq!(e.name, "EMFILE", "{e}");
        assert_eq!(e.errno, i64::from(libc::EMFILE));
        assert!(e.message.contains("entering host `client`"), "{e}");
    }
}
