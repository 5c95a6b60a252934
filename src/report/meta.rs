//! What a report says about the scan itself, beside its findings: which keyhound, which
//! command, over what, when, and how much it saw. Machine formats carry it so that a stored
//! report can be understood (and compared with the next one) without the job log around it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// The version of the JSON and JSON Lines report layouts; raised whenever a field changes
/// meaning or goes away (adding a field does not raise it).
pub const SCHEMA_VERSION: u32 = 2;

/// Where keyhound's documentation lives (SARIF's `informationUri`, GitLab's scanner URL).
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// The scan a report describes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanMeta {
    pub tool: ToolInfo,
    /// The subcommand (`scan`, `history`).
    pub command: String,
    /// The arguments after the subcommand, as given (URL credentials removed).
    pub args: Vec<String>,
    /// The directory scanned: the base directory, or the repository's root for history.
    pub root: String,
    /// When the scan started and finished, RFC 3339 UTC (seconds).
    pub started: String,
    pub finished: String,
    pub counts: Counts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<RepositoryInfo>,
    /// Rule id → the provider's documentation URL, for the rules that have one.
    #[serde(skip)]
    pub rule_docs: BTreeMap<String, String>,
    /// The repository's root on disk, when the scan is inside one: SARIF paths are relative
    /// to it.
    #[serde(skip)]
    pub repository_root: Option<PathBuf>,
    /// The directory keyhound ran in, which relative finding paths are relative to.
    #[serde(skip)]
    pub cwd: Option<PathBuf>,
}

/// keyhound itself.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for ToolInfo {
    fn default() -> ToolInfo {
        ToolInfo {
            name: "keyhound",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// What the scan saw. `files` counts files, or blobs in a history scan (`commits` is then set).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub findings: usize,
    pub files: u64,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<usize>,
    pub skipped: usize,
    pub suppressed: Suppressed,
    pub stale_baseline_entries: usize,
}

/// Keys suppressed, by reason.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Suppressed {
    pub inline: usize,
    pub allowlist: usize,
    pub baseline: usize,
}

/// The git repository the scan was in.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepositoryInfo {
    /// The `origin` remote's URL without credentials, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// HEAD's commit (or the tip a history scan was narrowed to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// HEAD's branch, when HEAD is on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// RFC 3339 UTC to the second: `2024-01-31T12:00:00Z`.
pub fn rfc3339_utc(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Removes `user:password@` from anything that looks like a URL, so that a token passed in
/// an argument (an `--endpoint` with credentials) never reaches a report.
pub fn scrub_userinfo(arg: &str) -> String {
    let Some(scheme_end) = arg.find("://") else {
        return arg.to_string();
    };
    let rest = &arg[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &arg[..scheme_end + 3], &rest[at + 1..]),
        None => arg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_a_report() {
        assert_eq!(
            scrub_userinfo("gitlab-pat=https://user:tok@gitlab.example.com/x@y"),
            "gitlab-pat=https://gitlab.example.com/x@y"
        );
        assert_eq!(scrub_userinfo("--format"), "--format");
        assert_eq!(rfc3339_utc(1_706_659_200), "2024-01-31T00:00:00Z");
    }
}
