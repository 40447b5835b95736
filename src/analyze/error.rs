//! The offline analysis layer's error: every message fits on one line.

use std::path::PathBuf;

use crate::report::OutputError;

/// Why a capture file could not be analyzed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
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
    /// The `--filter` expression does not compile.
    #[error("bad --filter `{filter}`: {message}")]
    Filter {
        /// The expression.
        filter: String,
        /// libpcap's message.
        message: String,
    },
    /// libpcap stopped in the middle of the file.
    #[error("{path} is damaged after frame {frames}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Frames read before the damage.
        frames: u64,
        /// libpcap's message.
        message: String,
    },
    /// A `--fields` name that labrun does not produce.
    #[error("unknown field `{0}` (see `labrun analyze --list-fields`)")]
    UnknownField(String),
    /// `--stream N` names a stream the capture does not have.
    #[error("the capture has no TCP stream {stream} (it has {count})")]
    NoSuchStream {
        /// The stream asked for.
        stream: u32,
        /// How many streams there are.
        count: usize,
    },
    /// Writing the report failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Writing to standard output failed.
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
}
