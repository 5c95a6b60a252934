//! `--format jsonl`: JSON Lines, one object per location of a key. Each object holds the
//! finding's fields (as in `--format json`) and that one location; `fingerprint` ties the
//! locations of one key together. The app writes a finding's lines as soon as the finding is
//! final, so a large audit can be piped and grouped downstream while it runs.

use std::io::{self, Write};

use serde::Serialize;

use super::ReportOptions;
use crate::finding::{Finding, Location};

#[derive(Serialize)]
struct JsonlLine<'a> {
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
}

fn line<'a>(f: &'a Finding, loc: &'a Location, show: bool) -> JsonlLine<'a> {
    let commit = loc.commit.as_ref();
    JsonlLine {
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
    }
}

/// Writes one finding: one line per location, each ending in `\n`.
pub fn write_finding(
    finding: &Finding,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for loc in &finding.locations {
        serde_json::to_writer(&mut *out, &line(finding, loc, opts.show_secrets))
            .map_err(io::Error::from)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes every finding's lines; nothing at all when there are none.
pub fn write(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    findings
        .iter()
        .try_for_each(|f| write_finding(f, opts, out))
}
