//! The `labrun` command line: parses arguments and prints; the work is in the library.

mod cli;
mod summary;
mod term;

use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(unix)]
    {
        // labrun's own reaper of temporary directories (see `private_dir`): never parsed
        // by clap, so it appears in no help text.
        if std::env::args_os().nth(1).as_deref()
            == Some(std::ffi::OsStr::new(labrun::private_dir::REAPER_ARG))
        {
            labrun::private_dir::run_reaper();
            return ExitCode::SUCCESS;
        }
        labrun::private_dir::enable_reaper();
    }
    quiet_on_closed_stdout();
    match cli::main() {
        Ok(code) => ExitCode::from(code),
        // Output written through a writer that meets a closed pipe (`--list-fields | head`)
        // ends as quietly as a `print!` does (see `quiet_on_closed_stdout`).
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(141)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `labrun grade ... | head` closes labrun's standard output early; `print!` then panics
/// with "failed printing to stdout: Broken pipe". Like other command-line tools, labrun
/// then stops quietly (with the status a SIGPIPE would give) instead of printing a panic.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
