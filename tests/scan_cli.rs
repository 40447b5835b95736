//! `labrun scan` from the command line: the refusal of targets that are not the user's
//! own, the CSV format, and a connect scan of real loopback listeners (needs no privilege).

use std::net::TcpListener;
use std::process::{Command, Output};

fn scan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_labrun"))
        .arg("scan")
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn targets_outside_loopback_are_refused_with_the_reason() {
    // A lab address, but no sandbox exists for a command-line scan: not loopback, so refused
    // before any packet is sent.
    let out = scan(&["10.77.0.2", "-p", "80"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(err.contains("refusing to scan 10.77.0.2"), "{err}");
    assert!(
        err.contains("Scan only machines you set up yourself"),
        "{err}"
    );
    assert!(err.contains("--allow-target 10.77.0.2/32"), "{err}");
    let out = scan(&["127.0.0.1", "-p", "80-x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("\"x\" is not a port number"),
        "{}",
        text(&out)
    );
}

#[test]
fn connect_scan_csv_of_loopback_listeners() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let spec = format!("{open_port},{closed_port}");
    let out = scan(&["localhost", "-p", &spec, "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let csv = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.remove(0), "port,protocol,state,service,reason");
    let mut want = vec![
        format!("{open_port},tcp,open,unknown,syn-ack"),
        format!("{closed_port},tcp,closed,unknown,conn-refused"),
    ];
    want.sort_by_key(|r| r.split(',').next().unwrap().parse::<u16>().unwrap());
    assert_eq!(rows, want);
    let out = scan(&["127.0.0.1", "-p", &spec]);
    let table = text(&out);
    assert!(table.contains(&format!("{open_port}/tcp")), "{table}");
    assert!(table.contains("2 ports in"), "{table}");
}
