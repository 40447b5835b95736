//! The end of a run: stopping what the script left running, with the run clock's help, and
//! taking the finished report out of the session.

use super::{PendingCapture, Session};
use crate::clock::RunClock;
use crate::i18n::Lang;
use crate::report::Report;
use std::time::{Duration, Instant};

/// How long teardown lets servers finish what they are doing before it ends their waits.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// How long teardown waits for servers in all; any still running then are left behind
/// with a warning.
const STOP_BOUND: Duration = Duration::from_secs(3);
/// The most rows of the report's table of the link's events.
const MAX_LINK_ROWS: usize = 500;

impl Session {
    /// Stops the browsers, the user's programs (each shown in the report), servers and captures the script left running and takes the
    /// report out of the session, its header completed with the networks and hosts.
    ///
    /// Every server is told to stop first, then all are waited for together (3 s at most;
    /// after 1 s `clock` is ended so handlers still waiting stop at their next slice): a run that left 500 servers ends in a fraction of a
    /// second, not one poll interval per server.
    pub fn teardown(&self, clock: &RunClock) -> Report {
        let lang = self.lang();
        self.close_browsers();
        #[cfg(target_os = "linux")]
        self.stop_programs(lang);
        let warnings = self.stop_servers(clock, lang);
        self.lock().report.warnings.extend(warnings);
        self.stop_captures(lang);
        self.show_links(lang);
        self.complete_header(lang);
        let mut st = self.lock();
        st.networks.clear();
        st.network = None;
        std::mem::take(&mut st.report)
    }

    fn close_browsers(&self) {
        let browsers: Vec<_> = std::mem::take(&mut self.lock().browsers);
        for b in browsers {
            b.close();
        }
    }

    /// Stops every server in parallel and returns a warning per error they report.
    fn stop_servers(&self, clock: &RunClock, lang: Lang) -> Vec<String> {
        let ws_servers: Vec<_> = std::mem::take(&mut self.lock().ws_servers);
        let servers: Vec<_> = std::mem::take(&mut self.lock().servers);
        for s in &ws_servers {
            s.signal_stop();
        }
        for s in &servers {
            s.signal_stop();
        }
        let all_stopped =
            || ws_servers.iter().all(|s| s.is_stopped()) && servers.iter().all(|s| s.is_stopped());
        let t0 = Instant::now();
        while !all_stopped() && t0.elapsed() < STOP_BOUND {
            if t0.elapsed() >= STOP_GRACE {
                // Handlers still waiting (a recv, a sleep) end at their next slice.
                clock.end();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut warnings = Vec::new();
        for s in &ws_servers {
            let at = s.addr();
            for e in s.collect() {
                warnings.push(match lang {
                    Lang::En => format!("WebSocket server on {at}: {e}"),
                    Lang::Zh => format!("{at} 上的 WebSocket 服务器：{e}"),
                });
            }
        }
        for s in &servers {
            let at = s.addr();
            for e in s.collect() {
                warnings.push(match lang {
                    Lang::En => format!("server on {at}: {e}"),
                    Lang::Zh => format!("{at} 上的服务器：{e}"),
                });
            }
        }
        warnings
    }

    /// Stops the captures the script did not stop, recording each in the report with a
    /// warning after its own (a loss, say).
    fn stop_captures(&self, lang: Lang) {
        let pending: Vec<PendingCapture> = self.lock().captures.clone();
        for p in pending {
            let live = p.live.lock().unwrap_or_else(|e| e.into_inner()).take();
            let Some(live) = live else { continue };
            let warning = match self.finish_capture(&p.name, live) {
                Ok(_) => match lang {
                    Lang::En => format!(
                        "the script never stopped capture `{}`; labrun stopped it at the end",
                        p.name
                    ),
                    Lang::Zh => format!("脚本没有停止抓包 `{}`，labrun 在结束时停止了它", p.name),
                },
                // The text the script's own `stop` would have raised.
                Err(e) => format!("Runtime error: stop: {e}"),
            };
            self.lock().report.warnings.push(warning);
        }
    }

    /// Puts what the relayed link did beside the captured frames: each frame's comment, and a
    /// section listing the link's drops, holds and copies with the frames they affected
    /// (delays as one line per direction and length). Nothing without `net.link`.
    fn show_links(&self, lang: Lang) {
        use super::link_text::{link_matches, link_note};
        use crate::network::link::LinkAction;
        use crate::report::Block;
        let mut st = self.lock();
        let links = std::mem::take(&mut st.links);
        if links.is_empty() {
            return;
        }
        // A deterministic report masks the times, as it does every measured duration.
        let deterministic = st.report.header.deterministic;
        let mut rows = Vec::new();
        let mut delays: std::collections::BTreeMap<(&'static str, u32), usize> = Default::default();
        let mut unrecorded = 0;
        for log in &links {
            let events = log.events();
            unrecorded += log.unrecorded();
            let mut frames: Vec<Vec<String>> = vec![Vec::new(); events.len()];
            for cap in &mut st.report.captures {
                for m in link_matches(&cap.trace, &events, log.zero()) {
                    let note = link_note(&events[m.event], m.copy, lang);
                    let sep = lang.pick("; ", "；");
                    cap.link_comments
                        .entry(m.frame)
                        .and_modify(|c| {
                            c.push_str(sep);
                            c.push_str(&note);
                        })
                        .or_insert(note);
                    frames[m.event].push(format!("{} #{}", cap.pcap_file(), m.frame));
                }
            }
            for (e, found) in events.iter().zip(frames) {
                if let LinkAction::Delayed(ms) = e.action {
                    *delays.entry((e.to.name(), ms)).or_default() += 1;
                    continue;
                }
                if rows.len() >= MAX_LINK_ROWS {
                    continue;
                }
                let segment = e.segment.map_or_else(
                    || format!("{} ({} bytes)", e.kind, e.frame_len),
                    |s| {
                        format!(
                            "{} → {} seq={} ack={} [{}] len={}",
                            s.src_port,
                            s.dst_port,
                            s.seq,
                            s.ack,
                            s.flags.names(),
                            s.len
                        )
                    },
                );
                let action = match (&e.action, lang) {
                    (LinkAction::Dropped(rule), Lang::En) => format!("dropped ({rule})"),
                    (LinkAction::Dropped(rule), Lang::Zh) => format!("丢弃（{rule}）"),
                    (LinkAction::Reordered { after }, Lang::En) => {
                        format!("held until {after} later frame(s) passed")
                    }
                    (LinkAction::Reordered { after }, Lang::Zh) => {
                        format!("扣住，直到其后 {after} 帧先通过")
                    }
                    (LinkAction::Duplicated, Lang::En) => "sent twice".into(),
                    (LinkAction::Duplicated, Lang::Zh) => "发送两次".into(),
                    (LinkAction::QueueFull, Lang::En) => "dropped (queue full)".into(),
                    (LinkAction::QueueFull, Lang::Zh) => "丢弃（队列已满）".into(),
                    (LinkAction::HoldExpired, Lang::En) => {
                        "sent after 1 s without the frames meant to overtake it".into()
                    }
                    (LinkAction::HoldExpired, Lang::Zh) => {
                        "扣住 1 秒后发出（没有等到应先通过的帧）".into()
                    }
                    (LinkAction::Delayed(_), _) => String::new(),
                };
                let to = match (e.to.name(), lang) {
                    ("server", Lang::Zh) => "服务器".to_string(),
                    ("client", Lang::Zh) => "客户端".to_string(),
                    (name, _) => name.to_string(),
                };
                let t = if deterministic {
                    "#.######".to_string()
                } else {
                    format!("{:.6}", e.t.as_secs_f64())
                };
                rows.push(format!(
                    "| {t} | {to} | {action} | {segment} | {} |",
                    if found.is_empty() {
                        lang.pick("not captured", "未捕获").to_string()
                    } else {
                        found.join(", ")
                    }
                ));
            }
        }
        let mut body = String::new();
        if !rows.is_empty() {
            body.push_str(lang.pick(
                "| time (s) | toward | what the link did | segment (relative seq and ack) | frames |\n|---|---|---|---|---|\n",
                "| 时间 (s) | 方向 | 链路的动作 | 报文段（相对序号与确认号） | 帧 |\n|---|---|---|---|---|\n",
            ));
            body.push_str(&rows.join("\n"));
            body.push('\n');
        }
        for ((to, ms), n) in &delays {
            body.push_str(&match lang {
                Lang::En => {
                    format!("\nThe link delayed {n} frame(s) toward the {to} by {ms} ms.\n")
                }
                Lang::Zh => format!(
                    "\n链路把去往{}的 {n} 帧各延迟了 {ms} ms。\n",
                    if *to == "server" {
                        "服务器"
                    } else {
                        "客户端"
                    }
                ),
            });
        }
        if unrecorded > 0 {
            body.push_str(&match lang {
                Lang::En => format!("\n{unrecorded} later event(s) were counted but not kept.\n"),
                Lang::Zh => format!("\n另有 {unrecorded} 个事件只计数、未记录。\n"),
            });
        }
        if body.is_empty() {
            body.push_str(lang.pick(
                "The link's rules acted on no frame.\n",
                "链路规则没有作用于任何帧。\n",
            ));
        }
        st.report.blocks.push(Block::Section {
            title: lang.pick("The lab link", "实验链路").to_string(),
            body,
        });
    }

    /// Fills the report header's network and hosts from the networks the run made.
    fn complete_header(&self, lang: Lang) {
        let mut st = self.lock();
        st.report.header.network = st
            .networks
            .iter()
            .map(|n| n.describe(lang))
            .collect::<Vec<_>>()
            .join(lang.pick("; ", "；"));
        st.report.header.hosts = st
            .networks
            .iter()
            .flat_map(|n| n.hosts.iter())
            .map(|h| {
                // The host's name is the script's (English) label: Chinese reports say what it is.
                let name = match (lang, h.name()) {
                    (Lang::Zh, "client") => "client（客户端）".to_string(),
                    (Lang::Zh, "server") => "server（服务器）".to_string(),
                    (Lang::Zh, "attacker") => "attacker（攻击者）".to_string(),
                    (_, name) => name.to_string(),
                };
                let mut line = format!("{name} {} ({}", h.ip(), h.iface());
                if let Some(mac) = h.mac() {
                    line.push_str(&format!(", {mac}"));
                }
                line.push(')');
                line
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        st.report.header.hosts.retain(|h| seen.insert(h.clone()));
    }
}
