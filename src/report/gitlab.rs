//! `--format gitlab`: a GitLab Secret Detection report (schema 15.2.4), for
//! `artifacts:reports:secret_detection`, so that findings show in merge requests and the
//! vulnerability report like those of GitLab's own analyzer.
//!
//! One vulnerability per location of a key. GitLab requires a commit on each: history findings
//! carry the commit that introduced the key, a scan inside a repository carries HEAD, and a scan
//! outside git carries `0000000`, as GitLab's own analyzer writes for a directory scan. The
//! secret itself is never written unless `--show-secrets`: GitLab's `raw_source_code_extract`
//! is left out.

use std::io::{self, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::meta::{ScanMeta, INFORMATION_URI};
use super::{ReportOptions, REMEDIATION};
use crate::finding::{Finding, Location};
use crate::rules::Severity;

/// The schema version the report declares (and the tests validate against).
pub const SCHEMA_VERSION: &str = "15.2.4";

/// The commit GitLab is told about when there is none (a scan outside git).
const NO_COMMIT: &str = "0000000";

#[derive(Serialize)]
struct Report<'a> {
    version: &'static str,
    scan: Scan<'a>,
    vulnerabilities: Vec<Vulnerability<'a>>,
}

#[derive(Serialize)]
struct Scan<'a> {
    analyzer: Component,
    scanner: Component,
    #[serde(rename = "type")]
    kind: &'static str,
    start_time: &'a str,
    end_time: &'a str,
    status: &'static str,
}

#[derive(Serialize)]
struct Component {
    id: &'static str,
    name: &'static str,
    url: &'static str,
    version: &'static str,
    vendor: Vendor,
}

#[derive(Serialize)]
struct Vendor {
    name: &'static str,
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    id: String,
    name: &'a str,
    description: String,
    severity: &'static str,
    solution: &'static str,
    identifiers: [Identifier<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link<'a>>,
    location: VulnerabilityLocation<'a>,
}

#[derive(Serialize)]
struct Identifier<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct Link<'a> {
    name: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct VulnerabilityLocation<'a> {
    file: &'a str,
    start_line: usize,
    end_line: usize,
    commit: CommitRef<'a>,
}

#[derive(Serialize)]
struct CommitRef<'a> {
    sha: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// `yyyy-mm-ddThh:mm:ss` (UTC), the only form the schema accepts.
fn gitlab_time(rfc3339: &str) -> String {
    rfc3339
        .get(..19)
        .unwrap_or("1970-01-01T00:00:00")
        .to_string()
}

/// A stable id per place of a key, shaped like a UUID as GitLab recommends.
fn vulnerability_id(fingerprint: &str, path: &str, line: usize) -> String {
    let mut hasher = Sha256::new();
    for part in [fingerprint.as_bytes(), path.as_bytes(), &line.to_le_bytes()] {
        hasher.update(part);
        hasher.update([0]);
    }
    let hex: String = hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Writes the report as pretty-printed JSON followed by a newline.
pub fn write(
    findings: &[Finding],
    opts: &ReportOptions,
    meta: &ScanMeta,
    out: &mut dyn Write,
) -> io::Result<()> {
    let head = meta.repository.as_ref().and_then(|r| r.commit.as_deref());
    let mut vulnerabilities = Vec::new();
    for f in findings {
        let docs = meta.rule_docs.get(&f.rule_id).map(String::as_str);
        for loc in &f.locations {
            vulnerabilities.push(vulnerability(f, loc, docs, head, opts));
        }
    }
    let component = || Component {
        id: "keyhound",
        name: "keyhound",
        url: INFORMATION_URI,
        version: env!("CARGO_PKG_VERSION"),
        vendor: Vendor { name: "keyhound" },
    };
    let (start, end) = (gitlab_time(&meta.started), gitlab_time(&meta.finished));
    let report = Report {
        version: SCHEMA_VERSION,
        scan: Scan {
            analyzer: component(),
            scanner: component(),
            kind: "secret_detection",
            start_time: &start,
            end_time: &end,
            status: "success",
        },
        vulnerabilities,
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::from)?;
    writeln!(out)
}

fn vulnerability<'a>(
    f: &'a Finding,
    loc: &'a Location,
    docs: Option<&'a str>,
    head: Option<&'a str>,
    opts: &ReportOptions,
) -> Vulnerability<'a> {
    let secret = if opts.show_secrets {
        f.secret.expose()
    } else {
        &f.redacted
    };
    let path = loc.path.strip_prefix("./").unwrap_or(&loc.path);
    let mut description = format!(
        "{} ({}, severity {}): {secret} at {path}:{}. Fingerprint {}.",
        f.rule_name, f.provider, f.severity, loc.line, f.fingerprint
    );
    if let Some(d) = &f.description {
        description.push(' ');
        description.push_str(d);
    }
    let commit = match &loc.commit {
        Some(c) => CommitRef {
            sha: &c.id,
            author: Some(format!("{} <{}>", c.author, c.email)),
            date: Some(&c.date),
        },
        None => CommitRef {
            sha: head.unwrap_or(NO_COMMIT),
            author: None,
            date: None,
        },
    };
    Vulnerability {
        id: vulnerability_id(&f.fingerprint, path, loc.line),
        name: &f.rule_name,
        description,
        severity: severity(f.severity),
        solution: REMEDIATION,
        identifiers: [Identifier {
            kind: "keyhound_rule_id",
            name: format!("keyhound rule {}", f.rule_id),
            value: &f.rule_id,
            url: docs,
        }],
        links: docs
            .map(|url| Link {
                name: "Provider documentation",
                url,
            })
            .into_iter()
            .collect(),
        location: VulnerabilityLocation {
            file: path,
            start_line: loc.line,
            end_line: loc.end_line,
            commit,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_stable() {
        let id = vulnerability_id("f", "a.py", 3);
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(id, vulnerability_id("f", "a.py", 3));
        assert_ne!(id, vulnerability_id("f", "a.py", 4));
    }

    #[test]
    fn times_have_the_schemas_shape() {
        assert_eq!(gitlab_time("2024-01-31T12:00:00Z"), "2024-01-31T12:00:00");
        assert_eq!(gitlab_time(""), "1970-01-01T00:00:00");
    }
}
