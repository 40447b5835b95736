//! A socket's TCP state as the kernel holds it (`getsockopt(TCP_INFO)`, `tcpi_state`):
//! what a lab samples during a run to confirm the states its capture implies.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The kernel's state of the TCP socket `fd`, by RFC 9293's name ("ESTABLISHED",
/// "CLOSE-WAIT", ...). Linux numbers its states in `include/net/tcp_states.h`.
pub fn tcp_state(fd: BorrowedFd<'_>) -> io::Result<&'static str> {
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
    Ok(match info.tcpi_state {
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
    })
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
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(std::io::Read::read(&mut &s, &mut buf).unwrap(), 0);
        assert_eq!(tcp_state(s.as_fd()).unwrap(), "CLOSE-WAIT");
    }
}
