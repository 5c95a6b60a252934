//! keyhound's integration tests: the built binary, run on temporary trees.
//!
//! One test binary with modules (faster to link than one binary per file). Token-shaped strings
//! are assembled at run time by `support`, so these sources hold no literal key.

mod config;
mod delivery;
mod detect;
mod exit_codes;
mod history;
mod hooks;
mod live_forms;
mod output;
mod reports;
mod robustness;
mod rules_cmd;
mod support;
mod suppress;
mod verify;
mod verify_cache;
mod walk;
