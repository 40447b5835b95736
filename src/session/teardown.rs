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
