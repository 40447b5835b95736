//! Port lists written like nmap's `-p`: `22`, `1-1024,8080`, `60000-` (to 65535), `-100`
//! (from 1), `-` (every port, 1-65535).

use super::{ScanError, ScanResult};

/// Parses a port list into ascending, distinct port numbers.
///
/// Items are separated by commas (spaces around them are ignored); an item is a port or
/// a range `A-B` whose missing ends mean 1 and 65535. Port 0 only when named explicitly,
/// as nmap does.
pub fn parse_ports(spec: &str) -> ScanResult<Vec<u16>> {
    let bad = |message: String| ScanError::Ports {
        spec: spec.to_string(),
        message,
    };
    let mut seen = vec![false; 65536];
    let mut any = false;
    for item in spec.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(bad(
                "an empty item (two commas in a row, or a trailing comma)".into(),
            ));
        }
        let item = item
            .strip_prefix("T:")
            .or_else(|| item.strip_prefix("t:"))
            .unwrap_or(item);
        let (lo, hi) = match item.split_once('-') {
            None => {
                let p = number(item).map_err(&bad)?;
                (p, p)
            }
            Some((a, b)) => {
                let lo = if a.trim().is_empty() {
                    1
                } else {
                    number(a).map_err(&bad)?
                };
                let hi = if b.trim().is_empty() {
                    65535
                } else {
                    number(b).map_err(&bad)?
                };
                if lo > hi {
                    return Err(bad(format!(
                        "the range {item} runs backwards (write {hi}-{lo})"
                    )));
                }
                (lo, hi)
            }
        };
        for p in lo..=hi {
            seen[usize::from(p)] = true;
        }
        any = true;
    }
    if !any {
        return Err(bad("no ports".into()));
    }
    Ok((0..=u16::MAX).filter(|&p| seen[usize::from(p)]).collect())
}

fn number(text: &str) -> Result<u16, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{t:?} is not a port number"));
    }
    t.parse::<u32>()
        .ok()
        .and_then(|n| u16::try_from(n).ok())
        .ok_or_else(|| format!("{t} is not a port (ports are 0-65535)"))
}

/// The ports as a short list with ranges, e.g. `1-3,80,443`.
pub fn format_ports(ports: &[u16]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < ports.len() {
        let start = ports[i];
        let mut end = start;
        while i + 1 < ports.len() && ports[i + 1] == end.wrapping_add(1) && end != u16::MAX {
            i += 1;
            end = ports[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges_like_nmap() {
        assert_eq!(parse_ports("22").unwrap(), [22]);
        assert_eq!(parse_ports("80,22, 443").unwrap(), [22, 80, 443]);
        assert_eq!(parse_ports("1-3,2-4").unwrap(), [1, 2, 3, 4]);
        assert_eq!(parse_ports("65534-").unwrap(), [65534, 65535]);
        assert_eq!(parse_ports("-3").unwrap(), [1, 2, 3]);
        assert_eq!(parse_ports("-").unwrap().len(), 65535);
        assert_eq!(parse_ports("0").unwrap(), [0]);
        assert_eq!(parse_ports("T:25").unwrap(), [25]);
        let all = parse_ports("1-1024,8080,60000-65535").unwrap();
        assert_eq!(all.len(), 1024 + 1 + 5536);
    }

    #[test]
    fn bad_lists_say_why() {
        for (spec, why) in [
            ("", "empty item"),
            ("80,", "empty item"),
            ("http", "not a port number"),
            ("70000", "ports are 0-65535"),
            ("100-10", "runs backwards"),
            ("1-2-3", "not a port number"),
            ("-5x", "not a port number"),
        ] {
            let e = parse_ports(spec).unwrap_err().to_string();
            assert!(e.contains(why), "{spec:?}: {e}");
        }
    }

    #[test]
    fn short_form() {
        assert_eq!(format_ports(&[1, 2, 3, 80, 443, 444]), "1-3,80,443-444");
        assert_eq!(format_ports(&[65535]), "65535");
        assert_eq!(format_ports(&[]), "");
    }
}
