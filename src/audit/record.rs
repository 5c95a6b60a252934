//! The audit's JSON Lines: one `finding` record per location of a key (the row `keyhound
//! history --format jsonl` writes, plus the repository), and one `repository` record per
//! repository: what was scanned, or why it could not be. `keyhound merge` reads them back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A `finding` record: the repository, then the history row's fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingRecord {
    /// Always `finding`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The repository as listed (its clone URL or path).
    pub repository: String,
    /// Its normalised identity: equal for every spelling of one repository.
    pub identity: String,
    /// Every field of a `history --format jsonl` line.
    #[serde(flatten)]
    pub row: Map<String, Value>,
}

/// A `repository` record: the audit log that proves what was covered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RepoRecord {
    /// Always `repository`.
    #[serde(rename = "type")]
    pub kind: String,
    pub repository: String,
    pub identity: String,
    /// HEAD's commit in the clone; none for an empty repository or a failed clone.
    pub head: Option<String>,
    /// Every ref scanned and the commit it reached.
    pub refs: BTreeMap<String, String>,
    /// `full`, `incremental` (commits since the recorded refs) or `unchanged`.
    pub scan: String,
    /// Commits scanned.
    pub commits: u64,
    /// Blobs in the clone and their total size: what a full scan covers.
    pub blobs: u64,
    pub bytes: u64,
    pub duration_ms: u64,
    /// Distinct keys found (by fingerprint).
    pub findings: u64,
    /// Why the repository could not be cloned or scanned.
    pub error: Option<String>,
}

/// The kind of a record line, to tell them apart before parsing the whole line.
#[derive(Deserialize)]
pub struct Kind {
    #[serde(rename = "type")]
    pub kind: String,
}
