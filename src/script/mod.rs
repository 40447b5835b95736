//! The script API: what a lab script can call, registered into the Rhai engine.
//!
//! Each file registers one area as a Rhai plugin module (names and doc comments are kept
//! in the engine's metadata for `labrun api`): the network and its sockets, captures and
//! packets, crafted packets, the report, and port scans. Native functions find the run's state through the engine tag.

mod capture_api;
mod chat_api;
mod craft_api;
mod net_api;
mod packet_api;
mod reference;
mod report_api;
mod scan_api;
mod server_api;
mod ws_api;

pub use capture_api::finish_capture;
pub use reference::api_markdown;
pub use server_api::ScriptServer;

use crate::runner::RunHandle;
use rhai::{Dynamic, Engine, EvalAltResult, NativeCallContext, Position};

/// Registers every part of the script API into `engine`.
pub fn register(engine: &mut Engine) {
    net_api::register(engine);
    chat_api::register(engine);
    capture_api::register(engine);
    craft_api::register(engine);
    packet_api::register(engine);
    report_api::register(engine);
    scan_api::register(engine);
    server_api::register(engine);
    ws_api::register(engine);
}

/// The result type of native functions that can fail.
pub type ApiResult<T> = Result<T, Box<EvalAltResult>>;

/// An error raised by a native function, its text starting with the function's name.
pub fn api_error(function: &str, message: impl std::fmt::Display) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(format!("{function}: {message}").into(), Position::NONE).into()
}

/// Throws a socket error as a value the script can catch and inspect (unless the run
/// must stop, see [`or_stop`]).
pub fn throw_sock(err: crate::sockets::SockError) -> Box<EvalAltResult> {
    or_stop(EvalAltResult::ErrorRuntime(Dynamic::from(err), Position::NONE).into())
}

/// The error that ends the script because the run must stop (its time limit, Ctrl-C).
/// Rhai's `try` cannot catch it, so a script that catches errors in a loop still stops.
pub fn stop_error(stop: crate::clock::Stop) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(stop.to_string().into(), Position::NONE).into()
}

/// `err`, or the stop when the run must stop: a blocking call that the run's clock ended
/// ends the script rather than throwing a timeout the script could swallow.
pub fn or_stop(err: Box<EvalAltResult>) -> Box<EvalAltResult> {
    match crate::clock::check() {
        Err(stop) => stop_error(stop),
        Ok(()) => err,
    }
}

/// The run state of the engine that called a native function.
pub fn run_handle(ctx: &NativeCallContext) -> ApiResult<RunHandle> {
    ctx.tag()
        .and_then(|t| t.clone().try_cast::<RunHandle>())
        .ok_or_else(|| {
            api_error(
                ctx.fn_name(),
                "only available while a lab runs (not in `labrun check`)",
            )
        })
}

/// Converts a script integer to a non-negative size, naming the function on error.
pub fn to_usize(function: &str, what: &str, n: rhai::INT) -> ApiResult<usize> {
    usize::try_from(n).map_err(|_| api_error(function, format!("{what} must be >= 0, got {n}")))
}

/// Converts a script integer to a port number.
pub fn to_port(function: &str, n: rhai::INT) -> ApiResult<u16> {
    u16::try_from(n).map_err(|_| api_error(function, format!("port must be 0..=65535, got {n}")))
}

/// Checks that a string of `n` bytes, which a native function is about to build, fits
/// within the engine's string limit: the check comes before the allocation, so a huge `n`
/// is a script error instead of an abort or gigabytes of memory.
pub fn string_size(ctx: &NativeCallContext, n: rhai::INT) -> ApiResult<usize> {
    let function = ctx.fn_name();
    let n = to_usize(function, "the length", n)?;
    crate::runner::check_size(n, 1, ctx.engine().max_string_size(), "a script string")
        .map_err(|e| api_error(function, e))
}
