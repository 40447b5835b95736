//! `--fields`: one CSV row per frame, formatted as
//! `tshark -T fields -E separator=, -E header=y -E quote=d` prints it.

use std::io::Write;

use super::{AnalyzeError, CaptureFile};
use crate::analysis::{Analyzer, Packet, SUPPORTED_FIELDS};

/// Writes rows of chosen fields, checking the names once.
pub struct FieldWriter<'a> {
    fields: &'a [String],
}

impl<'a> FieldWriter<'a> {
    /// Checks every name against [`SUPPORTED_FIELDS`] (tshark 4.0's column
    /// spellings `_ws.col.Info`/`_ws.col.Protocol` are accepted too).
    pub fn new(fields: &'a [String]) -> Result<FieldWriter<'a>, AnalyzeError> {
        for f in fields {
            let known = SUPPORTED_FIELDS.contains(&f.as_str())
                || matches!(f.as_str(), "_ws.col.Info" | "_ws.col.Protocol");
            if !known {
                return Err(AnalyzeError::UnknownField(f.clone()));
            }
        }
        Ok(FieldWriter { fields })
    }

    /// The header row: the names as given, separated by commas.
    pub fn header(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(self.fields.join(",").as_bytes())?;
        out.write_all(b"\n")
    }

    /// One row: each value in double quotes, nothing at all when absent.
    pub fn row(&self, p: &Packet, out: &mut impl Write) -> std::io::Result<()> {
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            if let Some(v) = p.field(f) {
                out.write_all(b"\"")?;
                out.write_all(v.as_bytes())?;
                out.write_all(b"\"")?;
            }
        }
        out.write_all(b"\n")
    }
}

/// Streams `file` through the analyzer and writes the chosen fields of every
/// frame (of TCP stream `stream` only, when given). Returns the rows written.
pub fn write_fields(
    file: &mut CaptureFile,
    fields: &[String],
    stream: Option<u32>,
    out: &mut impl Write,
) -> Result<u64, AnalyzeError> {
    let writer = FieldWriter::new(fields)?;
    writer.header(out)?;
    let mut analyzer = Analyzer::new(file.link);
    analyzer.keep_payload(false);
    let mut rows = 0u64;
    file.for_each(|sec, nsec, len, data| -> Result<(), AnalyzeError> {
        let p = analyzer.push_bytes(sec, nsec, len, data);
        if stream.is_none() || p.tcp.as_ref().map(|t| t.stream) == stream {
            writer.row(&p, out)?;
            rows += 1;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(rows)
}
