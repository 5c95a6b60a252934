//! Organisation-wide audits: the history of many repositories, split into shards that an
//! engine the team already runs (a CI matrix, Kubernetes Jobs) spreads over machines, with
//! resumable state and JSON Lines that `keyhound merge` joins into one report.
//!
//! keyhound schedules nothing: each repository is cloned with the system `git`
//! ([`clone`]), scanned by `keyhound history` in a child process (so one repository's memory
//! is returned before the next, and a crash fails one repository, not the audit), and recorded
//! ([`record`]); [`repos`] decides which shard a repository belongs to, [`state`] what is
//! finished, [`forge`] what an organisation holds.

pub mod clone;
pub mod forge;
pub mod merge;
pub mod record;
pub mod repos;
pub mod state;
