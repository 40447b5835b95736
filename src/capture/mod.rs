//! Live packet capture with libpcap on its own thread (capture files: [`crate::pcapfile`]).
//!
//! A capture is opened (interface, BPF filter, immediate mode) before the script's traffic
//! starts, collects frames on a thread, and on [`LiveCapture::stop`] drains what the kernel
//! still holds and waits for the wire to go quiet, so the last ACK of a close is never lost.

mod budget;
mod live;

pub use budget::MemoryBudget;
pub use live::{CaptureConfig, LiveCapture};

use crate::analysis::RawFrame;

/// A build without the `live-capture` feature links no libpcap (the Windows binary for
/// analysis and grading): it says so where the report names the capture library.
#[cfg(not(feature = "live-capture"))]
pub fn libpcap_version() -> String {
    "none (this build reads capture files only)".to_string()
}

/// The libpcap this binary captures with, as it names itself: "libpcap version 1.10.3
/// (with TPACKET_V3)". The report's environment section shows it.
#[cfg(feature = "live-capture")]
pub fn libpcap_version() -> String {
    unsafe extern "C" {
        fn pcap_lib_version() -> *const std::ffi::c_char;
    }
    // SAFETY: pcap_lib_version takes no argument and returns a pointer to a static,
    // NUL-terminated string owned by libpcap (or null, handled below).
    let text = unsafe { pcap_lib_version() };
    if text.is_null() {
        return "libpcap".to_string();
    }
    // SAFETY: non-null, NUL-terminated and static, as above.
    unsafe { std::ffi::CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// The capture layer's error.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// libpcap refused to open the interface (missing privilege, unknown interface, ...).
    #[error("cannot capture on `{iface}`: {message}{hint}")]
    Open {
        /// The interface asked for.
        iface: String,
        /// libpcap's message.
        message: String,
        /// What to do about it, if we know.
        hint: String,
    },
    /// The BPF filter does not compile.
    #[error("bad capture filter `{filter}`: {message}")]
    Filter {
        /// The filter text.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// libpcap failed while reading packets.
    #[error("capture on `{iface}` failed: {message}")]
    Read {
        /// The interface.
        iface: String,
        /// libpcap's message.
        message: String,
    },
    /// Opening the capture would pass the run's capture memory budget.
    #[error(
        "cannot capture on `{iface}`: its {} MiB ring would pass the run's capture memory budget ({} of {} MiB in use); stop a capture you no longer need first",
        asked >> 20, used >> 20, limit >> 20
    )]
    Budget {
        /// The interface.
        iface: String,
        /// Bytes the ring needs.
        asked: u64,
        /// Bytes the run's captures hold already.
        used: u64,
        /// The budget.
        limit: u64,
    },
    /// The capture thread panicked (a bug in labrun).
    #[error("the capture thread on `{0}` stopped unexpectedly")]
    Thread(String),
}

/// libpcap's counters for a finished live capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets libpcap saw (on `lo` every packet counts twice: outgoing and incoming copy).
    pub received: u32,
    /// Packets dropped because the capture buffer was full.
    pub dropped: u32,
    /// Packets the interface or driver dropped.
    pub if_dropped: u32,
    /// Frames labrun did not store because the capture hit its frame limit or the run's
    /// capture memory budget.
    pub truncated: u32,
}

impl CaptureStats {
    /// True when any packet was lost: the capture does not show everything that crossed the wire.
    pub fn lost_any(&self) -> bool {
        self.dropped > 0 || self.if_dropped > 0 || self.truncated > 0
    }
}

/// The result of a stopped capture: what was seen, where, and how completely.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The interface captured on.
    pub iface: String,
    /// The BPF filter used ("" for none).
    pub filter: String,
    /// libpcap's link-layer type (DLT), needed to decode and to write the pcap.
    pub dlt: u32,
    /// Snapshot length: the longest frame prefix kept.
    pub snaplen: u32,
    /// The frames, in capture order.
    pub frames: Vec<RawFrame>,
    /// libpcap's counters.
    pub stats: CaptureStats,
}
