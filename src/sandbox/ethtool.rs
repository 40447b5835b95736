//! Segmentation and receive offloads through the `SIOCETHTOOL` ioctl.
//!
//! The feature names are read from the driver (`ETHTOOL_GSTRINGS`), every segmentation and
//! receive-coalescing feature is cleared in one `ETHTOOL_SFEATURES` request (what
//! `ethtool -K dev tso off gso off gro off` does, including newer TSO flavours such as
//! `tx-tcp-accecn-segmentation` that the old single-value requests miss), and TSO, GSO and
//! GRO are read back to confirm. Transmit checksum offload goes too (`ethtool -K dev tx
//! off`): with it a veth passes segments on with only the pseudo-header's sum in the TCP
//! checksum field, and a capture would show checksums no receiver ever checks.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const SIOCETHTOOL: libc::c_ulong = 0x8946;
const ETHTOOL_GSTRINGS: u32 = 0x1b;
const ETHTOOL_GTSO: u32 = 0x1e;
const ETHTOOL_GGSO: u32 = 0x23;
const ETHTOOL_GGRO: u32 = 0x2b;
const ETHTOOL_GSSET_INFO: u32 = 0x37;
const ETHTOOL_SFEATURES: u32 = 0x3b;
const ETH_SS_FEATURES: u32 = 4;
const ETH_GSTRING_LEN: usize = 32;

/// Feature names cleared besides every `*-segmentation` one.
const ALSO_OFF: [&str; 7] = [
    "tx-gso-partial",
    "tx-gso-list",
    "rx-gro",
    "rx-gro-hw",
    "rx-gro-list",
    "rx-lro",
    "rx-udp-gro-forwarding",
];

/// `struct ethtool_sset_info` asking for one string set.
#[repr(C)]
struct SsetInfo {
    cmd: u32,
    reserved: u32,
    sset_mask: u64,
    data: u32,
}

/// `struct ethtool_value`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

/// An `AF_INET` datagram socket for ethtool requests in the calling thread's namespace.
struct EthtoolSocket {
    fd: OwnedFd,
    ifr: libc::ifreq,
}

impl EthtoolSocket {
    fn open(iface: &str) -> io::Result<EthtoolSocket> {
        // SAFETY: ifreq is plain old data; all-zero is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        if iface.is_empty() || iface.len() >= ifr.ifr_name.len() {
            return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
        }
        for (dst, src) in ifr.ifr_name.iter_mut().zip(iface.bytes()) {
            *dst = src as libc::c_char;
        }
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(EthtoolSocket { fd, ifr })
    }

    /// Sends one ethtool command whose buffer starts at `data`; returns the ioctl's value.
    ///
    /// # Safety
    /// `data` must point to a live, writable ethtool structure of the size the command in
    /// its first `u32` implies, valid until the call returns.
    unsafe fn request(&mut self, data: *mut libc::c_void) -> io::Result<i32> {
        self.ifr.ifr_ifru.ifru_data = data.cast();
        // SAFETY: `ifr` names the interface and points to `data`, which the caller keeps
        // alive and sized for the command.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), SIOCETHTOOL as _, &mut self.ifr) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    }

    fn get_value(&mut self, cmd: u32) -> io::Result<u32> {
        let mut v = EthtoolValue { cmd, data: 0 };
        // SAFETY: `v` is a live ethtool_value, the structure every G* value command uses.
        unsafe { self.request((&mut v as *mut EthtoolValue).cast())? };
        Ok(v.data)
    }

    /// The driver's feature names, by bit.
    fn feature_names(&mut self) -> io::Result<Vec<String>> {
        let mut info = SsetInfo {
            cmd: ETHTOOL_GSSET_INFO,
            reserved: 0,
            sset_mask: 1 << ETH_SS_FEATURES,
            data: 0,
        };
        // SAFETY: `info` is a live ethtool_sset_info with room for the one count asked for.
        unsafe { self.request((&mut info as *mut SsetInfo).cast())? };
        let count = info.data as usize;
        // Header (cmd, string_set, len) then `count` strings of 32 bytes, as u32 words.
        let mut buf = vec![0u32; 3 + count * ETH_GSTRING_LEN / 4];
        buf[0] = ETHTOOL_GSTRINGS;
        buf[1] = ETH_SS_FEATURES;
        buf[2] = info.data;
        // SAFETY: `buf` holds the ethtool_gstrings header and `count` strings.
        unsafe { self.request(buf.as_mut_ptr().cast())? };
        let bytes: Vec<u8> = buf[3..].iter().flat_map(|w| w.to_ne_bytes()).collect();
        Ok(bytes
            .chunks(ETH_GSTRING_LEN)
            .map(|s| {
                let s = s.split(|b| *b == 0).next().unwrap_or(s);
                String::from_utf8_lossy(s).into_owned()
            })
            .collect())
    }

    /// Clears the features whose names `off` accepts.
    fn clear_features(&mut self, names: &[String], off: impl Fn(&str) -> bool) -> io::Result<()> {
        let blocks = names.len().div_ceil(32);
        // Header (cmd, size) then per block of 32 features: valid mask, requested bits.
        let mut buf = vec![0u32; 2 + 2 * blocks];
        buf[0] = ETHTOOL_SFEATURES;
        buf[1] = u32::try_from(blocks).unwrap_or(u32::MAX);
        for (bit, name) in names.iter().enumerate() {
            if off(name) {
                buf[2 + 2 * (bit / 32)] |= 1 << (bit % 32);
            }
        }
        // SAFETY: `buf` holds the ethtool_sfeatures header and `blocks` blocks. A positive
        // result only flags features the driver cannot change; TSO, GSO and GRO are
        // checked afterwards.
        unsafe { self.request(buf.as_mut_ptr().cast())? };
        Ok(())
    }
}

/// True for the features "offloads off" clears.
fn is_offload(name: &str) -> bool {
    name.ends_with("-segmentation") || name.starts_with("tx-checksum") || ALSO_OFF.contains(&name)
}

/// Switches TSO, GSO and GRO (and the other segmentation and coalescing features) off on
/// `iface` in the calling thread's namespace. On failure, says which step failed.
pub(crate) fn offloads_off(iface: &str) -> Result<(), (&'static str, io::Error)> {
    let mut sock = EthtoolSocket::open(iface).map_err(|e| ("offloads", e))?;
    let names = sock.feature_names().map_err(|e| ("offloads", e))?;
    sock.clear_features(&names, is_offload)
        .map_err(|e| ("offloads", e))?;
    for (name, cmd) in [
        ("tso", ETHTOOL_GTSO),
        ("gso", ETHTOOL_GGSO),
        ("gro", ETHTOOL_GGRO),
    ] {
        if sock.get_value(cmd).map_err(|e| (name, e))? != 0 {
            return Err((
                name,
                io::Error::new(io::ErrorKind::Unsupported, "the driver keeps it on"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_offload;

    #[test]
    fn every_segmentation_and_gro_feature_is_an_offload() {
        for name in [
            "tx-tcp-segmentation",
            "tx-tcp-accecn-segmentation",
            "tx-tcp6-segmentation",
            "tx-generic-segmentation",
            "rx-gro",
            "tx-checksum-ip-generic",
        ] {
            assert!(is_offload(name), "{name}");
        }
        for name in ["rx-checksum", "tx-scatter-gather", "rx-vlan-filter"] {
            assert!(!is_offload(name), "{name}");
        }
    }
}
