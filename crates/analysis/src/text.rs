//! Where column text is written: a `String` for the packet record, or a
//! field export's output buffer directly, so the Info column of a million
//! frames is not built twice; and the small formatters the columns and fields share.

/// A place the Info column can be written to piece by piece.
pub trait TextSink {
    /// Appends `s`.
    fn put_str(&mut self, s: &str);
    /// Appends `v` in decimal.
    fn put_u64(&mut self, v: u64);
}

impl TextSink for String {
    fn put_str(&mut self, s: &str) {
        self.push_str(s);
    }
    fn put_u64(&mut self, v: u64) {
        push_decimal(self, v);
    }
}

/// Appends `v` in decimal to `s` (faster than `write!` on hot paths).
pub fn push_decimal(s: &mut String, v: u64) {
    s.push_str(itoa::Buffer::new().format(v));
}

/// Formats a MAC address as tshark does: lowercase, colon separated.
pub fn fmt_mac(mac: &[u8]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Formats nanoseconds as seconds with 9 decimals ("0.000110000").
pub fn fmt_seconds(ns: i128) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    format!("{sign}{}.{:09}", abs / 1_000_000_000, abs % 1_000_000_000)
}
