//! The report a lab run produces: its model, and writers for Markdown, CSV and pcapng.
//!
//! The runner fills a [`Report`] while the script runs; [`output::write_report`] turns it
//! into a directory (report.md, packets.csv, capture.pcapng) atomically, never overwriting.

mod annotate;
mod csv_out;
mod header_text;
mod html;
mod markdown;
pub mod normalize;
mod output;
mod scaling_text;
mod states_text;
mod story_text;
mod svg;
mod websocket_csv;

pub use annotate::packet_comments;
pub use csv_out::write_packets_csv;
pub use header_text::{header_columns, header_rows};
pub use html::render_html;
pub use markdown::{packet_table, packet_table_with_states, render_markdown, table};
pub use normalize::Normaliser;
pub use output::{
    OutputError, StagedDir, Written, check_out_dir, default_report_dir, holds_report, reserve_dir,
    write_report, write_report_with,
};
pub use story_text::Describe;
pub use svg::{flow_graph, is_transfer, seq_plot, stream_packets};
pub use websocket_csv::{write_websocket_csv, write_websocket_csv_mapped};

use crate::analysis::Trace;
use crate::capture::Captured;

/// Who submits the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// Student number, e.g. `20215120807`.
    pub id: String,
    /// Name, e.g. `Li Yihang`.
    pub name: String,
}

impl Student {
    /// Parses `"ID NAME..."`: the first word is the ID, the rest the name.
    pub fn parse(text: &str) -> Option<Student> {
        let text = text.trim();
        let (id, name) = text.split_once(char::is_whitespace)?;
        let name = name.trim();
        (!id.is_empty() && !name.is_empty()).then(|| Student {
            id: id.to_string(),
            name: name.to_string(),
        })
    }
}

/// The cover's fields besides the course, the student and the date (`labrun.toml` or
/// flags); a field not given is a blank line on the cover, to fill in by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    /// School or college (`--school`).
    pub school: Option<String>,
    /// Class (`--class`).
    pub class: Option<String>,
    /// Instructor (`--instructor`).
    pub instructor: Option<String>,
    /// Where the lab was done (`--place`).
    pub place: Option<String>,
}

/// One thing the report shows, in the order the script produced it.
#[derive(Debug, Clone)]
pub enum Block {
    /// A step the lab performed (`step("...")`).
    Step(String),
    /// A titled section of Markdown text.
    Section {
        /// Heading.
        title: String,
        /// Markdown body.
        body: String,
    },
    /// A paragraph of Markdown text.
    Note(String),
    /// A table with a header row.
    Table {
        /// Column names.
        headers: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
    },
    /// A Wireshark-like packet list (`packet_table(...)`): each packet as its trace and
    /// index, drawn when the report is written, so `--deterministic` can draw the
    /// normalised packets instead.
    Packets(Vec<(std::sync::Arc<Trace>, usize)>),
}

/// The outcome of one `expect(...)`.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked, in the lab manual's words.
    pub what: String,
    /// Whether it held.
    pub passed: bool,
    /// On failure: what was expected and what was seen.
    pub detail: Option<String>,
    /// The Wireshark display filter that shows the evidence.
    pub filter: Option<String>,
    /// `file:line` of the `expect` call.
    pub at: String,
    /// Points the check is worth (1 unless the lab says otherwise).
    pub points: u32,
}

/// A capture the lab made, with its analysis.
#[derive(Debug, Clone)]
pub struct CaptureRecord {
    /// File stem: `capture` for the first capture, `capture-NAME` for others.
    pub name: String,
    /// The frames and counters.
    pub captured: Captured,
    /// The decoded packets and streams (shared with the script's trace values, not copied).
    pub trace: std::sync::Arc<Trace>,
    /// The figures, drawn once on first use (the file list, report.md and report.html
    /// all need them).
    pub figures: std::sync::OnceLock<Vec<Figure>>,
    /// The language of the figures' captions and labels (the report's).
    pub lang: crate::i18n::Lang,
    /// What the relayed link did to frames of this capture, by frame number (added to
    /// their comments); empty without `net.link`.
    pub link_comments: std::collections::HashMap<u64, String>,
    /// The kernel's congestion state sampled on connections of this capture
    /// (`sample_tcp_info`), drawn over their sequence plots.
    pub kernel: Vec<KernelSeries>,
}

/// One connection's sampled TCP_INFO, placed on its capture's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelSeries {
    /// The connection's `tcp.stream` in the capture.
    pub stream: u32,
    /// The samples, oldest first (none in a deterministic report, whose figure says why).
    pub points: Vec<KernelPoint>,
}

/// One TCP_INFO sample: when, and the congestion window and slow-start threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelPoint {
    /// ns since the Unix epoch (the capture's clock).
    pub unix_ns: i128,
    /// Congestion window, in segments.
    pub cwnd: u32,
    /// Slow-start threshold, in segments (`u32::MAX >> 1` while unset, as Linux shows it).
    pub ssthresh: u32,
    /// The MSS the socket sends with.
    pub mss: u32,
}

/// A picture of the report: drawn as SVG, written beside report.md and inlined in report.html.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File name, e.g. `flow-capture-0.svg`.
    pub file: String,
    /// Caption, e.g. `Flow graph of tcp.stream 0`.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// Streams drawn per capture at most (a scan makes thousands; the report shows the first).
const MAX_FLOW_GRAPHS: usize = 6;

/// Packets a flow graph draws at most: a bulk transfer's hundreds of arrows say less than
/// its sequence plot, so a longer stream gets only the plot.
const MAX_FLOW_ROWS: usize = 80;

impl CaptureRecord {
    /// The flow graph of each TCP stream (the first few), and a sequence plot for each
    /// stream that transfers data.
    pub fn figures(&self) -> &[Figure] {
        self.figures.get_or_init(|| self.draw_figures())
    }

    fn draw_figures(&self) -> Vec<Figure> {
        let mut out = Vec::new();
        for stream in self.trace.streams.iter().take(MAX_FLOW_GRAPHS) {
            let packets = svg::stream_packets(&self.trace.packets, stream);
            if packets.is_empty() {
                continue;
            }
            if packets.len() <= MAX_FLOW_ROWS {
                out.push(Figure {
                    file: format!("flow-{}-{}.svg", self.name, stream.index),
                    caption: format!(
                        "{} {} ({})",
                        self.lang
                            .pick("Flow graph of tcp.stream", "流图：tcp.stream"),
                        stream.index,
                        self.pcap_file()
                    ),
                    svg: svg::flow_graph(&packets, stream, self.lang),
                });
            }
            if svg::is_transfer(&packets) {
                let sampled = self.kernel.iter().find(|k| k.stream == stream.index);
                let first = self.captured.frames.first().map_or(0, |f| {
                    i128::from(f.ts_sec) * 1_000_000_000 + i128::from(f.ts_nsec)
                });
                let (what, svg) = match sampled {
                    Some(k) => (
                        self.lang.pick(
                            "Congestion window (TCP_INFO) over the sequence numbers, tcp.stream",
                            "拥塞窗口（TCP_INFO）与序号随时间变化：tcp.stream",
                        ),
                        svg::cwnd_plot(&packets, stream, k, first, self.lang),
                    ),
                    None => (
                        self.lang.pick(
                            "Sequence numbers over time, tcp.stream",
                            "序号随时间变化：tcp.stream",
                        ),
                        svg::seq_plot(&packets, stream, self.lang),
                    ),
                };
                out.push(Figure {
                    file: format!("seq-{}-{}.svg", self.name, stream.index),
                    caption: format!("{what} {} ({})", stream.index, self.pcap_file()),
                    svg,
                });
            }
        }
        out
    }

    /// SHA-256 of the capture file, in hex: a copied capture has the same digest. The
    /// file's bytes are streamed into the hash, not built in memory first.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        // Writing into a hasher cannot fail.
        let _ = self.write_capture(&mut hasher);
        data_encoding::HEXLOWER.encode(&hasher.finalize())
    }

    /// Writes the capture as pcapng, each packet the report explains carrying that
    /// explanation as its comment (in the report's language).
    pub fn write_capture<W: std::io::Write>(&self, out: W) -> std::io::Result<()> {
        let mut comments = annotate::packet_comments(&self.trace, self.lang);
        for (frame, note) in &self.link_comments {
            let sep = self.lang.pick("; ", "；");
            comments
                .entry(*frame)
                .and_modify(|c| {
                    c.push_str(sep);
                    c.push_str(note);
                })
                .or_insert_with(|| note.clone());
        }
        crate::pcapfile::write_pcapng(
            out,
            self.captured.dlt,
            self.captured.snaplen,
            &self.captured.frames,
            // Frame numbers count the file's frames from 1.
            |i| comments.get(&(i as u64 + 1)).map(String::as_str),
        )
    }

    /// The capture file name, e.g. `capture.pcapng`.
    pub fn pcap_file(&self) -> String {
        format!("{}.pcapng", self.name)
    }

    /// The CSV file name: `packets.csv` for the main capture, `packets-NAME.csv` otherwise.
    pub fn csv_file(&self) -> String {
        match self.name.strip_prefix("capture-") {
            Some(rest) => format!("packets-{rest}.csv"),
            None => "packets.csv".to_string(),
        }
    }

    /// The WebSocket frames' CSV: `websocket.csv` for the main capture,
    /// `websocket-NAME.csv` otherwise; None when the capture holds no WebSocket frame.
    pub fn websocket_csv_file(&self) -> Option<String> {
        let any = crate::analysis::websocket::decode_trace(&self.trace)
            .iter()
            .any(|a| !a.frames.is_empty());
        any.then(|| match self.name.strip_prefix("capture-") {
            Some(rest) => format!("websocket-{rest}.csv"),
            None => "websocket.csv".to_string(),
        })
    }
}

/// Facts about the run printed in the report header.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// Lab name (the script's file stem).
    pub lab: String,
    /// The lab's title (its first comment line).
    pub title: String,
    /// The script's path as given.
    pub script: String,
    /// The student, when given.
    pub student: Option<Student>,
    /// Local start time, `YYYY-mm-dd HH:MM:SS`.
    pub date: String,
    /// labrun's version.
    pub labrun_version: String,
    /// Where the lab ran, e.g. `loopback (lo)`.
    pub network: String,
    /// Host names and their addresses, e.g. `client 127.0.0.1`.
    pub hosts: Vec<String>,
    /// The course, when given (`--course` or labrun.toml).
    pub course: Option<String>,
    /// The cover's school, class, instructor and place, when given.
    pub cover: Cover,
    /// First 12 hex digits of the SHA-256 of the lab script: which version of the lab ran.
    pub lab_version: String,
    /// The kernel this ran on, e.g. `Linux 6.1.0`.
    pub kernel: String,
    /// The operating system, e.g. `Debian GNU/Linux 12 (bookworm)` (os-release).
    pub os: String,
    /// The machine: its architecture, CPU model and count, memory, e.g. `x86_64, 2 CPUs
    /// (Intel Xeon ...), 3.8 GiB RAM`.
    pub hardware: String,
    /// The libpcap that captured, as it names itself.
    pub libpcap: String,
    /// The version of Rhai, the labs' scripting language.
    pub rhai: String,
    /// A value new for every run that labs put into their payloads (`nonce()`), so a
    /// capture copied from another run is visible.
    pub nonce: String,
    /// The language of the report's fixed sentences.
    pub lang: crate::i18n::Lang,
    /// `--deterministic`: values that change from run to run (times, ISNs, ports, TCP
    /// timestamps, IP IDs, nonces, digests) are normalised so the report is byte-identical
    /// between runs (see [`normalize`]).
    pub deterministic: bool,
}

/// What a lab declares about itself for the report's 实验目的, 实验原理 and 思考题
/// sections (`purpose(...)`, `principle(...)`, `question(...)`), each a list of Markdown
/// paragraphs in the report's language, in script order.
#[derive(Debug, Clone, Default)]
pub struct LabText {
    /// What the lab is meant to show.
    pub purpose: Vec<String>,
    /// The theory it rests on: facts that hold on every run, with their RFCs.
    pub principles: Vec<String>,
    /// Questions for the student to answer in their own words.
    pub questions: Vec<String>,
}

/// Everything a run produced, ready to be written.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Header facts.
    pub header: Header,
    /// The lab's purpose, principles and questions.
    pub lab_text: LabText,
    /// Steps, sections, notes and tables in script order.
    pub blocks: Vec<Block>,
    /// The checks in order.
    pub checks: Vec<Check>,
    /// The captures in the order they were started.
    pub captures: Vec<CaptureRecord>,
    /// Warnings the reader must see (dropped packets, a capture the script never stopped, ...).
    pub warnings: Vec<String>,
    /// The script error that ended the run early, if any.
    pub error: Option<String>,
}

impl Report {
    /// Every figure of every capture, in report order.
    pub fn figures(&self) -> Vec<&Figure> {
        self.captures
            .iter()
            .flat_map(CaptureRecord::figures)
            .collect()
    }

    /// Points earned and points possible.
    pub fn score(&self) -> (u32, u32) {
        let total = self.checks.iter().map(|c| c.points).sum();
        let earned = self
            .checks
            .iter()
            .filter(|c| c.passed)
            .map(|c| c.points)
            .sum();
        (earned, total)
    }

    /// Number of checks that failed.
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed).count()
    }

    /// Number of steps recorded.
    pub fn steps(&self) -> usize {
        self.blocks
            .iter()
            .filter(|b| matches!(b, Block::Step(_)))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_splits_id_from_name() {
        let s = Student::parse("20215120807 Li Yihang").unwrap();
        assert_eq!(s.id, "20215120807");
        assert_eq!(s.name, "Li Yihang");
        assert!(Student::parse("nospace").is_none());
        assert!(Student::parse("   ").is_none());
    }
}
