//! The output buffer of `--fields`: numbers and addresses are formatted in
//! place, with fixed-size copies, and the rows go out in large chunks. A
//! million-frame export writes some 30 million small values, so no value
//! goes through `core::fmt`, a temporary string or a `memcpy` call of its own.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::analysis::TextSink;

/// Rows are handed to the writer once this many bytes are buffered: few
/// writes, and a buffer that stays in a core's L2 cache.
const CHUNK: usize = 1 << 18;
/// The pipe buffer asked for when standard output is a pipe.
#[cfg(target_os = "linux")]
const PIPE_SIZE: libc::c_int = 1 << 20;

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

/// The eight decimal digits of `v` (below 10^8, zero-padded), as the bytes
/// of a little-endian `u64` holding 0..=9 each, most significant first.
/// Four, then two, then one digit per lane of one 64-bit number: three
/// multiplications instead of eight dependent divisions.
#[inline(always)]
fn eight_digits(v: u32) -> u64 {
    let v = u64::from(v);
    // Two 32-bit lanes: the upper four digits first, then the lower four.
    let x = (v / 10_000) | ((v % 10_000) << 32);
    // Each lane below 10^4 into two 16-bit lanes below 100 (x / 100 is
    // (x * 5243) >> 19 below 43,699).
    let q = ((x * 5243) >> 19) & 0x0000_007f_0000_007f;
    let x = q | ((x - q * 100) << 16);
    // Each lane below 100 into two bytes below 10 (x / 10 is (x * 103) >> 10
    // below 179).
    let q = ((x * 103) >> 10) & 0x000f_000f_000f_000f;
    q | ((x - q * 10) << 8)
}

/// 10^8: [`eight_digits`] takes numbers below it.
const E8: u64 = 100_000_000;

/// ASCII zeros in every byte of a `u64`.
const ZEROS: u64 = 0x3030_3030_3030_3030;

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
    #[inline(always)]
    pub fn put_decimal(&mut self, v: u64) {
        if v < E8 {
            self.put_below_e8(v as u32);
        } else {
            self.put_large(v);
        }
    }

    /// [`OutBuf::put_decimal`] from 10^8 on (TSval, raw sequence numbers),
    /// kept out of line so the short numbers' code stays small.
    #[inline(never)]
    fn put_large(&mut self, v: u64) {
        if v < E8 * E8 {
            self.put_below_e8((v / E8) as u32);
        } else {
            self.put_below_e8((v / (E8 * E8)) as u32);
            self.put_eight((v / E8 % E8) as u32);
        }
        self.put_eight((v % E8) as u32);
    }

    /// Appends `v` (below 10^8) without leading zeros.
    #[inline(always)]
    fn put_below_e8(&mut self, v: u32) {
        let digits = eight_digits(v);
        // Leading zeros are the low zero bytes; a zero keeps one digit.
        let zeros = (digits.trailing_zeros() / 8).min(7);
        let text = (digits | ZEROS) >> (8 * zeros);
        self.room(8).copy_from_slice(&text.to_le_bytes());
        self.pos += 8 - zeros as usize;
    }

    /// Appends `v` (below 10^8) as exactly eight digits.
    #[inline(always)]
    fn put_eight(&mut self, v: u32) {
        let text = eight_digits(v) | ZEROS;
        self.room(8).copy_from_slice(&text.to_le_bytes());
        self.pos += 8;
    }

    /// Appends nanoseconds as seconds with nine decimals ("1.000250000").
    #[inline]
    pub fn put_seconds(&mut self, ns: u64) {
        self.put_decimal(ns / 1_000_000_000);
        let frac = (ns % 1_000_000_000) as u32;
        let d = self.room(2);
        d[0] = b'.';
        d[1] = b'0' + (frac / 100_000_000) as u8;
        self.pos += 2;
        self.put_eight(frac % 100_000_000);
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

/// When standard output is a pipe, asks the kernel for a pipe buffer of
/// [`PIPE_SIZE`] (Linux; 64 KiB by default). A 200 MB export into a 64 KiB pipe
/// costs thousands of sleeps and wake-ups of both processes, on a virtual
/// machine more than the formatting itself. Anything else is left alone.
pub fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let fd = std::io::stdout().as_raw_fd();
        // SAFETY: fcntl with F_SETPIPE_SZ takes an int argument and touches
        // no memory of ours; on anything but a pipe it fails with EBADF or
        // EINVAL, which is ignored (the pipe keeps its size).
        let _ = unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_SIZE) };
    }
}

impl<W: Write> TextSink for OutBuf<W> {
    #[inline]
    fn put_str(&mut self, s: &str) {
        self.put_bytes(s.as_bytes());
    }
    #[inline(always)]
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
            cases.extend([x - 1, x, x + 1, x / 3, x / 7 * 5]);
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.extend([x, x >> (x % 64), x % 100_000_000]);
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
