//! `--format json`: one JSON array, one object per finding (see README, "JSON output").

use std::io::{self, Write};

use serde::Serialize;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<&'a str>,
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
        commit: commit.map(|c| c.id.as_str()),
        author: commit.map(|c| c.author.as_str()),
        email: commit.map(|c| c.email.as_str()),
        date: commit.map(|c| c.date.as_str()),
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
        decoded: loc.decoded.as_deref(),
    }
}

/// Writes the findings as a pretty-printed JSON array followed by a newline.
pub fn write(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let show = opts.show_secrets;
    let items: Vec<JsonFinding<'_>> = findings
        .iter()
        .map(|f| JsonFinding {
            row: row(f, f.primary(), show),
            locations: f.locations.iter().map(|l| location(l, show)).collect(),
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items).map_err(io::Error::from)?;
    writeln!(out)
}
