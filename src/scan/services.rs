//! Service names of well-known TCP ports, as nmap prints them (a small built-in table).

/// (port, name), sorted by port.
const SERVICES: &[(u16, &str)] = &[
    (7, "echo"),
    (9, "discard"),
    (13, "daytime"),
    (19, "chargen"),
    (20, "ftp-data"),
    (21, "ftp"),
    (22, "ssh"),
    (23, "telnet"),
    (25, "smtp"),
    (37, "time"),
    (43, "whois"),
    (53, "domain"),
    (70, "gopher"),
    (79, "finger"),
    (80, "http"),
    (88, "kerberos-sec"),
    (110, "pop3"),
    (111, "rpcbind"),
    (113, "ident"),
    (119, "nntp"),
    (123, "ntp"),
    (135, "msrpc"),
    (139, "netbios-ssn"),
    (143, "imap"),
    (161, "snmp"),
    (179, "bgp"),
    (389, "ldap"),
    (443, "https"),
    (445, "microsoft-ds"),
    (465, "smtps"),
    (514, "shell"),
    (515, "printer"),
    (543, "klogin"),
    (544, "kshell"),
    (548, "afp"),
    (554, "rtsp"),
    (587, "submission"),
    (631, "ipp"),
    (636, "ldapssl"),
    (873, "rsync"),
    (990, "ftps"),
    (993, "imaps"),
    (995, "pop3s"),
    (1080, "socks"),
    (1433, "ms-sql-s"),
    (1521, "oracle"),
    (1723, "pptp"),
    (2049, "nfs"),
    (3128, "squid-http"),
    (3306, "mysql"),
    (3389, "ms-wbt-server"),
    (5060, "sip"),
    (5432, "postgresql"),
    (5900, "vnc"),
    (6000, "X11"),
    (6379, "redis"),
    (8000, "http-alt"),
    (8080, "http-proxy"),
    (8443, "https-alt"),
    (8888, "sun-answerbook"),
    (9000, "cslistener"),
    (9090, "zeus-admin"),
    (27017, "mongod"),
];

/// The service usually found on TCP `port`, or `unknown`.
pub fn name(port: u16) -> &'static str {
    SERVICES
        .binary_search_by_key(&port, |&(p, _)| p)
        .map(|i| SERVICES[i].1)
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_names_match_nmap() {
        assert!(SERVICES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(name(22), "ssh");
        assert_eq!(name(80), "http");
        assert_eq!(name(8888), "sun-answerbook");
        assert_eq!(name(4), "unknown");
    }
}
