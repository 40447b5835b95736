//! Capture files in one place: reading any pcap or pcapng file in pure Rust (pcap-parser,
//! no libpcap) and writing the pcapng files of a lab's report.
//!
//! - [`reader`]: opening a file without blocking, its link type, the frames one by one
//!   with their link type and comments;
//! - `blocks`: pcap records and pcapng blocks parsed out of large blocks of the file;
//! - `filter`: the offline BPF filter (libpcap, feature `live-capture`);
//! - `writer`: classic pcap files with nanosecond timestamps, and the pcapng files of a
//!   report, whose packets carry the report's explanation as comments.

mod blocks;
mod filter;
pub mod reader;
mod writer;

pub use reader::{CaptureFile, FIFO_WAIT, Frame, not_regular};
pub use writer::{PCAP_NSEC_MAGIC, write_pcap, write_pcapng};

use std::path::PathBuf;

/// Why a capture file could not be opened or read; every message fits on one line.
#[derive(Debug, thiserror::Error)]
pub enum PcapFileError {
    /// The file is missing, unreadable, empty or not a capture.
    #[error("cannot read {path}: {message}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What is wrong, in plain words.
        message: String,
    },
    /// The capture's link type is not one labrun decodes.
    #[error(
        "{path}: link type {dlt} ({name}) is not supported; labrun reads Ethernet, Linux cooked v1/v2 (-i any), BSD loopback/NULL and raw IP captures"
    )]
    LinkType {
        /// The file.
        path: PathBuf,
        /// Its DLT number.
        dlt: i32,
        /// libpcap's name for it.
        name: String,
    },
    /// The BPF filter expression does not compile.
    #[error("bad --filter `{filter}`: {message}")]
    Filter {
        /// The expression.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// The file is damaged part way (cut short, a malformed record or block).
    #[error("{path} is damaged after frame {frames}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Frames read before the damage.
        frames: u64,
        /// What is wrong, in plain words.
        message: String,
    },
}
