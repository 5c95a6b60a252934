//! keyhound: find leaked keys in files and git history, fast.
//!
//! The crate is a library so that tests and benchmarks can drive the engine directly; the
//! binary (`src/main.rs`) only parses arguments and maps the outcome to an exit code.
//!
//! Data flows one way: [`source`] yields blobs, [`matcher`] finds [`matcher::Match`]es in them
//! using the compiled [`rules`], [`finding`] turns matches into deduplicated findings, and
//! [`report`] writes them. [`app`] wires the stages together.

pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod decode;
pub mod finding;
pub mod matcher;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod selftest;
pub mod source;
pub mod suppress;
pub mod verify;
