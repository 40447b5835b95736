//! The output buffer of `--fields`: numbers and addresses are formatted in
//! place, with fixed-size copies, and the rows go out in large chunks. A
//! million-frame export writes some 30 million small values, so no value
//! goes through `core::fmt`, a temporary string or a `memcpy` call of its own.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::analysis::TextSink;

/// Rows are handed to the writer once this many bytes are buffered.
const CHUNK: usize = 1 << 16;

/// `PAIRS[n]` is the two-digit text of `n` (`00` to `99`).
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        t[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    t
};

/// `OCTETS[n]` is the decimal text of `n` (padded with spaces past its
/// length) and that length.
const OCTETS: [([u8; 3], u8); 256] = {
    let mut t = [([b' '; 3], 0u8); 256];
    let mut n = 0;
    while n < 256 {
        let (hundreds, tens, ones) = (
            b'0' + (n / 100) as u8,
            b'0' + (n / 10 % 10) as u8,
            b'0' + (n % 10) as u8,
        );
        t[n] = if n >= 100 {
            ([hundreds, tens, ones], 3)
        } else if n >= 10 {
            ([tens, ones, b' '], 2)
        } else {
            ([ones, b' ', b' '], 1)
        };
        n += 1;
    }
    t
};

/// `POW10[n]` is 10^n.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut n = 1;
    while n < 20 {
        t[n] = t[n - 1] * 10;
        n += 1;
    }
    t
};

/// Number of decimal digits of `v`: the bit length times log10(2) is the
/// digit count or one more, and one comparison tells which.
#[inline]
fn decimal_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    let guess = (bits * 1233) >> 12;
    guess + 1 - usize::from((v | 1) < POW10[guess])
}

/// Fills all of `d` with the last `d.len()` decimal digits of `v`, zero-padded.
#[inline]
fn fill_decimal(d: &mut [u8], v: u64) {
    let mut i = d.len();
    // Most values (ports, sequence numbers, TSval) fit in 32 bits, where
    // the divisions are cheaper.
    let mut v = match u32::try_from(v) {
        Ok(small) => small,
        Err(_) => {
            let mut big = v;
            while big > u64::from(u32::MAX) && i >= 2 {
                let pair = PAIRS[(big % 100) as usize];
                big /= 100;
                i -= 2;
                d[i] = pair[0];
                d[i + 1] = pair[1];
            }
            u32::try_from(big).unwrap_or(0)
        }
    };
    while i >= 2 {
        let pair = PAIRS[(v % 100) as usize];
        v /= 100;
        i -= 2;
        d[i] = pair[0];
        d[i + 1] = pair[1];
    }
    if i == 1 {
        d[0] = b'0' + (v % 10) as u8;
    }
}

/// A growing byte buffer in front of a writer. Memory stays at one chunk
/// plus the longest row.
#[derive(Debug)]
pub struct OutBuf<W: Write> {
    /// Always initialised up to its length; bytes past `pos` are scratch
    /// space that fixed-size writes may fill before `pos` moves on.
    buf: Vec<u8>,
    pos: usize,
    out: W,
}

impl<W: Write> OutBuf<W> {
    /// An empty buffer in front of `out`.
    pub fn new(out: W) -> Self {
        OutBuf {
            buf: vec![0; CHUNK + 4096],
            pos: 0,
            out,
        }
    }

    /// The next `n` bytes of scratch space, growing the buffer if needed.
    #[inline]
    fn room(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.pos < n {
            self.grow(n);
        }
        &mut self.buf[self.pos..self.pos + n]
    }

    #[cold]
    fn grow(&mut self, n: usize) {
        self.buf.resize(self.pos + n + 4096, 0);
    }

    /// Appends one byte.
    #[inline]
    pub fn put_byte(&mut self, b: u8) {
        self.room(1)[0] = b;
        self.pos += 1;
    }

    /// Appends `b`.
    #[inline]
    pub fn put_bytes(&mut self, b: &[u8]) {
        self.room(b.len()).copy_from_slice(b);
        self.pos += b.len();
    }

    /// Appends `v` in decimal.
    #[inline]
    pub fn put_decimal(&mut self, v: u64) {
        let n = decimal_len(v);
        fill_decimal(&mut self.room(20)[..n], v);
        self.pos += n;
    }

    /// Appends nanoseconds as seconds with nine decimals ("1.000250000").
    #[inline]
    pub fn put_seconds(&mut self, ns: u64) {
        self.put_decimal(ns / 1_000_000_000);
        let d = self.room(10);
        d[0] = b'.';
        fill_decimal(&mut d[1..], ns % 1_000_000_000);
        self.pos += 10;
    }

    /// Appends an IPv4 address in dotted decimal.
    #[inline]
    pub fn put_ipv4(&mut self, ip: Ipv4Addr) {
        let d = self.room(16);
        let mut at = 0;
        for (k, octet) in ip.octets().into_iter().enumerate() {
            if k > 0 {
                d[at] = b'.';
                at += 1;
            }
            let (text, len) = OCTETS[usize::from(octet)];
            d[at..at + 3].copy_from_slice(&text);
            at += usize::from(len);
        }
        self.pos += at;
    }

    /// Ends a row with a newline and hands a full chunk to the writer.
    #[inline]
    pub fn end_row(&mut self) -> io::Result<()> {
        self.put_byte(b'\n');
        if self.pos >= CHUNK {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> io::Result<()> {
        let pending = self.buf.get(..self.pos).unwrap_or(&[]);
        self.pos = 0;
        self.out.write_all(pending)
    }

    /// Writes everything buffered and flushes the writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_out()?;
        self.out.flush()
    }
}

impl<W: Write> TextSink for OutBuf<W> {
    #[inline]
    fn put_str(&mut self, s: &str) {
        self.put_bytes(s.as_bytes());
    }
    #[inline]
    fn put_u64(&mut self, v: u64) {
        self.put_decimal(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut OutBuf<&mut Vec<u8>>)) -> String {
        let mut v = Vec::new();
        let mut o = OutBuf::new(&mut v);
        f(&mut o);
        o.flush().unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn decimals_match_display() {
        let mut cases = vec![0, 1, 9, 10, 99, 100, 101, 999, 1000, u64::MAX, u64::MAX - 1];
        for p in 0..20 {
            let x = 10u64.pow(p);
            cases.extend([x - 1, x, x + 1]);
        }
        for v in cases {
            assert_eq!(text(|o| o.put_decimal(v)), v.to_string());
        }
    }

    #[test]
    fn seconds_and_addresses() {
        assert_eq!(text(|o| o.put_seconds(0)), "0.000000000");
        assert_eq!(text(|o| o.put_seconds(1_000_250_000)), "1.000250000");
        assert_eq!(
            text(|o| o.put_seconds(u64::MAX)),
            crate::analysis::fmt_seconds(i128::from(u64::MAX))
        );
        for ip in ["0.0.0.0", "127.0.0.1", "255.255.255.255", "10.99.100.9"] {
            let a: Ipv4Addr = ip.parse().unwrap();
            assert_eq!(text(|o| o.put_ipv4(a)), ip);
        }
    }

    #[test]
    fn long_rows_grow_and_chunks_flush() {
        let long = "x".repeat(3 * CHUNK);
        let out = text(|o| {
            for _ in 0..3 {
                o.put_bytes(long.as_bytes());
                o.put_decimal(42);
                o.end_row().unwrap();
            }
        });
        assert_eq!(out, format!("{long}42\n").repeat(3));
    }
}
