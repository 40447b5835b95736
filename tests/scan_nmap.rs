//! labrun's connect, SYN and FIN scans against nmap's -sT, -sS and -sF: the same server in
//! labrun's sandbox (listeners, a port the firewall drops, a port it rejects with ICMP),
//! scanned from the same client namespace by both; every port must get the same state
//! and the same reason.

mod common;

#[cfg(target_os = "linux")]
mod linux {
    use labrun::network::{Firewall, Host, NetOptions, Network};
    use labrun::scan::{self, ScanOptions, ScanType};
    use labrun::sockets::TcpOptions;
    use std::collections::BTreeMap;
    use std::process::Command;

    const OPEN: [u16; 4] = [22, 80, 443, 8080];
    const DROPPED: u16 = 25;
    const REJECTED: u16 = 110;
    const SPEC: &str = "1-1024,8080";

    /// (state, reason) per port from nmap's XML output: listed ports, and the
    /// `extraports` state for every other port of `ports`.
    fn nmap_states(xml: &str, ports: &[u16]) -> BTreeMap<u16, (String, String)> {
        let attr = |tag: &str, name: &str| -> Option<String> {
            let key = format!("{name}=\"");
            let at = tag.find(&key)? + key.len();
            Some(tag[at..].split('"').next()?.to_string())
        };
        let mut listed = BTreeMap::new();
        for chunk in xml.split("<port ").skip(1) {
            let port: u16 = attr(chunk, "portid").unwrap().parse().unwrap();
            let state_tag = chunk.split("<state ").nth(1).unwrap();
            listed.insert(
                port,
                (
                    attr(state_tag, "state").unwrap(),
                    attr(state_tag, "reason").unwrap(),
                ),
            );
        }
        let extra = xml.split("<extraports ").nth(1).map(|tag| {
            let state = attr(tag, "state").unwrap();
            let reason = tag
                .split("<extrareasons ")
                .nth(1)
                .and_then(|t| attr(t, "reason"))
                .unwrap_or_default();
            (state, reason)
        });
        ports
            .iter()
            .map(|&p| {
                let s = listed
                    .get(&p)
                    .cloned()
                    .or_else(|| extra.clone())
                    .unwrap_or_else(|| panic!("nmap says nothing about port {p}:\n{xml}"));
                (p, s)
            })
            .collect()
    }

    fn run_nmap(client: &Host, flag: &str, target: &str) -> String {
        let out = client
            .within("nmap", || {
                Command::new("nmap")
                    .args([
                        flag, "-p", SPEC, "-n", "-Pn", "--reason", "-oX", "-", target,
                    ])
                    .output()
            })
            .expect("enter the client's namespace")
            .expect("run nmap");
        assert!(
            out.status.success(),
            "nmap {flag} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn same_states_as_nmap() {
        let net = Network::sandbox(&NetOptions::default()).expect("build the sandbox");
        let client = net.host("client").unwrap().clone();
        let server = net.host("server").unwrap().clone();
        let _listeners: Vec<_> = OPEN
            .iter()
            .map(|&p| server.listen(p, TcpOptions::default()).unwrap())
            .collect();
        server
            .set_firewall(&Firewall {
                drop: vec![DROPPED],
                reject: vec![REJECTED],
                ..Firewall::default()
            })
            .expect("set the server's firewall");
        let ports = scan::parse_ports(SPEC).unwrap();
        let target = server.ip();
        for (kind, flag) in [
            (ScanType::Connect, "-sT"),
            (ScanType::Syn, "-sS"),
            (ScanType::Fin, "-sF"),
        ] {
            let ours = scan::scan(
                &client,
                target,
                &ports,
                &ScanOptions {
                    scan_type: kind,
                    ..ScanOptions::default()
                },
            )
            .unwrap_or_else(|e| panic!("labrun {} scan: {e}", kind.as_str()));
            let theirs = nmap_states(&run_nmap(&client, flag, &target.to_string()), &ports);
            let mut differ = Vec::new();
            for p in &ours.ports {
                let (state, reason) = &theirs[&p.port];
                if p.state.as_str() != state || p.reason.as_str() != reason {
                    differ.push(format!(
                        "port {}: labrun {} ({}), nmap {state} ({reason})",
                        p.port,
                        p.state.as_str(),
                        p.reason.as_str()
                    ));
                }
            }
            assert!(
                differ.is_empty(),
                "{} scan differs from nmap {flag}:\n{}",
                kind.as_str(),
                differ.join("\n")
            );
            // The lab's known states, so a bug shared with nmap's view would still show.
            let open_state = if kind == ScanType::Fin {
                "open|filtered"
            } else {
                "open"
            };
            for p in OPEN {
                assert_eq!(ours.port(p).unwrap().state.as_str(), open_state);
            }
            eprintln!(
                "{} scan = nmap {flag} on {} ports ({})",
                kind.as_str(),
                ports.len(),
                scan::output::summary(&ours)
            );
        }
        server.clear_firewall().expect("remove the firewall rules");
    }
}

#[test]
fn scans_match_nmap_port_for_port() {
    if !common::is_root() {
        return common::skip_or_fail("the sandbox, raw sockets and nmap -sS need root here");
    }
    if !common::have_program("nmap") {
        return common::skip_or_fail("nmap is not installed (apt-get install nmap)");
    }
    if !std::path::Path::new("/usr/sbin/nft").exists() && !common::have_program("nft") {
        return common::skip_or_fail("nft is not installed (apt-get install nftables)");
    }
    #[cfg(target_os = "linux")]
    linux::same_states_as_nmap();
}
