//! The words for window scaling and SACK permitted under a capture's packet table: what the
//! SYNs announced, and why a `Win=` can exceed the 16-bit window field's 65535.

use crate::analysis::{SynAnnounce, WindowScaling};
use crate::i18n::Lang;
use std::fmt::Write;

/// A paragraph (with its `###` title) explaining the `WS=`, `SACK_PERM` and scaled `Win=`
/// of the first stream in `facts`, or `None` when no captured handshake announced either.
pub fn scaling_text(facts: &[WindowScaling], lang: Lang) -> Option<String> {
    let f = facts.first()?;
    let mut out = String::new();
    let frames = format!("{}, {}", f.client.frame, f.server.frame);
    let _ = match lang {
        Lang::En => write!(
            out,
            "### Window scaling and SACK_PERM (frames {frames})\n\n\
             The window field of the TCP header is 16 bits: it can say at most 65535 bytes. "
        ),
        Lang::Zh => write!(
            out,
            "### 窗口扩大选项与 SACK_PERM（第 {frames} 帧）\n\n\
             TCP 首部的窗口字段只有 16 位，最多只能表示 65535 字节。"
        ),
    };
    out.push_str(&announce("client", &f.client, lang));
    out.push_str(&announce("server", &f.server, lang));
    let _ = match (lang, f.scaling_on()) {
        (Lang::En, true) => write!(
            out,
            "Both SYNs carried the option, so from the handshake on each direction's window field is multiplied \
             by the multiplier its sender announced; the SYN segments themselves are never scaled (RFC 7323, \
             section 2.2). "
        ),
        (Lang::Zh, true) => write!(
            out,
            "两个 SYN 都带有这个选项，所以从握手之后起，每个方向的窗口字段都要乘以该方向发送方所宣布的倍数；\
             SYN 报文段本身的窗口从不扩大（RFC 7323 第 2.2 节）。"
        ),
        (Lang::En, false) => write!(
            out,
            "Window scaling is used only when both SYNs carry the option (RFC 7323, section 2.2); here they did \
             not, so every window field is the window itself. "
        ),
        (Lang::Zh, false) => write!(
            out,
            "只有两个 SYN 都带有窗口扩大选项时才使用窗口扩大（RFC 7323 第 2.2 节）；这里并非如此，\
             所以每个窗口字段就是窗口本身。"
        ),
    };
    if let Some(e) = f.example.filter(|_| f.scaling_on()) {
        let m = 1u64 << e.shift;
        let _ = match lang {
            Lang::En => write!(
                out,
                "Frame {}: Win={} in the Info column is the scaled window (`tcp.window_size`): the field on the \
                 wire (`tcp.window_size_value`) is {} and {} × {m} = {}{}. ",
                e.frame,
                e.scaled,
                e.field,
                e.field,
                e.scaled,
                if e.scaled > 65535 {
                    ", more than a 16-bit field could hold"
                } else {
                    ""
                }
            ),
            Lang::Zh => write!(
                out,
                "第 {} 帧：信息列中的 Win={} 是扩大后的窗口值（`tcp.window_size`）：线路上的窗口字段\
                 （`tcp.window_size_value`）是 {}，{} × {m} = {}{}。",
                e.frame,
                e.scaled,
                e.field,
                e.field,
                e.scaled,
                if e.scaled > 65535 {
                    "，超过了 16 位字段所能表示的范围"
                } else {
                    ""
                }
            ),
        };
    }
    let _ = match (lang, f.sack_on()) {
        (Lang::En, true) => write!(
            out,
            "Both SYNs also carried SACK_PERM (SACK permitted, RFC 2018): on this connection either end may \
             acknowledge blocks that arrived out of order with SACK options, beyond the cumulative ack number."
        ),
        (Lang::Zh, true) => write!(
            out,
            "两个 SYN 还都带有 SACK_PERM（允许选择确认，RFC 2018）：在这条连接上，任何一端都可以用选择确认 SACK \
             选项确认失序到达的数据块，而不仅仅是累积确认号之前的数据。"
        ),
        (Lang::En, false) if f.client.sack_perm || f.server.sack_perm => write!(
            out,
            "SACK_PERM (SACK permitted, RFC 2018) was in only one SYN, so neither end may send SACK options on \
             this connection."
        ),
        (Lang::Zh, false) if f.client.sack_perm || f.server.sack_perm => write!(
            out,
            "只有一个 SYN 带有 SACK_PERM（允许选择确认，RFC 2018），所以这条连接上双方都不能发送选择确认 SACK 选项。"
        ),
        _ => Ok(()),
    };
    let same = facts[1..].iter().filter(|o| f.same_options(o)).count();
    let other = facts.len() - 1 - same;
    let _ = match lang {
        Lang::En if same > 0 => write!(
            out,
            " The other {same} connection(s) of this capture announced the same options."
        ),
        Lang::Zh if same > 0 => write!(out, "这次抓包中其余 {same} 条连接宣布的选项相同。"),
        _ => Ok(()),
    };
    let _ = match lang {
        Lang::En if other > 0 => write!(
            out,
            " {other} other connection(s) announced different ones (see their SYNs)."
        ),
        Lang::Zh if other > 0 => write!(out, "另有 {other} 条连接宣布的选项不同（见它们的 SYN）。"),
        _ => Ok(()),
    };
    out.push('\n');
    Some(out)
}

/// One sentence on what `side`'s SYN announced.
fn announce(side: &str, a: &SynAnnounce, lang: Lang) -> String {
    let (en_side, zh_side, en_syn) = match side {
        "client" => ("client", "客户端", "SYN"),
        _ => ("server", "服务器", "SYN-ACK"),
    };
    match (lang, a.shift) {
        (Lang::En, Some(s)) => format!(
            "The {en_side}'s {en_syn} (frame {}) carried the window scale option with shift {s}: Wireshark's \
             WS={} is the multiplier 2^{s}. ",
            a.frame,
            1u64 << s
        ),
        (Lang::En, None) => format!(
            "The {en_side}'s {en_syn} (frame {}) carried no window scale option. ",
            a.frame
        ),
        (Lang::Zh, Some(s)) => format!(
            "{zh_side}的 {en_syn}（第 {} 帧）带有窗口扩大选项，移位数为 {s}：Wireshark 显示的 WS={} 是倍数 2^{s}。",
            a.frame,
            1u64 << s
        ),
        (Lang::Zh, None) => format!(
            "{zh_side}的 {en_syn}（第 {} 帧）没有带窗口扩大选项。",
            a.frame
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::ScaledWindow;

    fn facts(server_shift: Option<u8>) -> WindowScaling {
        WindowScaling {
            stream: 0,
            client: SynAnnounce {
                frame: 1,
                shift: Some(10),
                sack_perm: true,
            },
            server: SynAnnounce {
                frame: 2,
                shift: server_shift,
                sack_perm: true,
            },
            example: Some(ScaledWindow {
                frame: 7,
                field: 69,
                shift: 10,
                scaled: 70656,
            }),
        }
    }

    #[test]
    fn explains_the_multiplier_and_the_scaled_window() {
        let text = scaling_text(&[facts(Some(10)), facts(Some(10))], Lang::En).unwrap();
        assert!(text.contains("shift 10: Wireshark's WS=1024"), "{text}");
        assert!(text.contains("Win=70656"), "{text}");
        assert!(text.contains("69 × 1024 = 70656, more than"), "{text}");
        assert!(
            text.contains("SACK_PERM (SACK permitted, RFC 2018)"),
            "{text}"
        );
        assert!(text.contains("other 1 connection(s)"), "{text}");
        let zh = scaling_text(&[facts(Some(10))], Lang::Zh).unwrap();
        assert!(
            zh.contains("移位数为 10") && zh.contains("倍数 2^10"),
            "{zh}"
        );
    }

    #[test]
    fn one_sided_option_scales_nothing() {
        let text = scaling_text(&[facts(None)], Lang::En).unwrap();
        assert!(text.contains("carried no window scale option"), "{text}");
        assert!(!text.contains("Win=70656"), "{text}");
        assert!(scaling_text(&[], Lang::En).is_none());
    }
}
