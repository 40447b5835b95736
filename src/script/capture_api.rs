//! Script API: live captures on a host's interface, and the traces they return.

use super::lab_values::LabHost as Host;
use super::{ApiResult, api_error, session};
use crate::analysis::{Packet, Trace};
use crate::capture::{CaptureConfig, LiveCapture};
use crate::session::{Recorded, Session, SessionError};
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
    /// The run the capture belongs to (its report records the capture when stopped).
    session: Session,
    /// Frames before this index were passed over by an earlier `wait`.
    cursor: Arc<std::sync::atomic::AtomicUsize>,
}

/// The longest a single `wait` may last, in milliseconds.
const MAX_WAIT_MS: INT = 60_000;

/// Waits until a frame from the capture's cursor on matches `filter`, or `timeout` passes.
fn wait_for(cap: &ScriptCapture, filter: &str, timeout: INT) -> ApiResult<Dynamic> {
    use std::sync::atomic::Ordering;
    if !(0..=MAX_WAIT_MS).contains(&timeout) {
        return Err(api_error(
            "wait",
            format!("timeout must be 0..={MAX_WAIT_MS} ms, got {timeout}"),
        ));
    }
    let deadline = std::time::Instant::now() + Duration::from_millis(timeout.unsigned_abs());
    let dlt = match cap.live.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        Some(live) => live.dlt(),
        None => {
            return Err(api_error(
                "wait",
                format!("capture `{}` was already stopped", cap.name),
            ));
        }
    };
    let link = LinkType::from_dlt(dlt)
        .ok_or_else(|| api_error("wait", format!("link type {dlt} cannot be decoded")))?;
    let matcher = crate::craft::BpfMatcher::new(dlt, filter).map_err(|e| api_error("wait", e))?;
    let mut next = cap.cursor.load(Ordering::SeqCst);
    loop {
        let fresh = match cap.live.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(live) => live.frames_since(next),
            None => Vec::new(),
        };
        if let Some(k) = fresh.iter().position(|f| matcher.matches(&f.data)) {
            let index = next + k;
            let frames = match cap.live.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                Some(live) => live.frames_since(0),
                None => Vec::new(),
            };
            let upto = frames.get(..=index).unwrap_or(&frames);
            let trace = Arc::new(Trace::analyze(link, upto.iter()));
            cap.cursor.store(index + 1, Ordering::SeqCst);
            return Ok(Dynamic::from(PacketRef::new(trace, index)));
        }
        next += fresh.len();
        match crate::clock::slice(deadline) {
            Err(stop) => return Err(super::stop_error(stop)),
            Ok(None) => return Ok(Dynamic::UNIT),
            Ok(Some(_)) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
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

    /// The trace and the packet's index in it.
    pub fn parts(&self) -> (Arc<Trace>, usize) {
        (Arc::clone(&self.trace), self.index)
    }

    /// The packet this refers to.
    pub fn get(&self) -> &Packet {
        // The index was made from this trace's own packet range.
        &self.trace.packets[self.index]
    }
}

impl From<Recorded> for TraceRef {
    fn from(r: Recorded) -> TraceRef {
        TraceRef {
            name: r.name,
            trace: r.trace,
            dropped: r.dropped,
        }
    }
}

/// `function: message` for a session error.
fn failed(function: &str, e: SessionError) -> Box<EvalAltResult> {
    api_error(function, e)
}

/// The largest kernel ring a capture may ask for (`buffer`, in MiB).
const MAX_BUFFER_MIB: u32 = 256;

fn start(host: &Host, options: &Map) -> ApiResult<ScriptCapture> {
    let session = &host.session;
    let mut filter = String::new();
    let mut name: Option<String> = None;
    let mut config_changes: Vec<(String, INT)> = Vec::new();
    for (k, v) in options {
        match k.as_str() {
            "filter" => filter = v.to_string(),
            "name" => name = Some(v.to_string()),
            "snaplen" | "settle" | "buffer" => config_changes.push((
                k.to_string(),
                v.as_int().map_err(|t| {
                    api_error("capture", format!("`{k}` must be an integer, not {t}"))
                })?,
            )),
            other => {
                return Err(api_error(
                    "capture",
                    format!(
                        "unknown option `{other}` (known: filter, name, snaplen, settle, buffer)"
                    ),
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
            "buffer" => {
                config.buffer_bytes = (1..=MAX_BUFFER_MIB)
                    .contains(&v)
                    .then_some(v << 20)
                    .ok_or_else(|| {
                        api_error(
                            "capture",
                            format!("`buffer` must be 1..={MAX_BUFFER_MIB} MiB, got {v}"),
                        )
                    })?;
            }
            _ => config.settle = Duration::from_millis(u64::from(v)),
        }
    }
    let pending = session
        .start_capture(host, config, name.as_deref())
        .map_err(|e| failed("capture", e))?;
    Ok(ScriptCapture {
        name: pending.name,
        live: pending.live,
        session: session.clone(),
        cursor: Default::default(),
    })
}

#[export_module]
mod capture_module {
    use super::*;

    /// A running capture; `stop()` it to get the packets.
    pub type Capture = ScriptCapture;
    /// The packets of a stopped capture.
    pub type Trace = TraceRef;

    /// Starts capturing on the host's interface with a BPF filter, e.g. `"tcp port 8888"`.
    /// The capture is armed when this returns; traffic sent afterwards is seen. Its kernel
    /// ring (8 MiB) and stored frames count against the run's capture memory budget
    /// (512 MiB for all captures): past it `capture` fails, see the options form below.
    #[rhai_fn(return_raw)]
    pub fn capture(host: &mut Host, filter: &str) -> ApiResult<Capture> {
        let mut m = Map::new();
        m.insert("filter".into(), filter.into());
        start(host, &m)
    }

    /// Starts a capture with options `#{ filter: "tcp", name: "loopback", snaplen: 65535,
    /// settle: 100, buffer: 8 }` (`buffer`: the kernel ring in MiB, 1..=256, default 8).
    ///
    /// Limits: all the captures of a run share one memory budget of 512 MiB (their rings
    /// while they run, plus every frame they store). A capture whose ring does not fit is
    /// refused with an error (stop the captures you no longer need); frames past the
    /// budget are not stored and the report says the capture lost packets.
    #[rhai_fn(name = "capture", return_raw)]
    pub fn capture_with(host: &mut Host, options: Map) -> ApiResult<Capture> {
        start(host, &options)
    }

    /// True when the lab is being graded from a capture someone made (`labrun grade --pcap`):
    /// the lab then checks `graded_capture()` instead of making traffic. This is how a lab
    /// marks which of its checks can be made from a capture alone.
    #[rhai_fn(return_raw)]
    pub fn grading(ctx: NativeCallContext) -> ApiResult<bool> {
        Ok(session(&ctx)?.grading())
    }

    /// The capture being graded, analysed like a live one (and shown in the report).
    #[rhai_fn(return_raw)]
    pub fn graded_capture(ctx: NativeCallContext) -> ApiResult<Trace> {
        let recorded = session(&ctx)?.record_graded().ok_or_else(|| {
            api_error(
                "graded_capture",
                "not grading: run the lab with `labrun grade LAB --pcap FILE`",
            )
        })?;
        recorded.map(TraceRef::from).map_err(|e| failed("stop", e))
    }

    /// Stops the capture (draining what the kernel still holds) and returns its trace.
    #[rhai_fn(return_raw)]
    pub fn stop(cap: &mut Capture) -> ApiResult<Trace> {
        let live = cap.live.lock().unwrap_or_else(|p| p.into_inner()).take();
        match live {
            Some(live) => cap
                .session
                .finish_capture(&cap.name, live)
                .map(TraceRef::from)
                .map_err(|e| failed("stop", e)),
            None => Err(api_error(
                "stop",
                format!("capture `{}` was already stopped", cap.name),
            )),
        }
    }

    /// Waits at most `timeout` ms for a packet matching the BPF `filter` (tcpdump's syntax,
    /// e.g. `"tcp[tcpflags] & tcp-rst != 0"`) while the capture runs, and returns it, or ()
    /// when none came in time. Packets that arrived before the call count (a fast answer is
    /// not missed); each wait starts after the packet the previous one returned, so waits
    /// in a row walk through the exchange. The packet's number is its frame in the capture.
    #[rhai_fn(return_raw)]
    pub fn wait(cap: &mut Capture, filter: &str, timeout: INT) -> ApiResult<Dynamic> {
        wait_for(cap, filter, timeout)
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

    /// The capture file this capture is saved as in the report directory (pcapng).
    #[rhai_fn(get = "file", pure)]
    pub fn file(t: &mut Trace) -> String {
        format!("{}.pcapng", t.name)
    }
}
