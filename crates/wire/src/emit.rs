//! Building headers: the `emit` half of the `*Repr` parse/emit pairs.

use std::net::Ipv4Addr;

use super::error::{Layer, WireError};
use super::repr::{TcpOption, TcpRepr};

/// Longest TCP option list (the data offset field counts at most 15 words).
const MAX_OPTIONS: usize = 40;

impl TcpOption {
    /// Appends the option's bytes (kind, length, data) to `out`.
    fn emit(&self, out: &mut Vec<u8>) {
        match self {
            TcpOption::EndOfList => out.push(0),
            TcpOption::Nop => out.push(1),
            TcpOption::Mss(m) => {
                out.extend_from_slice(&[2, 4]);
                out.extend_from_slice(&m.to_be_bytes());
            }
            TcpOption::WindowScale(s) => out.extend_from_slice(&[3, 3, *s]),
            TcpOption::SackPermitted => out.extend_from_slice(&[4, 2]),
            TcpOption::Sack(blocks) => {
                out.extend_from_slice(&[5, (2 + 8 * blocks.len()) as u8]);
                for (l, r) in blocks {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
            TcpOption::Timestamps(val, ecr) => {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&val.to_be_bytes());
                out.extend_from_slice(&ecr.to_be_bytes());
            }
            TcpOption::Unknown { kind, data } => {
                out.extend_from_slice(&[*kind, (2 + data.len()) as u8]);
                out.extend_from_slice(data);
            }
            TcpOption::Malformed { kind } => out.push(*kind),
        }
    }
}

impl TcpRepr {
    /// The options as they are emitted: in order, padded with zeros to whole words.
    fn option_bytes(&self) -> Result<Vec<u8>, WireError> {
        let mut bytes = Vec::new();
        for option in &self.options {
            option.emit(&mut bytes);
        }
        if bytes.len() > MAX_OPTIONS {
            return Err(WireError::malformed(
                Layer::Other(etherparse::err::Layer::TcpHeader),
                format!(
                    "{} bytes of options do not fit (at most {MAX_OPTIONS})",
                    bytes.len()
                ),
            ));
        }
        bytes.resize(bytes.len().div_ceil(4) * 4, 0);
        Ok(bytes)
    }

    /// Header length in bytes once emitted (20 plus the padded options).
    pub fn emitted_header_len(&self) -> Result<usize, WireError> {
        Ok(20 + self.option_bytes()?.len())
    }

    /// Appends the header and `payload` to `out` as a segment from `src` to `dst`: the
    /// data offset comes from the options, the checksum is computed over the IPv4
    /// pseudo-header (the `data_offset`, `checksum` and `payload_len` fields are not used).
    pub fn emit_ipv4(
        &self,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), WireError> {
        let options = self.option_bytes()?;
        let header_len = 20 + options.len();
        let start = out.len();
        out.extend_from_slice(&self.src_port.to_be_bytes());
        out.extend_from_slice(&self.dst_port.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.ack.to_be_bytes());
        let [flags_high, flags_low] = self.flags.bits().to_be_bytes();
        out.push(((header_len / 4) as u8) << 4 | (flags_high & 0x0f));
        out.push(flags_low);
        out.extend_from_slice(&self.window.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.urgent.to_be_bytes());
        out.extend_from_slice(&options);
        out.extend_from_slice(payload);
        let segment = &out[start..];
        let checksum = ipv4_checksum(src, dst, 6, segment);
        out[start + 16..start + 18].copy_from_slice(&checksum.to_be_bytes());
        Ok(())
    }
}

/// The Internet checksum of `segment` with the IPv4 pseudo-header (RFC 793, RFC 768).
fn ipv4_checksum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, segment: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    for pair in src.octets().chunks(2).chain(dst.octets().chunks(2)) {
        sum += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    sum += u64::from(protocol);
    sum += segment.len() as u64;
    let mut words = segment.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(u16::from_be_bytes([*last, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
