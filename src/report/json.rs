//! `--format json`: one JSON object: `schema_version`, the scan's metadata (`scan`), and
//! `findings`, one object per key (see README, "JSON output").

use std::io::{self, Write};

use serde::Serialize;

use super::detail::{self, Pairs};
use super::meta::{ScanMeta, SCHEMA_VERSION};
use super::ReportOptions;
use crate::finding::{Finding, Location};

/// A finding's fields at one of its locations: the top of a JSON finding (at its first
/// location) and, whole, one JSON Lines line (at each location).
#[derive(Serialize)]
pub(super) struct Row<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    provider: &'a str,
    severity: &'a str,
    path: &'a str,
    line: usize,
    end_line: usize,
    column: usize,
    end_column: usize,
    secret: &'a str,
    fingerprint: &'a str,
    entropy: f64,
    snippet: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_head: Option<bool>,
    /// How the key was decoded (`base64`, `percent > base64`); absent for plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded: Option<&'a str>,
}

/// The row of `f` at `loc`.
pub(super) fn row<'a>(f: &'a Finding, loc: &'a Location, show: bool) -> Row<'a> {
    let commit = loc.commit.as_ref();
    Row {
        rule_id: &f.rule_id,
        rule_name: &f.rule_name,
        provider: &f.provider,
        severity: f.severity.as_str(),
        path: &loc.path,
        line: loc.line,
        end_line: loc.end_line,
        column: loc.column,
        end_column: loc.end_column,
        secret: if show { f.secret.expose() } else { &f.redacted },
        fingerprint: &f.fingerprint,
        entropy: (f.entropy * 1000.0).round() / 1000.0,
        snippet: loc.snippet.render(show).0,
        verdict: f.verdict.as_str(),
        verdict_detail: f.verdict.detail(),
        key_info: detail::key_info(f),
        checked_with: detail::checked_with(f, show),
        commit: commit.map(|c| c.id.as_str()),
        author: commit.map(|c| c.author.as_str()),
        email: commit.map(|c| c.email.as_str()),
        date: commit.map(|c| c.date.as_str()),
        link: loc.link.as_deref(),
        in_head: f.in_head,
        decoded: loc.decoded.as_deref(),
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    row: Row<'a>,
    locations: Vec<JsonLocation<'a>>,
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    path: &'a str,
    line: usize,
    end_line: usize,
    column: usize,
    end_column: usize,
    snippet: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    decoded: Option<&'a str>,
}

fn location(loc: &Location, show: bool) -> JsonLocation<'_> {
    JsonLocation {
        path: &loc.path,
        line: loc.line,
        end_line: loc.end_line,
        column: loc.column,
        end_column: loc.end_column,
        snippet: loc.snippet.render(show).0,
        commit: loc.commit.as_ref().map(|c| c.id.as_str()),
        author: loc.commit.as_ref().map(|c| c.author.as_str()),
        email: loc.commit.as_ref().map(|c| c.email.as_str()),
        date: loc.commit.as_ref().map(|c| c.date.as_str()),
        link: loc.link.as_deref(),
        decoded: loc.decoded.as_deref(),
    }
}

/// Writes the report as one pretty-printed JSON object followed by a newline:
/// `schema_version`, the scan's metadata, and the findings.
pub fn write(
    findings: &[Finding],
    opts: &ReportOptions,
    meta: &ScanMeta,
    out: &mut dyn Write,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Document<'a> {
        schema_version: u32,
        scan: &'a ScanMeta,
        findings: Vec<JsonFinding<'a>>,
    }
    let show = opts.show_secrets;
    let items: Vec<JsonFinding<'_>> = findings
        .iter()
        .map(|f| JsonFinding {
            row: row(f, f.primary(), show),
            locations: f.locations.iter().map(|l| location(l, show)).collect(),
        })
        .collect();
    let document = Document {
        schema_version: SCHEMA_VERSION,
        scan: meta,
        findings: items,
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::from)?;
    writeln!(out)
}
