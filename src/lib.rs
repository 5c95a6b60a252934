//! keyhound: find leaked keys in files and git history, fast.
//!
//! The crate is a library so that tests and benchmarks can drive the engine directly; the
//! binary (`src/main.rs`) only parses arguments and maps the outcome to an exit code.
//!
//! Data flows one way: [`source`] yields blobs, [`matcher`] finds [`matcher::Match`]es in them
//! using the compiled [`rules`], [`finding`] turns matches into deduplicated findings,
//! [`suppress`] sets aside what is allowed, [`verify`] checks keys live, and [`report`] writes
//! them ([`scan`] drives one blob through the first stages). [`selftest`] runs `rules check`
//! above the matcher and verify. [`cli`] is what was typed, [`config`] what it means, and
//! [`app`] (with [`audit`] beside it) wires the stages together. No module uses one above it:
//! `tests/integration/module_graph.rs` holds the allowed edges.

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod decode;
pub mod delta;
pub mod duration;
pub mod finding;
pub mod matcher;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod selftest;
pub mod source;
pub mod suppress;
pub mod url_path;
pub mod verify;
