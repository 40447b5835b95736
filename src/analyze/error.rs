//! The offline analysis layer's error: every message fits on one line.

use crate::pcapfile::PcapFileError;
use crate::report::OutputError;

/// Why a capture file could not be analyzed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The capture file cannot be opened, or is damaged part-way.
    #[error(transparent)]
    File(#[from] PcapFileError),
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
