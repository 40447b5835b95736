//! TLS records in a TCP stream with the Protocol and Info columns tshark 4.0 gives them
//! (packet-tls.c, without keys): each record's handshake message names, "Change Cipher
//! Spec", "Application Data", alerts, joined with ", "; the Protocol column names the
//! version the Server Hello chose, or the record layer's before that.

use crate::pdu::{Dissected, Need};

/// TCP ports tshark 4.0 hands to its TLS dissector.
pub const TCP_PORTS: [u16; 22] = [
    324, 443, 465, 636, 802, 853, 993, 995, 1300, 2221, 2443, 3249, 3250, 3251, 3252, 3496, 5061,
    5671, 5684, 5868, 8883, 19999,
];

/// What one TLS connection remembers between records: the version the server chose and,
/// per direction, whether its Change Cipher Spec was seen (later handshake and alert
/// records are then encrypted).
#[derive(Debug, Clone, Default)]
pub struct TlsConv {
    version: Option<u16>,
    encrypted: [bool; 2],
}

/// tshark's short name of a TLS version.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0300 => "SSLv3",
        0x0301 => "TLSv1",
        0x0302 => "TLSv1.1",
        0x0303 => "TLSv1.2",
        0x0304 => "TLSv1.3",
        _ => "TLS",
    }
}

/// tshark's name of a handshake message type.
fn handshake_name(t: u8) -> &'static str {
    match t {
        0 => "Hello Request",
        1 => "Client Hello",
        2 => "Server Hello",
        3 => "Hello Verify Request",
        4 => "New Session Ticket",
        5 => "End of Early Data",
        6 => "Hello Retry Request",
        8 => "Encrypted Extensions",
        11 => "Certificate",
        12 => "Server Key Exchange",
        13 => "Certificate Request",
        14 => "Server Hello Done",
        15 => "Certificate Verify",
        16 => "Client Key Exchange",
        20 => "Finished",
        21 => "Certificate URL",
        22 => "Certificate Status",
        23 => "Supplemental Data",
        24 => "Key Update",
        25 => "Compressed Certificate",
        254 => "Message Hash",
        _ => "Encrypted Handshake Message",
    }
}

fn alert_level(l: u8) -> &'static str {
    match l {
        1 => "Warning",
        2 => "Fatal",
        _ => "Unknown",
    }
}

fn alert_description(d: u8) -> std::borrow::Cow<'static, str> {
    let name = match d {
        0 => "Close Notify",
        10 => "Unexpected Message",
        20 => "Bad Record MAC",
        21 => "Decryption Failed",
        22 => "Record Overflow",
        30 => "Decompression Failure",
        40 => "Handshake Failure",
        41 => "No Certificate",
        42 => "Bad Certificate",
        43 => "Unsupported Certificate",
        44 => "Certificate Revoked",
        45 => "Certificate Expired",
        46 => "Certificate Unknown",
        47 => "Illegal Parameter",
        48 => "Unknown CA",
        49 => "Access Denied",
        50 => "Decode Error",
        51 => "Decrypt Error",
        60 => "Export Restriction",
        70 => "Protocol Version",
        71 => "Insufficient Security",
        80 => "Internal Error",
        86 => "Inappropriate Fallback",
        90 => "User Canceled",
        100 => "No Renegotiation",
        109 => "Missing Extension",
        110 => "Unsupported Extension",
        111 => "Certificate Unobtainable",
        112 => "Unrecognized Name",
        113 => "Bad Certificate Status Response",
        114 => "Bad Certificate Hash Value",
        115 => "Unknown PSK Identity",
        116 => "Certificate Required",
        120 => "No application protocol",
        _ => return format!("Unknown ({d})").into(),
    };
    name.into()
}

/// True when `payload` starts like a TLS Client Hello record, the test of tshark's TLS
/// heuristic on TCP (a connection on another port becomes TLS when it passes).
pub fn looks_like_client_hello(payload: &[u8]) -> bool {
    let [22, major, minor, hi, lo, 1, ..] = *payload else {
        return false;
    };
    let version = u16::from_be_bytes([major, minor]);
    let len = u16::from_be_bytes([hi, lo]);
    (0x0300..=0x0304).contains(&version) && len >= 4
}

/// False when a Client Hello or Server Hello body is too short for its own fields
/// (version, random, session id, cipher suites, compression methods), which tshark
/// reports as a malformed packet.
fn hello_fits(t: u8, body: &[u8]) -> bool {
    let byte = |at: usize| usize::from(body.get(at).copied().unwrap_or(0));
    let mut at = 34usize;
    let mut take = |n: usize| {
        at = at.saturating_add(n);
        at <= body.len()
    };
    match t {
        1 => {
            if !(take(1) && take(byte(34))) {
                return false;
            }
            let suites_at = 35 + byte(34);
            let suites = byte(suites_at) << 8 | byte(suites_at + 1);
            if !(take(2) && take(suites)) {
                return false;
            }
            let comp_at = suites_at + 2 + suites;
            take(1) && take(byte(comp_at))
        }
        2 => take(1) && take(byte(34)) && take(3),
        _ => true,
    }
}

/// The version a Server Hello body chose: its supported_versions extension (TLS 1.3)
/// or its legacy version field.
fn server_hello_version(body: &[u8]) -> Option<u16> {
    let legacy = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
    // version, random, session id, cipher suite, compression method.
    let sid_len = usize::from(*body.get(34)?);
    let mut at = 35 + sid_len + 3;
    let ext_len = usize::from(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]));
    at += 2;
    let end = (at + ext_len).min(body.len());
    while at + 4 <= end {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        if kind == 43 && len == 2 && at + 6 <= end {
            return Some(u16::from_be_bytes([body[at + 4], body[at + 5]]));
        }
        at += 4 + len;
    }
    Some(legacy)
}

/// Frames the TLS record at the start of `buf` (sent in direction `dir`), appends its
/// Info text to `info` (", " between parts) and names the protocol.
pub fn dissect(buf: &[u8], dir: usize, conv: &mut TlsConv, info: &mut String) -> Dissected {
    let dir = dir.min(1);
    // tshark's TLS clears the Info column first: a segment that only starts a
    // record shows nothing before "[TCP segment of a reassembled PDU]".
    let Some(header) = buf.get(..5) else {
        return Dissected::Need(Need::OneMore, true);
    };
    let (ctype, version) = (header[0], u16::from_be_bytes([header[1], header[2]]));
    if !(20..=24).contains(&ctype) || header[1] != 3 {
        return Dissected::Reject;
    }
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    if buf.len() < 5 + len {
        return Dissected::Need(Need::Exact(5 + len - buf.len()), true);
    }
    let body = &buf[5..5 + len];
    let mut malformed = false;
    let mut add = |s: &str| {
        if !info.is_empty() {
            info.push_str(", ");
        }
        info.push_str(s);
    };
    match ctype {
        20 => {
            add("Change Cipher Spec");
            conv.encrypted[dir] = true;
        }
        21 if conv.encrypted[dir] || body.len() != 2 => add("Encrypted Alert"),
        21 => add(&format!(
            "Alert (Level: {}, Description: {})",
            alert_level(body[0]),
            alert_description(body[1])
        )),
        22 if conv.encrypted[dir] => add("Encrypted Handshake Message"),
        22 => {
            let mut at = 0;
            while at < body.len() {
                let msg = &body[at..];
                let fits = msg.len() >= 4 && {
                    let mlen =
                        usize::from(msg[1]) << 16 | usize::from(msg[2]) << 8 | usize::from(msg[3]);
                    4 + mlen <= msg.len()
                };
                if !fits {
                    add("Encrypted Handshake Message");
                    break;
                }
                let mlen =
                    usize::from(msg[1]) << 16 | usize::from(msg[2]) << 8 | usize::from(msg[3]);
                add(handshake_name(msg[0]));
                if !hello_fits(msg[0], &msg[4..4 + mlen]) {
                    malformed = true;
                    break;
                }
                if msg[0] == 2 {
                    conv.version = server_hello_version(&msg[4..4 + mlen]).or(conv.version);
                }
                at += 4 + mlen;
            }
        }
        23 => add("Application Data"),
        _ => add("Heartbeat"),
    }
    let protocol = version_name(conv.version.unwrap_or(version));
    if malformed {
        // tshark's dissection of the whole segment ends at the exception.
        info.push_str("[Malformed Packet]");
        return Dissected::Pdu(buf.len(), protocol);
    }
    Dissected::Pdu(5 + len, protocol)
}

#[cfg(test)]
mod tests {
    use super::{TlsConv, dissect, looks_like_client_hello};
    use crate::pdu::{Dissected, Need};

    fn record(ctype: u8, version: u16, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ctype];
        r.extend_from_slice(&version.to_be_bytes());
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![t, 0, (body.len() >> 8) as u8, body.len() as u8];
        m.extend_from_slice(body);
        m
    }

    /// A Server Hello body choosing TLS 1.3 through supported_versions.
    fn server_hello_13() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[0; 32]);
        b.push(0); // session id
        b.extend_from_slice(&[0x13, 0x01, 0]); // suite, compression
        b.extend_from_slice(&[0, 6, 0, 43, 0, 2, 3, 4]);
        b
    }

    #[test]
    fn records_are_named_and_versioned() {
        let mut c = TlsConv::default();
        let mut info = String::new();
        // A Client Hello too short for its random is malformed, and ends the segment.
        let short = record(22, 0x0301, &handshake(1, &[3, 3, 0, 0]));
        let mut twice = short.clone();
        twice.extend_from_slice(&short);
        assert_eq!(
            dissect(&twice, 0, &mut c, &mut info),
            Dissected::Pdu(twice.len(), "TLSv1")
        );
        assert_eq!(info, "Client Hello[Malformed Packet]");
        let mut info = String::new();
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]); // session id, suites, compression
        let hello = record(22, 0x0301, &handshake(1, &body));
        assert!(looks_like_client_hello(&hello));
        assert!(!looks_like_client_hello(b"GET / HTTP/1.1"));
        assert_eq!(
            dissect(&hello, 0, &mut c, &mut info),
            Dissected::Pdu(hello.len(), "TLSv1")
        );
        assert_eq!(info, "Client Hello");
        // Half a record: exactly the rest; a header cut short: one more segment.
        assert_eq!(
            dissect(&hello[..7], 0, &mut c, &mut info),
            Dissected::Need(Need::Exact(hello.len() - 7), true)
        );
        assert_eq!(
            dissect(&hello[..3], 0, &mut c, &mut info),
            Dissected::Need(Need::OneMore, true)
        );
        let sh = record(22, 0x0303, &handshake(2, &server_hello_13()));
        let mut info = String::new();
        assert_eq!(
            dissect(&sh, 1, &mut c, &mut info),
            Dissected::Pdu(sh.len(), "TLSv1.3")
        );
        for r in [
            record(20, 0x0303, &[1]),
            record(22, 0x0303, &[0xaa; 40]),
            record(21, 0x0303, &[1, 0]),
            record(23, 0x0303, &[0; 9]),
        ] {
            dissect(&r, 1, &mut c, &mut info);
        }
        assert_eq!(
            info,
            "Server Hello, Change Cipher Spec, Encrypted Handshake Message, Encrypted Alert, Application Data"
        );
        // Before its Change Cipher Spec a direction's alerts are plain.
        let mut info = String::new();
        dissect(&record(21, 0x0303, &[2, 40]), 0, &mut c, &mut info);
        assert_eq!(info, "Alert (Level: Fatal, Description: Handshake Failure)");
        assert_eq!(dissect(b"hello", 0, &mut c, &mut info), Dissected::Reject);
    }
}
