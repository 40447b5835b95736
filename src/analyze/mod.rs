//! `labrun analyze`: any capture file (pcap or pcapng, read by libpcap) through the
//! same analysis as a lab's live capture, streamed frame by frame so memory depends on
//! the open connections, not on the file size.
//!
//! - [`crate::pcapfile`] (not here): opening and reading the file;
//! - [`fields`]: `--fields`, tshark's `-T fields` CSV on stdout;
//! - `batches`: `--fields` on two threads, analysis on one and formatting on the other;
//! - [`out`]: the output buffer that formats `--fields` rows in place;
//! - [`summary`]: conversations, UDP flows, ICMP errors and fragments for the report;
//! - [`report`]: report.md, packets.csv and the Follow TCP Stream files.

mod batches;
mod error;
pub mod fields;
pub mod out;
pub mod report;
pub mod summary;

pub use crate::pcapfile::CaptureFile;
pub use error::AnalyzeError;
pub use fields::{FieldWriter, write_fields};
pub use out::OutBuf;
pub use report::{Analyzed, ReportOptions, write_analysis_report};
pub use summary::Summary;
