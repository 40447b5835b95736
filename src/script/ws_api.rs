//! Script API: WebSocket server and client, plain HTTP requests, a headless browser as
//! the client, and the HTTP/WebSocket layer decoded from a capture.

use super::capture_api::TraceRef;
use super::lab_values::LabHost as Host;
use super::{ApiResult, api_error, session, throw_sock, to_port};
use crate::analysis::websocket::{AppStream, HttpMessage, WsFrame, decode_stream, decode_trace};
use crate::websocket::{self, Browser, WsConn, WsError, WsServer};
use rhai::plugin::*;
use rhai::{Array, Blob, Engine, FLOAT, INT, Map};
use std::time::Duration;

pub fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<WsServer>("WsServer")
        .register_type_with_name::<WsConn>("WebSocket")
        .register_type_with_name::<Browser>("Browser");
    engine.register_global_module(exported_module!(ws_module).into());
}

/// A WebSocket error as a script error (socket errors stay catchable SockErrors).
fn ws_err(e: WsError) -> Box<EvalAltResult> {
    match e {
        WsError::Sock(s) => throw_sock(s),
        other => super::or_stop(api_error("websocket", other)),
    }
}

fn ms(function: &str, n: INT) -> ApiResult<Duration> {
    u64::try_from(n)
        .map(Duration::from_millis)
        .map_err(|_| api_error(function, format!("a timeout must be >= 0 ms, got {n}")))
}

fn map(pairs: Vec<(&str, Dynamic)>) -> Dynamic {
    let m: Map = pairs.into_iter().map(|(k, v)| (k.into(), v)).collect();
    Dynamic::from_map(m)
}

fn ints(v: &[u64]) -> Dynamic {
    Dynamic::from_array(v.iter().map(|&n| Dynamic::from_int(n as INT)).collect())
}

fn dir(from_client: bool) -> Dynamic {
    (if from_client { "client" } else { "server" }).into()
}

fn http_map(m: &HttpMessage) -> Dynamic {
    let headers: Map = m
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase().into(), Dynamic::from(v.clone())))
        .collect();
    map(vec![
        ("dir", dir(m.from_client)),
        ("frame", Dynamic::from_int(m.frame as INT)),
        ("first_frame", Dynamic::from_int(m.first_frame as INT)),
        ("frames", ints(&m.frames)),
        ("start_line", m.start_line.clone().into()),
        (
            "status",
            m.status()
                .map_or(Dynamic::UNIT, |s| Dynamic::from_int(INT::from(s))),
        ),
        ("headers", Dynamic::from_map(headers)),
        ("head_len", Dynamic::from_int(m.head_len as INT)),
        ("body_len", Dynamic::from_int(m.body.len() as INT)),
        ("body", String::from_utf8_lossy(&m.body).into_owned().into()),
        ("len", Dynamic::from_int(m.len() as INT)),
        ("wire_len", Dynamic::from_int(m.wire_len as INT)),
    ])
}

fn frame_map(f: &WsFrame) -> Dynamic {
    let key = f
        .mask_key
        .map(|k| data_encoding::HEXLOWER.encode(&k))
        .unwrap_or_default();
    map(vec![
        ("dir", dir(f.from_client)),
        ("frame", Dynamic::from_int(f.frame as INT)),
        ("first_frame", Dynamic::from_int(f.first_frame as INT)),
        ("frames", ints(&f.frames)),
        ("fin", f.fin.into()),
        ("rsv", Dynamic::from_int(INT::from(f.rsv))),
        ("opcode", Dynamic::from_int(INT::from(f.opcode))),
        ("opcode_name", f.opcode_name().into()),
        ("masked", f.masked.into()),
        ("mask_key", key.into()),
        ("length_form", f.length_form.as_str().into()),
        ("payload_len", Dynamic::from_int(f.payload_len as INT)),
        ("header_len", Dynamic::from_int(f.header_len as INT)),
        ("len", Dynamic::from_int(f.len() as INT)),
        ("wire_len", Dynamic::from_int(f.wire_len as INT)),
        ("text", f.text().into()),
        (
            "close_code",
            f.close_code()
                .map_or(Dynamic::UNIT, |c| Dynamic::from_int(INT::from(c))),
        ),
        ("complete", f.complete.into()),
    ])
}

fn app_map(a: &AppStream) -> Dynamic {
    let handshake = a.handshake.as_ref().map_or(Dynamic::UNIT, |h| {
        map(vec![
            ("key", h.key.clone().into()),
            ("accept", h.accept.clone().into()),
            ("expected_accept", h.expected_accept.clone().into()),
            ("accept_ok", h.accept_ok().into()),
            ("request", http_map(&h.request)),
            ("response", http_map(&h.response)),
        ])
    });
    let first_close = a.first_close().map_or(Dynamic::UNIT, frame_map);
    map(vec![
        ("stream", Dynamic::from_int(INT::from(a.stream))),
        ("client", a.client.to_string().into()),
        ("server", a.server.to_string().into()),
        (
            "http",
            Dynamic::from_array(a.http.iter().map(http_map).collect()),
        ),
        ("upgraded", a.handshake.is_some().into()),
        ("handshake", handshake),
        (
            "frames",
            Dynamic::from_array(a.frames.iter().map(frame_map).collect()),
        ),
        ("first_close", first_close),
        (
            "notes",
            Dynamic::from_array(a.notes.iter().cloned().map(Dynamic::from).collect()),
        ),
    ])
}

fn event_map(e: &websocket::WsEvent) -> Dynamic {
    map(vec![
        ("kind", e.kind.clone().into()),
        ("message", e.message.clone().into()),
        ("text", e.text.clone().into()),
        ("len", Dynamic::from_int(e.len as INT)),
        (
            "code",
            e.code
                .map_or(Dynamic::UNIT, |c| Dynamic::from_int(INT::from(c))),
        ),
        ("time", Dynamic::from_float(e.time)),
    ])
}

fn reply_map(r: &websocket::HttpReply) -> Map {
    let mut m = Map::new();
    m.insert("status".into(), Dynamic::from_int(INT::from(r.status)));
    m.insert(
        "body".into(),
        String::from_utf8_lossy(&r.body).into_owned().into(),
    );
    m.insert(
        "request_len".into(),
        Dynamic::from_int(r.request_len as INT),
    );
    m.insert(
        "response_len".into(),
        Dynamic::from_int(r.response_len as INT),
    );
    m
}

#[export_module]
mod ws_module {
    use super::*;

    /// The web server of the WebSocket lab (`host.ws_serve(port)`).
    pub type WsServer = crate::websocket::WsServer;
    /// One end of a WebSocket connection.
    pub type WebSocket = crate::websocket::WsConn;
    /// A headless browser started by the lab.
    pub type Browser = crate::websocket::Browser;

    /// Serves HTTP/1.1 and WebSocket on `port` of this host, on threads: `GET /` is a page
    /// whose JavaScript opens `ws://<host>:<port>/ws`, sends the student's ID, then (after
    /// the answer) the name, closes, and sends both again as `POST /echo`; `POST /echo`
    /// answers with its body; `/ws` upgrades. `accept()` hands the script the server's
    /// end of each WebSocket.
    #[rhai_fn(return_raw)]
    pub fn ws_serve(host: &mut Host, port: INT) -> ApiResult<WsServer> {
        let session = &host.session;
        let (id, name) = session.student();
        let page = websocket::page_html(&id, &name);
        let srv = WsServer::start(host, to_port("ws_serve", port)?, page).map_err(ws_err)?;
        session.add_ws_server(srv.clone());
        Ok(srv)
    }

    /// The server's address, "ip:port".
    #[rhai_fn(get = "addr", pure)]
    pub fn srv_addr(s: &mut WsServer) -> String {
        s.addr().to_string()
    }

    /// The server's port.
    #[rhai_fn(get = "port", pure)]
    pub fn srv_port(s: &mut WsServer) -> INT {
        INT::from(s.addr().port())
    }

    /// The page's URL, "http://ip:port/".
    #[rhai_fn(get = "url", pure)]
    pub fn srv_url(s: &mut WsServer) -> String {
        format!("http://{}/", s.addr())
    }

    /// The WebSocket's URL, "ws://ip:port/ws".
    #[rhai_fn(get = "ws_url", pure)]
    pub fn srv_ws_url(s: &mut WsServer) -> String {
        format!("ws://{}/ws", s.addr())
    }

    /// Waits (5 s) for the next WebSocket a client opens; returns the server's end.
    #[rhai_fn(return_raw)]
    pub fn accept(s: &mut WsServer) -> ApiResult<WebSocket> {
        s.accept(crate::sockets::DEFAULT_TIMEOUT).map_err(ws_err)
    }

    /// Waits up to `timeout_ms` for the next WebSocket a client opens (capped by the run's
    /// time limit, `--time-limit`).
    #[rhai_fn(name = "accept", return_raw)]
    pub fn accept_within(s: &mut WsServer, timeout_ms: INT) -> ApiResult<WebSocket> {
        s.accept(ms("accept", timeout_ms)?).map_err(ws_err)
    }

    /// Waits up to `timeout_ms` until `n` requests starting with `what` (e.g.
    /// `"POST /echo"`) were answered (capped by the run's time limit, `--time-limit`).
    #[rhai_fn(return_raw)]
    pub fn wait_requests(s: &mut WsServer, what: &str, n: INT, timeout_ms: INT) -> ApiResult<()> {
        let n = usize::try_from(n).unwrap_or(0);
        s.wait_requests(what, n, ms("wait_requests", timeout_ms)?)
            .map_err(ws_err)
    }

    /// The server's view: `#{ event: "http" | "upgrade" | "error", conn: "ip:port",
    /// line: "GET / 200", time: seconds since it started }`.
    #[rhai_fn(get = "log", pure)]
    pub fn srv_log(s: &mut WsServer) -> Array {
        s.log()
            .iter()
            .map(|e| {
                map(vec![
                    ("event", e.event.clone().into()),
                    ("conn", e.conn.to_string().into()),
                    ("line", e.line.clone().into()),
                    ("time", Dynamic::from_float(e.time)),
                ])
            })
            .collect()
    }

    /// Stops the server, closing what is still open; throws if it met errors.
    #[rhai_fn(name = "stop", return_raw)]
    pub fn srv_stop(s: &mut WsServer) -> ApiResult<()> {
        let errors = s.shutdown();
        match errors.first() {
            None => Ok(()),
            Some(first) => Err(api_error(
                "stop",
                format!("the server on {} failed: {first}", s.addr()),
            )),
        }
    }

    /// Opens a WebSocket from this host to `url` ("ws://ip:port/ws"): the HTTP upgrade,
    /// then masked frames as RFC 6455 requires of a client.
    #[rhai_fn(return_raw)]
    pub fn ws_connect(host: &mut Host, url: &str) -> ApiResult<WebSocket> {
        websocket::connect(host, url, crate::sockets::DEFAULT_TIMEOUT).map_err(ws_err)
    }

    /// Sends a text message (one frame).
    #[rhai_fn(name = "send", return_raw)]
    pub fn ws_send(ws: &mut WebSocket, text: &str) -> ApiResult<()> {
        ws.send_text(text).map_err(ws_err)
    }

    /// Sends a binary message.
    #[rhai_fn(name = "send", return_raw)]
    pub fn ws_send_blob(ws: &mut WebSocket, data: Blob) -> ApiResult<()> {
        ws.send_binary(&data).map_err(ws_err)
    }

    /// Receives the next message as text; "" when the peer's close frame came instead
    /// (then `.closed` is true and the close reply has been sent).
    #[rhai_fn(name = "recv", return_raw)]
    pub fn ws_recv(ws: &mut WebSocket) -> ApiResult<String> {
        Ok(ws
            .recv()
            .map_err(ws_err)?
            .map(|(t, _)| t)
            .unwrap_or_default())
    }

    /// Sends a ping carrying `text` and waits for the pong; returns the round trip in ms.
    #[rhai_fn(name = "ping", return_raw)]
    pub fn ws_ping(ws: &mut WebSocket, text: &str) -> ApiResult<FLOAT> {
        Ok(ws.ping(text.as_bytes()).map_err(ws_err)?.as_secs_f64() * 1000.0)
    }

    /// Closes with 1000 (normal closure): sends the close frame (or answers the peer's)
    /// and waits until the TCP connection is closed.
    #[rhai_fn(name = "close", return_raw)]
    pub fn ws_close(ws: &mut WebSocket) -> ApiResult<()> {
        ws.close(1000, "").map_err(ws_err)
    }

    /// Closes with `code` and `reason`.
    #[rhai_fn(name = "close", return_raw)]
    pub fn ws_close_with(ws: &mut WebSocket, code: INT, reason: &str) -> ApiResult<()> {
        let code = u16::try_from(code)
            .map_err(|_| api_error("close", format!("a close code is 1000..=4999, got {code}")))?;
        ws.close(code, reason).map_err(ws_err)
    }

    /// True once the peer's close frame arrived.
    #[rhai_fn(get = "closed", pure)]
    pub fn ws_closed(ws: &mut WebSocket) -> bool {
        ws.peer_close().is_some()
    }

    /// The code of the peer's close frame, or ().
    #[rhai_fn(get = "close_code", pure)]
    pub fn ws_close_code(ws: &mut WebSocket) -> Dynamic {
        ws.peer_close()
            .and_then(|(c, _)| c)
            .map_or(Dynamic::UNIT, |c| Dynamic::from_int(INT::from(c)))
    }

    /// The reason of the peer's close frame, or "".
    #[rhai_fn(get = "close_reason", pure)]
    pub fn ws_close_reason(ws: &mut WebSocket) -> String {
        ws.peer_close().map(|(_, r)| r).unwrap_or_default()
    }

    /// This end's view, in order: `#{ kind: "send" | "recv" | "ping" | "ping sent" |
    /// "pong" | "close" | "closed" | "end" | "error", message, text, len, code, time }`.
    #[rhai_fn(get = "log", pure)]
    pub fn ws_log(ws: &mut WebSocket) -> Array {
        ws.log().iter().map(event_map).collect()
    }

    /// This end's address, "ip:port".
    #[rhai_fn(get = "local_addr", pure)]
    pub fn ws_local(ws: &mut WebSocket) -> String {
        ws.local_addr().to_string()
    }

    /// The other end's address, "ip:port".
    #[rhai_fn(get = "peer_addr", pure)]
    pub fn ws_peer(ws: &mut WebSocket) -> String {
        ws.peer_addr().to_string()
    }

    /// The deadline of each blocking call, in ms.
    #[rhai_fn(get = "timeout", pure)]
    pub fn ws_timeout(ws: &mut WebSocket) -> INT {
        ws.timeout().as_millis() as INT
    }

    /// Changes the deadline of each blocking call, in ms. The run's time limit
    /// (`--time-limit`) caps it: a wait never outlasts the run, and Ctrl-C ends it at once.
    #[rhai_fn(set = "timeout", return_raw)]
    pub fn ws_set_timeout(ws: &mut WebSocket, timeout_ms: INT) -> ApiResult<()> {
        ws.set_timeout(ms("timeout", timeout_ms)?);
        Ok(())
    }

    /// Sends `POST url` with `body` on a new connection (`Connection: close`) and returns
    /// `#{ status, body, request_len, response_len }`.
    #[rhai_fn(return_raw)]
    pub fn http_post(host: &mut Host, url: &str, body: &str) -> ApiResult<Map> {
        websocket::http_request(
            host,
            "POST",
            url,
            body.as_bytes(),
            crate::sockets::DEFAULT_TIMEOUT,
        )
        .map(|r| reply_map(&r))
        .map_err(ws_err)
    }

    /// Sends `GET url` on a new connection and returns `#{ status, body, ... }`.
    #[rhai_fn(return_raw)]
    pub fn http_get(host: &mut Host, url: &str) -> ApiResult<Map> {
        websocket::http_request(host, "GET", url, b"", crate::sockets::DEFAULT_TIMEOUT)
            .map(|r| reply_map(&r))
            .map_err(ws_err)
    }

    /// The browser given with `--browser` (e.g. "chromium"), or "" for labrun's own client.
    #[rhai_fn(name = "browser", return_raw)]
    pub fn browser_choice(ctx: NativeCallContext) -> ApiResult<String> {
        Ok(session(&ctx)?.browser())
    }

    /// Starts the browser the user named with `--browser`, headless, inside this host's
    /// namespace (it reaches only the lab), opening `url`; killed by `close()`, at the end
    /// of the run, or with labrun however labrun ends. Limits: only when labrun was given
    /// `--browser` (without it this is an error: use `browser() != ""` to choose labrun's
    /// own client); `url` must be `http://` or `ws://` with a literal address of a lab host
    /// (or loopback), like `srv.url`, checked like `connect` before the browser starts; a
    /// script passes no options, environment or files: the browser gets fixed options and
    /// a private temporary directory that is removed afterwards; at most 2 run at once.
    #[rhai_fn(name = "browser", return_raw)]
    pub fn open_browser(host: &mut Host, url: &str) -> ApiResult<Browser> {
        let session = &host.session;
        let name = session.browser();
        if name.is_empty() {
            return Err(api_error(
                "browser",
                "no browser was given: labrun starts one only when run with --browser chromium",
            ));
        }
        websocket::check_url(host, url).map_err(ws_err)?;
        let running = session.browsers_running();
        if running >= websocket::MAX_BROWSERS {
            return Err(api_error(
                "browser",
                format!(
                    "{running} browsers already run: close() one first (at most {} at once)",
                    websocket::MAX_BROWSERS
                ),
            ));
        }
        let program = websocket::find_browser(&name).map_err(ws_err)?;
        let b = Browser::launch(host, &program, url).map_err(ws_err)?;
        session.add_browser(b.clone());
        Ok(b)
    }

    /// The browser's process id.
    #[rhai_fn(get = "pid", pure)]
    pub fn browser_pid(b: &mut Browser) -> INT {
        INT::from(b.pid())
    }

    /// True while the browser runs.
    #[rhai_fn(get = "running", pure)]
    pub fn browser_running(b: &mut Browser) -> bool {
        b.running()
    }

    /// What the browser printed so far.
    #[rhai_fn(get = "output", pure)]
    pub fn browser_output(b: &mut Browser) -> String {
        b.output()
    }

    /// Kills the browser and removes its private directory (profile, caches, temporary files).
    #[rhai_fn(name = "close")]
    pub fn browser_close(b: &mut Browser) {
        b.close();
    }

    /// HTTP and WebSocket of every TCP stream that carried HTTP: `[#{ stream, client,
    /// server, http: [..], upgraded, handshake, frames: [..], first_close, notes }]`.
    #[rhai_fn(get = "app_streams", pure)]
    pub fn app_streams(t: &mut TraceRef) -> Array {
        decode_trace(&t.trace).iter().map(app_map).collect()
    }

    /// HTTP and WebSocket of the stream of WebSocket `ws` (either end): the upgrade
    /// (`handshake`: key, accept, expected_accept, accept_ok, request, response) and every
    /// frame (`frames`: dir, frame, fin, rsv, opcode, opcode_name, masked, mask_key,
    /// length_form, payload_len, header_len, len, wire_len, text, close_code).
    #[rhai_fn(name = "app_stream", return_raw)]
    pub fn app_stream(t: &mut TraceRef, ws: WebSocket) -> ApiResult<Dynamic> {
        let (a, b) = (ws.local_addr(), ws.peer_addr());
        t.trace
            .streams
            .iter()
            .rev()
            .find(|s| (s.client == a && s.server == b) || (s.client == b && s.server == a))
            .map(|s| app_map(&decode_stream(&t.trace, s)))
            .ok_or_else(|| {
                api_error(
                    "app_stream",
                    format!("no packet of {a} <-> {b} was captured"),
                )
            })
    }

    /// HTTP and WebSocket of `tcp.stream == n`.
    #[rhai_fn(name = "app_stream", return_raw)]
    pub fn app_stream_n(t: &mut TraceRef, n: INT) -> ApiResult<Dynamic> {
        t.trace
            .streams
            .iter()
            .find(|s| INT::from(s.index) == n)
            .map(|s| app_map(&decode_stream(&t.trace, s)))
            .ok_or_else(|| {
                api_error(
                    "app_stream",
                    format!("the capture has no tcp.stream == {n}"),
                )
            })
    }
}
