//! packets.csv: one row per frame, Wireshark's field names, tshark's value formatting.

use crate::analysis::{CSV_FIELDS, Trace};
use std::io::{self, Write};

/// Writes the trace's frames as CSV with the columns of [`CSV_FIELDS`].
pub fn write_packets_csv<W: Write>(out: W, trace: &Trace) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_FIELDS).map_err(io::Error::other)?;
    for p in &trace.packets {
        let row = CSV_FIELDS.iter().map(|f| p.field(f).unwrap_or_default());
        w.write_record(row).map_err(io::Error::other)?;
    }
    w.flush()
}
