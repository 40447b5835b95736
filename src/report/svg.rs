//! Pictures for reports, drawn as self-contained SVG: the flow graph of a TCP stream (like
//! Wireshark's Flow Graph) and the sequence-number-over-time plot of a transfer (like
//! tcptrace / Stevens). Both take the stream's packets and print the numbers measured.

use crate::analysis::{Packet, TcpStream};
use crate::i18n::Lang;
use crate::wire::TcpFlags;
use std::fmt::Write;

/// The fonts of every figure: families that cover Chinese first (Linux, Windows, macOS),
/// so a label like 握手 renders wherever the SVG is opened.
const FONTS: &str = "'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif";

/// Escapes text for SVG/XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The phase a packet belongs to: 0 handshake, 1 data, 2 close.
fn phases(packets: &[&Packet]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packets.len());
    let mut phase = 0u8;
    let mut seen_synack = false;
    for p in packets {
        let Some(t) = &p.tcp else {
            out.push(phase);
            continue;
        };
        if t.flags.intersects(TcpFlags::FIN | TcpFlags::RST) {
            phase = 2;
        }
        if phase == 0 {
            if t.flags.contains(TcpFlags::SYN) && t.flags.contains(TcpFlags::ACK) {
                seen_synack = true;
            } else if seen_synack && !t.flags.contains(TcpFlags::SYN) {
                // The ACK completing the handshake is still part of it; data after it is not.
                if t.len > 0 {
                    phase = 1;
                } else {
                    out.push(0);
                    phase = 1;
                    continue;
                }
            }
        }
        out.push(phase);
    }
    out
}

/// The packets of `stream` from `packets` (all frames of a capture, numbered from 1).
pub fn stream_packets<'a>(packets: &'a [Packet], stream: &TcpStream) -> Vec<&'a Packet> {
    stream
        .frames
        .iter()
        .filter_map(|n| {
            usize::try_from(*n)
                .ok()
                .and_then(|n| packets.get(n.checked_sub(1)?))
        })
        .collect()
}

/// The flow graph of one TCP stream: two lifelines, one arrow per packet labelled with its
/// flags, relative seq/ack and length; the handshake, data and close phases shaded.
pub fn flow_graph(packets: &[&Packet], stream: &TcpStream, lang: Lang) -> String {
    const W: i32 = 760;
    const ROW: i32 = 26;
    const TOP: i32 = 56;
    let (xc, xs) = (190, 600);
    let h = TOP + ROW * packets.len() as i32 + 20;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" height="{h}" font-family="{FONTS}" font-size="11" role="img" aria-label="{} {}">"##,
        lang.pick("Flow graph of TCP stream", "TCP 流的流图："),
        stream.index
    );
    let _ = write!(svg, r##"<rect width="{W}" height="{h}" fill="#ffffff"/>"##);
    // Phase bands.
    let ph = phases(packets);
    let colors = ["#e8f0fe", "#e6f4ea", "#fef3e2"];
    let names = [
        lang.pick("handshake", "握手"),
        lang.pick("data", "数据"),
        lang.pick("close", "关闭"),
    ];
    let mut i = 0;
    while i < ph.len() {
        let p = ph[i];
        let start = i;
        while i < ph.len() && ph[i] == p {
            i += 1;
        }
        let y = TOP + ROW * start as i32 - 8;
        let hh = ROW * (i - start) as i32;
        let _ = write!(
            svg,
            r##"<rect x="4" y="{y}" width="{}" height="{hh}" fill="{}"/><text x="{}" y="{}" fill="#5f6368" font-style="italic">{}</text>"##,
            W - 8,
            colors[p as usize],
            W - 70,
            y + 14,
            names[p as usize]
        );
    }
    // Lifelines and their hosts.
    let _ = write!(
        svg,
        r##"<text x="{xc}" y="18" text-anchor="middle" font-weight="bold">{}</text><text x="{xc}" y="32" text-anchor="middle">{}</text><text x="{xs}" y="18" text-anchor="middle" font-weight="bold">{}</text><text x="{xs}" y="32" text-anchor="middle">{}</text>"##,
        lang.pick("client", "客户端"),
        esc(&stream.client.to_string()),
        lang.pick("server", "服务器"),
        esc(&stream.server.to_string())
    );
    for x in [xc, xs] {
        let _ = write!(
            svg,
            r##"<line x1="{x}" y1="40" x2="{x}" y2="{}" stroke="#9aa0a6" stroke-width="2"/>"##,
            h - 10
        );
    }
    let _ = write!(
        svg,
        r##"<text x="8" y="48" fill="#5f6368">{}</text>"##,
        lang.pick("time (s)", "时间 (s)")
    );
    // The state each end enters, written beside its lifeline (client left, server right).
    let changes = crate::analysis::tcp_states(packets.iter().copied());
    for (k, p) in packets.iter().enumerate() {
        let Some(t) = &p.tcp else { continue };
        let y = TOP + ROW * k as i32 + 8;
        if let Some(c) = changes.iter().find(|c| c.frame == p.number) {
            let from_client = c.sender == crate::analysis::Side::Client;
            let ends = [
                (from_client, c.sender_enters),
                // A RST's receiver closes only if it arrives, which one capture cannot show.
                (!from_client, c.receiver_enters.filter(|_| !c.rst)),
            ];
            for (client, state) in ends {
                let Some(state) = state else { continue };
                let (x, anchor) = if client {
                    (xc - 6, "end")
                } else {
                    (xs + 6, "start")
                };
                let _ = write!(
                    svg,
                    r##"<text x="{x}" y="{}" text-anchor="{anchor}" font-size="9" fill="#7b1fa2">{}</text>"##,
                    y + 12,
                    esc(&super::states_text::state_name(state, lang))
                );
            }
            if let Some(step) = c.step {
                let _ = write!(
                    svg,
                    r##"<text x="{}" y="{}" text-anchor="middle" font-size="9" fill="#7b1fa2">{}</text>"##,
                    (xc + xs) / 2,
                    y + 12,
                    esc(&super::states_text::step_name(step, lang))
                );
            }
        }
        let from_client = p.ip.as_ref().is_some_and(|ip| ip.src == stream.client.ip())
            && t.src_port == stream.client.port();
        let (x1, x2) = if from_client { (xc, xs) } else { (xs, xc) };
        let color = if t.flags.contains(TcpFlags::RST) {
            "#c5221f"
        } else if t.flags.intersects(TcpFlags::SYN | TcpFlags::FIN) {
            "#1a73e8"
        } else if t.len > 0 {
            "#188038"
        } else {
            "#3c4043"
        };
        let tip = if x2 > x1 { x2 - 8 } else { x2 + 8 };
        let _ = write!(
            svg,
            r##"<line x1="{x1}" y1="{y}" x2="{tip}" y2="{y}" stroke="{color}" stroke-width="1.5"/><polygon points="{x2},{y} {tip},{} {tip},{}" fill="{color}"/>"##,
            y - 4,
            y + 4
        );
        // The flow graph names FIN..URG only.
        let shown = t.flags & TcpFlags(0x03f);
        let mut label = format!("[{}] seq={}", shown.names(), t.seq);
        if t.flags.contains(TcpFlags::ACK) {
            let _ = write!(label, " ack={}", t.ack);
        }
        let _ = write!(label, " len={}", t.len);
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="{color}">{}</text><text x="8" y="{}" fill="#5f6368">{:.6}</text><text x="8" y="{}" fill="#5f6368">#{}</text>"##,
            (xc + xs) / 2,
            y - 4,
            esc(&label),
            y + 2,
            p.time_relative as f64 / 1e9,
            y + 13,
            p.number
        );
    }
    svg.push_str("</svg>");
    svg
}

/// True when a stream carries enough data in one direction for a sequence plot.
pub fn is_transfer(packets: &[&Packet]) -> bool {
    packets
        .iter()
        .filter(|p| p.tcp.as_ref().is_some_and(|t| t.len > 0))
        .count()
        >= 3
}

/// The sequence-number-over-time plot of the direction that sent the most data: a vertical
/// bar per segment (seq to seq+len), the receiver's ACK line and, when the receiver's
/// window ends within the plot's scale, its window line (ack + window); retransmissions in
/// red. A window far above what was sent (the usual case) would be a line along the top
/// edge, so it is left out rather than drawn where it says nothing.
/// What a sequence plot draws: the sender's segments (time, seq, seq + len,
/// retransmitted), the receiver's ACKs (time, ack, ack + window), and the time axis.
struct SeqData {
    segs: Vec<(f64, f64, f64, bool)>,
    acks: Vec<(f64, f64, f64)>,
    t_min: f64,
    t_max: f64,
}

/// A plot's y scale: "0" at its foot `y0`, `y_top` at `y_px` with a dashed line across
/// from `l` to `r`.
fn y_scale(svg: &mut String, l: f64, r: f64, y0: f64, y_px: f64, y_top: f64) {
    let _ = write!(
        svg,
        r##"<text x="{}" y="{y0}" text-anchor="end" fill="#5f6368">0</text><text x="{}" y="{}" text-anchor="end" fill="#5f6368">{y_top:.0}</text><line x1="{l}" y1="{y_px}" x2="{r}" y2="{y_px}" stroke="#dadce0" stroke-dasharray="3 3"/>"##,
        l - 4.0,
        l - 4.0,
        y_px + 4.0,
    );
}

/// The segments and ACKs of the direction of `stream` that sent the most data.
fn seq_data(packets: &[&Packet], stream: &TcpStream) -> SeqData {
    let is_client = |p: &Packet| {
        p.ip.as_ref().is_some_and(|ip| ip.src == stream.client.ip())
            && p.tcp
                .as_ref()
                .is_some_and(|tcp| tcp.src_port == stream.client.port())
    };
    let bytes = |from_client: bool| -> u64 {
        packets
            .iter()
            .filter(|p| is_client(p) == from_client)
            .filter_map(|p| p.tcp.as_ref().map(|t| u64::from(t.len)))
            .sum()
    };
    let sender_is_client = bytes(true) >= bytes(false);
    let time = |p: &Packet| p.time_relative as f64 / 1e9;
    let segs: Vec<(f64, f64, f64, bool)> = packets
        .iter()
        .filter(|p| is_client(p) == sender_is_client)
        .filter_map(|p| {
            let tcp = p.tcp.as_ref()?;
            (tcp.len > 0).then(|| {
                let retrans = p.field("tcp.analysis.retransmission").is_some()
                    || p.field("tcp.analysis.fast_retransmission").is_some();
                (
                    time(p),
                    f64::from(tcp.seq),
                    f64::from(tcp.seq) + f64::from(tcp.len),
                    retrans,
                )
            })
        })
        .collect();
    let acks: Vec<(f64, f64, f64)> = packets
        .iter()
        .filter(|p| is_client(p) != sender_is_client)
        .filter_map(|p| {
            let tcp = p.tcp.as_ref()?;
            (tcp.flags.contains(TcpFlags::ACK)).then(|| {
                let win = f64::from(tcp.window_size.unwrap_or(u32::from(tcp.window_value)));
                (time(p), f64::from(tcp.ack), f64::from(tcp.ack) + win)
            })
        })
        .collect();
    let times = segs.iter().map(|s| s.0).chain(acks.iter().map(|a| a.0));
    let t_min = times.clone().fold(f64::INFINITY, f64::min);
    let t_min = if t_min.is_finite() { t_min } else { 0.0 };
    let t_max = times.fold(t_min, f64::max).max(t_min + 1e-6);
    SeqData {
        segs,
        acks,
        t_min,
        t_max,
    }
}

pub fn seq_plot(packets: &[&Packet], stream: &TcpStream, lang: Lang) -> String {
    const W: f64 = 760.0;
    const H: f64 = 360.0;
    let (l, r, t, b) = (70.0, 20.0, 30.0, 40.0);
    let SeqData {
        segs,
        acks,
        t_min,
        t_max,
    } = seq_data(packets, stream);
    // Scale to the data and the ACKs; the window line is clipped at the top when the
    // receiver offers far more than was sent (it usually does).
    let y_top = segs
        .iter()
        .map(|s| s.2)
        .chain(acks.iter().map(|a| a.1))
        .fold(1.0_f64, f64::max);
    let y_max = y_top * 1.25;
    let show_window = acks.iter().any(|a| a.2 <= y_max);
    let sx = |x: f64| l + (W - l - r) * (x - t_min) / (t_max - t_min);
    let sy = |y: f64| H - b - (H - t - b) * y.min(y_max) / y_max;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="{FONTS}" font-size="11" role="img" aria-label="{} {}"><rect width="{W}" height="{H}" fill="#ffffff"/>"##,
        lang.pick("Sequence numbers over time, stream", "序号随时间变化，流"),
        stream.index
    );
    let _ = write!(
        svg,
        r##"<line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="#3c4043"/><line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="#3c4043"/>"##,
        H - b,
        W - r,
        H - b,
        H - b
    );
    let time_label = lang.pick("time (s)", "时间 (s)");
    let seq_label = lang.pick("relative sequence number", "相对序号");
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle">{time_label}</text><text x="{l}" y="{}" fill="#5f6368">{t_min:.6}</text><text x="{}" y="{}" text-anchor="end" fill="#5f6368">{t_max:.6}</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">{seq_label}</text>"##,
        (l + W - r) / 2.0,
        H - 8.0,
        H - b + 14.0,
        W - r,
        H - b + 14.0,
        H / 2.0,
        H / 2.0,
    );
    y_scale(&mut svg, l, W - r, H - b, sy(y_top), y_top);
    let mut ack_path = String::new();
    let mut win_path = String::new();
    // tcptrace draws the ACK and window lines as steps: flat until the next ACK moves them.
    for (k, (x, ack, win)) in acks.iter().enumerate() {
        if k == 0 {
            let _ = write!(ack_path, "M{:.1},{:.1} ", sx(*x), sy(*ack));
            let _ = write!(win_path, "M{:.1},{:.1} ", sx(*x), sy(*win));
        } else {
            let _ = write!(ack_path, "H{:.1} V{:.1} ", sx(*x), sy(*ack));
            let _ = write!(win_path, "H{:.1} V{:.1} ", sx(*x), sy(*win));
        }
    }
    let _ = write!(ack_path, "H{:.1}", sx(t_max));
    let _ = write!(win_path, "H{:.1}", sx(t_max));
    if show_window {
        let _ = write!(
            svg,
            r##"<path d="{win_path}" fill="none" stroke="#f9ab00" stroke-width="1.2"/>"##
        );
    }
    let _ = write!(
        svg,
        r##"<path d="{ack_path}" fill="none" stroke="#188038" stroke-width="1.5"/>"##
    );
    for (x, s, e, retrans) in &segs {
        let color = if *retrans { "#c5221f" } else { "#1a73e8" };
        let _ = write!(
            svg,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="2"/>"##,
            sx(*x),
            sy(*s),
            sx(*x),
            sy(*e)
        );
    }
    let legend_h = if show_window { 52.0 } else { 38.0 };
    let _ = write!(
        svg,
        r##"<g transform="translate({} {})"><rect width="150" height="{legend_h}" fill="#ffffff" stroke="#dadce0"/><line x1="6" y1="12" x2="22" y2="12" stroke="#1a73e8" stroke-width="2"/><text x="28" y="16">{seg}</text><line x1="6" y1="26" x2="22" y2="26" stroke="#188038" stroke-width="2"/><text x="28" y="30">ACK</text>"##,
        W - r - 160.0,
        H - b - 10.0 - legend_h,
        seg = lang.pick("segment (seq..seq+len)", "报文段 (seq..seq+len)"),
    );
    if show_window {
        let _ = write!(
            svg,
            r##"<line x1="6" y1="40" x2="22" y2="40" stroke="#f9ab00" stroke-width="2"/><text x="28" y="44">{}</text>"##,
            lang.pick("window (ack + win)", "窗口 (ack + win)"),
        );
    }
    svg.push_str("</g>");
    if segs.iter().any(|s| s.3) {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" fill="#c5221f">{}</text>"##,
            l + 170.0,
            t + 16.0,
            lang.pick("red: retransmission", "红色：重传")
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Height of the congestion-window panel above the sequence plot.
const CWND_PANEL_H: f64 = 200.0;

/// The sampled congestion window (and slow-start threshold, once set) of one end of
/// `stream`, in segments, in a panel drawn over the stream's sequence plot on the same
/// time axis: slow start, the reduction after a loss and congestion avoidance line up
/// with the segments and ACKs that caused them. `first_unix_ns` is the capture's first
/// frame (time 0 of the plot).
pub fn cwnd_plot(
    packets: &[&Packet],
    stream: &TcpStream,
    series: &super::KernelSeries,
    first_unix_ns: i128,
    lang: Lang,
) -> String {
    const W: f64 = 760.0;
    const H: f64 = CWND_PANEL_H;
    let (l, r, t, b) = (70.0, 20.0, 24.0, 22.0);
    let SeqData { t_min, t_max, .. } = seq_data(packets, stream);
    // ssthresh reads 2^31 - 1 until the first reduction (Linux's "infinite").
    let unset = |s: u32| s >= i32::MAX as u32;
    let points: Vec<(f64, f64, Option<f64>)> = series
        .points
        .iter()
        .map(|p| {
            (
                (p.unix_ns - first_unix_ns) as f64 / 1e9,
                f64::from(p.cwnd),
                (!unset(p.ssthresh)).then_some(f64::from(p.ssthresh)),
            )
        })
        .filter(|(x, _, _)| *x >= t_min && *x <= t_max)
        .collect();
    let y_top = points
        .iter()
        .map(|p| p.1.max(p.2.unwrap_or(0.0)))
        .fold(1.0_f64, f64::max);
    let y_max = y_top * 1.15;
    let sx = |x: f64| l + (W - l - r) * (x - t_min) / (t_max - t_min);
    let sy = |y: f64| H - b - (H - t - b) * y.min(y_max) / y_max;
    let seq = seq_plot(packets, stream, lang);
    let total = H + 360.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {total}" width="{W}" height="{total}" font-family="{FONTS}" font-size="11" role="img" aria-label="{} {}"><rect width="{W}" height="{total}" fill="#ffffff"/>"##,
        lang.pick(
            "Congestion window over the sequence numbers, stream",
            "拥塞窗口与序号随时间变化，流"
        ),
        stream.index
    );
    let _ = write!(
        svg,
        r##"<line x1="{l}" y1="{}" x2="{}" y2="{}" stroke="#3c4043"/><line x1="{l}" y1="{t}" x2="{l}" y2="{}" stroke="#3c4043"/><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>"##,
        H - b,
        W - r,
        H - b,
        H - b,
        (H - b + t) / 2.0,
        (H - b + t) / 2.0,
        lang.pick("segments", "报文段数"),
    );
    y_scale(&mut svg, l, W - r, H - b, sy(y_top), y_top);
    // Both lines as steps: a value holds until the next sample changes it.
    let step_path = |values: &mut dyn Iterator<Item = (f64, Option<f64>)>| {
        let mut d = String::new();
        let mut open = false;
        for (x, y) in values {
            match (y, open) {
                (Some(y), false) => {
                    let _ = write!(d, "M{:.1},{:.1} ", sx(x), sy(y));
                    open = true;
                }
                (Some(y), true) => {
                    let _ = write!(d, "H{:.1} V{:.1} ", sx(x), sy(y));
                }
                (None, _) => open = false,
            }
        }
        d
    };
    let cwnd = step_path(&mut points.iter().map(|p| (p.0, Some(p.1))));
    let ssthresh = step_path(&mut points.iter().map(|p| (p.0, p.2)));
    if !ssthresh.is_empty() {
        let _ = write!(
            svg,
            r##"<path d="{ssthresh}" fill="none" stroke="#c5221f" stroke-width="1.2" stroke-dasharray="5 3"/>"##
        );
    }
    let _ = write!(
        svg,
        r##"<path d="{cwnd}" fill="none" stroke="#1a73e8" stroke-width="1.6"/>"##
    );
    if points.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#5f6368">{}</text>"##,
            (l + W - r) / 2.0,
            (H - b + t) / 2.0,
            lang.pick(
                "TCP_INFO samples are not drawn in a deterministic report: their times change from run to run.",
                "确定性报告不画 TCP_INFO 采样：其时间每次运行都不同。"
            )
        );
    }
    let _ = write!(
        svg,
        r##"<g transform="translate({} {t})"><rect width="190" height="34" fill="#ffffff" stroke="#dadce0"/><line x1="6" y1="11" x2="22" y2="11" stroke="#1a73e8" stroke-width="2"/><text x="28" y="15">{}</text><line x1="6" y1="25" x2="22" y2="25" stroke="#c5221f" stroke-width="2" stroke-dasharray="5 3"/><text x="28" y="29">{}</text></g>"##,
        W - r - 198.0,
        lang.pick("cwnd (TCP_INFO samples)", "cwnd（TCP_INFO 采样）"),
        lang.pick("ssthresh", "ssthresh（慢开始门限）"),
    );
    // The sequence plot below, on the same time axis (same margins, same range).
    svg.push_str(&seq.replacen(
        r#"<svg xmlns="http://www.w3.org/2000/svg" "#,
        &format!(r#"<svg x="0" y="{H}" "#),
        1,
    ));
    svg.push_str("</svg>");
    svg
}
