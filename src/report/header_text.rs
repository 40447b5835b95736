//! The words for a packet's header fields: each field's name and meaning in the report's
//! language, as the rows of the table `header_table(p)` adds (the analysis crate finds the
//! fields and recomputes the checksums; the text lives here).

use crate::analysis::{Extra, FieldKey, HeaderField, Packet, header_fields};
use crate::i18n::Lang;

/// What `--deterministic` shows instead of a checksum (it changes with ports, numbers and
/// IP IDs in every run).
const MASKED: &str = "0x####";

fn name(key: FieldKey, lang: Lang) -> String {
    let (en, zh) = match key {
        FieldKey::IpVersion => ("IPv4 version", "IPv4 版本"),
        FieldKey::IpHeaderLen => ("IPv4 header length (IHL)", "IPv4 首部长度"),
        FieldKey::IpDsfield => ("Differentiated services + ECN", "区分服务 + ECN"),
        FieldKey::IpTotalLen => ("Total length", "总长度"),
        FieldKey::IpId => ("Identification", "标识"),
        FieldKey::IpFlags => ("Flags (reserved, DF, MF)", "标志（保留、DF、MF）"),
        FieldKey::IpFragOffset => ("Fragment offset", "片偏移"),
        FieldKey::IpTtl => ("Time to live", "生存时间 TTL"),
        FieldKey::IpProto => ("Protocol", "协议"),
        FieldKey::IpChecksum => ("Header checksum", "首部检验和"),
        FieldKey::IpSrc => ("Source address", "源地址"),
        FieldKey::IpDst => ("Destination address", "目的地址"),
        FieldKey::TcpSrcPort => ("Source port", "源端口"),
        FieldKey::TcpDstPort => ("Destination port", "目的端口"),
        FieldKey::TcpSeq => ("Sequence number", "序号"),
        FieldKey::TcpAck => ("Acknowledgment number", "确认号"),
        FieldKey::TcpDataOffset => ("Data offset (header length)", "数据偏移（首部长度）"),
        FieldKey::TcpReserved => ("Reserved", "保留"),
        FieldKey::TcpFlags => (
            "Control bits: CWR ECE | URG ACK PSH RST SYN FIN",
            "控制位：CWR ECE | URG ACK PSH RST SYN FIN",
        ),
        FieldKey::TcpWindow => ("Window", "窗口"),
        FieldKey::TcpChecksum => ("Checksum", "检验和"),
        FieldKey::TcpUrgent => ("Urgent pointer", "紧急指针"),
        FieldKey::TcpOption(k) => {
            let (en, zh) = match k {
                0 => ("end of option list", "选项表结束"),
                1 => ("no-operation (padding)", "无操作（填充）"),
                2 => ("maximum segment size", "最大报文段长度 MSS"),
                3 => ("window scale", "窗口扩大"),
                4 => ("SACK permitted", "允许选择确认 SACK_PERM"),
                5 => ("SACK", "选择确认 SACK"),
                8 => ("timestamps", "时间戳"),
                _ => ("unknown", "未知"),
            };
            return match lang {
                Lang::En => format!("Option kind {k}: {en}"),
                Lang::Zh => format!("选项（类型 {k}）：{zh}"),
            };
        }
    };
    lang.pick(en, zh).to_string()
}

fn meaning(f: &HeaderField, lang: Lang, deterministic: bool) -> String {
    let zh = lang == Lang::Zh;
    match (&f.extra, f.key) {
        (Extra::Words(n, unit), FieldKey::IpFragOffset) => match lang {
            Lang::En => format!("{n} × {unit} bytes: where this piece starts in the datagram"),
            Lang::Zh => format!("{n} × {unit} 字节：本片在原数据报中的位置"),
        },
        (Extra::Words(n, unit), _) => match lang {
            Lang::En => format!("{n} words × {unit} = {} bytes", n * unit),
            Lang::Zh => format!("{n} 个 32 位字 × {unit} = {} 字节", n * unit),
        },
        (Extra::Flags(names), _) => match lang {
            Lang::En => format!("set: {names}"),
            Lang::Zh => format!("置 1 的位：{names}"),
        },
        (Extra::Relative(r), FieldKey::TcpSeq) => match lang {
            Lang::En => format!("the first byte's number; Wireshark's relative seq {r}"),
            Lang::Zh => format!("本报文段第一个字节的编号；Wireshark 的相对序号为 {r}"),
        },
        (Extra::Relative(r), _) => match lang {
            Lang::En => format!("the next byte expected from the peer; relative ack {r}"),
            Lang::Zh => format!("期望收到对方的下一个字节的序号；相对确认号为 {r}"),
        },
        (Extra::Window(w, Some((s, scaled))), _) => match lang {
            Lang::En => format!(
                "{w} × 2^{s} = {scaled} bytes the sender can still receive (window scaling)"
            ),
            Lang::Zh => format!("{w} × 2^{s} = {scaled} 字节：发送方还能接收的数据量（窗口扩大）"),
        },
        (Extra::Window(w, None), _) => match lang {
            Lang::En => format!("{w} bytes the sender can receive (never scaled in a SYN)"),
            Lang::Zh => format!("发送方能接收 {w} 字节（SYN 中的窗口从不扩大）"),
        },
        (Extra::Checksum(computed), _) => {
            let field = u16::from_str_radix(f.value.trim_start_matches("0x"), 16).ok();
            let shown = |v: u16| {
                if deterministic {
                    MASKED.to_string()
                } else {
                    format!("0x{v:04x}")
                }
            };
            let over = match (f.key, zh) {
                (FieldKey::TcpChecksum, false) => {
                    "over the pseudo-header (source, destination, 0, protocol 6, TCP length), \
                     the TCP header and the data"
                }
                (FieldKey::TcpChecksum, true) => {
                    "对伪首部（源地址、目的地址、0、协议 6、TCP 长度）、TCP 首部和数据"
                }
                (_, false) => "over the IPv4 header",
                (_, true) => "对 IPv4 首部",
            };
            match (computed, field, lang) {
                (Some(c), Some(v), Lang::En) if *c == v => {
                    format!("recomputed {over}: {}, equal: correct", shown(*c))
                }
                (Some(c), Some(v), Lang::Zh) if *c == v => {
                    format!("{over}重新计算：{}，相等：正确", shown(*c))
                }
                (Some(c), _, Lang::En) => format!("recomputed {over}: {}, different", shown(*c)),
                (Some(c), _, Lang::Zh) => format!("{over}重新计算：{}，不相等", shown(*c)),
                (None, _, Lang::En) => "not recomputed (options or a cut capture)".into(),
                (None, _, Lang::Zh) => "未能重新计算（有选项或抓包被截断）".into(),
            }
        }
        (Extra::Option(v), _) if !v.is_empty() => v.clone(),
        _ => match (f.key, lang) {
            (FieldKey::IpVersion, Lang::En) => "IPv4".into(),
            (FieldKey::IpDsfield, Lang::En) if f.value == "0x00" => {
                "0: no priority or congestion mark".into()
            }
            (FieldKey::IpDsfield, Lang::Zh) if f.value == "0x00" => {
                "0：没有优先级或拥塞标记".into()
            }
            (FieldKey::IpDsfield, Lang::En) => "priority (DSCP) and congestion (ECN) marks".into(),
            (FieldKey::IpDsfield, Lang::Zh) => "优先级（DSCP）与拥塞（ECN）标记".into(),
            (FieldKey::IpTotalLen, Lang::En) => "IPv4 header + TCP header + data, in bytes".into(),
            (FieldKey::IpTotalLen, Lang::Zh) => "IPv4 首部 + TCP 首部 + 数据，以字节计".into(),
            (FieldKey::IpId, Lang::En) => "the same in every fragment of one datagram".into(),
            (FieldKey::IpId, Lang::Zh) => "同一数据报的各分片标识相同".into(),
            (FieldKey::IpTtl, Lang::En) => "hops left before a router discards it".into(),
            (FieldKey::IpTtl, Lang::Zh) => "被路由器丢弃之前还能经过的跳数".into(),
            (FieldKey::IpProto, Lang::En) => "6: the payload is TCP".into(),
            (FieldKey::IpProto, Lang::Zh) => "6：数据部分是 TCP".into(),
            (FieldKey::TcpReserved, Lang::En) => "must be zero".into(),
            (FieldKey::TcpReserved, Lang::Zh) => "必须为 0".into(),
            (FieldKey::TcpUrgent, Lang::En) => "meaningful only with URG set".into(),
            (FieldKey::TcpUrgent, Lang::Zh) => "只有 URG 置 1 时才有意义".into(),
            (FieldKey::TcpSrcPort | FieldKey::TcpDstPort, Lang::En) => {
                "identifies the application's socket".into()
            }
            (FieldKey::TcpSrcPort | FieldKey::TcpDstPort, Lang::Zh) => {
                "标识应用进程的套接字".into()
            }
            (FieldKey::TcpOption(1), Lang::En) => "aligns the next option".into(),
            (FieldKey::TcpOption(1), Lang::Zh) => "使下一个选项对齐".into(),
            (FieldKey::TcpOption(4), Lang::En) => "the sender can take SACK blocks".into(),
            (FieldKey::TcpOption(4), Lang::Zh) => "发送方能处理 SACK 块".into(),
            _ => String::new(),
        },
    }
}

/// The header table's column names.
pub fn header_columns(lang: Lang) -> Vec<String> {
    [
        lang.pick("Field", "字段"),
        lang.pick("Bits", "位数"),
        lang.pick("Binary", "二进制"),
        lang.pick("Value", "值"),
        lang.pick("Meaning", "含义"),
        lang.pick("Wireshark field", "Wireshark 字段"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// One row per IPv4 and TCP header field of `p` (None unless it is TCP over IPv4); with
/// `deterministic` the checksums, which change in every run, are masked.
pub fn header_rows(p: &Packet, lang: Lang, deterministic: bool) -> Option<Vec<Vec<String>>> {
    let fields = header_fields(p)?;
    Some(
        fields
            .iter()
            .map(|f| {
                let checksum = matches!(f.key, FieldKey::IpChecksum | FieldKey::TcpChecksum);
                let value = if checksum && deterministic {
                    MASKED.to_string()
                } else {
                    f.value.clone()
                };
                let meaning = if f.key == FieldKey::IpFlags {
                    ip_flags_meaning(f, lang)
                } else {
                    meaning(f, lang, deterministic)
                };
                vec![
                    name(f.key, lang),
                    f.bits.to_string(),
                    f.binary.clone().unwrap_or_default(),
                    value,
                    meaning,
                    format!("`{}`", f.wireshark),
                ]
            })
            .collect(),
    )
}

/// The IPv4 flags' meaning from their bits (reserved, DF, MF).
fn ip_flags_meaning(f: &HeaderField, lang: Lang) -> String {
    let b = f.binary.clone().unwrap_or_default();
    let df = b.get(1..2) == Some("1");
    let mf = b.get(2..3) == Some("1");
    match lang {
        Lang::En => format!(
            "DF {}: {}; MF {}: {}",
            u8::from(df),
            if df {
                "do not fragment"
            } else {
                "may be fragmented"
            },
            u8::from(mf),
            if mf {
                "more fragments follow"
            } else {
                "last (or only) piece"
            }
        ),
        Lang::Zh => format!(
            "DF={}：{}；MF={}：{}",
            u8::from(df),
            if df { "不分片" } else { "可以分片" },
            u8::from(mf),
            if mf {
                "还有分片"
            } else {
                "最后一片（或未分片）"
            }
        ),
    }
}
