//! The user's own program (`--server`, `--client`): a lab can start only the command the
//! user gave, never one of its own, and only inside the sandbox's namespaces.

use super::run::{hostile, labrun};

fn assert_refused(script: &str, args: &[&str], at: &str, why: &str) {
    let path = hostile(script);
    let mut all = vec![path.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--network", "loopback"]);
    let ran = labrun(&all);
    assert_eq!(ran.code, Some(2), "{}", ran.text());
    assert!(ran.stderr.contains(at), "{at}: {}", ran.text());
    assert!(ran.stderr.contains(why), "{why}: {}", ran.text());
    assert!(!std::path::Path::new("/tmp/owned").exists());
}

#[test]
fn a_lab_cannot_run_a_command_of_its_own() {
    assert_refused(
        "program_own_command.rhai",
        &[],
        "program_own_command.rhai:3:",
        "Function not found: run (Host, ",
    );
    assert_refused(
        "program_forged.rhai",
        &[],
        "program_forged.rhai:3:",
        "Function not found: run (Host, ",
    );
}

#[test]
fn a_lab_cannot_run_a_program_the_user_did_not_give() {
    assert_refused(
        "program_not_given.rhai",
        &[],
        "program_not_given.rhai:3:",
        "Function not found: run (Host, ()",
    );
}

#[test]
fn the_users_program_never_runs_outside_the_sandbox() {
    let ran = labrun(&[
        "labs/chat.rhai",
        "--network",
        "loopback",
        "--server",
        "python3 examples/programs/python/chat_server.py {port}",
    ]);
    assert_eq!(ran.code, Some(2), "{}", ran.text());
    assert!(
        ran.stderr
            .contains("the server program runs only inside the lab's sandbox"),
        "{}",
        ran.text()
    );
}
