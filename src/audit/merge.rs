//! Merging an audit: the JSON Lines of its shards → one set of findings, which `keyhound
//! merge` reports. A key is one finding however many repositories leaked it (deduplicated by
//! fingerprint), with a location per repository, path and commit; a repository audited twice
//! (a resumed run, overlapping shards) counts once, its last record winning.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;

use anyhow::{bail, Context as _, Result};
use serde::Deserialize;

use super::record::{FindingRecord, Kind, RepoRecord};
use crate::finding::{Commit, Finding, Location, Part, Secret, Snippet, Verdict};
use crate::rules::Severity;

/// The fields of a history row that a report needs back.
#[derive(Deserialize)]
struct Row {
    rule_id: String,
    rule_name: String,
    provider: String,
    severity: Severity,
    path: String,
    line: usize,
    end_line: usize,
    column: usize,
    end_column: usize,
    secret: String,
    fingerprint: String,
    entropy: f64,
    #[serde(default)]
    snippet: String,
    commit: Option<String>,
    author: Option<String>,
    email: Option<String>,
    date: Option<String>,
    in_head: Option<bool>,
    /// The web page of the line at its commit (`--platform`), when the audit knew the host.
    #[serde(default)]
    link: Option<String>,
    /// How the key was decoded at this place (`base64`), when it was.
    #[serde(default)]
    decoded: Option<String>,
}

/// Where one location of a key is: path (with the repository), line, column, commit.
type Place = (String, usize, usize, Option<String>);

/// Merged audits: findings by fingerprint, repositories by identity.
#[derive(Default)]
pub struct Merged {
    pub findings: Vec<Finding>,
    pub repos: BTreeMap<String, RepoRecord>,
}

/// Reads audit JSON Lines from each reader (named for errors) and merges them.
pub fn read_all<R: BufRead>(inputs: Vec<(String, R)>) -> Result<Merged> {
    let mut by_key: HashMap<String, Finding> = HashMap::new();
    let mut places: HashMap<String, BTreeSet<Place>> = HashMap::new();
    let mut repos = BTreeMap::new();
    for (name, reader) in inputs {
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("reading {name}"))?;
            if line.trim().is_empty() {
                continue;
            }
            let at = || format!("{name}:{}", n + 1);
            let kind: Kind = serde_json::from_str(&line)
                .with_context(|| format!("{}: not a keyhound audit record", at()))?;
            match kind.kind.as_str() {
                "repository" => {
                    let r: RepoRecord = serde_json::from_str(&line)
                        .with_context(|| format!("{}: not a repository record", at()))?;
                    repos.insert(r.identity.clone(), r);
                }
                "finding" => {
                    let f: FindingRecord = serde_json::from_str(&line)
                        .with_context(|| format!("{}: not a finding record", at()))?;
                    let row: Row = serde_json::from_value(serde_json::Value::Object(f.row))
                        .with_context(|| format!("{}: not a finding record", at()))?;
                    let path = format!("{}/{}", f.identity.trim_end_matches('/'), row.path);
                    let place = (path.clone(), row.line, row.column, row.commit.clone());
                    if !places
                        .entry(row.fingerprint.clone())
                        .or_default()
                        .insert(place)
                    {
                        continue;
                    }
                    let location = Location {
                        path,
                        line: row.line,
                        column: row.column,
                        end_line: row.end_line,
                        end_column: row.end_column,
                        snippet: Snippet {
                            parts: vec![Part::Text(row.snippet.clone())],
                            ..Snippet::default()
                        },
                        commit: row.commit.as_ref().map(|id| Commit {
                            id: id.clone(),
                            author: row.author.clone().unwrap_or_default(),
                            email: row.email.clone().unwrap_or_default(),
                            date: row.date.clone().unwrap_or_default(),
                            time: 0,
                        }),
                        link: row.link.clone(),
                        decoded: row.decoded.clone(),
                    };
                    let finding =
                        by_key
                            .entry(row.fingerprint.clone())
                            .or_insert_with(|| Finding {
                                rule_id: row.rule_id.clone(),
                                rule_name: row.rule_name.clone(),
                                provider: row.provider.clone(),
                                severity: row.severity,
                                description: None,
                                // Redacted already, unless the audit ran with --show-secrets.
                                secret: Secret::new(row.secret.clone()),
                                captures: Vec::new(),
                                redacted: row.secret.clone(),
                                fingerprint: row.fingerprint.clone(),
                                entropy: row.entropy,
                                locations: Vec::new(),
                                verdict: Verdict::Unchecked,
                                in_head: None,
                                companions: Vec::new(),
                                key_info: Vec::new(),
                                checked_with: Vec::new(),
                            });
                    if row.in_head.is_some() {
                        finding.in_head =
                            Some(finding.in_head.unwrap_or(false) || row.in_head == Some(true));
                    }
                    finding.locations.push(location);
                }
                other => bail!("{}: unknown record type `{other}`", at()),
            }
        }
    }
    let mut findings: Vec<Finding> = by_key.into_values().collect();
    for f in &mut findings {
        f.locations.sort_by(|a, b| {
            (
                a.commit.as_ref().map(|c| &c.date),
                &a.path,
                a.line,
                a.column,
            )
                .cmp(&(
                    b.commit.as_ref().map(|c| &c.date),
                    &b.path,
                    b.line,
                    b.column,
                ))
        });
    }
    findings.sort_by(|a, b| {
        (
            &a.primary().path,
            a.primary().line,
            &a.rule_id,
            &a.fingerprint,
        )
            .cmp(&(
                &b.primary().path,
                b.primary().line,
                &b.rule_id,
                &b.fingerprint,
            ))
    });
    Ok(Merged { findings, repos })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding_line(identity: &str, path: &str, fp: &str) -> String {
        format!(
            r#"{{"type":"finding","repository":"https://{identity}","identity":"{identity}","rule_id":"r","rule_name":"R","provider":"P","severity":"high","path":"{path}","line":3,"end_line":3,"column":5,"end_column":9,"secret":"pc_*****","fingerprint":"{fp}","entropy":4.1,"snippet":"k = pc_*****","verdict":"unchecked","commit":"abc","author":"A","email":"a@x","date":"2024-01-01T00:00:00Z","in_head":true}}"#
        )
    }

    #[test]
    fn one_key_in_three_repositories_is_one_finding_with_three_locations() {
        let a = format!(
            "{}\n{}\n{}\n",
            finding_line("h/a", "x.env", "f1"),
            finding_line("h/b", "x.env", "f1"),
            r#"{"type":"repository","repository":"https://h/a","identity":"h/a","head":null,"refs":{},"scan":"full","commits":1,"blobs":1,"bytes":1,"duration_ms":1,"findings":1,"error":null}"#
        );
        // The second shard repeats one record (a resumed run) and adds a third repository.
        let b = format!(
            "{}\n{}\n",
            finding_line("h/a", "x.env", "f1"),
            finding_line("h/c", "y.env", "f1"),
        );
        let merged = read_all(vec![
            ("a".to_string(), a.as_bytes()),
            ("b".to_string(), b.as_bytes()),
        ])
        .unwrap();
        assert_eq!(merged.findings.len(), 1);
        let paths: Vec<&str> = merged.findings[0]
            .locations
            .iter()
            .map(|l| l.path.as_str())
            .collect();
        assert_eq!(paths, ["h/a/x.env", "h/b/x.env", "h/c/y.env"]);
        assert_eq!(merged.repos.len(), 1);
    }

    #[test]
    fn a_line_that_is_not_a_record_is_named() {
        let err = read_all(vec![("f.jsonl".to_string(), "{}\n".as_bytes())])
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("f.jsonl:1"), "{err:#}");
    }
}
