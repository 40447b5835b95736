//! The run's captures: starting them within the run's memory budget, and finishing them
//! into the report with their analysis and any loss warnings.

use super::{Session, SessionError};
use crate::analysis::Trace;
use crate::capture::{CaptureConfig, Captured, LiveCapture};
use crate::i18n::Lang;
use crate::report::CaptureRecord;
use crate::wire::LinkType;
use std::sync::{Arc, Mutex};

/// A capture the script started and may not have stopped yet.
#[derive(Debug, Clone)]
pub struct PendingCapture {
    /// File stem the capture will be saved under.
    pub name: String,
    /// The running capture; `None` once stopped.
    pub live: Arc<Mutex<Option<LiveCapture>>>,
}

/// A finished capture as recorded in the report: its file stem, analysis and losses.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// File stem the capture is saved under.
    pub name: String,
    /// The analysed trace.
    pub trace: Arc<Trace>,
    /// Frames libpcap and the interface dropped.
    pub dropped: u32,
}

/// The file stem of a capture: `capture-NAME` when named (unsafe characters as `_`),
/// else `capture` for the first and `capture-N` after.
fn capture_name(name: Option<&str>, started_before: usize) -> String {
    match name {
        Some(n) => format!("capture-{}", sanitize(n)),
        None if started_before == 0 => "capture".to_string(),
        None => format!("capture-{}", started_before + 1),
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Session {
    /// Starts a capture on `host` with `config`, counted against the run's capture memory
    /// budget, and keeps it so teardown stops it if the script does not.
    pub fn start_capture(
        &self,
        host: &crate::network::Host,
        mut config: CaptureConfig,
        name: Option<&str>,
    ) -> Result<PendingCapture, SessionError> {
        config.budget = Some(Arc::clone(&self.lock().capture_budget));
        let name = capture_name(name, self.lock().captures.len());
        let live = host.start_capture(config)?;
        let pending = PendingCapture {
            name,
            live: Arc::new(Mutex::new(Some(live))),
        };
        self.lock().captures.push(pending.clone());
        Ok(pending)
    }

    /// Stops a live capture, analyses it and records it in the report.
    pub fn finish_capture(&self, name: &str, live: LiveCapture) -> Result<Recorded, SessionError> {
        let iface = live.config().iface.clone();
        self.show(format!("stopping capture on {iface}"));
        let captured = live.stop()?;
        self.record_capture(name, captured)
    }

    /// Analyses a finished capture and records it in the report, with a warning when it
    /// lost packets.
    pub fn record_capture(&self, name: &str, captured: Captured) -> Result<Recorded, SessionError> {
        let iface = captured.iface.clone();
        let link = LinkType::from_dlt(captured.dlt).ok_or(SessionError::LinkType {
            iface: iface.clone(),
            dlt: captured.dlt,
        })?;
        let trace = Arc::new(Trace::analyze(link, captured.frames.iter()));
        let dropped = captured.stats.dropped + captured.stats.if_dropped;
        let mut st = self.lock();
        let lang = st.report.header.lang;
        if captured.stats.lost_any() {
            let (d, i, t) = (
                captured.stats.dropped,
                captured.stats.if_dropped,
                captured.stats.truncated,
            );
            st.report.warnings.push(match lang {
                Lang::En => format!(
                    "capture `{name}` on {iface} LOST PACKETS: libpcap dropped {d} and the interface {i}, {t} over the frame or memory limit; the analysis below is incomplete"
                ),
                Lang::Zh => format!(
                    "在 {iface} 上的抓包 `{name}` 丢失了分组：libpcap 丢弃 {d} 个，网卡丢弃 {i} 个，{t} 个超出帧数或内存上限；以下分析不完整"
                ),
            });
        }
        let kernel = st
            .kernel_tracks
            .iter()
            .filter_map(|k| {
                let (local, peer, points) = (k.snapshot)();
                let stream = trace.streams.iter().find(|s| {
                    (s.client == local && s.server == peer)
                        || (s.client == peer && s.server == local)
                })?;
                Some(crate::report::KernelSeries {
                    stream: stream.index,
                    points,
                })
            })
            .collect();
        st.report.captures.push(CaptureRecord {
            name: name.to_string(),
            captured,
            trace: Arc::clone(&trace),
            figures: Default::default(),
            lang,
            kernel,
            link_comments: Default::default(),
        });
        Ok(Recorded {
            name: name.to_string(),
            trace,
            dropped,
        })
    }

    /// Whether the run grades a capture someone made (`labrun grade --pcap`).
    pub fn grading(&self) -> bool {
        self.lock().graded.is_some()
    }

    /// The capture being graded, recorded in the report like a live one; None when not grading.
    pub fn record_graded(&self) -> Option<Result<Recorded, SessionError>> {
        let captured = self.lock().graded.clone()?;
        Some(self.record_capture("capture", captured))
    }
}
