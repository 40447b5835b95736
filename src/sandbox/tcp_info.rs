//! A socket's TCP state as the kernel holds it (`getsockopt(TCP_INFO)`, `tcpi_state`, or
//! the network namespace's /proc/net/tcp table for a socket the application already
//! closed): what a lab samples during a run to confirm the states its capture implies.

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

/// The state of the TCP connection `local` ↔ `remote` in the calling thread's network
/// namespace, from /proc/thread-self/net/tcp (or tcp6): what `ss` shows. It also sees the
/// sockets an application has closed but the kernel keeps (FIN-WAIT-2, TIME-WAIT, LAST-ACK),
/// which TCP_INFO cannot reach. `None` when no such connection exists (CLOSED).
pub fn connection_state(
    local: std::net::SocketAddr,
    remote: std::net::SocketAddr,
) -> io::Result<Option<&'static str>> {
    let file = if local.is_ipv4() { "tcp" } else { "tcp6" };
    let table = std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))?;
    Ok(find_state(&table, local, remote))
}

/// The state of `local` ↔ `remote` in a /proc/net/tcp `table`.
fn find_state(
    table: &str,
    local: std::net::SocketAddr,
    remote: std::net::SocketAddr,
) -> Option<&'static str> {
    table.lines().skip(1).find_map(|line| {
        let mut cols = line.split_whitespace().skip(1);
        let (l, r, st) = (cols.next()?, cols.next()?, cols.next()?);
        (proc_addr(l)? == local && proc_addr(r)? == remote)
            .then(|| u8::from_str_radix(st, 16).ok().map(state_name))
            .flatten()
    })
}

/// An address as /proc/net/tcp writes it: the IP as 32-bit words in host order (little
/// endian here), in hex, then ':' and the port in hex.
fn proc_addr(text: &str) -> Option<std::net::SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Option<Vec<u32>> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect();
    let bytes: Vec<u8> = words?.iter().flat_map(|w| w.to_le_bytes()).collect();
    let ip = match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => {
            let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            v6.to_ipv4_mapped()
                .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4)
        }
        _ => return None,
    };
    Some(std::net::SocketAddr::new(ip, port))
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

    #[test]
    fn a_closed_socket_is_found_in_the_namespace_table() {
        let table =
            "  sl  local_address rem_address   st\n   0: 0100007F:22B8 0100007F:A2C4 06 0\n";
        let (l, r) = (
            "127.0.0.1:8888".parse().unwrap(),
            "127.0.0.1:41668".parse().unwrap(),
        );
        assert_eq!(find_state(table, l, r), Some("TIME-WAIT"));
        assert_eq!(find_state(table, r, l), None);
        // A real connection of this process: both ends ESTABLISHED.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let (cl, sl) = (client.local_addr().unwrap(), server.local_addr().unwrap());
        assert_eq!(connection_state(cl, sl).unwrap(), Some("ESTABLISHED"));
        // The side that closes first ends in FIN-WAIT-2 once its FIN is acknowledged.
        drop(client);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(connection_state(cl, sl).unwrap(), Some("FIN-WAIT-2"));
        drop(server);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(connection_state(cl, sl).unwrap(), Some("TIME-WAIT"));
    }
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
