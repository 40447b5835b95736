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
    match cli::main() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
