//! `--format sarif`: a SARIF 2.1.0 log, for GitHub code scanning and other SARIF consumers.
//!
//! One run; its tool driver lists each rule that fired, with the rule's description and the
//! remediation as help. Each location of a key is its own result, so that every file that holds
//! the key shows an alert. A result's `partialFingerprints` is keyhound's own hash (GitHub cannot
//! compute one for a file that exists only in history): the finding's fingerprint with the path
//! and the occurrence in that path, so it survives edits that move the key, and tells apart the
//! places one key is in. Columns count Unicode code points (`columnKind`), as keyhound's do; the
//! end column is just past the key's last character, as SARIF's is.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::detail::{self, Pairs};
use super::meta::{ScanMeta, INFORMATION_URI};
use super::{level, ReportOptions, REMEDIATION};
use crate::finding::{Finding, Location};
use crate::rules::Severity;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Where relative result paths are rooted: the repository's root when the scan is inside one
/// (named in `originalUriBaseIds`), else the directory keyhound was run in.
const SRCROOT: &str = "%SRCROOT%";
/// The name of keyhound's partial fingerprint; bump the version if the hash ever changes.
const FINGERPRINT_NAME: &str = "keyhound/v1";
const TAGS: [&str; 2] = ["security", "secret"];

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_uri_base_ids: Option<BTreeMap<&'static str, BaseUri>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    version_control_provenance: Vec<VersionControl<'a>>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct BaseUri {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionControl<'a> {
    repository_uri: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<&'a str>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    information_uri: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: &'a str,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 2],
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [ResultLocation; 1],
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    tags: [&'static str; 2],
    /// The finding's fingerprint, shared by every location of the key.
    fingerprint: &'a str,
    verdict: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict_detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    key_info: Pairs,
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    checked_with: Pairs,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    /// The host's page of this line at the commit (`--platform`).
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_head: Option<bool>,
    /// How the key was decoded from the text at this location (`base64`).
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded: Option<&'a str>,
}

/// GitHub's scale: 9.0 and over is critical, 7.0 high, 4.0 medium, under 4.0 low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Writes the findings as one SARIF log (pretty-printed JSON) followed by a newline.
pub fn write(
    findings: &[Finding],
    opts: &ReportOptions,
    meta: &ScanMeta,
    out: &mut dyn Write,
) -> io::Result<()> {
    // Each rule that fired, once, by id; a result points at its rule by index.
    let mut fired: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in findings {
        fired.entry(f.rule_id.as_str()).or_insert(f);
    }
    let index: BTreeMap<&str, usize> = fired.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rules = fired
        .values()
        .map(|f| rule(f, meta.rule_docs.get(&f.rule_id).map(String::as_str)))
        .collect();

    let mut results = Vec::new();
    for f in findings {
        let mut occurrences: BTreeMap<String, usize> = BTreeMap::new();
        for loc in &f.locations {
            let path = repository_path(meta, &loc.path).unwrap_or_else(|| loc.path.clone());
            let occurrence = occurrences.entry(path.clone()).or_default();
            results.push(result(
                f,
                loc,
                &path,
                *occurrence,
                index[f.rule_id.as_str()],
                opts,
            ));
            *occurrence += 1;
        }
    }

    let original_uri_base_ids = meta.repository_root.as_ref().map(|root| {
        let mut uri = String::from("file://");
        let root = root.to_string_lossy().replace('\\', "/");
        if !root.starts_with('/') {
            uri.push('/');
        }
        uri.push_str(&crate::url_path::encode(root.trim_end_matches('/')));
        uri.push('/');
        BTreeMap::from([(SRCROOT, BaseUri { uri })])
    });
    let version_control_provenance = meta
        .repository
        .iter()
        .filter_map(|r| {
            Some(VersionControl {
                repository_uri: r.url.as_deref()?,
                revision_id: r.commit.as_deref(),
                branch: r.branch.as_deref(),
            })
        })
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "keyhound",
                    information_uri: INFORMATION_URI,
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            original_uri_base_ids,
            version_control_provenance,
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::from)?;
    writeln!(out)
}

/// `path` (as reported: relative to where keyhound ran, or absolute) relative to the
/// repository's root, `/`-separated; `None` outside a repository or outside its root.
fn repository_path(meta: &ScanMeta, path: &str) -> Option<String> {
    use std::path::{Component, Path, PathBuf};
    let root = meta.repository_root.as_ref()?;
    let p = Path::new(path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        meta.cwd.as_ref()?.join(p)
    };
    let mut normal = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    let rel = normal.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn rule<'a>(f: &'a Finding, help_uri: Option<&'a str>) -> Rule<'a> {
    let description = f
        .description
        .clone()
        .unwrap_or_else(|| format!("A {} ({}).", f.rule_name, f.provider));
    Rule {
        id: &f.rule_id,
        name: &f.rule_name,
        short_description: Text {
            text: f.rule_name.clone(),
        },
        help: Help {
            text: format!("{description}\n\n{REMEDIATION}"),
            markdown: format!(
                "**{}** ({}, severity {})\n\n{description}\n\n**What to do.** {REMEDIATION}",
                f.rule_name, f.provider, f.severity
            ),
        },
        full_description: Text { text: description },
        help_uri,
        default_configuration: Configuration {
            level: level(f.severity),
        },
        properties: RuleProperties {
            tags: TAGS,
            security_severity: security_severity(f.severity),
        },
    }
}

fn result<'a>(
    f: &'a Finding,
    loc: &'a Location,
    path: &str,
    occurrence: usize,
    rule_index: usize,
    opts: &ReportOptions,
) -> SarifResult<'a> {
    let secret = if opts.show_secrets {
        f.secret.expose()
    } else {
        &f.redacted
    };
    let mut message = format!("{}: {secret}", f.rule_name);
    if let Some(c) = &loc.commit {
        let short = c.id.get(..12).unwrap_or(&c.id);
        message.push_str(&format!(
            " (introduced in commit {short} by {} on {})",
            c.author, c.date
        ));
    }
    let (uri, uri_base_id) = artifact_uri(path);
    let commit = loc.commit.as_ref();
    SarifResult {
        rule_id: &f.rule_id,
        rule_index,
        level: level(f.severity),
        message: Text { text: message },
        locations: [ResultLocation {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri, uri_base_id },
                region: Region {
                    start_line: loc.line,
                    start_column: loc.column,
                    end_line: loc.end_line,
                    end_column: loc.end_column,
                },
            },
        }],
        partial_fingerprints: BTreeMap::from([(
            FINGERPRINT_NAME,
            location_fingerprint(&f.fingerprint, path, occurrence),
        )]),
        properties: ResultProperties {
            security_severity: security_severity(f.severity),
            tags: TAGS,
            fingerprint: &f.fingerprint,
            verdict: f.verdict.as_str(),
            verdict_detail: f.verdict.detail(),
            key_info: detail::key_info(f),
            checked_with: detail::checked_with(f, opts.show_secrets),
            commit: commit.map(|c| c.id.as_str()),
            author: commit.map(|c| c.author.as_str()),
            email: commit.map(|c| c.email.as_str()),
            date: commit.map(|c| c.date.as_str()),
            link: loc.link.as_deref(),
            in_head: f.in_head,
            decoded: loc.decoded.as_deref(),
        },
    }
}

/// One place of one key: the finding's fingerprint (rule and secret), the path, and which
/// occurrence of the key in that path it is. No line number, so moving the key keeps it.
fn location_fingerprint(fingerprint: &str, path: &str, occurrence: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(fingerprint.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(occurrence.to_le_bytes());
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A path as a SARIF artifact URI: relative paths (the usual case) are relative to
/// `%SRCROOT%`, with forward slashes and percent-encoding; absolute paths become `file:` URIs.
fn artifact_uri(path: &str) -> (String, Option<&'static str>) {
    let windows = std::path::MAIN_SEPARATOR == '\\';
    let path = if windows {
        path.replace('\\', "/")
    } else {
        path.to_string()
    };
    let mut relative = path.as_str();
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest;
    }
    let bytes = relative.as_bytes();
    if relative.starts_with('/') {
        (
            format!("file://{}", crate::url_path::encode(relative)),
            None,
        )
    } else if windows && bytes.len() > 2 && bytes[0].is_ascii_alphabetic() && &bytes[1..3] == b":/"
    {
        // A drive letter: `C:/src/app.py` is `file:///C:/src/app.py`.
        let (drive, rest) = relative.split_at(2);
        (
            format!("file:///{drive}{}", crate::url_path::encode(rest)),
            None,
        )
    } else {
        (crate::url_path::encode(relative), Some(SRCROOT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_encoded_under_srcroot() {
        assert_eq!(
            artifact_uri("./app/my settings#1.py"),
            ("app/my%20settings%231.py".to_string(), Some(SRCROOT))
        );
        assert_eq!(
            artifact_uri("données/clé.env"),
            ("donn%C3%A9es/cl%C3%A9.env".to_string(), Some(SRCROOT))
        );
        assert_eq!(
            artifact_uri("a:b/c"),
            ("a%3Ab/c".to_string(), Some(SRCROOT))
        );
    }

    #[test]
    fn absolute_paths_are_file_uris() {
        assert_eq!(
            artifact_uri("/srv/app/.env"),
            ("file:///srv/app/.env".to_string(), None)
        );
    }

    #[test]
    fn location_fingerprints_differ_by_place_not_line() {
        let a = location_fingerprint("f", "a.py", 0);
        assert_eq!(a.len(), 32);
        assert_ne!(a, location_fingerprint("f", "b.py", 0));
        assert_ne!(a, location_fingerprint("f", "a.py", 1));
        assert_ne!(a, location_fingerprint("g", "a.py", 0));
        assert_eq!(a, location_fingerprint("f", "a.py", 0));
    }
}
