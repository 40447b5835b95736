//! The safety limits every lab script runs under, set in one place.
//!
//! Rhai has no limits until they are set: without these, `loop {}` would hang labrun and a
//! runaway string could eat the machine's memory. Blocking native calls (recv, accept,
//! capture stop) are not covered by the operation count; each has its own deadline.

use std::time::Duration;

/// Limits applied to the Rhai engine of a lab run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Script operations (roughly: expressions evaluated) before the run is stopped.
    /// 200 million is far beyond any lab (the chat lab uses about 5,000) and an endless
    /// loop burns through it in about 4 s on a slow machine (20 million take 0.4 s here).
    pub max_operations: u64,
    /// Wall-clock time the script may run in total, checked between operations.
    pub max_duration: Duration,
    /// Depth of nested function calls (recursion).
    pub max_call_levels: usize,
    /// Depth of nested expressions, at top level and inside functions.
    pub max_expr_depth: usize,
    /// Longest string, in bytes (payloads of a few MB are fine).
    pub max_string_size: usize,
    /// Longest array (a packet list of a large capture fits).
    pub max_array_size: usize,
    /// Largest object map.
    pub max_map_size: usize,
    /// Modules a script may import.
    pub max_modules: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 200_000_000,
            max_duration: Duration::from_secs(300),
            max_call_levels: 64,
            max_expr_depth: 128,
            max_string_size: 16 << 20,
            max_array_size: 2_000_000,
            max_map_size: 100_000,
            max_modules: 64,
        }
    }
}

impl Limits {
    /// Applies the limits (except the wall clock, which the runner's progress hook checks).
    pub fn apply(&self, engine: &mut rhai::Engine) {
        engine.set_max_operations(self.max_operations);
        engine.set_max_call_levels(self.max_call_levels);
        engine.set_max_expr_depths(self.max_expr_depth, self.max_expr_depth);
        engine.set_max_string_size(self.max_string_size);
        engine.set_max_array_size(self.max_array_size);
        engine.set_max_map_size(self.max_map_size);
        engine.set_max_modules(self.max_modules);
    }
}
