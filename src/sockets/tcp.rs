//! TCP listeners and connections with per-call deadlines and inspectable errors.

use super::lock;
use super::{DEFAULT_TIMEOUT, SockError, SockResult, io_err, is_wait_over, next_wait};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::Read;
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Options applied to a TCP socket before it connects or listens.
#[derive(Debug, Clone, Default)]
pub struct TcpOptions {
    /// `TCP_MAXSEG`: the MSS announced in the SYN (None: the kernel's choice).
    pub mss: Option<u32>,
    /// `TCP_NODELAY`: disable Nagle's algorithm.
    pub nodelay: bool,
    /// Deadline of each blocking call (None: [`DEFAULT_TIMEOUT`]); the run's time limit
    /// caps it, and Ctrl-C ends the wait at once.
    pub timeout: Option<Duration>,
    /// Listen backlog (listeners only).
    pub backlog: Option<i32>,
    /// `SO_RCVBUF` in bytes, set before the SYN so the window (and its scale) follows it:
    /// a small buffer makes flow control visible (None: the kernel's choice).
    pub rcvbuf: Option<u32>,
    /// `SO_SNDBUF` in bytes: a buffer that holds a whole transfer lets one `send` hand it
    /// all to the kernel at once, so only the congestion window paces it (None: the
    /// kernel's choice, which grows with the window).
    pub sndbuf: Option<u32>,
}

impl TcpOptions {
    fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

fn new_socket(op: &str, addr: &SocketAddr, opts: &TcpOptions) -> SockResult<Socket> {
    let socket = Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(|e| SockError::from_io(op, &e, ""))?;
    if let Some(mss) = opts.mss {
        set_mss(&socket, mss)
            .map_err(|e| SockError::from_io(op, &e, &format!("setting MSS {mss}")))?;
    }
    if opts.nodelay {
        socket
            .set_tcp_nodelay(true)
            .map_err(|e| SockError::from_io(op, &e, "setting TCP_NODELAY"))?;
    }
    if let Some(bytes) = opts.rcvbuf {
        socket
            .set_recv_buffer_size(bytes as usize)
            .map_err(|e| SockError::from_io(op, &e, &format!("setting SO_RCVBUF {bytes}")))?;
    }
    if let Some(bytes) = opts.sndbuf {
        socket
            .set_send_buffer_size(bytes as usize)
            .map_err(|e| SockError::from_io(op, &e, &format!("setting SO_SNDBUF {bytes}")))?;
    }
    Ok(socket)
}

/// A listening TCP socket.
#[derive(Debug, Clone)]
pub struct TcpListener {
    inner: Arc<ListenerInner>,
}

#[derive(Debug)]
struct ListenerInner {
    socket: Mutex<Option<Socket>>,
    addr: SocketAddr,
    opts: TcpOptions,
}

impl TcpListener {
    /// Binds `addr` (port 0 picks a free port) and listens; SO_REUSEADDR is set so labs rerun at once.
    pub fn bind(addr: SocketAddr, opts: TcpOptions) -> SockResult<Self> {
        let socket = new_socket("listen", &addr, &opts)?;
        socket
            .set_reuse_address(true)
            .map_err(|e| SockError::from_io("listen", &e, ""))?;
        socket
            .bind(&SockAddr::from(addr))
            .map_err(|e| SockError::from_io("listen", &e, &format!("binding {addr}")))?;
        socket
            .listen(opts.backlog.unwrap_or(128))
            .map_err(|e| SockError::from_io("listen", &e, &format!("on {addr}")))?;
        let addr = local_of(&socket).unwrap_or(addr);
        Ok(TcpListener {
            inner: Arc::new(ListenerInner {
                socket: Mutex::new(Some(socket)),
                addr,
                opts,
            }),
        })
    }

    /// The address the listener is bound to (with the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Waits (up to the timeout) for a connection the kernel completed on the backlog.
    pub fn accept(&self) -> SockResult<TcpConn> {
        let timeout = self.inner.opts.timeout();
        let deadline = Instant::now() + timeout;
        let waiting = || format!("no client connected to {}", self.inner.addr);
        loop {
            let Some(wait) = next_wait("accept", deadline)? else {
                return Err(SockError::timeout(
                    "accept",
                    &format!(
                        "timed out after {} ({})",
                        crate::util::fmt_duration(timeout),
                        waiting()
                    ),
                ));
            };
            let accepted = {
                let guard = lock(&self.inner.socket);
                let socket = guard
                    .as_ref()
                    .ok_or_else(|| SockError::usage("accept", "the listener is closed"))?;
                socket
                    .set_read_timeout(Some(wait))
                    .map_err(|e| SockError::from_io("accept", &e, ""))?;
                socket.accept()
            };
            match accepted {
                Ok((socket, _)) => return TcpConn::from_socket(socket, self.inner.opts.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted || is_wait_over(&e) => {}
                Err(e) => return Err(io_err("accept", &e, &waiting(), timeout)),
            }
        }
    }

    /// Accepts connections until `stop()` is true (checked each time `accept` times out, so
    /// give the listener a short timeout), starting `serve` for each on its own thread named
    /// `{prefix}-{peer}` and handing the thread to `started`; `fail` hears why a thread could
    /// not start or why accepting ended. Closes the listener at the end.
    pub fn serve_each<S>(
        &self,
        prefix: &str,
        stop: impl Fn() -> bool,
        serve: S,
        mut started: impl FnMut(std::thread::JoinHandle<()>),
        fail: impl Fn(String),
    ) where
        S: Fn(TcpConn) + Clone + Send + 'static,
    {
        while !stop() {
            match self.accept() {
                Ok(conn) => {
                    let serve = serve.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("{prefix}-{}", conn.peer_addr()))
                        .spawn(move || serve(conn));
                    match spawned {
                        Ok(t) => started(t),
                        Err(e) => fail(format!("cannot start a connection thread: {e}")),
                    }
                }
                Err(e) if e.is_timeout() => {}
                // The run is stopping (its time limit, Ctrl-C): so is the server.
                Err(e) if e.is_stop() => break,
                Err(e) => {
                    fail(format!("accept on {} failed: {e}", self.addr()));
                    break;
                }
            }
        }
        self.close();
    }

    /// Closes the listening socket; later connects to its port are refused.
    pub fn close(&self) {
        lock(&self.inner.socket).take();
    }
}

/// A connected TCP socket (either end).
#[derive(Debug, Clone)]
pub struct TcpConn {
    inner: Arc<ConnInner>,
}

#[derive(Debug)]
struct ConnInner {
    socket: Mutex<Option<Socket>>,
    /// Bytes read past a delimiter, served first by the next read.
    pending: Mutex<Vec<u8>>,
    local: SocketAddr,
    peer: SocketAddr,
    timeout: Mutex<Duration>,
    /// Runs once, just before the socket closes.
    on_close: Mutex<Option<CloseHook>>,
    /// Stops the kernel-state samplers of this socket (each holds a duplicate of its
    /// descriptor, which would keep the socket open): run before it closes.
    samplers: Mutex<Vec<Arc<SamplerStop>>>,
}

impl Drop for ConnInner {
    fn drop(&mut self) {
        for s in lock(&self.samplers).drain(..) {
            s.stop();
        }
    }
}

/// Stops one sampler thread and waits for it (at most one interval).
#[derive(Debug, Default)]
pub struct SamplerStop {
    flag: std::sync::atomic::AtomicBool,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl SamplerStop {
    /// Stops the thread; later calls do nothing.
    pub fn stop(&self) {
        self.flag.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

/// What a sampler of a connection's kernel state collected: each sample with the time since
/// sampling started.
#[derive(Debug)]
pub struct KernelSamples<T> {
    /// The samples so far, oldest first.
    pub samples: Arc<Mutex<Vec<(Duration, T)>>>,
    /// Stops the sampler (also done when the connection closes).
    pub stop: Arc<SamplerStop>,
    /// When sampling began, in ns since the Unix epoch: the clock a capture's timestamps
    /// use, so a sample can be placed among the captured frames.
    pub started_unix_ns: i128,
}

impl<T> Clone for KernelSamples<T> {
    fn clone(&self) -> Self {
        KernelSamples {
            samples: Arc::clone(&self.samples),
            stop: Arc::clone(&self.stop),
            started_unix_ns: self.started_unix_ns,
        }
    }
}

/// The samples of `k`, locked for reading.
pub fn lock_samples<T>(k: &KernelSamples<T>) -> std::sync::MutexGuard<'_, Vec<(Duration, T)>> {
    lock(&k.samples)
}

/// The most samples one sampler keeps.
pub const MAX_SAMPLES: usize = 100_000;

/// The most samplers running on one connection at once.
pub const MAX_SAMPLERS: usize = 4;

/// What [`TcpConn::on_close`] runs.
struct CloseHook(Box<dyn FnOnce() + Send>);

impl std::fmt::Debug for CloseHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CloseHook")
    }
}

impl TcpConn {
    /// Connects to `peer` from `bind` (None: any local address), bounded by the timeout.
    pub fn connect(
        peer: SocketAddr,
        bind: Option<SocketAddr>,
        opts: TcpOptions,
    ) -> SockResult<Self> {
        let socket = new_socket("connect", &peer, &opts)?;
        if let Some(local) = bind {
            socket
                .bind(&SockAddr::from(local))
                .map_err(|e| SockError::from_io("connect", &e, &format!("binding {local}")))?;
        }
        let timeout = opts.timeout();
        connect_in_slices(&socket, peer, timeout)?;
        TcpConn::from_socket(socket, opts)
    }

    fn from_socket(socket: Socket, opts: TcpOptions) -> SockResult<Self> {
        let local =
            local_of(&socket).ok_or_else(|| SockError::usage("connect", "no local address"))?;
        let peer = socket
            .peer_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .ok_or_else(|| SockError::usage("connect", "no peer address"))?;
        if opts.nodelay {
            let _ = socket.set_tcp_nodelay(true);
        }
        Ok(TcpConn {
            inner: Arc::new(ConnInner {
                socket: Mutex::new(Some(socket)),
                pending: Mutex::new(Vec::new()),
                local,
                peer,
                timeout: Mutex::new(opts.timeout()),
                on_close: Mutex::new(None),
                samplers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// The other end's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer
    }

    /// The deadline of each blocking call on this connection.
    pub fn timeout(&self) -> Duration {
        *lock(&self.inner.timeout)
    }

    /// Changes the deadline of each blocking call on this connection.
    pub fn set_timeout(&self, timeout: Duration) {
        *lock(&self.inner.timeout) = timeout;
    }

    fn context(&self) -> String {
        format!("{} -> {}", self.inner.local, self.inner.peer)
    }

    fn with_socket<T>(&self, op: &str, f: impl FnOnce(&Socket) -> SockResult<T>) -> SockResult<T> {
        let guard = lock(&self.inner.socket);
        match guard.as_ref() {
            Some(socket) => f(socket),
            None => Err(SockError::usage(
                op,
                format!("the connection {} is already closed", self.context()),
            )),
        }
    }

    /// Sends all of `data`; returns the byte count. Fails with EPIPE/ECONNRESET as the kernel says.
    pub fn send(&self, data: &[u8]) -> SockResult<usize> {
        let timeout = self.timeout();
        let ctx = self.context();
        self.with_socket("send", |s| {
            // Counted from when the socket is ours: a reader thread may have held it.
            let deadline = Instant::now() + timeout;
            let mut sent = 0;
            while sent < data.len() {
                let Some(wait) = next_wait("send", deadline)? else {
                    return Err(SockError::timeout(
                        "send",
                        &format!(
                            "timed out after {} ({ctx})",
                            crate::util::fmt_duration(timeout)
                        ),
                    ));
                };
                s.set_write_timeout(Some(wait))
                    .map_err(|e| SockError::from_io("send", &e, &ctx))?;
                match s.send_with_flags(&data[sent..], send_flags()) {
                    Ok(0) => return Err(SockError::usage("send", "the kernel accepted no bytes")),
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted || is_wait_over(&e) => {}
                    Err(e) => return Err(io_err("send", &e, &ctx, timeout)),
                }
            }
            Ok(sent)
        })
    }

    /// Reads whatever arrives first, up to `max` bytes; an empty result means the peer closed (FIN).
    pub fn recv(&self, max: usize) -> SockResult<Vec<u8>> {
        {
            let mut pending = lock(&self.inner.pending);
            if !pending.is_empty() {
                let n = max.min(pending.len());
                return Ok(pending.drain(..n).collect());
            }
        }
        self.read_some("recv", max, self.deadline())
    }

    /// Reads exactly `n` bytes, failing if the peer closes first or the deadline passes.
    pub fn recv_exact(&self, n: usize) -> SockResult<Vec<u8>> {
        let deadline = self.deadline();
        let mut out = self.take_pending(n);
        while out.len() < n {
            let chunk = match self.read_some("recv_exact", n - out.len(), deadline) {
                Ok(c) => c,
                Err(e) => {
                    self.give_back(out);
                    return Err(e);
                }
            };
            if chunk.is_empty() {
                self.give_back(out.clone());
                return Err(SockError::usage(
                    "recv_exact",
                    format!(
                        "the peer closed after {} of {n} bytes ({})",
                        out.len(),
                        self.context()
                    ),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Reads up to and including `delim`; returns what arrived before a close if the peer closes first.
    pub fn recv_until(&self, delim: &[u8], max: usize) -> SockResult<Vec<u8>> {
        if delim.is_empty() {
            return Err(SockError::usage("recv_until", "the delimiter is empty"));
        }
        let deadline = self.deadline();
        let mut out = self.take_pending(usize::MAX);
        loop {
            if let Some(i) = find(&out, delim) {
                let rest = out.split_off(i + delim.len());
                lock(&self.inner.pending).splice(0..0, rest);
                return Ok(out);
            }
            if out.len() >= max {
                self.give_back(out);
                return Err(SockError::usage(
                    "recv_until",
                    format!("no delimiter within {max} bytes ({})", self.context()),
                ));
            }
            let chunk = match self.read_some("recv_until", 64 * 1024, deadline) {
                Ok(c) => c,
                Err(mut e) => {
                    if !out.is_empty() {
                        e.message = format!(
                            "{}; {} bytes arrived without the delimiter {:?}: {:?}",
                            e.message,
                            out.len(),
                            String::from_utf8_lossy(delim),
                            String::from_utf8_lossy(&out[..out.len().min(60)])
                        );
                    }
                    self.give_back(out);
                    return Err(e);
                }
            };
            if chunk.is_empty() {
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
        }
    }

    /// Puts bytes a failed read already took back in front of the buffer: a timeout never
    /// loses data the kernel delivered.
    fn give_back(&self, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            lock(&self.inner.pending).splice(0..0, bytes);
        }
    }

    fn take_pending(&self, max: usize) -> Vec<u8> {
        let mut pending = lock(&self.inner.pending);
        let n = max.min(pending.len());
        pending.drain(..n).collect()
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.timeout()
    }

    /// Reads what arrives first before `deadline`, waiting in slices so the run's time
    /// limit or a Ctrl-C ends the wait at once.
    fn read_some(&self, op: &str, max: usize, deadline: Instant) -> SockResult<Vec<u8>> {
        let ctx = self.context();
        let timeout = self.timeout();
        self.with_socket(op, |s| {
            let mut buf = vec![0u8; max.clamp(1, 1 << 20)];
            let mut reader: &Socket = s;
            loop {
                let Some(wait) = next_wait(op, deadline)? else {
                    return Err(SockError::timeout(
                        op,
                        &format!(
                            "timed out after {} (waiting for data, {ctx})",
                            crate::util::fmt_duration(timeout)
                        ),
                    ));
                };
                s.set_read_timeout(Some(wait))
                    .map_err(|e| SockError::from_io(op, &e, &ctx))?;
                match reader.read(&mut buf) {
                    Ok(n) => {
                        buf.truncate(n);
                        return Ok(buf);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted || is_wait_over(&e) => {}
                    Err(e) => {
                        return Err(io_err(op, &e, &format!("waiting for data, {ctx}"), timeout));
                    }
                }
            }
        })
    }

    /// Half-closes the connection: sends FIN, keeps receiving (`shutdown(SHUT_WR)`).
    pub fn shutdown_write(&self) -> SockResult<()> {
        let ctx = self.context();
        self.with_socket("shutdown", |s| {
            s.shutdown(Shutdown::Write)
                .map_err(|e| SockError::from_io("shutdown", &e, &ctx))
        })
    }

    /// Sets SO_LINGER: `Some(0)` makes close abortive (RST instead of FIN).
    pub fn set_linger(&self, secs: Option<u64>) -> SockResult<()> {
        let ctx = self.context();
        self.with_socket("linger", |s| {
            s.set_linger(secs.map(Duration::from_secs))
                .map_err(|e| SockError::from_io("linger", &e, &ctx))
        })
    }

    /// Reads something of the kernel's socket with `read` (e.g. its TCP state, which only
    /// some systems expose): the connection's descriptor, while it is open.
    #[cfg(unix)]
    pub fn read_kernel<T>(
        &self,
        op: &str,
        read: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> std::io::Result<T>,
    ) -> SockResult<T> {
        use std::os::fd::AsFd;
        let ctx = self.context();
        self.with_socket(op, |s| {
            read(s.as_fd()).map_err(|e| SockError::from_io(op, &e, &ctx))
        })
    }

    #[cfg(unix)]
    /// Reads the kernel's state of this socket with `read` every `every` on a thread of
    /// its own, while the script goes on (a blocking send included), until the sampler is
    /// stopped or the connection closes; at most [`MAX_SAMPLES`] samples are kept.
    pub fn sample_kernel<T: Send + 'static>(
        &self,
        op: &str,
        every: Duration,
        read: fn(std::os::fd::BorrowedFd<'_>) -> std::io::Result<T>,
    ) -> SockResult<KernelSamples<T>> {
        use std::os::fd::AsFd;
        let ctx = self.context();
        // Each sampler is a thread: a script gets a few per connection, not a thread per
        // loop turn.
        {
            let mut samplers = lock(&self.inner.samplers);
            samplers.retain(|s| !s.flag.load(std::sync::atomic::Ordering::Relaxed));
            if samplers.len() >= MAX_SAMPLERS {
                return Err(SockError::usage(
                    op,
                    format!(
                        "at most {MAX_SAMPLERS} samplers run on one connection at once; stop one first"
                    ),
                ));
            }
        }
        let dup = self.with_socket(op, |s| {
            s.try_clone().map_err(|e| SockError::from_io(op, &e, &ctx))
        })?;
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(SamplerStop::default());
        let (out, flag) = (Arc::clone(&samples), Arc::clone(&stop));
        let started = Instant::now();
        let started_unix_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let thread = std::thread::Builder::new()
            .name("labrun-sampler".into())
            .spawn(move || {
                while !flag.flag.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok(v) = read(dup.as_fd()) else { break };
                    let mut out = lock(&out);
                    if out.len() < MAX_SAMPLES {
                        out.push((started.elapsed(), v));
                    }
                    drop(out);
                    std::thread::sleep(every);
                }
            })
            .map_err(|e| SockError::from_io(op, &e, &ctx))?;
        *lock(&stop.thread) = Some(thread);
        lock(&self.inner.samplers).push(Arc::clone(&stop));
        Ok(KernelSamples {
            samples,
            stop,
            started_unix_ns,
        })
    }

    /// Sets the congestion control algorithm of this socket (TCP_CONGESTION, Linux), e.g.
    /// "reno" or "cubic".
    pub fn set_congestion(&self, name: &str) -> SockResult<()> {
        let ctx = self.context();
        self.with_socket("congestion", |s| {
            // Only an algorithm the kernel already has: asking a root process's socket for
            // another would make the kernel load the module `tcp_<name>` on a script's word.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            {
                let known =
                    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_available_congestion_control")
                        .unwrap_or_default();
                if !known.split_whitespace().any(|k| k == name) {
                    return Err(SockError::usage(
                        "congestion",
                        format!(
                            "this kernel has no congestion control `{name}` (it has: {}) ({ctx})",
                            known.trim()
                        ),
                    ));
                }
                s.set_tcp_congestion(name.as_bytes())
                    .map_err(|e| SockError::from_io("congestion", &e, &format!("{name} ({ctx})")))
            }
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            {
                let _ = s;
                Err(SockError::usage(
                    "congestion",
                    format!("choosing {name} needs Linux's TCP_CONGESTION ({ctx})"),
                ))
            }
        })
    }

    /// Turns keepalive on (SO_KEEPALIVE) with the first probe after `idle` without traffic,
    /// then one every `interval`, and the connection given up (and reset) after `count`
    /// unanswered probes (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
    pub fn set_keepalive(&self, idle: Duration, interval: Duration, count: u32) -> SockResult<()> {
        let ctx = self.context();
        self.with_socket("keepalive", |s| {
            let ka = socket2::TcpKeepalive::new()
                .with_time(idle)
                .with_interval(interval);
            #[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
            let ka = ka.with_retries(count);
            #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
            let _ = count;
            s.set_tcp_keepalive(&ka)
                .map_err(|e| SockError::from_io("keepalive", &e, &ctx))
        })
    }

    /// Sets TCP_NODELAY (Nagle off when true).
    pub fn set_nodelay(&self, on: bool) -> SockResult<()> {
        let ctx = self.context();
        self.with_socket("nodelay", |s| {
            s.set_tcp_nodelay(on)
                .map_err(|e| SockError::from_io("nodelay", &e, &ctx))
        })
    }

    /// Sets TCP_QUICKACK (Linux): acknowledge at once instead of delaying the ACK. The
    /// kernel clears it again as it sees fit, so it is set before each receive.
    pub fn set_quickack(&self, on: bool) -> SockResult<()> {
        let ctx = self.context();
        self.with_socket("quickack", |s| {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            return s
                .set_tcp_quickack(on)
                .map_err(|e| SockError::from_io("quickack", &e, &ctx));
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            {
                let _ = (s, on);
                Err(SockError::usage(
                    "quickack",
                    format!("TCP_QUICKACK is Linux's ({ctx})"),
                ))
            }
        })
    }

    /// The MSS the kernel uses for this connection (TCP_MAXSEG).
    pub fn mss(&self) -> SockResult<u32> {
        let ctx = self.context();
        self.with_socket("mss", |s| {
            get_mss(s).map_err(|e| SockError::from_io("mss", &e, &ctx))
        })
    }

    /// True once [`TcpConn::close`] was called.
    pub fn is_closed(&self) -> bool {
        lock(&self.inner.socket).is_none()
    }

    /// Takes the socket out of this connection as a standard stream (for protocol
    /// libraries that read and write a `std::net::TcpStream`); every copy of this
    /// connection then counts as closed. Bytes a read left pending are returned too.
    pub fn into_std(&self, op: &str) -> SockResult<(std::net::TcpStream, Vec<u8>)> {
        let socket = lock(&self.inner.socket).take().ok_or_else(|| {
            SockError::usage(
                op,
                format!("the connection {} is already closed", self.context()),
            )
        })?;
        let pending = std::mem::take(&mut *lock(&self.inner.pending));
        Ok((socket.into(), pending))
    }

    /// Closes the socket (FIN, or RST if linger is 0 or unread data remains). Closing twice is a no-op.
    pub fn close(&self) {
        let samplers: Vec<_> = lock(&self.inner.samplers).drain(..).collect();
        for s in samplers {
            s.stop();
        }
        let mut socket = lock(&self.inner.socket);
        if socket.is_some() {
            if let Some(hook) = lock(&self.inner.on_close).take() {
                (hook.0)();
            }
        }
        socket.take();
    }

    /// Runs `f` once, just before [`TcpConn::close`] closes the socket, whoever calls it:
    /// a server logs the close there, before the peer can see the FIN and react to it.
    pub fn on_close(&self, f: impl FnOnce() + Send + 'static) {
        *lock(&self.inner.on_close) = Some(CloseHook(Box::new(f)));
    }
}

/// Connects `socket` to `peer` within `timeout`, waiting in slices so the run's time limit
/// or a Ctrl-C ends the wait at once.
#[cfg(unix)]
fn connect_in_slices(socket: &Socket, peer: SocketAddr, timeout: Duration) -> SockResult<()> {
    use std::os::unix::io::AsRawFd;
    let deadline = Instant::now() + timeout;
    let ctx = format!("to {peer}");
    next_wait("connect", deadline)?;
    let set_blocking = |on: bool| {
        socket
            .set_nonblocking(!on)
            .map_err(|e| SockError::from_io("connect", &e, &ctx))
    };
    set_blocking(false)?;
    let started = socket.connect(&SockAddr::from(peer));
    let result = match started {
        Ok(()) => Ok(()),
        Err(e)
            if e.kind() == std::io::ErrorKind::WouldBlock
                || e.raw_os_error() == Some(libc::EINPROGRESS) =>
        {
            let mut fds = [libc::pollfd {
                fd: socket.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            }];
            loop {
                let wait = match next_wait("connect", deadline) {
                    Ok(Some(w)) => w,
                    Ok(None) => {
                        break Err(SockError::timeout(
                            "connect",
                            &format!(
                                "timed out after {} ({ctx})",
                                crate::util::fmt_duration(timeout)
                            ),
                        ));
                    }
                    Err(e) => break Err(e),
                };
                let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX).max(1);
                // SAFETY: one valid pollfd for the duration of the call.
                let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
                if n < 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    break Err(SockError::from_io("connect", &e, &ctx));
                }
                if n > 0 {
                    break match socket.take_error() {
                        Ok(None) => Ok(()),
                        Ok(Some(e)) | Err(e) => Err(io_err("connect", &e, &ctx, timeout)),
                    };
                }
            }
        }
        Err(e) => Err(io_err("connect", &e, &ctx, timeout)),
    };
    set_blocking(true)?;
    result
}

/// Connects `socket` to `peer` within `timeout`, capped by the run's time limit.
#[cfg(not(unix))]
fn connect_in_slices(socket: &Socket, peer: SocketAddr, timeout: Duration) -> SockResult<()> {
    next_wait("connect", Instant::now() + timeout)?;
    let capped = crate::clock::cap(timeout).max(Duration::from_millis(1));
    socket
        .connect_timeout(&SockAddr::from(peer), capped)
        .map_err(|e| io_err("connect", &e, &format!("to {peer}"), timeout))
}

/// Never raise SIGPIPE: a send after the peer reset must come back as EPIPE.
fn send_flags() -> i32 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        libc::MSG_NOSIGNAL
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        0
    }
}

#[cfg(unix)]
fn set_mss(socket: &Socket, mss: u32) -> std::io::Result<()> {
    socket.set_tcp_mss(mss)
}

#[cfg(unix)]
fn get_mss(socket: &Socket) -> std::io::Result<u32> {
    socket.tcp_mss()
}

#[cfg(not(unix))]
fn set_mss(_socket: &Socket, _mss: u32) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "TCP_MAXSEG is not available on this platform",
    ))
}

#[cfg(not(unix))]
fn get_mss(_socket: &Socket) -> std::io::Result<u32> {
    set_mss(_socket, 0).map(|()| 0)
}

fn local_of(socket: &Socket) -> Option<SocketAddr> {
    socket.local_addr().ok().and_then(|a| a.as_socket())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (TcpConn, TcpConn) {
        let opts = TcpOptions {
            timeout: Some(Duration::from_millis(100)),
            ..TcpOptions::default()
        };
        let l = TcpListener::bind(([127, 0, 0, 1], 0).into(), opts.clone()).unwrap();
        let c = TcpConn::connect(l.addr(), None, opts).unwrap();
        let s = l.accept().unwrap();
        (c, s)
    }

    #[test]
    fn a_timed_out_read_loses_no_bytes() {
        let (c, s) = pair();
        c.send(b"abc").unwrap();
        let e = s.recv_until(b"\n", 1024).unwrap_err();
        assert!(e.is_timeout(), "{e}");
        c.send(b"def\nxyz").unwrap();
        assert_eq!(s.recv_until(b"\n", 1024).unwrap(), b"abcdef\n");
        let e = s.recv_exact(6).unwrap_err();
        assert!(e.is_timeout(), "{e}");
        c.send(b"123").unwrap();
        assert_eq!(s.recv_exact(6).unwrap(), b"xyz123");
    }

    #[test]
    fn peer_close_is_an_empty_read_and_then_epipe_or_reset() {
        let (c, s) = pair();
        c.close();
        assert_eq!(s.recv(100).unwrap(), b"");
        assert!(c.send(b"x").is_err(), "sending on a closed socket fails");
    }
}
