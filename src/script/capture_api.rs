//! Script API: live captures on a host's interface, and the traces they return.

use super::{ApiResult, api_error, run_handle};
use crate::analysis::{Packet, Trace};
use crate::capture::{CaptureConfig, LiveCapture};
use crate::report::CaptureRecord;
use crate::runner::{PendingCapture, RunHandle};
use crate::wire::LinkType;
use rhai::plugin::*;
use rhai::{Array, Engine, INT, Map};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<ScriptCapture>("Capture")
        .register_type_with_name::<TraceRef>("Trace");
    engine.register_global_module(exported_module!(capture_module).into());
}

/// A capture handle held by a script.
#[derive(Debug, Clone)]
pub struct ScriptCapture {
    name: String,
    live: Arc<Mutex<Option<LiveCapture>>>,
}

/// A stopped capture's packets, shared cheaply between script values.
#[derive(Debug, Clone)]
pub struct TraceRef {
    /// File stem the capture is saved under.
    pub name: String,
    /// The analysed trace.
    pub trace: Arc<Trace>,
    /// Frames libpcap dropped.
    pub dropped: u32,
}

impl TraceRef {
    /// The packets as script values.
    pub fn packet_refs(&self) -> Vec<PacketRef> {
        (0..self.trace.packets.len())
            .map(|i| PacketRef::new(Arc::clone(&self.trace), i))
            .collect()
    }
}

/// One packet of a trace as a script value.
#[derive(Debug, Clone)]
pub struct PacketRef {
    trace: Arc<Trace>,
    index: usize,
}

impl PacketRef {
    /// A reference to packet `index` of `trace`.
    pub fn new(trace: Arc<Trace>, index: usize) -> PacketRef {
        PacketRef { trace, index }
    }

    /// The packet this refers to.
    pub fn get(&self) -> &Packet {
        // The index was made from this trace's own packet range.
        &self.trace.packets[self.index]
    }
}

/// Stops a live capture, analyses it and records it in the report.
pub fn finish_capture(handle: &RunHandle, name: &str, live: LiveCapture) -> ApiResult<TraceRef> {
    let iface = live.config().iface.clone();
    handle
        .lock()
        .progress
        .set_message(format!("stopping capture on {iface}"));
    let captured = live.stop().map_err(|e| api_error("stop", e))?;
    let link = LinkType::from_dlt(captured.dlt).ok_or_else(|| {
        api_error(
            "stop",
            format!(
                "the interface `{iface}` has link type {}, which labrun cannot decode",
                captured.dlt
            ),
        )
    })?;
    let trace = Arc::new(Trace::analyze(link, captured.frames.iter()));
    let dropped = captured.stats.dropped + captured.stats.if_dropped;
    let mut st = handle.lock();
    if captured.stats.lost_any() {
        st.report.warnings.push(format!(
            "capture `{name}` on {iface} LOST PACKETS: libpcap dropped {} and the interface {}, {} over the frame limit; the analysis below is incomplete",
            captured.stats.dropped, captured.stats.if_dropped, captured.stats.truncated
        ));
    }
    st.report.captures.push(CaptureRecord {
        name: name.to_string(),
        captured,
        trace: (*trace).clone(),
    });
    Ok(TraceRef {
        name: name.to_string(),
        trace,
        dropped,
    })
}

fn start(
    ctx: &NativeCallContext,
    host: &crate::network::Host,
    options: &Map,
) -> ApiResult<ScriptCapture> {
    let handle = run_handle(ctx)?;
    let mut filter = String::new();
    let mut name: Option<String> = None;
    let mut config_changes: Vec<(String, INT)> = Vec::new();
    for (k, v) in options {
        match k.as_str() {
            "filter" => filter = v.to_string(),
            "name" => name = Some(v.to_string()),
            "snaplen" | "settle" => config_changes.push((
                k.to_string(),
                v.as_int().map_err(|t| {
                    api_error("capture", format!("`{k}` must be an integer, not {t}"))
                })?,
            )),
            other => {
                return Err(api_error(
                    "capture",
                    format!("unknown option `{other}` (known: filter, name, snaplen, settle)"),
                ));
            }
        }
    }
    let mut config: CaptureConfig = host.capture_config(&filter);
    for (k, v) in config_changes {
        let v = u32::try_from(v)
            .map_err(|_| api_error("capture", format!("`{k}` must be positive")))?;
        match k.as_str() {
            "snaplen" => config.snaplen = v.max(64),
            _ => config.settle = Duration::from_millis(u64::from(v)),
        }
    }
    let name = {
        let st = handle.lock();
        let n = st.captures.len();
        match name {
            Some(n) => format!("capture-{}", sanitize(&n)),
            None if n == 0 => "capture".to_string(),
            None => format!("capture-{}", n + 1),
        }
    };
    let live = host
        .start_capture(config)
        .map_err(|e| api_error("capture", e))?;
    let live = Arc::new(Mutex::new(Some(live)));
    handle.lock().captures.push(PendingCapture {
        name: name.clone(),
        live: Arc::clone(&live),
    });
    Ok(ScriptCapture { name, live })
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

#[export_module]
mod capture_module {
    use super::*;

    /// A running capture; `stop()` it to get the packets.
    pub type Capture = ScriptCapture;
    /// The packets of a stopped capture.
    pub type Trace = TraceRef;

    /// Starts capturing on the host's interface with a BPF filter, e.g. `"tcp port 8888"`.
    /// The capture is armed when this returns; traffic sent afterwards is seen.
    #[rhai_fn(return_raw)]
    pub fn capture(
        ctx: NativeCallContext,
        host: &mut crate::network::Host,
        filter: &str,
    ) -> ApiResult<Capture> {
        let mut m = Map::new();
        m.insert("filter".into(), filter.into());
        start(&ctx, host, &m)
    }

    /// Starts a capture with options `#{ filter: "tcp", name: "loopback", snaplen: 65535, settle: 100 }`.
    #[rhai_fn(name = "capture", return_raw)]
    pub fn capture_with(
        ctx: NativeCallContext,
        host: &mut crate::network::Host,
        options: Map,
    ) -> ApiResult<Capture> {
        start(&ctx, host, &options)
    }

    /// Stops the capture (draining what the kernel still holds) and returns its trace.
    #[rhai_fn(return_raw)]
    pub fn stop(ctx: NativeCallContext, cap: &mut Capture) -> ApiResult<Trace> {
        let handle = run_handle(&ctx)?;
        let live = cap.live.lock().unwrap_or_else(|p| p.into_inner()).take();
        match live {
            Some(live) => finish_capture(&handle, &cap.name, live),
            None => Err(api_error(
                "stop",
                format!("capture `{}` was already stopped", cap.name),
            )),
        }
    }

    /// Every packet of the trace, in capture order.
    #[rhai_fn(get = "packets", pure)]
    pub fn packets(t: &mut Trace) -> Array {
        t.packet_refs().into_iter().map(Dynamic::from).collect()
    }

    /// Number of packets in the trace.
    #[rhai_fn(name = "len", get = "len", pure)]
    pub fn trace_len(t: &mut Trace) -> INT {
        t.trace.packets.len() as INT
    }

    /// Packets libpcap dropped during this capture (0 when nothing was lost).
    #[rhai_fn(get = "dropped", pure)]
    pub fn dropped(t: &mut Trace) -> INT {
        INT::from(t.dropped)
    }

    /// The pcap file this capture is saved as in the report directory.
    #[rhai_fn(get = "file", pure)]
    pub fn file(t: &mut Trace) -> String {
        format!("{}.pcap", t.name)
    }
}
