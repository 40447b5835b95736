//! The words for TCP states: each state by the RFC's name (with the textbook's Chinese name
//! in Chinese), the textbook's ordinals (第一次握手 … 第四次挥手), and the cell the packet
//! tables and flow graphs show for a segment that changed a state.

use crate::analysis::{Side, StateChange, Step, TcpState};
use crate::i18n::Lang;

/// `state` as a report in `lang` names it: "SYN-SENT", or "同步已发送 SYN-SENT".
pub fn state_name(state: TcpState, lang: Lang) -> String {
    let zh = match state {
        TcpState::Closed => "关闭",
        TcpState::Listen => "监听",
        TcpState::SynSent => "同步已发送",
        TcpState::SynRcvd => "同步收到",
        TcpState::Established => "已建立连接",
        TcpState::FinWait1 => "终止等待1",
        TcpState::FinWait2 => "终止等待2",
        TcpState::CloseWait => "关闭等待",
        TcpState::Closing => "同时关闭",
        TcpState::LastAck => "最后确认",
        TcpState::TimeWait => "时间等待",
    };
    match lang {
        Lang::En => state.name().to_string(),
        Lang::Zh => format!("{zh} {}", state.name()),
    }
}

/// The textbook's name of a handshake or close segment: "handshake 1/3", "第一次握手".
pub fn step_name(step: Step, lang: Lang) -> String {
    const ZH: [&str; 5] = ["", "一", "二", "三", "四"];
    match (lang, step) {
        (Lang::En, Step::Handshake(n)) => format!("handshake {n}/3"),
        (Lang::En, Step::Close(n)) => format!("close {n}/4"),
        (Lang::En, Step::CloseSecondAndThird) => "close 2+3/4".into(),
        (Lang::Zh, Step::Handshake(n)) => format!("第{}次握手", ZH[usize::from(n).min(4)]),
        (Lang::Zh, Step::Close(n)) => format!("第{}次挥手", ZH[usize::from(n).min(4)]),
        (Lang::Zh, Step::CloseSecondAndThird) => "第二、三次挥手（合并）".into(),
    }
}

fn side_name(side: Side, lang: Lang) -> &'static str {
    match (lang, side) {
        (Lang::En, Side::Client) => "client",
        (Lang::En, Side::Server) => "server",
        (Lang::Zh, Side::Client) => "客户端",
        (Lang::Zh, Side::Server) => "服务器",
    }
}

/// The packet-table cell of a segment that changed a state: "handshake 1/3: client →
/// SYN-SENT", "第一次挥手：客户端 → 终止等待1 FIN-WAIT-1；服务器 → 关闭等待 CLOSE-WAIT".
pub fn change_cell(c: &StateChange, lang: Lang) -> String {
    let mut parts = Vec::new();
    if let Some(s) = c.sender_enters {
        parts.push(format!(
            "{} → {}",
            side_name(c.sender, lang),
            state_name(s, lang)
        ));
    }
    if let Some(s) = c.receiver_enters {
        let on_receipt = match (c.rst, lang) {
            (true, Lang::En) => " on receipt",
            (true, Lang::Zh) => "收到后",
            (false, _) => "",
        };
        parts.push(format!(
            "{}{on_receipt} → {}",
            side_name(c.sender.peer(), lang),
            state_name(s, lang)
        ));
    }
    let states = parts.join(lang.pick("; ", "；"));
    match c.step {
        Some(step) => format!("{}{}{states}", step_name(step, lang), lang.pick(": ", "：")),
        None => states,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_name_the_step_and_both_ends() {
        let c = StateChange {
            frame: 6,
            stream: 0,
            sender: Side::Client,
            sender_enters: Some(TcpState::FinWait1),
            receiver_enters: Some(TcpState::CloseWait),
            step: Some(Step::Close(1)),
            rst: false,
        };
        assert_eq!(
            change_cell(&c, Lang::En),
            "close 1/4: client → FIN-WAIT-1; server → CLOSE-WAIT"
        );
        assert_eq!(
            change_cell(&c, Lang::Zh),
            "第一次挥手：客户端 → 终止等待1 FIN-WAIT-1；服务器 → 关闭等待 CLOSE-WAIT"
        );
        assert_eq!(step_name(Step::Handshake(3), Lang::Zh), "第三次握手");
    }
}
