//! TCP flag bits: one type, one table of names and letters.

use std::borrow::Cow;
use std::fmt;
use std::ops::{BitAnd, BitOr, BitOrAssign};

/// The 12 flag bits of a TCP header (FIN is bit 0, the three reserved bits are 0xe00).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

/// One row of the flag table.
struct Flag {
    /// The bit (or, for the reserved bits, the bits).
    bits: u16,
    /// Wireshark's name in the Info column.
    name: &'static str,
    /// The letter in tshark's `tcp.flags.str`.
    letter: char,
    /// tcpdump's letter, for the flags tcpdump prints (ACK is its trailing `.`).
    tcpdump: Option<char>,
}

#[rustfmt::skip]
/// Every flag in header order (FIN first), as Wireshark names them.
const TABLE: [Flag; 10] = [
    Flag { bits: 0x001, name: "FIN", letter: 'F', tcpdump: Some('F') },
    Flag { bits: 0x002, name: "SYN", letter: 'S', tcpdump: Some('S') },
    Flag { bits: 0x004, name: "RST", letter: 'R', tcpdump: Some('R') },
    Flag { bits: 0x008, name: "PSH", letter: 'P', tcpdump: Some('P') },
    Flag { bits: 0x010, name: "ACK", letter: 'A', tcpdump: None },
    Flag { bits: 0x020, name: "URG", letter: 'U', tcpdump: Some('U') },
    Flag { bits: 0x040, name: "ECE", letter: 'E', tcpdump: Some('E') },
    Flag { bits: 0x080, name: "CWR", letter: 'C', tcpdump: Some('W') },
    Flag { bits: 0x100, name: "AE", letter: 'A', tcpdump: None },
    Flag { bits: 0xe00, name: "Reserved", letter: 'R', tcpdump: None },
];

impl TcpFlags {
    /// No flag.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// FIN.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// SYN.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// RST.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// PSH.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// ACK.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// URG.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECE.
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// CWR.
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// NS, called AE (accurate ECN) by Wireshark 4.
    pub const NS: TcpFlags = TcpFlags(0x100);
    /// The three reserved bits.
    pub const RESERVED: TcpFlags = TcpFlags(0xe00);
    /// The eight classic flags FIN..CWR (what a crafted packet can carry).
    pub const CLASSIC: TcpFlags = TcpFlags(0x0ff);

    /// The flags of a TCP header from its bytes 12 (low nibble: AE and reserved) and 13.
    pub const fn from_header_bytes(byte12: u8, byte13: u8) -> TcpFlags {
        TcpFlags(((byte12 as u16 & 0x0f) << 8) | byte13 as u16)
    }

    /// The raw bits.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// True when every bit of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True when any bit of `other` is set.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// True when no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Wireshark's names of the set flags, in header order (FIN first).
    pub fn name_iter(self) -> impl Iterator<Item = &'static str> {
        TABLE
            .iter()
            .filter(move |f| self.0 & f.bits != 0)
            .map(|f| f.name)
    }

    /// The names of [`TcpFlags::name_iter`] joined by ", " (`"SYN, ACK"`), "" when none
    /// is set.
    pub fn names(self) -> String {
        self.name_iter().collect::<Vec<_>>().join(", ")
    }

    /// The bracketed list of Wireshark's Info column ("SYN, ACK"), `<None>` when no flag
    /// is set; the usual combinations are returned without allocating.
    pub fn info_names(self) -> Cow<'static, str> {
        let common = match self.0 {
            0x010 => "ACK",
            0x018 => "PSH, ACK",
            0x002 => "SYN",
            0x012 => "SYN, ACK",
            0x011 => "FIN, ACK",
            0x019 => "FIN, PSH, ACK",
            0x004 => "RST",
            0x014 => "RST, ACK",
            0 => "<None>",
            _ => return Cow::Owned(self.names()),
        };
        Cow::Borrowed(common)
    }

    /// tshark's 12-character `tcp.flags.str`: reserved×3, AE, CWR, ECE, URG, ACK, PSH,
    /// RST, SYN, FIN, with `·` for a clear bit ("·······A··S·").
    pub fn tshark_str(self) -> String {
        (0..12)
            .rev()
            .map(|i| {
                let bit = 1u16 << i;
                match TABLE.iter().find(|f| f.bits & bit != 0) {
                    Some(f) if self.0 & bit != 0 => f.letter,
                    _ => '\u{b7}',
                }
            })
            .collect()
    }

    /// tcpdump's letters ("S", "R.", "FP."; ACK is the trailing `.`), "none" when no
    /// classic flag is set.
    pub fn tcpdump_letters(self) -> String {
        let mut s: String = TABLE
            .iter()
            .filter(|f| self.0 & f.bits != 0)
            .filter_map(|f| f.tcpdump)
            .collect();
        if self.contains(TcpFlags::ACK) {
            s.push('.');
        }
        if s.is_empty() {
            s.push_str("none");
        }
        s
    }

    /// Parses tcpdump's letters (`"S"`, `"SA"`, `"R."`, `"FP."`: `.` is ACK, `W` or `C` is
    /// CWR) or names separated by commas, spaces, `|` or `+` (`"SYN,ACK"`, `"rst"`); `""` is
    /// no flag. Only the eight classic flags FIN..CWR are accepted.
    pub fn parse(text: &str) -> Result<TcpFlags, FlagsParseError> {
        let classic = &TABLE[..8];
        let words: Vec<String> = text
            .split([',', ' ', '|', '+'])
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        if words.len() > 1 || words.first().is_some_and(|w| w.len() == 3) {
            let mut bits = 0;
            for w in &words {
                bits |= classic
                    .iter()
                    .find(|f| f.name == w)
                    .map(|f| f.bits)
                    .ok_or_else(|| FlagsParseError::Name(w.clone()))?;
            }
            return Ok(TcpFlags(bits));
        }
        let mut bits = 0;
        for c in words.first().map(String::as_str).unwrap_or("").chars() {
            bits |= match c {
                'A' | '.' => TcpFlags::ACK.0,
                'C' => TcpFlags::CWR.0,
                other => classic
                    .iter()
                    .find(|f| f.tcpdump == Some(other))
                    .map(|f| f.bits)
                    .ok_or_else(|| FlagsParseError::Letter(other, text.to_string()))?,
            };
        }
        Ok(TcpFlags(bits))
    }
}

/// Why a flag text could not be read by [`TcpFlags::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagsParseError {
    /// A word that is not a flag name.
    #[error("unknown TCP flag `{0}` (known: FIN SYN RST PSH ACK URG ECE CWR)")]
    Name(String),
    /// A letter that is not one of tcpdump's, in the given text.
    #[error("unknown TCP flag letter `{0}` in `{1}` (tcpdump's letters: F S R P A or . U E W)")]
    Letter(char, String),
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl fmt::Display for TcpFlags {
    /// The Info column's names, e.g. "SYN, ACK".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.info_names())
    }
}

#[cfg(test)]
mod tests {
    use super::TcpFlags;

    #[test]
    fn names_letters_and_parse() {
        assert_eq!(TcpFlags(0x002).tshark_str(), "··········S·");
        assert_eq!(TcpFlags(0xfff).tshark_str(), "RRRACEUAPRSF");
        assert_eq!(TcpFlags(0x014).info_names(), "RST, ACK");
        assert_eq!(TcpFlags(0).info_names(), "<None>");
        assert_eq!(TcpFlags(0).names(), "");
        assert_eq!(
            TcpFlags(0xf01).info_names(),
            "FIN, AE, Reserved",
            "uncommon combinations are spelled out"
        );
        assert_eq!((TcpFlags::RST | TcpFlags::ACK).tcpdump_letters(), "R.");
        assert_eq!(TcpFlags(0xff).tcpdump_letters(), "FSRPUEW.");
        assert_eq!(TcpFlags(0).tcpdump_letters(), "none");
        assert_eq!(TcpFlags::parse("S").unwrap(), TcpFlags::SYN);
        assert_eq!(TcpFlags::parse("FPUEWC.").unwrap().0, 0x0f9);
        assert_eq!(TcpFlags::parse("syn, ack").unwrap(), TcpFlags(0x012));
        assert_eq!(
            TcpFlags::parse("SYN,NOPE").unwrap_err().to_string(),
            "unknown TCP flag `NOPE` (known: FIN SYN RST PSH ACK URG ECE CWR)"
        );
        assert_eq!(
            TcpFlags::parse("SX").unwrap_err().to_string(),
            "unknown TCP flag letter `X` in `SX` (tcpdump's letters: F S R P A or . U E W)"
        );
    }
}
