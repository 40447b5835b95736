//! A socket's TCP state as the kernel holds it (`getsockopt(TCP_INFO)`, `tcpi_state`):
//! what a lab samples during a run to confirm the states its capture implies.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The kernel's state of the TCP socket `fd`, by RFC 9293's name ("ESTABLISHED",
/// "CLOSE-WAIT", ...). Linux numbers its states in `include/net/tcp_states.h`.
pub fn tcp_state(fd: BorrowedFd<'_>) -> io::Result<&'static str> {
    raw(fd).map(|info| state_name(info.tcpi_state))
}

/// What the kernel's congestion control and retransmission timer hold for one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpInfo {
    /// The state, by RFC 9293's name.
    pub state: &'static str,
    /// Congestion window, in segments.
    pub cwnd: u32,
    /// Slow-start threshold, in segments (Linux shows "infinite" as 2147483647).
    pub ssthresh: u32,
    /// The retransmission timeout now, in microseconds (doubled by each backoff).
    pub rto_us: u32,
    /// Smoothed round-trip time, in microseconds.
    pub rtt_us: u32,
    /// Its variation, in microseconds.
    pub rttvar_us: u32,
    /// Unacknowledged segments retransmitted by the timer right now (`tcpi_retransmits`).
    pub retransmits: u8,
    /// Retransmission timeouts in a row without progress (`tcpi_backoff`).
    pub backoff: u8,
    /// Segments retransmitted over the connection's life (`tcpi_total_retrans`).
    pub total_retrans: u32,
    /// The MSS the socket sends with.
    pub snd_mss: u32,
}

/// The kernel's TCP_INFO for the socket `fd`: state, cwnd, ssthresh, RTO, RTT and
/// retransmissions, what a lab samples to show congestion and loss recovery at work.
pub fn tcp_info(fd: BorrowedFd<'_>) -> io::Result<TcpInfo> {
    let i = raw(fd)?;
    Ok(TcpInfo {
        state: state_name(i.tcpi_state),
        cwnd: i.tcpi_snd_cwnd,
        ssthresh: i.tcpi_snd_ssthresh,
        rto_us: i.tcpi_rto,
        rtt_us: i.tcpi_rtt,
        rttvar_us: i.tcpi_rttvar,
        retransmits: i.tcpi_retransmits,
        backoff: i.tcpi_backoff,
        total_retrans: i.tcpi_total_retrans,
        snd_mss: i.tcpi_snd_mss,
    })
}

/// `getsockopt(TCP_INFO)` on `fd`.
fn raw(fd: BorrowedFd<'_>) -> io::Result<libc::tcp_info> {
    // SAFETY: tcp_info is plain old data; getsockopt writes at most `len` bytes into it
    // and `fd` is a valid descriptor for the duration of the borrow.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

/// Linux's state number (`include/net/tcp_states.h`) by RFC 9293's name.
fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN-SENT",
        3 => "SYN-RCVD",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "CLOSED",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsFd;

    #[test]
    fn loopback_sockets_report_listen_established_and_close_wait() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(tcp_state(l.as_fd()).unwrap(), "LISTEN");
        let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        assert_eq!(tcp_state(c.as_fd()).unwrap(), "ESTABLISHED");
        let info = tcp_info(c.as_fd()).unwrap();
        assert_eq!(info.state, "ESTABLISHED");
        assert!(info.cwnd >= 1 && info.rto_us >= 200_000, "{info:?}");
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(std::io::Read::read(&mut &s, &mut buf).unwrap(), 0);
        assert_eq!(tcp_state(s.as_fd()).unwrap(), "CLOSE-WAIT");
    }
}
