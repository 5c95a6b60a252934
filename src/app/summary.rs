//! What the user is told on stderr after a scan: the closing summary line (counts of what was
//! scanned, found, suppressed and skipped), the skipped and suppressed places, and the live
//! checks' tally.

use std::io::{self, Write};
use std::time::Duration;

use crate::config::file::display_path;
use crate::config::RunConfig;
use crate::report;
use crate::source::Skipped;
use crate::suppress;
use crate::verify;

use super::pipeline::Tally;

/// How the live checks of a run came out, for the summary line.
#[derive(Debug, Default)]
pub(super) struct Checked {
    pub(super) dry_run: bool,
    pub(super) requests: usize,
    /// Verdicts taken from the verdict cache, without a request.
    pub(super) from_cache: usize,
    pub(super) valid: usize,
    pub(super) invalid: usize,
    pub(super) unknown: usize,
    /// Why the `unknown` ones are.
    pub(super) causes: verify::causes::Causes,
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.dry_run {
            return write!(
                f,
                "dry run, {} {} not sent",
                self.requests,
                plural(self.requests as u64, "request", "requests")
            );
        }
        write!(
            f,
            "{} valid, {} invalid, {} unknown",
            self.valid, self.invalid, self.unknown
        )?;
        if !self.causes.is_empty() {
            write!(f, " ({})", self.causes)?;
        }
        if self.from_cache > 0 {
            write!(f, "; {} from the verdict cache", self.from_cache)?;
        }
        Ok(())
    }
}

/// Errors are always warned about; deliberate skips are named with -v.
pub(super) fn report_skipped(skipped: &[Skipped], verbosity: u8) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for s in skipped {
        // Both name paths from the scanned tree (a walk error quotes one).
        let path = report::escape::escape_controls(&s.path);
        let reason = s.reason.to_string();
        let reason = report::escape::escape_controls(&reason);
        if s.reason.is_error() {
            let _ = writeln!(err, "keyhound: warning: {path}: {reason}");
        } else if verbosity > 0 {
            let _ = writeln!(err, "keyhound: skipped {path}: {reason}");
        }
    }
}

/// Stale baseline entries are always warned about; suppressed places are listed with -v.
/// Neither ever shows a secret.
pub(super) fn report_suppressed(
    suppressed: &[suppress::Suppressed],
    stale: &[suppress::Stale],
    run: &RunConfig,
    verbosity: u8,
) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    if verbosity > 0 {
        for s in suppressed {
            for l in &s.locations {
                let commit = l
                    .commit
                    .as_ref()
                    .map(|c| format!(" in commit {}", &c.id[..c.id.len().min(12)]))
                    .unwrap_or_default();
                let _ = writeln!(
                    err,
                    "keyhound: suppressed ({}): {}:{}{commit} {}",
                    s.reason.as_str(),
                    report::escape::escape_controls(&l.path),
                    l.line,
                    s.rule_id
                );
            }
        }
    }
    for entry in stale {
        let note = if entry.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", entry.note)
        };
        let _ = writeln!(
            err,
            "keyhound: warning: {}:{}: stale baseline entry {}{note} matched nothing; `keyhound baseline` rewrites the file",
            display_path(&run.suppress.baseline),
            entry.line,
            entry.fingerprint
        );
    }
}

/// `scanned 3,012 files (25.1 MiB) in 0.14s: 3 findings; 2 skipped (1 binary, 1 too large)`.
/// With -v the places are listed above it, so the line does not point at -v.
pub(super) fn summary(tally: &Tally, findings: usize, elapsed: Duration, verbosity: u8) -> String {
    let what = match tally.commits {
        None => format!("{} {}", tally.files, plural(tally.files, "file", "files")),
        Some(commits) => format!(
            "{} {} from {} {}",
            tally.files,
            plural(tally.files, "blob", "blobs"),
            commits,
            plural(commits as u64, "commit", "commits")
        ),
    };
    let mut line = format!(
        "keyhound: scanned {what} ({}) in {:.2}s: {} {}",
        human_bytes(tally.bytes),
        elapsed.as_secs_f64(),
        findings,
        plural(findings as u64, "finding", "findings"),
    );
    let suppressed = tally.suppressed;
    if suppressed.total() > 0 {
        let detail: Vec<String> = [
            (suppressed.inline, "inline"),
            (suppressed.allowlist, "allowlist"),
            (suppressed.baseline, "baseline"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} {kind}"))
        .collect();
        line.push_str(&format!(
            "; {} suppressed ({})",
            suppressed.total(),
            detail.join(", ")
        ));
    }
    if tally.stale > 0 {
        line.push_str(&format!(
            "; {} stale baseline {}",
            tally.stale,
            plural(tally.stale as u64, "entry", "entries")
        ));
    }
    if !tally.skipped.is_empty() {
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for s in &tally.skipped {
            match kinds.iter_mut().find(|(k, _)| *k == s.reason.kind()) {
                Some((_, n)) => *n += 1,
                None => kinds.push((s.reason.kind(), 1)),
            }
        }
        let detail: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        line.push_str(&format!(
            "; {} skipped ({})",
            tally.skipped.len(),
            detail.join(", ")
        ));
    }
    if verbosity == 0
        && (suppressed.total() > 0 || tally.skipped.iter().any(|s| !s.reason.is_error()))
    {
        line.push_str("; -v names them");
    }
    line
}

pub(super) fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

pub(super) fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
