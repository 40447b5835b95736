//! Segmentation offloads (TSO, GSO, GRO) through the `SIOCETHTOOL` ioctl.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_STSO: u32 = 0x1f;
const ETHTOOL_SGSO: u32 = 0x24;
const ETHTOOL_SGRO: u32 = 0x2c;

/// `struct ethtool_value`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

/// The offloads labrun switches, by their `ethtool -K` names.
pub(crate) const OFFLOADS: [(&str, u32); 3] = [
    ("tso", ETHTOOL_STSO),
    ("gso", ETHTOOL_SGSO),
    ("gro", ETHTOOL_SGRO),
];

/// Switches TSO, GSO and GRO on or off on `iface` in the calling thread's namespace.
/// On failure, says which offload could not be set.
pub(crate) fn set_offloads(iface: &str, on: bool) -> Result<(), (&'static str, io::Error)> {
    // SAFETY: plain socket(2) call; the result is checked before use.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(("socket", io::Error::last_os_error()));
    }
    // SAFETY: `raw` is a fresh descriptor owned by nobody else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    for (name, cmd) in OFFLOADS {
        let mut value = EthtoolValue {
            cmd,
            data: u32::from(on),
        };
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        if iface.len() >= ifr.ifr_name.len() {
            return Err((name, io::Error::from_raw_os_error(libc::ENAMETOOLONG)));
        }
        for (dst, src) in ifr.ifr_name.iter_mut().zip(iface.bytes()) {
            *dst = src as libc::c_char;
        }
        ifr.ifr_ifru.ifru_data = (&mut value as *mut EthtoolValue).cast();
        // SAFETY: SIOCETHTOOL reads `ifr` and the ethtool_value it points to; both live
        // until the call returns.
        let rc = unsafe { libc::ioctl(sock.as_raw_fd(), SIOCETHTOOL as _, &mut ifr) };
        if rc != 0 {
            return Err((name, io::Error::last_os_error()));
        }
    }
    Ok(())
}
