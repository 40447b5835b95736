//! websocket.csv: one row per WebSocket frame of a capture (packets.csv keeps exactly
//! tshark's columns, one row per frame on the wire, so the WebSocket layer gets its own file).

use crate::analysis::Trace;
use crate::analysis::websocket::{WEBSOCKET_CSV_FIELDS, decode_trace, websocket_csv_row};
use std::io::{self, Write};

/// Writes the WebSocket frames of every stream of `trace`, in frame order.
pub fn write_websocket_csv<W: Write>(out: W, trace: &Trace) -> io::Result<()> {
    write_websocket_csv_mapped(out, trace, str::to_string)
}

/// [`write_websocket_csv`] with every cell passed through `cell` (`--deterministic`
/// replaces the random masking keys).
pub fn write_websocket_csv_mapped<W: Write>(
    out: W,
    trace: &Trace,
    cell: impl Fn(&str) -> String,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(WEBSOCKET_CSV_FIELDS)
        .map_err(io::Error::other)?;
    let apps = decode_trace(trace);
    let mut rows: Vec<(u64, Vec<String>)> = apps
        .iter()
        .flat_map(|a| {
            a.frames
                .iter()
                .map(move |f| (f.frame, websocket_csv_row(a, f)))
        })
        .collect();
    rows.sort_by_key(|(n, _)| *n);
    for (_, row) in rows {
        w.write_record(row.iter().map(|c| cell(c)))
            .map_err(io::Error::other)?;
    }
    w.flush()
}
