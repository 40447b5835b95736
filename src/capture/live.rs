//! A libpcap live capture running on its own thread, stopped with a bounded drain.

use super::budget::MemoryBudget;
use super::{CaptureError, Captured};
#[cfg(feature = "live-capture")]
use super::{CaptureStats, budget::frame_cost};
use crate::analysis::RawFrame;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
#[cfg(feature = "live-capture")]
use std::time::Instant;

/// How to open a live capture.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    /// Interface name, e.g. `lo`.
    pub iface: String,
    /// BPF capture filter ("" captures everything).
    pub filter: String,
    /// Longest frame prefix kept.
    pub snaplen: u32,
    /// Kernel ring size in bytes: large enough that bursts on loopback are not dropped
    /// while the capture thread copies frames out (immediate mode).
    pub buffer_bytes: u32,
    /// On stop, wait until no packet arrived for this long (catches a delayed ACK, ~40 ms).
    pub settle: Duration,
    /// On stop, never drain for longer than this, even under steady traffic.
    pub max_drain: Duration,
    /// Frames kept at most; later frames are counted as truncated, not stored.
    pub max_frames: usize,
    /// The run's memory budget: the ring is taken from it when the capture opens (refused
    /// when it does not fit) and every stored frame too (past it, frames count as truncated).
    pub budget: Option<Arc<MemoryBudget>>,
}

impl CaptureConfig {
    /// A configuration with labrun's defaults for `iface` and `filter`.
    pub fn new(iface: &str, filter: &str) -> Self {
        CaptureConfig {
            iface: iface.to_string(),
            filter: filter.to_string(),
            snaplen: 65535,
            buffer_bytes: Self::DEFAULT_BUFFER,
            settle: Duration::from_millis(100),
            max_drain: Duration::from_secs(2),
            max_frames: 2_000_000,
            budget: None,
        }
    }

    /// The default kernel ring: 8 MiB, thousands of frames of a textbook wire and over a
    /// hundred full-size loopback frames, drained continuously in immediate mode.
    pub const DEFAULT_BUFFER: u32 = 8 << 20;
}

/// A running capture; [`LiveCapture::stop`] ends it and returns the frames.
#[derive(Debug)]
pub struct LiveCapture {
    config: CaptureConfig,
    dlt: u32,
    frames: Arc<Mutex<Vec<RawFrame>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<Captured, CaptureError>>>,
    /// The ring's share of the budget, given back once the ring is closed.
    ring: u64,
}

/// How often the capture thread wakes up to look at the stop flag.
#[cfg(feature = "live-capture")]
const POLL_MS: i32 = 10;

impl LiveCapture {
    /// Opens the interface with the filter in immediate mode and starts collecting.
    ///
    /// When this returns the capture is armed: traffic sent afterwards is seen.
    pub fn start(config: CaptureConfig) -> Result<Self, CaptureError> {
        let ring = u64::from(config.buffer_bytes);
        if let Some(budget) = &config.budget
            && !budget.try_take(ring)
        {
            return Err(CaptureError::Budget {
                iface: config.iface.clone(),
                asked: ring,
                used: budget.used(),
                limit: budget.limit(),
            });
        }
        let give_back = |config: &CaptureConfig| {
            if let Some(budget) = &config.budget {
                budget.give_back(ring);
            }
        };
        let cap = open(&config).inspect_err(|_| give_back(&config))?;
        let dlt = datalink(&cap);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let frames = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&frames);
        let cfg = config.clone();
        let thread = std::thread::Builder::new()
            .name(format!("capture-{}", config.iface))
            .spawn(move || collect(cap, &cfg, &flag, &sink))
            .map_err(|e| {
                give_back(&config);
                CaptureError::Read {
                    iface: config.iface.clone(),
                    message: format!("cannot start the capture thread: {e}"),
                }
            })?;
        Ok(LiveCapture {
            config,
            dlt,
            frames,
            stop,
            thread: Some(thread),
            ring,
        })
    }

    /// The configuration this capture was opened with.
    pub fn config(&self) -> &CaptureConfig {
        &self.config
    }

    /// libpcap's link-layer type (DLT) of the frames.
    pub fn dlt(&self) -> u32 {
        self.dlt
    }

    /// How many frames arrived so far.
    pub fn frame_count(&self) -> usize {
        self.frames.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Copies of the frames that arrived so far, from index `from` on, while the capture runs.
    pub fn frames_since(&self, from: usize) -> Vec<RawFrame> {
        let frames = self.frames.lock().unwrap_or_else(|p| p.into_inner());
        frames
            .get(from..)
            .map(<[RawFrame]>::to_vec)
            .unwrap_or_default()
    }

    /// Stops the capture: drains the kernel buffer, waits for quiet, returns every frame.
    pub fn stop(mut self) -> Result<Captured, CaptureError> {
        self.stop.store(true, Ordering::SeqCst);
        let iface = self.config.iface.clone();
        let result = match self.thread.take() {
            Some(t) => t.join().map_err(|_| CaptureError::Thread(iface))?,
            None => Err(CaptureError::Thread(iface)),
        };
        self.release_ring();
        result
    }

    /// Gives the ring's share back to the budget (the thread has closed the ring). Once.
    fn release_ring(&mut self) {
        if let Some(budget) = &self.config.budget {
            budget.give_back(std::mem::take(&mut self.ring));
        }
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.release_ring();
    }
}

#[cfg(feature = "live-capture")]
fn open(config: &CaptureConfig) -> Result<pcap::Capture<pcap::Active>, CaptureError> {
    let open_err = |e: pcap::Error| {
        let message = e.to_string();
        let hint = if message.contains("ermission") || message.contains("not permitted") {
            "\n  capturing needs root or the capabilities cap_net_raw,cap_net_admin: run as root, or `sudo setcap cap_net_raw,cap_net_admin+ep $(which labrun)`".to_string()
        } else if message.contains("No such device") || message.contains("doesn't exist") {
            "\n  list the interfaces with `ip link` (Linux) or `ifconfig` (macOS)".to_string()
        } else {
            String::new()
        };
        CaptureError::Open {
            iface: config.iface.clone(),
            message,
            hint,
        }
    };
    let snaplen = i32::try_from(config.snaplen).unwrap_or(65535);
    let buffer = i32::try_from(config.buffer_bytes).unwrap_or(i32::MAX);
    let cap = pcap::Capture::from_device(config.iface.as_str())
        .map_err(open_err)?
        .immediate_mode(true)
        .timeout(POLL_MS)
        .snaplen(snaplen)
        .buffer_size(buffer)
        .precision(pcap::Precision::Nano)
        .open()
        .map_err(open_err)?;
    // Non-blocking reads plus our own poll: libpcap's own timeout does not reliably return
    // in immediate mode on Linux (TPACKET_V3), and the stop flag must be seen promptly.
    let mut cap = cap.setnonblock().map_err(open_err)?;
    if !config.filter.is_empty() {
        cap.filter(&config.filter, true)
            .map_err(|e| CaptureError::Filter {
                filter: config.filter.clone(),
                message: e.to_string(),
            })?;
    }
    Ok(cap)
}

#[cfg(feature = "live-capture")]
fn collect(
    mut cap: pcap::Capture<pcap::Active>,
    config: &CaptureConfig,
    stop: &AtomicBool,
    sink: &Mutex<Vec<RawFrame>>,
) -> Result<Captured, CaptureError> {
    let dlt = u32::try_from(cap.get_datalink().0).unwrap_or(0);
    let mut stored = 0usize;
    let mut truncated = 0u32;
    let mut last_packet = Instant::now();
    let mut stop_at: Option<Instant> = None;
    loop {
        match cap.next_packet() {
            Ok(p) => {
                last_packet = Instant::now();
                let fits = config
                    .budget
                    .as_ref()
                    .is_none_or(|b| b.try_take(frame_cost(p.data.len())));
                if stored < config.max_frames && fits {
                    stored += 1;
                    let mut frames = sink.lock().unwrap_or_else(|p| p.into_inner());
                    frames.push(RawFrame {
                        // time_t is i64 here but narrower on some platforms.
                        #[allow(clippy::unnecessary_cast)]
                        ts_sec: p.header.ts.tv_sec as i64,
                        // With nanosecond precision libpcap puts nanoseconds in tv_usec.
                        ts_nsec: u32::try_from(p.header.ts.tv_usec).unwrap_or(0),
                        orig_len: p.header.len,
                        data: p.data.to_vec(),
                    });
                } else {
                    truncated = truncated.saturating_add(1);
                }
            }
            Err(pcap::Error::TimeoutExpired) => wait_readable(&cap, POLL_MS),
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                return Err(CaptureError::Read {
                    iface: config.iface.clone(),
                    message: e.to_string(),
                });
            }
        }
        if stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            let since = *stop_at.get_or_insert(now);
            let quiet = now.duration_since(last_packet) >= config.settle
                && now.duration_since(since) >= Duration::from_millis(u64::from(POLL_MS as u32));
            if quiet || now.duration_since(since) >= config.max_drain {
                break;
            }
        }
    }
    let stats = cap.stats().map(|s| CaptureStats {
        received: s.received,
        dropped: s.dropped,
        if_dropped: s.if_dropped,
        truncated,
    });
    Ok(Captured {
        iface: config.iface.clone(),
        filter: config.filter.clone(),
        dlt,
        snaplen: config.snaplen,
        frames: std::mem::take(&mut *sink.lock().unwrap_or_else(|p| p.into_inner())),
        stats: stats.unwrap_or(CaptureStats {
            truncated,
            ..CaptureStats::default()
        }),
    })
}

/// Waits until the capture has packets or `ms` milliseconds pass.
#[cfg(all(unix, feature = "live-capture"))]
fn wait_readable(cap: &pcap::Capture<pcap::Active>, ms: i32) {
    use std::os::unix::io::AsRawFd;
    let mut fds = [libc::pollfd {
        fd: cap.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe {
        libc::poll(fds.as_mut_ptr(), 1, ms);
    }
}

/// Waits a little before reading again (no pollable descriptor on this platform).
#[cfg(all(not(unix), feature = "live-capture"))]
fn wait_readable(_cap: &pcap::Capture<pcap::Active>, ms: i32) {
    std::thread::sleep(Duration::from_millis(u64::from(ms.unsigned_abs())));
}

/// The capture's DLT number.
#[cfg(feature = "live-capture")]
fn datalink(cap: &pcap::Capture<pcap::Active>) -> u32 {
    u32::try_from(cap.get_datalink().0).unwrap_or(0)
}

/// Never reached: [`open`] fails without libpcap.
#[cfg(not(feature = "live-capture"))]
fn datalink(cap: &NoCapture) -> u32 {
    match *cap {}
}

/// A build without libpcap has no capture to hold.
#[cfg(not(feature = "live-capture"))]
enum NoCapture {}

/// Without libpcap nothing can be captured: refused with the reason.
#[cfg(not(feature = "live-capture"))]
fn open(config: &CaptureConfig) -> Result<NoCapture, CaptureError> {
    Err(CaptureError::Open {
        iface: config.iface.clone(),
        message: crate::util::NO_LIVE_CAPTURE.to_string(),
        hint: String::new(),
    })
}

/// Never reached: [`open`] fails without libpcap.
#[cfg(not(feature = "live-capture"))]
fn collect(
    cap: NoCapture,
    _config: &CaptureConfig,
    _stop: &AtomicBool,
    _sink: &Mutex<Vec<RawFrame>>,
) -> Result<Captured, CaptureError> {
    match cap {}
}
