//! `--fields`: one CSV row per frame, formatted as
//! `tshark -T fields -E separator=, -E header=y -E quote=d` prints it.

use std::io::Write;

use super::batches::for_each_record;
use super::{AnalyzeError, CaptureFile, OutBuf};
use crate::analysis::{Analyzer, Packet, SUPPORTED_FIELDS, write_columns};

/// Fields written straight into the output for the common cases (no
/// allocation per value); anything unusual falls back to [`Packet::field`].
#[derive(Debug, Clone, Copy)]
enum Fast {
    FrameNumber,
    TimeRelative,
    FrameLen,
    IpSrc,
    IpDst,
    TcpSrcport,
    TcpDstport,
    TcpStream,
    TcpSeq,
    TcpAck,
    TcpLen,
    TcpWindowSize,
    Info,
    Protocol,
    Other,
}

fn fast(name: &str) -> Fast {
    match name {
        "frame.number" => Fast::FrameNumber,
        "frame.time_relative" => Fast::TimeRelative,
        "frame.len" => Fast::FrameLen,
        "ip.src" => Fast::IpSrc,
        "ip.dst" => Fast::IpDst,
        "tcp.srcport" => Fast::TcpSrcport,
        "tcp.dstport" => Fast::TcpDstport,
        "tcp.stream" => Fast::TcpStream,
        "tcp.seq" => Fast::TcpSeq,
        "tcp.ack" => Fast::TcpAck,
        "tcp.len" => Fast::TcpLen,
        "tcp.window_size" => Fast::TcpWindowSize,
        "_ws.col.info" | "_ws.col.Info" => Fast::Info,
        "_ws.col.protocol" | "_ws.col.Protocol" => Fast::Protocol,
        _ => Fast::Other,
    }
}

/// Writes `"N"` for a decimal number.
fn put_num<W: Write>(out: &mut OutBuf<W>, v: u64) {
    out.put_byte(b'"');
    out.put_decimal(v);
    out.put_byte(b'"');
}

/// Writes `"a.b.c.d"` for an IPv4 address, or the address's usual text.
fn put_ip<W: Write>(out: &mut OutBuf<W>, ip: &std::net::IpAddr) {
    out.put_byte(b'"');
    match ip {
        std::net::IpAddr::V4(v4) => out.put_ipv4(*v4),
        other => out.put_bytes(other.to_string().as_bytes()),
    }
    out.put_byte(b'"');
}

/// Writes `"value"` for the fast cases; `false` when the general path must answer.
fn write_fast<W: Write>(kind: Fast, p: &Packet, out: &mut OutBuf<W>) -> bool {
    let tcp = p.tcp.as_ref();
    let plain_ip =
        p.ip.as_ref()
            .filter(|ip| ip.version == 4 && p.icmp.as_ref().is_none_or(|i| i.quote.is_none()));
    match (kind, tcp, plain_ip) {
        (Fast::FrameNumber, _, _) => put_num(out, p.number),
        (Fast::FrameLen, _, _) => put_num(out, u64::from(p.len)),
        (Fast::TimeRelative, _, _) if p.time_relative >= 0 => {
            out.put_byte(b'"');
            out.put_seconds(u64::try_from(p.time_relative).unwrap_or(u64::MAX));
            out.put_byte(b'"');
        }
        (Fast::IpSrc, _, Some(ip)) => put_ip(out, &ip.src),
        (Fast::IpDst, _, Some(ip)) => put_ip(out, &ip.dst),
        (Fast::TcpSrcport, Some(t), _) => put_num(out, u64::from(t.src_port)),
        (Fast::TcpDstport, Some(t), _) => put_num(out, u64::from(t.dst_port)),
        (Fast::TcpStream, Some(t), _) => put_num(out, u64::from(t.stream)),
        (Fast::TcpSeq, Some(t), _) => put_num(out, u64::from(t.seq)),
        (Fast::TcpAck, Some(t), _) => put_num(out, u64::from(t.ack)),
        (Fast::TcpLen, Some(t), _) if !t.in_fragment => put_num(out, u64::from(t.len)),
        (Fast::TcpWindowSize, Some(t), _) => put_num(
            out,
            u64::from(t.window_size.unwrap_or(u32::from(t.window_value))),
        ),
        (Fast::Info, _, _) => {
            out.put_byte(b'"');
            write_columns(p, out);
            out.put_byte(b'"');
        }
        (Fast::Protocol, _, _) => {
            out.put_byte(b'"');
            out.put_bytes(write_columns(p, &mut String::new()).as_bytes());
            out.put_byte(b'"');
        }
        _ => return false,
    }
    true
}

/// Writes rows of chosen fields, checking the names once.
pub struct FieldWriter<'a> {
    fields: &'a [String],
    kinds: Vec<Fast>,
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
        Ok(FieldWriter {
            fields,
            kinds: fields.iter().map(|f| fast(f)).collect(),
        })
    }

    /// The header row: the names as given, separated by commas.
    pub fn header(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(self.fields.join(",").as_bytes())?;
        out.write_all(b"\n")
    }

    /// One row: each value in double quotes, nothing at all when absent.
    /// The Info and Protocol columns are computed here from the packet's
    /// other fields (see [`Analyzer::keep_columns`]).
    pub fn row<W: Write>(&self, p: &Packet, out: &mut OutBuf<W>) -> std::io::Result<()> {
        for (i, (f, kind)) in self.fields.iter().zip(&self.kinds).enumerate() {
            if i > 0 {
                out.put_byte(b',');
            }
            if write_fast(*kind, p, out) {
                continue;
            }
            if let Some(v) = p.field(f) {
                out.put_byte(b'"');
                out.put_bytes(v.as_bytes());
                out.put_byte(b'"');
            }
        }
        out.end_row()
    }
}

/// Streams `file` through the analyzer and writes the chosen fields of every
/// frame (of TCP stream `stream` only, when given). Returns the rows written.
/// Frames are analyzed on a second thread ([`for_each_record`]) in batches
/// of reused records: nothing is kept per frame.
pub fn write_fields(
    file: &mut CaptureFile,
    fields: &[String],
    stream: Option<u32>,
    out: &mut impl Write,
) -> Result<u64, AnalyzeError> {
    let writer = FieldWriter::new(fields)?;
    writer.header(out)?;
    let mut out = OutBuf::new(out);
    let mut analyzer = Analyzer::new(file.link);
    analyzer.keep_payload(false);
    analyzer.keep_frame_lists(false);
    analyzer.keep_summaries(false);
    analyzer.keep_columns(false);
    let wanted = move |p: &Packet| stream.is_none() || p.tcp.as_ref().map(|t| t.stream) == stream;
    let mut rows = 0u64;
    let written = for_each_record(file, analyzer, wanted, |p| -> Result<(), AnalyzeError> {
        writer.row(p, &mut out)?;
        rows += 1;
        Ok(())
    });
    // The rows before a damaged part of the file are written all the same.
    let flushed = out.flush();
    written?;
    flushed?;
    Ok(rows)
}
