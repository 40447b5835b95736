//! Where column text is written: a `String` for the packet record, or a
//! field export's output buffer directly, so the Info column of a million
//! frames is not built twice.

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
        super::fields::push_decimal(self, v);
    }
}
