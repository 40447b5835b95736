//! The verdict of Wireshark's sequence analysis on one segment: its flag bits and
//! the Info column prefixes they print.

use super::text::TextSink;
use flags::*;

/// Analysis flag bits, the values Wireshark uses (`TCP_A_*`).
pub mod flags {
    /// "[TCP Retransmission]".
    pub const RETRANSMISSION: u32 = 0x0001;
    /// "[TCP Previous segment not captured]".
    pub const LOST_PACKET: u32 = 0x0002;
    /// "[TCP ACKed unseen segment]".
    pub const ACK_LOST_PACKET: u32 = 0x0004;
    /// "[TCP Keep-Alive]".
    pub const KEEP_ALIVE: u32 = 0x0008;
    /// "[TCP Dup ACK f#n]".
    pub const DUPLICATE_ACK: u32 = 0x0010;
    /// "[TCP ZeroWindow]".
    pub const ZERO_WINDOW: u32 = 0x0020;
    /// "[TCP ZeroWindowProbe]".
    pub const ZERO_WINDOW_PROBE: u32 = 0x0040;
    /// "[TCP ZeroWindowProbeAck]".
    pub const ZERO_WINDOW_PROBE_ACK: u32 = 0x0080;
    /// "[TCP Keep-Alive ACK]".
    pub const KEEP_ALIVE_ACK: u32 = 0x0100;
    /// "[TCP Out-Of-Order]".
    pub const OUT_OF_ORDER: u32 = 0x0200;
    /// "[TCP Fast Retransmission]".
    pub const FAST_RETRANSMISSION: u32 = 0x0400;
    /// "[TCP Window Update]".
    pub const WINDOW_UPDATE: u32 = 0x0800;
    /// "[TCP Window Full]".
    pub const WINDOW_FULL: u32 = 0x1000;
    /// "[TCP Port numbers reused]".
    pub const REUSED_PORTS: u32 = 0x2000;
    /// "[TCP Spurious Retransmission]".
    pub const SPURIOUS_RETRANSMISSION: u32 = 0x4000;
}

/// What the analysis says about one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqVerdict {
    /// `flags::*` bits.
    pub flags: u32,
    /// Duplicate ACK number (the n of "#n").
    pub dupack_num: u32,
    /// Frame of the last non-duplicate ACK (the f of "f#n").
    pub dupack_frame: u64,
}

/// The Info column prefixes for a verdict, in the order tshark prints them.
pub fn info_prefix(v: &SeqVerdict) -> String {
    if v.flags == 0 {
        return String::new();
    }
    let mut s = String::new();
    write_info_prefix(v, &mut s);
    s
}

/// Writes [`info_prefix`] to `out`; nothing at all for a plain segment.
pub(crate) fn write_info_prefix(v: &SeqVerdict, out: &mut impl TextSink) {
    if v.flags == 0 {
        return;
    }
    // Wireshark prepends each text in this order, so the last one comes first.
    let mut parts: Vec<String> = Vec::new();
    let mut add = |bit: u32, text: &str| {
        if v.flags & bit != 0 {
            parts.push(text.to_string());
        }
    };
    add(REUSED_PORTS, "[TCP Port numbers reused] ");
    add(RETRANSMISSION, "[TCP Retransmission] ");
    add(FAST_RETRANSMISSION, "[TCP Fast Retransmission] ");
    add(SPURIOUS_RETRANSMISSION, "[TCP Spurious Retransmission] ");
    add(OUT_OF_ORDER, "[TCP Out-Of-Order] ");
    add(LOST_PACKET, "[TCP Previous segment not captured] ");
    add(ACK_LOST_PACKET, "[TCP ACKed unseen segment] ");
    add(WINDOW_UPDATE, "[TCP Window Update] ");
    add(WINDOW_FULL, "[TCP Window Full] ");
    add(KEEP_ALIVE, "[TCP Keep-Alive] ");
    add(KEEP_ALIVE_ACK, "[TCP Keep-Alive ACK] ");
    if v.flags & DUPLICATE_ACK != 0 && v.dupack_num != 0 {
        parts.push(format!(
            "[TCP Dup ACK {}#{}] ",
            v.dupack_frame, v.dupack_num
        ));
    }
    let mut add = |bit: u32, text: &str| {
        if v.flags & bit != 0 {
            parts.push(text.to_string());
        }
    };
    add(ZERO_WINDOW_PROBE, "[TCP ZeroWindowProbe] ");
    add(ZERO_WINDOW, "[TCP ZeroWindow] ");
    add(ZERO_WINDOW_PROBE_ACK, "[TCP ZeroWindowProbeAck] ");
    for part in parts.iter().rev() {
        out.put_str(part);
    }
}
