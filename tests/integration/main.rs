//! keyhound's integration tests: the built binary, run on temporary trees.
//!
//! One test binary with modules (faster to link than one binary per file). Token-shaped strings
//! are assembled at run time by `support`, so these sources hold no literal key.

mod audit;
mod baseline_import;
mod config;
mod decode;
mod delivery;
mod detect;
mod exit_codes;
mod fuzz;
mod hardening;
mod history;
mod history_narrow;
mod hooks;
mod live_forms;
mod messages;
mod module_graph;
mod output;
mod report_meta;
mod reports;
mod robustness;
mod rule_select;
mod rules_cmd;
mod support;
mod suppress;
mod trust;
mod verify;
mod verify_cache;
mod verify_errors;
mod walk;
