//! The comments of capture.pcapng: each packet the report explains carries that
//! explanation (a TCP segment's step of the handshake or close, the data it carries, what
//! its ack number acknowledges, Wireshark's anomalies; an ARP message, a UDP datagram, an
//! ICMP port unreachable, an IPv4 fragment), so a student who opens the capture in
//! Wireshark reads it in the packet details and in Expert Info. Every number is this
//! capture's (Wireshark's relative sequence numbers).

use super::states_text::{change_cell, step_name};
use super::story_text::Describe;
use crate::analysis::{Packet, Side, StateChange, Step, TcpInfo, Trace, tcp_states};
use crate::i18n::Lang;
use crate::wire::TcpFlags;
use std::collections::HashMap;
use std::net::SocketAddr;

/// What one end sent that a later ack number can name.
#[derive(Default)]
struct Sent {
    /// Data segments: relative seq, seq + len, frame.
    data: Vec<(u32, u32, u64)>,
    /// The FIN's relative seq.
    fin: Option<u32>,
}

/// The comment of each explained frame of `trace`, by frame number, in `lang`.
pub fn packet_comments(trace: &Trace, lang: Lang) -> HashMap<u64, String> {
    let changes: HashMap<u64, StateChange> = tcp_states(&trace.packets)
        .into_iter()
        .map(|c| (c.frame, c))
        .collect();
    let mut sent: HashMap<(u32, bool), Sent> = HashMap::new();
    // The last ack number each end sent: the next sequence number it expects.
    let mut last_ack: HashMap<(u32, bool), u32> = HashMap::new();
    let mut out = HashMap::new();
    let sep = lang.pick("; ", "；");
    for p in &trace.packets {
        let Some(t) = &p.tcp else {
            if let Some(text) = other_text(p, lang) {
                out.insert(p.number, text);
            }
            continue;
        };
        let Some(stream) = trace.streams.get(t.stream as usize) else {
            continue;
        };
        let Some(from) = source(p).map(|a| {
            if a == stream.client {
                Side::Client
            } else {
                Side::Server
            }
        }) else {
            continue;
        };
        let change = changes.get(&p.number);
        let acks = sent
            .get(&(t.stream, from.peer() == Side::Client))
            .and_then(|peer| ack_meaning(t, change, peer, lang));
        let mut parts = Vec::new();
        if let Some(c) = change.filter(|_| t.flags.contains(TcpFlags::RST)) {
            let expected = last_ack.get(&(t.stream, from.peer() == Side::Client));
            parts.push(rst_text(t, expected.copied(), lang));
            parts.push(change_cell(&StateChange { step: None, ..*c }, lang));
        } else if let Some(c) = change {
            parts.push(segment_text(t, c, acks.as_deref(), lang));
        } else if t.len > 0 {
            parts.push(data_text(t, from, lang));
        } else if let Some(why) = &acks {
            parts.push(format!("ACK, ack={} ({why})", t.ack));
        } else if t.flags.contains(TcpFlags::RST) {
            let expected = last_ack.get(&(t.stream, from.peer() == Side::Client));
            parts.push(rst_text(t, expected.copied(), lang));
        }
        if t.flags.contains(TcpFlags::ACK) && !t.flags.contains(TcpFlags::RST) {
            last_ack.insert((t.stream, from == Side::Client), t.ack);
        }
        let own = sent.entry((t.stream, from == Side::Client)).or_default();
        if t.len > 0 && !t.flags.contains(TcpFlags::RST) {
            own.data.push((t.seq, t.seq.wrapping_add(t.len), p.number));
        }
        if t.flags.contains(TcpFlags::FIN) && own.fin.is_none() {
            own.fin = Some(t.seq.wrapping_add(t.len));
        }
        let anomalies: Vec<String> = crate::analysis::anomalies_in(t.analysis.flags)
            .map(|a| a.describe(lang))
            .collect();
        if !anomalies.is_empty() {
            parts.push(format!(
                "{}{}",
                lang.pick("Wireshark: ", "Wireshark 分析："),
                anomalies.join(lang.pick(", ", "、"))
            ));
        }
        if !parts.is_empty() {
            out.insert(p.number, parts.join(sep));
        }
    }
    out
}

/// The comment of an ARP message, an ICMP error, a UDP datagram or an IPv4 fragment: what
/// the report's ARP, UDP and fragmentation explanations say of it, with its own numbers.
fn other_text(p: &Packet, lang: Lang) -> Option<String> {
    use crate::analysis::fmt_mac;
    if let Some(a) = &p.arp {
        let mac = fmt_mac(&a.sender_mac);
        return match (a.opcode, lang) {
            (1, Lang::En) => Some(format!(
                "ARP request: who has {}? asked by {} ({mac})",
                a.target_ip, a.sender_ip
            )),
            (1, Lang::Zh) => Some(format!(
                "ARP 请求：询问 {} 的 MAC 地址，由 {}（{mac}）发出",
                a.target_ip, a.sender_ip
            )),
            (2, Lang::En) => Some(format!(
                "ARP reply: {} is at {mac}, sent back to {}",
                a.sender_ip, a.target_ip
            )),
            (2, Lang::Zh) => Some(format!(
                "ARP 响应：{} 的 MAC 地址是 {mac}，发回给 {}",
                a.sender_ip, a.target_ip
            )),
            _ => None,
        };
    }
    let ip = p.ip.as_ref()?;
    let mut parts = Vec::new();
    if let Some(i) = &p.icmp {
        if i.icmp_type == 3 && i.code == 3 {
            let port = i.quote.as_ref().and_then(|q| q.ports).map(|(_, d)| d);
            parts.push(match (lang, port) {
                (Lang::En, Some(port)) => format!(
                    "ICMP destination unreachable, code 3 (port unreachable): nothing listens on port {port}"
                ),
                (Lang::Zh, Some(port)) => {
                    format!("ICMP 终点不可达，代码 3（端口不可达）：端口 {port} 上没有进程监听")
                }
                (Lang::En, None) => "ICMP destination unreachable, code 3 (port unreachable)".into(),
                (Lang::Zh, None) => "ICMP 终点不可达，代码 3（端口不可达）".into(),
            });
        }
    } else if let Some(u) = &p.udp {
        let data = u.length.saturating_sub(8);
        parts.push(match lang {
            Lang::En => format!(
                "UDP datagram: length {} = 8-byte header + {data} bytes of data",
                u.length
            ),
            Lang::Zh => format!(
                "UDP 用户数据报：长度 {} = 8 字节首部 + {data} 字节数据",
                u.length
            ),
        });
    }
    if ip.version == 4 && (ip.mf || ip.frag_offset > 0) {
        let units = ip.frag_offset / 8;
        let mf = u8::from(ip.mf);
        parts.push(match lang {
            Lang::En => format!(
                "IPv4 fragment of datagram id 0x{:04x}: offset {units} × 8 = {} bytes, MF={mf}",
                ip.id, ip.frag_offset
            ),
            Lang::Zh => format!(
                "IPv4 分片（标识 0x{:04x}）：片偏移 {units} × 8 = {} 字节，MF={mf}",
                ip.id, ip.frag_offset
            ),
        });
    }
    (!parts.is_empty()).then(|| parts.join(lang.pick("; ", "；")))
}

/// The segment's source address and port.
fn source(p: &Packet) -> Option<SocketAddr> {
    Some(SocketAddr::new(
        p.ip.as_ref()?.src,
        p.tcp.as_ref()?.src_port,
    ))
}

/// What the ack number of `t` acknowledges, when it names something the peer sent: its
/// SYN (ISN + 1), its FIN (seq + 1) or the end of one of its data segments (seq + len).
fn ack_meaning(
    t: &TcpInfo,
    change: Option<&StateChange>,
    peer: &Sent,
    lang: Lang,
) -> Option<String> {
    if !t.flags.contains(TcpFlags::ACK) || t.flags.contains(TcpFlags::RST) {
        return None;
    }
    if let Some(step) = change.and_then(|c| c.step) {
        match step {
            Step::Handshake(2) => {
                return Some(lang.pick("client ISN + 1", "客户端 ISN + 1").into());
            }
            Step::Handshake(3) => {
                return Some(lang.pick("server ISN + 1", "服务器 ISN + 1").into());
            }
            _ => {}
        }
    }
    if let Some(fin) = peer.fin.filter(|f| f.wrapping_add(1) == t.ack) {
        return Some(match lang {
            Lang::En => format!("FIN seq {fin} + 1"),
            Lang::Zh => format!("FIN 的序号 {fin} + 1"),
        });
    }
    let (seq, end, frame) = peer.data.iter().rev().find(|(_, end, _)| *end == t.ack)?;
    let len = end.wrapping_sub(*seq);
    Some(match lang {
        Lang::En => format!("seq {seq} + len {len} of frame {frame}: the next byte expected"),
        Lang::Zh => format!("第 {frame} 帧的序号 {seq} + 长度 {len}：期望收到的下一个字节"),
    })
}

/// "RST, seq=2: exactly the next sequence number the receiver expects (its last ack)".
fn rst_text(t: &TcpInfo, expected: Option<u32>, lang: Lang) -> String {
    let mut text = format!("{}, seq={}", flag_names(t.flags), t.seq);
    if t.flags.contains(TcpFlags::ACK) {
        text.push_str(&format!(", ack={}", t.ack));
    }
    match (expected, lang) {
        (Some(e), Lang::En) if e == t.seq => text.push_str(&format!(
            ": exactly the next sequence number the receiver expects (its last ack={e})"
        )),
        (Some(e), Lang::En) => text.push_str(&format!(
            ": not the next sequence number the receiver expects (its last ack={e})"
        )),
        (Some(e), Lang::Zh) if e == t.seq => text.push_str(&format!(
            "：恰好是接收方期望的下一个序号（它最后发出的 ack={e}）"
        )),
        (Some(e), Lang::Zh) => text.push_str(&format!(
            "：不是接收方期望的下一个序号（它最后发出的 ack={e}）"
        )),
        (None, _) => {}
    }
    text
}

/// "SYN+ACK", "FIN+ACK", "ACK", "RST": the control bits a textbook names.
fn flag_names(flags: TcpFlags) -> String {
    let names: Vec<&str> = [
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
    ]
    .into_iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, n)| n)
    .collect();
    names.join("+")
}

/// "第二次握手：SYN+ACK, seq=0, ack=1 (客户端 ISN + 1)；服务器 → 同步收到 SYN-RCVD".
fn segment_text(t: &TcpInfo, c: &StateChange, acks: Option<&str>, lang: Lang) -> String {
    let mut text = String::new();
    if let Some(step) = c.step {
        text.push_str(&step_name(step, lang));
        text.push_str(lang.pick(": ", "："));
    }
    text.push_str(&flag_names(t.flags));
    text.push_str(&format!(", seq={}", t.seq));
    if t.flags.contains(TcpFlags::SYN) {
        let whose = c.sender.describe(lang);
        text.push_str(&match lang {
            Lang::En => format!(" ({whose} ISN)"),
            Lang::Zh => format!(" ({whose} ISN)"),
        });
    }
    if t.len > 0 {
        text.push_str(&format!(", len={}", t.len));
    }
    if t.flags.contains(TcpFlags::ACK) {
        text.push_str(&format!(", ack={}", t.ack));
        if let Some(why) = acks {
            text.push_str(&format!(" ({why})"));
        }
    }
    // The states after it, without the step's name a second time.
    let states = change_cell(&StateChange { step: None, ..*c }, lang);
    if !states.is_empty() {
        text.push_str(lang.pick("; ", "；"));
        text.push_str(&states);
    }
    text
}

/// "data: 31 bytes from the client, seq=1, next seq=32 = seq + len".
fn data_text(t: &TcpInfo, from: Side, lang: Lang) -> String {
    let next = t.seq.wrapping_add(t.len);
    let who = from.describe(lang);
    match lang {
        Lang::En => format!(
            "data: {} bytes from the {who}, seq={}, next seq={next} = seq + len",
            t.len, t.seq
        ),
        Lang::Zh => format!(
            "数据：{who}发送 {} 字节，seq={}，下一个序号 {next} = seq + len",
            t.len, t.seq
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_like_the_textbook() {
        assert_eq!(flag_names(TcpFlags(0x012)), "SYN+ACK");
        assert_eq!(flag_names(TcpFlags(0x011)), "FIN+ACK");
        assert_eq!(flag_names(TcpFlags(0x014)), "RST+ACK");
    }
}
