//! The words for what the analysis found: connection stories and anomalies in the
//! report's language. The analysis crate names them with enums; their text lives here.

use crate::analysis::{Anomaly, CloseKind, HandshakeKind, RstCause, Side};
use crate::i18n::Lang;

/// A finding the report describes in words.
pub trait Describe {
    /// The description in `lang`.
    fn describe(&self, lang: Lang) -> String;
}

impl Describe for Side {
    fn describe(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, Side::Client) => "client",
            (Lang::En, Side::Server) => "server",
            (Lang::Zh, Side::Client) => "客户端",
            (Lang::Zh, Side::Server) => "服务器",
        }
        .into()
    }
}

impl Describe for HandshakeKind {
    fn describe(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, HandshakeKind::Normal) => "three-way handshake (SYN, SYN-ACK, ACK)".into(),
            (Lang::En, HandshakeKind::SynRetried(n)) => {
                format!("three-way handshake after the SYN was sent {n} times")
            }
            (Lang::En, HandshakeKind::SimultaneousOpen) => {
                "simultaneous open (both ends sent a SYN)".into()
            }
            (Lang::En, HandshakeKind::Refused) => "refused: the SYN was answered with RST".into(),
            (Lang::En, HandshakeKind::Incomplete) => {
                "incomplete (no complete handshake captured)".into()
            }
            (Lang::En, HandshakeKind::NotCaptured) => {
                "not captured (the capture began later)".into()
            }
            (Lang::Zh, HandshakeKind::Normal) => "三次握手 (SYN, SYN-ACK, ACK)".into(),
            (Lang::Zh, HandshakeKind::SynRetried(n)) => format!("SYN 发送 {n} 次后完成三次握手"),
            (Lang::Zh, HandshakeKind::SimultaneousOpen) => "同时打开（双方都发送了 SYN）".into(),
            (Lang::Zh, HandshakeKind::Refused) => "被拒绝：SYN 得到的回答是 RST".into(),
            (Lang::Zh, HandshakeKind::Incomplete) => "不完整（没有抓到完整的握手）".into(),
            (Lang::Zh, HandshakeKind::NotCaptured) => "未抓到（抓包开始得较晚）".into(),
        }
    }
}

impl Describe for CloseKind {
    fn describe(&self, lang: Lang) -> String {
        match lang {
            Lang::En => match self {
                CloseKind::FourWay => "four-way close (FIN, ACK, FIN, ACK)",
                CloseKind::ThreeWay => "three-way close (FIN, FIN+ACK, ACK)",
                CloseKind::Simultaneous => "simultaneous close (the two FINs crossed)",
                CloseKind::HalfClose => "half-close: data still flowed after the first FIN",
                CloseKind::Reset => "reset (RST)",
                CloseKind::OneSided => "only one end closed in the capture",
                CloseKind::Open => "still open at the end of the capture",
            },
            Lang::Zh => match self {
                CloseKind::FourWay => "四次挥手 (FIN, ACK, FIN, ACK)",
                CloseKind::ThreeWay => "三次挥手 (FIN, FIN+ACK, ACK)",
                CloseKind::Simultaneous => "同时关闭（两个 FIN 交错而过）",
                CloseKind::HalfClose => "半关闭：第一个 FIN 之后仍有数据传送",
                CloseKind::Reset => "复位 (RST)",
                CloseKind::OneSided => "抓包中只有一端关闭",
                CloseKind::Open => "抓包结束时连接仍然打开",
            },
        }
        .into()
    }
}

impl Describe for RstCause {
    fn describe(&self, lang: Lang) -> String {
        match lang {
            Lang::En => match self {
                RstCause::ClosedPort => "connection refused: nobody listens on the port",
                RstCause::AbortiveClose => "abortive close (SO_LINGER with timeout 0)",
                RstCause::UnreadData => {
                    "closed with received data still unread (or an abortive close)"
                }
                RstCause::DataAfterClose => "data arrived after this end had closed",
                RstCause::Timeout => "timeout: keep-alive probes went unanswered",
                RstCause::Unknown => "unknown",
            },
            Lang::Zh => match self {
                RstCause::ClosedPort => "连接被拒绝：该端口上没有进程监听",
                RstCause::AbortiveClose => "异常关闭（SO_LINGER 超时为 0）",
                RstCause::UnreadData => "关闭时仍有未读数据（或异常关闭）",
                RstCause::DataAfterClose => "对方关闭后仍发送数据",
                RstCause::Timeout => "超时：保活探测没有得到回答",
                RstCause::Unknown => "未知",
            },
        }
        .into()
    }
}

impl Describe for Anomaly {
    fn describe(&self, lang: Lang) -> String {
        match lang {
            Lang::En => match self {
                Anomaly::Retransmission => "retransmission",
                Anomaly::FastRetransmission => "fast retransmission",
                Anomaly::SpuriousRetransmission => "spurious retransmission",
                Anomaly::OutOfOrder => "out-of-order",
                Anomaly::PreviousSegmentNotCaptured => "previous segment not captured",
                Anomaly::AckedUnseenSegment => "ACKed unseen segment",
                Anomaly::DuplicateAck => "duplicate ACK",
                Anomaly::ZeroWindow => "zero window",
                Anomaly::ZeroWindowProbe => "zero window probe",
                Anomaly::KeepAlive => "keep-alive",
                Anomaly::WindowFull => "window full",
                Anomaly::WindowUpdate => "window update",
            },
            Lang::Zh => match self {
                Anomaly::Retransmission => "重传",
                Anomaly::FastRetransmission => "快重传",
                Anomaly::SpuriousRetransmission => "虚假重传",
                Anomaly::OutOfOrder => "乱序",
                Anomaly::PreviousSegmentNotCaptured => "前一报文段未抓到",
                Anomaly::AckedUnseenSegment => "确认了未抓到的报文段",
                Anomaly::DuplicateAck => "重复确认",
                Anomaly::ZeroWindow => "零窗口",
                Anomaly::ZeroWindowProbe => "零窗口探测",
                Anomaly::KeepAlive => "保活",
                Anomaly::WindowFull => "窗口已满",
                Anomaly::WindowUpdate => "窗口更新",
            },
        }
        .into()
    }
}
