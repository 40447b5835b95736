//! Decoding of the TCP option list.

use super::link::read_u32;
use super::repr::TcpOption;

/// Decodes a TCP option list. Never fails: a broken option ends the list
/// with [`TcpOption::Malformed`].
pub fn parse_tcp_options(bytes: &[u8]) -> Vec<TcpOption> {
    let mut out = Vec::new();
    parse_tcp_options_into(bytes, &mut out);
    out
}

/// [`parse_tcp_options`] into `out` (emptied first), whose allocation a
/// caller decoding frame after frame can reuse.
pub fn parse_tcp_options_into(bytes: &[u8], out: &mut Vec<TcpOption>) {
    out.clear();
    let mut rest = bytes;
    while let Some((&kind, after)) = rest.split_first() {
        match kind {
            0 => {
                out.push(TcpOption::EndOfList);
                break;
            }
            1 => {
                out.push(TcpOption::Nop);
                rest = after;
                continue;
            }
            _ => {}
        }
        let Some(&len) = after.first() else {
            out.push(TcpOption::Malformed { kind });
            break;
        };
        let len = usize::from(len);
        let Some(body) = (if len >= 2 { rest.get(2..len) } else { None }) else {
            out.push(TcpOption::Malformed { kind });
            break;
        };
        let opt = match (kind, body.len()) {
            (2, 2) => TcpOption::Mss(u16::from_be_bytes([body[0], body[1]])),
            (3, 1) => TcpOption::WindowScale(body[0]),
            (4, 0) => TcpOption::SackPermitted,
            (5, n) if n % 8 == 0 && n > 0 => TcpOption::Sack(
                body.chunks_exact(8)
                    .map(|c| (read_u32(c, 0).unwrap_or(0), read_u32(c, 4).unwrap_or(0)))
                    .collect(),
            ),
            (8, 8) => TcpOption::Timestamps(
                read_u32(body, 0).unwrap_or(0),
                read_u32(body, 4).unwrap_or(0),
            ),
            (2..=5 | 8, _) => TcpOption::Malformed { kind },
            _ => TcpOption::Unknown {
                kind,
                data: body.to_vec(),
            },
        };
        let stop = matches!(opt, TcpOption::Malformed { .. });
        out.push(opt);
        if stop {
            break;
        }
        rest = rest.get(len..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_syn_options() {
        let bytes = [
            2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 10,
        ];
        assert_eq!(
            parse_tcp_options(&bytes),
            vec![
                TcpOption::Mss(65495),
                TcpOption::SackPermitted,
                TcpOption::Timestamps(1, 0),
                TcpOption::Nop,
                TcpOption::WindowScale(10),
            ]
        );
    }

    #[test]
    fn sack_unknown_and_eol() {
        let mut bytes = vec![1, 1, 5, 18];
        for v in [100u32, 200, 300, 400] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        bytes.extend_from_slice(&[30, 4, 0xab, 0xcd, 0, 0]);
        assert_eq!(
            parse_tcp_options(&bytes),
            vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Sack(vec![(100, 200), (300, 400)]),
                TcpOption::Unknown {
                    kind: 30,
                    data: vec![0xab, 0xcd]
                },
                TcpOption::EndOfList,
            ]
        );
    }

    #[test]
    fn broken_lengths_do_not_panic() {
        for bytes in [
            &[2u8][..],
            &[2, 0],
            &[2, 1],
            &[2, 10, 0],
            &[8, 10, 1, 2],
            &[5, 3, 0],
        ] {
            let opts = parse_tcp_options(bytes);
            assert!(matches!(opts.last(), Some(TcpOption::Malformed { .. })));
        }
    }
}
