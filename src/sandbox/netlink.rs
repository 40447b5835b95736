//! A small rtnetlink client over a `NETLINK_ROUTE` socket: just the requests the lab
//! network needs (create veth pairs and bridges, set links up, attach ports, add IPv4
//! addresses), each acknowledged by the kernel.
//!
//! A netlink socket talks to the network namespace of the thread that created it, so
//! open one inside [`super::Netns::enter`] to configure that namespace.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
/// In an error answer: the original request was left out (NETLINK_CAP_ACK).
const NLM_F_CAPPED: u16 = 0x100;
/// In an error answer: extended-ack attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFLA_BR_STP_STATE: u16 = 5;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_BROADCAST: u16 = 4;

const NLA_F_NESTED: u16 = 0x8000;
const NLMSG_HDRLEN: usize = 16;

/// An error the kernel returned for one request, with its extended-ack text if any.
#[derive(Debug)]
pub(crate) struct NetlinkFailure {
    /// The errno.
    pub source: io::Error,
    /// The kernel's own explanation (extended ack), e.g. "Unknown device type".
    pub detail: Option<String>,
}

impl From<io::Error> for NetlinkFailure {
    fn from(source: io::Error) -> Self {
        NetlinkFailure {
            source,
            detail: None,
        }
    }
}

/// One end of a veth pair to create.
pub(crate) struct LinkSpec<'a> {
    /// Interface name (at most 15 bytes).
    pub name: &'a str,
    /// MAC address.
    pub mac: [u8; 6],
    /// MTU.
    pub mtu: u32,
    /// Namespace to create it in (`None`: the socket's namespace).
    pub netns: Option<RawFd>,
}

/// A `NETLINK_ROUTE` socket bound to the creating thread's network namespace.
pub(crate) struct Rtnl {
    fd: OwnedFd,
    seq: u32,
}

/// A netlink message under construction.
struct Msg(Vec<u8>);

impl Msg {
    fn new(msg_type: u16, flags: u16) -> Msg {
        let mut m = Msg(Vec::with_capacity(256));
        m.0.extend_from_slice(&0u32.to_ne_bytes()); // length, filled in by finish
        m.0.extend_from_slice(&msg_type.to_ne_bytes());
        m.0.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        m.0.extend_from_slice(&0u32.to_ne_bytes()); // sequence, filled in by finish
        m.0.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
        m
    }

    fn pad(&mut self) {
        while self.0.len() % 4 != 0 {
            self.0.push(0);
        }
    }

    /// `struct ifinfomsg` with the given index, flags and change mask.
    fn ifinfo(&mut self, index: u32, flags: u32, change: u32) {
        self.0.push(libc::AF_UNSPEC as u8);
        self.0.push(0);
        self.0.extend_from_slice(&0u16.to_ne_bytes()); // device type
        self.0.extend_from_slice(&index.to_ne_bytes());
        self.0.extend_from_slice(&flags.to_ne_bytes());
        self.0.extend_from_slice(&change.to_ne_bytes());
    }

    fn attr(&mut self, attr_type: u16, data: &[u8]) {
        let len = u16::try_from(4 + data.len()).unwrap_or(u16::MAX);
        self.0.extend_from_slice(&len.to_ne_bytes());
        self.0.extend_from_slice(&attr_type.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.pad();
    }

    fn attr_u32(&mut self, attr_type: u16, value: u32) {
        self.attr(attr_type, &value.to_ne_bytes());
    }

    fn attr_str(&mut self, attr_type: u16, value: &str) {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.attr(attr_type, &bytes);
    }

    fn nest_start(&mut self, attr_type: u16) -> usize {
        let at = self.0.len();
        self.0.extend_from_slice(&0u16.to_ne_bytes());
        self.0
            .extend_from_slice(&(attr_type | NLA_F_NESTED).to_ne_bytes());
        at
    }

    fn nest_end(&mut self, at: usize) {
        let len = u16::try_from(self.0.len() - at).unwrap_or(u16::MAX);
        self.0[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }

    /// Fields of a link: name, MAC, MTU and target namespace.
    fn link_attrs(&mut self, link: &LinkSpec<'_>) {
        self.attr_str(IFLA_IFNAME, link.name);
        self.attr(IFLA_ADDRESS, &link.mac);
        self.attr_u32(IFLA_MTU, link.mtu);
        if let Some(fd) = link.netns {
            self.attr_u32(IFLA_NET_NS_FD, u32::try_from(fd).unwrap_or(u32::MAX));
        }
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = u32::try_from(self.0.len()).unwrap_or(u32::MAX);
        self.0[0..4].copy_from_slice(&len.to_ne_bytes());
        self.0[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.0
    }
}

impl Rtnl {
    /// Opens a route socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Rtnl> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let one: libc::c_int = 1;
            // SAFETY: valid fd, pointer to a live c_int and its size. Failure only means
            // older kernels without extended acks; errors then come without the kernel's text.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    SOL_NETLINK,
                    opt,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
        Ok(Rtnl { fd, seq: 1 })
    }

    /// Sends one request and waits for the kernel's acknowledgement.
    fn request(&mut self, msg: Msg) -> Result<(), NetlinkFailure> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = msg.finish(seq);
        // SAFETY: valid fd; buffer pointer and length describe `bytes`.
        let sent =
            unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error().into());
        }
        let mut buf = vec![0u8; 16384];
        loop {
            // SAFETY: valid fd; buffer pointer and length describe `buf`.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.into());
            }
            let n = usize::try_from(n).unwrap_or(0);
            if let Some(answer) = find_ack(&buf[..n], seq) {
                return answer;
            }
        }
    }

    /// Sets a link up (or down) by index.
    pub fn set_up(&mut self, index: u32, up: bool) -> Result<(), NetlinkFailure> {
        let mut m = Msg::new(RTM_NEWLINK, 0);
        let flag = libc::IFF_UP as u32;
        m.ifinfo(index, if up { flag } else { 0 }, flag);
        self.request(m)
    }

    /// Creates a veth pair: `link` here (or in its namespace) and `peer` in its namespace.
    pub fn add_veth(
        &mut self,
        link: &LinkSpec<'_>,
        peer: &LinkSpec<'_>,
    ) -> Result<(), NetlinkFailure> {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        m.ifinfo(0, 0, 0);
        m.link_attrs(link);
        let info = m.nest_start(IFLA_LINKINFO);
        m.attr(IFLA_INFO_KIND, b"veth");
        let data = m.nest_start(IFLA_INFO_DATA);
        let p = m.nest_start(VETH_INFO_PEER);
        m.ifinfo(0, 0, 0);
        m.link_attrs(peer);
        m.nest_end(p);
        m.nest_end(data);
        m.nest_end(info);
        self.request(m)
    }

    /// Creates a bridge with spanning tree off (ports forward at once).
    pub fn add_bridge(&mut self, link: &LinkSpec<'_>) -> Result<(), NetlinkFailure> {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        m.ifinfo(0, 0, 0);
        m.link_attrs(link);
        let info = m.nest_start(IFLA_LINKINFO);
        m.attr(IFLA_INFO_KIND, b"bridge");
        let data = m.nest_start(IFLA_INFO_DATA);
        m.attr_u32(IFLA_BR_STP_STATE, 0);
        m.nest_end(data);
        m.nest_end(info);
        self.request(m)
    }

    /// Attaches link `index` to the bridge `master`.
    pub fn set_master(&mut self, index: u32, master: u32) -> Result<(), NetlinkFailure> {
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(index, 0, 0);
        m.attr_u32(IFLA_MASTER, master);
        self.request(m)
    }

    /// Adds `ip/prefix` to link `index` (the kernel adds the connected route).
    pub fn add_ipv4(&mut self, index: u32, ip: Ipv4Addr, prefix: u8) -> Result<(), NetlinkFailure> {
        let mut m = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        m.0.push(libc::AF_INET as u8);
        m.0.push(prefix);
        m.0.push(0); // flags
        m.0.push(0); // scope: universe
        m.0.extend_from_slice(&index.to_ne_bytes());
        m.attr(IFA_LOCAL, &ip.octets());
        m.attr(IFA_ADDRESS, &ip.octets());
        if prefix < 31 {
            let host_mask = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
            let broadcast = Ipv4Addr::from(u32::from(ip) | host_mask);
            m.attr(IFA_BROADCAST, &broadcast.octets());
        }
        self.request(m)
    }
}

/// Looks through a receive buffer for the acknowledgement of request `seq`.
fn find_ack(buf: &[u8], seq: u32) -> Option<Result<(), NetlinkFailure>> {
    let mut off = 0;
    while off + NLMSG_HDRLEN <= buf.len() {
        let len = u32_at(buf, off) as usize;
        if len < NLMSG_HDRLEN || off + len > buf.len() {
            break;
        }
        let msg_type = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
        let flags = u16::from_ne_bytes([buf[off + 6], buf[off + 7]]);
        let msg_seq = u32_at(buf, off + 8);
        if msg_type == NLMSG_ERROR && msg_seq == seq && len >= NLMSG_HDRLEN + 4 {
            let code =
                i32::from_ne_bytes([buf[off + 16], buf[off + 17], buf[off + 18], buf[off + 19]]);
            if code == 0 {
                return Some(Ok(()));
            }
            let detail = if flags & NLM_F_ACK_TLVS != 0 {
                ext_ack_message(&buf[off..off + len], flags)
            } else {
                None
            };
            return Some(Err(NetlinkFailure {
                source: io::Error::from_raw_os_error(-code),
                detail,
            }));
        }
        off += (len + 3) & !3;
    }
    None
}

/// The `NLMSGERR_ATTR_MSG` text of an error answer, if the kernel sent one.
fn ext_ack_message(msg: &[u8], flags: u16) -> Option<String> {
    // nlmsghdr, then struct nlmsgerr: the error code and the request's header (and body
    // unless the answer is capped), then the attributes.
    let mut off = NLMSG_HDRLEN + 4;
    if msg.len() < off + NLMSG_HDRLEN {
        return None;
    }
    let orig_len = u32_at(msg, off) as usize;
    off += if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        (orig_len + 3) & !3
    };
    while off + 4 <= msg.len() {
        let len = usize::from(u16::from_ne_bytes([msg[off], msg[off + 1]]));
        let attr_type = u16::from_ne_bytes([msg[off + 2], msg[off + 3]]);
        if len < 4 || off + len > msg.len() {
            break;
        }
        if attr_type == NLMSGERR_ATTR_MSG {
            let text = &msg[off + 4..off + len];
            let text = text.split(|b| *b == 0).next().unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        off += (len + 3) & !3;
    }
    None
}

fn u32_at(buf: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]])
}

/// The index of interface `name` in the calling thread's network namespace.
pub(crate) fn ifindex(name: &str) -> io::Result<u32> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name with NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IFINFOMSG_LEN: usize = 16;

    #[test]
    fn nested_attributes_have_their_lengths() {
        let mut m = Msg::new(RTM_NEWLINK, 0);
        m.ifinfo(0, 0, 0);
        let at = m.nest_start(IFLA_LINKINFO);
        m.attr(IFLA_INFO_KIND, b"veth");
        m.nest_end(at);
        let bytes = m.finish(7);
        assert_eq!(u32_at(&bytes, 0) as usize, bytes.len());
        assert_eq!(u32_at(&bytes, 8), 7);
        let nest = NLMSG_HDRLEN + IFINFOMSG_LEN;
        assert_eq!(u16::from_ne_bytes([bytes[nest], bytes[nest + 1]]), 12);
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn error_answers_carry_errno_and_kernel_text() {
        let mut answer = Vec::new();
        let text = b"Unknown device type\0";
        let attr_len = 4 + text.len();
        let total = NLMSG_HDRLEN + 4 + NLMSG_HDRLEN + ((attr_len + 3) & !3);
        answer.extend_from_slice(&(total as u32).to_ne_bytes());
        answer.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        answer.extend_from_slice(&(NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        answer.extend_from_slice(&5u32.to_ne_bytes());
        answer.extend_from_slice(&0u32.to_ne_bytes());
        answer.extend_from_slice(&(-libc::EOPNOTSUPP).to_ne_bytes());
        answer.extend_from_slice(&[0u8; NLMSG_HDRLEN]);
        answer.extend_from_slice(&(attr_len as u16).to_ne_bytes());
        answer.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        answer.extend_from_slice(text);
        while answer.len() % 4 != 0 {
            answer.push(0);
        }
        assert!(find_ack(&answer, 4).is_none());
        let Some(Err(e)) = find_ack(&answer, 5) else {
            panic!("expected an error answer");
        };
        assert_eq!(e.source.raw_os_error(), Some(libc::EOPNOTSUPP));
        assert_eq!(e.detail.as_deref(), Some("Unknown device type"));
    }
}
