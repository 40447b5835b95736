//! The script API: what a lab script can call, registered into the Rhai engine.
//!
//! Each file registers one area as a Rhai plugin module (names and doc comments are kept
//! in the engine's metadata for `labrun api`): the network and its sockets, captures and
//! packets, crafted packets, the report, port scans, and the user's own programs. The
//! bindings are thin adapters: what a run does lives in [`crate::session`]. A method on a
//! network or host (capture, serve, scan, browser, run) reaches the session through its
//! receiver (`lab_values`); only the run-wide functions (`network()`, the report, `arg`,
//! `grading`, `program`) read it from the engine tag, through [`session`]. Rhai's errors
//! become `file:line:col` [`ScriptError`]s here.

mod capture_api;
mod chat_api;
mod craft_api;
mod errors;
mod lab_values;
mod limits;
mod link_api;
mod net_api;
mod packet_api;
#[cfg(target_os = "linux")]
mod program_api;
mod reference;
mod report_api;
mod scan_api;
mod server_api;
mod ws_api;

pub use errors::{ScriptError, from_eval, from_parse};
pub use limits::{BusyClock, Limits, check_size};
pub use reference::api_markdown;

use crate::session::Session;
use rhai::{Dynamic, Engine, EvalAltResult, NativeCallContext, OptimizationLevel, Position};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Builds an engine with labrun's script API, limits and module resolver for `script_dir`.
pub fn build_engine(script_dir: &Path, limits: &Limits) -> Engine {
    let mut engine = Engine::new();
    limits.apply(&mut engine);
    // Simple optimisation never evaluates function calls at compile time, so calls whose
    // result depends on the network or the clock are never folded into constants.
    engine.set_optimization_level(OptimizationLevel::Simple);
    engine.set_module_resolver(rhai::module_resolvers::FileModuleResolver::new_with_path(
        script_dir,
    ));
    register(&mut engine);
    engine
}

/// The engine and compiled script of a run, for calling script functions from other
/// threads (a server's connection handlers).
#[derive(Clone)]
pub struct ScriptEngine {
    /// The engine with labrun's API and limits.
    pub engine: Arc<Engine>,
    /// The compiled lab.
    pub ast: Arc<rhai::AST>,
    /// The script file, for error locations.
    pub file: String,
}

impl std::fmt::Debug for ScriptEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ScriptEngine({})", self.file)
    }
}

/// What native functions find in the engine tag: the run's session, and the running engine
/// (set while the script runs; cleared after, which breaks the engine -> tag -> engine cycle).
#[derive(Debug, Clone)]
struct Tag {
    session: Session,
    engine: Arc<Mutex<Option<ScriptEngine>>>,
}

/// Runs the compiled lab `ast` of `file` on `engine` (built by [`build_engine`]) in
/// `session`, with `scope`'s constants: the script's error, if any, located in its file.
pub fn run(
    mut engine: Engine,
    ast: rhai::AST,
    scope: &mut rhai::Scope,
    session: &Session,
    file: &str,
) -> Result<(), ScriptError> {
    let tag = Tag {
        session: session.clone(),
        engine: Arc::default(),
    };
    engine.set_default_tag(Dynamic::from(tag.clone()));
    let engine = Arc::new(engine);
    let ast = Arc::new(ast);
    *lock(&tag.engine) = Some(ScriptEngine {
        engine: Arc::clone(&engine),
        ast: Arc::clone(&ast),
        file: file.to_string(),
    });
    let result = engine.run_ast_with_scope(scope, &ast);
    lock(&tag.engine).take();
    drop(engine);
    result.map_err(|e| from_eval(file, &e))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn tag(ctx: &NativeCallContext) -> ApiResult<Tag> {
    ctx.tag()
        .and_then(|t| t.clone().try_cast::<Tag>())
        .ok_or_else(|| {
            api_error(
                ctx.fn_name(),
                "only available while a lab runs (not in `labrun check`)",
            )
        })
}

/// The session of the engine that called a run-wide native function (one with no network
/// or host receiver to take it from).
pub fn session(ctx: &NativeCallContext) -> ApiResult<Session> {
    tag(ctx).map(|t| t.session)
}

/// The running engine and script, for calling script functions from labrun's threads.
fn script_engine(ctx: &NativeCallContext) -> ApiResult<Option<ScriptEngine>> {
    tag(ctx).map(|t| lock(&t.engine).clone())
}

/// Registers every part of the script API into `engine`.
pub fn register(engine: &mut Engine) {
    net_api::register(engine);
    link_api::register(engine);
    chat_api::register(engine);
    capture_api::register(engine);
    craft_api::register(engine);
    packet_api::register(engine);
    #[cfg(target_os = "linux")]
    program_api::register(engine);
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
    check_size(n, 1, ctx.engine().max_string_size(), "a script string")
        .map_err(|e| api_error(function, e))
}
