//! `--format github`: GitHub Actions workflow commands, one per location of a key
//! (`::error file=…,line=…,col=…,title=…::message`), so that findings show on the pull
//! request's diff without a SARIF upload. Critical and high findings are errors, medium ones
//! warnings, low and info ones notices.
//!
//! The runner rejects `col`/`endColumn` on an annotation that spans lines, so a key that spans
//! lines (a PEM block) is annotated by lines only. `endColumn` is keyhound's own: just past the
//! key's last character.
//!
//! The runner shows only about ten annotations per step, so [`summary`] also renders every
//! finding as a markdown table for the job's summary page (`$GITHUB_STEP_SUMMARY`).

use std::io::{self, Write};

use super::meta::ScanMeta;
use super::ReportOptions;
use crate::finding::{Finding, Location};
use crate::rules::Severity;

/// Writes one workflow command per location of each finding; nothing when there are none.
pub fn write(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    for f in findings {
        for loc in &f.locations {
            writeln!(out, "{}", command(f, loc, opts.show_secrets))?;
        }
    }
    Ok(())
}

/// Rows past this are counted, not listed: GitHub caps a step's summary at 1 MiB.
const SUMMARY_ROWS: usize = 500;

/// The job summary: a heading with the counts, then one table row per location of a key.
pub fn summary(findings: &[Finding], show: bool, meta: &ScanMeta) -> String {
    let places: usize = findings.iter().map(|f| f.locations.len()).sum();
    let mut out = String::from("## keyhound\n\n");
    if findings.is_empty() {
        out.push_str(&format!(
            "No leaked keys in {} scanned {}.\n\n",
            meta.counts.files,
            if meta.counts.commits.is_some() {
                "blobs"
            } else {
                "files"
            }
        ));
        return out;
    }
    out.push_str(&format!(
        "**{} leaked {}** in {} {}.\n\n",
        findings.len(),
        if findings.len() == 1 { "key" } else { "keys" },
        places,
        if places == 1 { "place" } else { "places" },
    ));
    out.push_str("| Severity | Rule | Location | Commit | Secret | Fingerprint |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    let mut rows = 0;
    for f in findings {
        let secret = if show { f.secret.expose() } else { &f.redacted };
        for loc in &f.locations {
            if rows == SUMMARY_ROWS {
                break;
            }
            rows += 1;
            let path = loc.path.strip_prefix("./").unwrap_or(&loc.path);
            let place = format!("{path}:{}", loc.line);
            let place = match &loc.link {
                Some(link) => format!("[{}]({link})", cell(&place)),
                None => format!("`{}`", cell(&place)),
            };
            let commit = loc
                .commit
                .as_ref()
                .map(|c| format!("`{}`", &c.id[..c.id.len().min(12)]))
                .unwrap_or_default();
            out.push_str(&format!(
                "| {} | {} (`{}`) | {place} | {commit} | `{}` | `{}` |\n",
                f.severity,
                cell(&f.rule_name),
                f.rule_id,
                cell(secret),
                f.fingerprint
            ));
        }
    }
    if places > rows {
        out.push_str(&format!(
            "\n…and {} more places: see the job log or a JSON report.\n",
            places - rows
        ));
    }
    out.push('\n');
    out
}

/// Text safe inside a markdown table cell (and its code spans).
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('`', "'")
        .replace(['\n', '\r'], " ")
}

fn command(f: &Finding, loc: &Location, show: bool) -> String {
    let kind = match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    };
    let path = loc.path.strip_prefix("./").unwrap_or(&loc.path);
    let mut properties = vec![
        ("file", path.to_string()),
        ("line", loc.line.to_string()),
        ("endLine", loc.end_line.to_string()),
    ];
    if loc.line == loc.end_line {
        properties.push(("col", loc.column.to_string()));
        properties.push(("endColumn", loc.end_column.to_string()));
    }
    properties.push(("title", format!("{} ({})", f.rule_name, f.rule_id)));
    let properties: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();

    let secret = if show { f.secret.expose() } else { &f.redacted };
    let mut message = format!("{} ({}): {secret}", f.rule_name, f.severity);
    if let Some(c) = &loc.commit {
        let short = c.id.get(..12).unwrap_or(&c.id);
        message.push_str(&format!(
            ", introduced in commit {short} by {} on {}",
            c.author, c.date
        ));
    }
    message.push_str(&format!(
        ". Rotate it at the provider, then remove it from the code and the git history. \
         Fingerprint {}.",
        f.fingerprint
    ));
    format!(
        "::{kind} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

/// A command's message: `%`, CR and LF are percent-encoded, as the runner decodes them; any
/// other control character (an ESC sequence in an author's name) is percent-encoded too, so the
/// log shows it rather than the terminal obeying it.
fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            c if c.is_control() => out.push_str(&format!("%{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A command's property value: as a message, and `:` and `,` too, which delimit properties.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_decodes() {
        assert_eq!(escape_data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("100% a:b,c\nd"), "100%25 a%3Ab%2Cc%0Ad");
        assert_eq!(escape_data("x\u{1b}[2J\u{9b}"), "x%1B[2J%9B");
    }
}
