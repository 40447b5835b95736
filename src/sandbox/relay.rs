//! The relayed lab link: a thread that carries every frame between the two switch ports
//! (`port1`, the client's, and `port2`, the server's) through user space instead of a
//! bridge, so a [`Judge`] can drop, delay, hold back or duplicate chosen frames. This is
//! how a link gets delay and deterministic loss on kernels without netem.
//!
//! One `AF_PACKET` raw socket per port, with `PACKET_IGNORE_OUTGOING` so the relay never
//! reads the frames it sends itself; `ppoll` waits at most until the next frame is due
//! (and never more than [`SLICE`]), so the thread notices it must stop within a slice.
//! Delayed and held frames are bounded ([`MAX_QUEUED`], [`MAX_QUEUED_BYTES`]); a frame
//! that does not fit is dropped and reported to the judge. Dropping the [`Relay`] stops the
//! thread and closes the sockets.

use super::{Netns, SandboxError};
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The longest the relay waits before it looks at its stop flag again.
const SLICE: Duration = Duration::from_millis(50);
/// The most frames held back (delayed or reordered) at once.
pub const MAX_QUEUED: usize = 20_000;
/// The most bytes held back at once.
pub const MAX_QUEUED_BYTES: usize = 32 << 20;
/// The longest a reordered frame waits for the frames that should overtake it.
pub const MAX_HOLD: Duration = Duration::from_secs(1);
/// At most this many frames are read from one port before the other gets its turn.
const BATCH: usize = 64;
/// `PACKET_IGNORE_OUTGOING` (Linux 4.20): do not deliver the socket's own sends to it.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;

/// What to do with one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Copies to send: 0 drops the frame, 2 duplicates it.
    pub copies: u8,
    /// How long to keep it first.
    pub delay: Duration,
    /// Hold it until this many later frames of its direction have been sent (0: no).
    pub hold_after: u32,
}

/// Decides the fate of each frame the relay carries (the link's rules).
pub trait Judge: Send {
    /// The verdict on `frame`, read at `at` on the client's port (`to_server`) or the
    /// server's.
    fn judge(&mut self, to_server: bool, frame: &[u8], at: Instant) -> Verdict;
    /// The relay dropped `frame` because its queue was full.
    fn queue_full(&mut self, to_server: bool, frame: &[u8], at: Instant);
    /// The relay sent a held `frame` after [`MAX_HOLD`], before the frames meant to
    /// overtake it had passed.
    fn hold_expired(&mut self, to_server: bool, frame: &[u8], at: Instant);
}

/// Counters of the relay's work, for measurements.
#[derive(Debug, Default)]
pub struct RelayStats {
    /// Frames read from the ports.
    pub frames: AtomicU64,
    /// Bytes read from the ports.
    pub bytes: AtomicU64,
    /// Frames the kernel refused to send (a full bottleneck queue, say).
    pub send_errors: AtomicU64,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    judge: Mutex<Option<Box<dyn Judge>>>,
    stats: RelayStats,
}

/// A running relay between two switch ports; dropping it stops it.
pub struct Relay {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("frames", &self.shared.stats.frames.load(Ordering::Relaxed))
            .finish()
    }
}

impl Relay {
    /// Opens the two ports' sockets inside the switch namespace `ns` and starts relaying
    /// between them, passing every frame until a judge is set.
    pub fn start(ns: &Netns, client_port: &str, server_port: &str) -> Result<Relay, SandboxError> {
        let socks = ns.enter(|| -> Result<[OwnedFd; 2], SandboxError> {
            Ok([open_port(client_port)?, open_port(server_port)?])
        })??;
        let shared = Arc::new(Shared::default());
        let inner = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("labrun-relay".into())
            .spawn(move || run(&socks, &inner))
            .map_err(|source| SandboxError::Io {
                action: "start the link's relay thread".into(),
                source,
            })?;
        Ok(Relay {
            shared,
            thread: Some(thread),
        })
    }

    /// Replaces the judge (None: pass every frame untouched); frames already delayed or
    /// held keep their verdict.
    pub fn set_judge(&self, judge: Option<Box<dyn Judge>>) {
        *self.shared.judge.lock().unwrap_or_else(|p| p.into_inner()) = judge;
    }

    /// The relay's counters.
    pub fn stats(&self) -> &RelayStats {
        &self.shared.stats
    }

    /// Whether the thread still runs (false after a panic, which would be a bug).
    pub fn running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // The thread looks at the flag at least every SLICE.
            let _ = t.join();
        }
    }
}

/// An `AF_PACKET` raw socket bound to `iface` (in the calling thread's namespace),
/// non-blocking, deaf to its own sends.
fn open_port(iface: &str) -> Result<OwnedFd, SandboxError> {
    let fail = |what: &str, source: io::Error| SandboxError::Io {
        action: format!("{what} for the link's relay on `{iface}`"),
        source,
    };
    let index = super::index_of(iface, "switch")?;
    // SAFETY: socket(2) with constant arguments; the result is checked before use.
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(fail("open a packet socket", io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh descriptor this function owns from here on.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let set = |opt: libc::c_int, level: libc::c_int, value: libc::c_int| -> io::Result<()> {
        // SAFETY: setsockopt(2) reads sizeof(c_int) bytes from a live local.
        let r = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                level,
                opt,
                (&value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    set(PACKET_IGNORE_OUTGOING, libc::SOL_PACKET, 1)
        .map_err(|e| fail("ignore the socket's own frames (Linux 4.20 or later)", e))?;
    // Room for a burst while the thread is busy; the forced size needs CAP_NET_ADMIN.
    let buf = 4 << 20;
    if set(libc::SO_RCVBUFFORCE, libc::SOL_SOCKET, buf).is_err() {
        let _ = set(libc::SO_RCVBUF, libc::SOL_SOCKET, buf);
    }
    if set(libc::SO_SNDBUFFORCE, libc::SOL_SOCKET, buf).is_err() {
        let _ = set(libc::SO_SNDBUF, libc::SOL_SOCKET, buf);
    }
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = index as i32;
    // SAFETY: bind(2) reads a sockaddr_ll of the size given from a live local.
    let r = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(fail("bind a packet socket", io::Error::last_os_error()));
    }
    Ok(sock)
}

/// A frame waiting for its time.
struct Due {
    at: Instant,
    order: u64,
    /// When it was read, counted in frames (for the frames it overtakes or lets pass).
    arrival: u64,
    out: usize,
    frame: Vec<u8>,
}

impl PartialEq for Due {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.order) == (o.at, o.order)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Due {
    /// Reversed: the heap's top is the earliest (then the first queued).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.order).cmp(&(self.at, self.order))
    }
}

/// A frame held back until `left` frames of its direction read after it are sent.
struct Held {
    out: usize,
    arrival: u64,
    left: u32,
    until: Instant,
    frame: Vec<u8>,
}

/// The relay's frames in waiting, bounded.
struct Waiting {
    due: BinaryHeap<Due>,
    held: VecDeque<Held>,
    bytes: usize,
    order: u64,
    /// Frames read so far.
    arrivals: u64,
}

impl Waiting {
    fn fits(&self, len: usize) -> bool {
        self.due.len() + self.held.len() < MAX_QUEUED && self.bytes + len <= MAX_QUEUED_BYTES
    }

    /// The earliest time something is due.
    fn next(&self) -> Option<Instant> {
        let d = self.due.peek().map(|d| d.at);
        let h = self.held.iter().map(|h| h.until).min();
        match (d, h) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn send(fd: &OwnedFd, frame: &[u8], stats: &RelayStats) {
    // SAFETY: send(2) reads frame.len() bytes from a live slice; the socket is bound.
    let r = unsafe {
        libc::send(
            fd.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            libc::MSG_DONTWAIT,
        )
    };
    if r < 0 {
        // A full bottleneck queue (ENOBUFS) or send buffer: the frame is lost, as on a wire.
        stats.send_errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends `frame` (read as frame number `arrival`) out of port `out`, then releases the
/// held frames of its direction that it was the last to overtake.
fn send_counted(
    socks: &[OwnedFd; 2],
    out: usize,
    (frame, arrival): (&[u8], u64),
    w: &mut Waiting,
    s: &RelayStats,
) {
    send(&socks[out], frame, s);
    let mut i = 0;
    while i < w.held.len() {
        if w.held[i].out == out && w.held[i].arrival < arrival {
            w.held[i].left = w.held[i].left.saturating_sub(1);
            if w.held[i].left == 0 {
                if let Some(h) = w.held.remove(i) {
                    w.bytes -= h.frame.len();
                    send(&socks[out], &h.frame, s);
                }
                continue;
            }
        }
        i += 1;
    }
}

/// The relay thread: forward, judge, wait, until told to stop.
fn run(socks: &[OwnedFd; 2], shared: &Shared) {
    let mut buf = vec![0u8; 65_536 + 64];
    let mut w = Waiting {
        due: BinaryHeap::new(),
        held: VecDeque::new(),
        bytes: 0,
        order: 0,
        arrivals: 0,
    };
    let stats = &shared.stats;
    while !shared.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let wait = w
            .next()
            .map_or(SLICE, |t| t.saturating_duration_since(now).min(SLICE));
        let mut fds = [
            libc::pollfd {
                fd: socks[0].as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: socks[1].as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ts = libc::timespec {
            tv_sec: wait.as_secs() as libc::time_t,
            tv_nsec: libc::c_long::from(wait.subsec_nanos() as i32),
        };
        // SAFETY: ppoll(2) on two live pollfds and a timespec local; no signal mask.
        let n = unsafe { libc::ppoll(fds.as_mut_ptr(), 2, &ts, std::ptr::null()) };
        if n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            // Nothing sensible to do but slow down; the stop flag still ends the loop.
            std::thread::sleep(Duration::from_millis(1));
        }
        for (side, pfd) in fds.iter().enumerate() {
            if n > 0 && pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                // A port that went down reports its error once; reading SO_ERROR clears it,
                // so the next ppoll waits again instead of returning at once forever.
                clear_error(&socks[side]);
            }
            if n <= 0 || pfd.revents & libc::POLLIN == 0 {
                continue;
            }
            for _ in 0..BATCH {
                // SAFETY: recv(2) writes at most buf.len() bytes into the live buffer.
                let r = unsafe {
                    libc::recv(
                        socks[side].as_raw_fd(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
                if r <= 0 {
                    break;
                }
                let frame = &buf[..r as usize];
                stats.frames.fetch_add(1, Ordering::Relaxed);
                stats.bytes.fetch_add(r as u64, Ordering::Relaxed);
                forward(socks, shared, side, frame, &mut w);
            }
        }
        release(socks, shared, &mut w);
    }
}

/// Reads (and so clears) a socket's pending error.
fn clear_error(fd: &OwnedFd) {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt(2) writes at most `len` bytes into a live local.
    unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        );
    }
}

/// Judges one frame read on port `side` and sends, queues or drops it.
fn forward(socks: &[OwnedFd; 2], shared: &Shared, side: usize, frame: &[u8], w: &mut Waiting) {
    let out = 1 - side;
    let to_server = side == 0;
    w.arrivals += 1;
    let arrival = w.arrivals;
    let at = Instant::now();
    let verdict = {
        let mut judge = shared.judge.lock().unwrap_or_else(|p| p.into_inner());
        match judge.as_mut() {
            Some(j) => {
                let v = j.judge(to_server, frame, at);
                let copies = usize::from(v.copies);
                let waits = v.hold_after > 0 || !v.delay.is_zero();
                if copies > 0 && waits && !w.fits(frame.len() * copies) {
                    j.queue_full(to_server, frame, at);
                    return;
                }
                v
            }
            None => Verdict {
                copies: 1,
                delay: Duration::ZERO,
                hold_after: 0,
            },
        }
    };
    for _ in 0..verdict.copies {
        if verdict.hold_after > 0 {
            w.bytes += frame.len();
            w.held.push_back(Held {
                out,
                arrival,
                left: verdict.hold_after,
                until: at + MAX_HOLD,
                frame: frame.to_vec(),
            });
        } else if !verdict.delay.is_zero() {
            w.bytes += frame.len();
            w.order += 1;
            w.due.push(Due {
                at: at + verdict.delay,
                order: w.order,
                arrival,
                out,
                frame: frame.to_vec(),
            });
        } else {
            send_counted(socks, out, (frame, arrival), w, &shared.stats);
        }
    }
}

/// Sends the delayed frames whose time has come and the held ones that waited too long.
fn release(socks: &[OwnedFd; 2], shared: &Shared, w: &mut Waiting) {
    let now = Instant::now();
    while w.due.peek().is_some_and(|d| d.at <= now) {
        if let Some(d) = w.due.pop() {
            w.bytes -= d.frame.len();
            send_counted(socks, d.out, (&d.frame, d.arrival), w, &shared.stats);
        }
    }
    while let Some(i) = w.held.iter().position(|h| h.until <= now) {
        if let Some(h) = w.held.remove(i) {
            w.bytes -= h.frame.len();
            send(&socks[h.out], &h.frame, &shared.stats);
            let mut judge = shared.judge.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(j) = judge.as_mut() {
                // Port 1 is the server's: a frame going out of it was going to the server.
                j.hold_expired(h.out == 1, &h.frame, now);
            }
        }
    }
}
