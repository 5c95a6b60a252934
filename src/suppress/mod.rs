//! Suppression: findings a team has decided not to be told about again, and why.
//!
//! Three ways, all by content rather than by line number, so none breaks on an edit or hides a
//! new key that lands on an old line:
//!
//! - [`inline`]: a `keyhound:allow` marker on the secret's line (decided while scanning, where
//!   the bytes are);
//! - [`allowlist`]: the config file's allowlists, by path, by regex on the secret, or by stopword;
//! - [`baseline`]: the fingerprints of accepted findings, in `.keyhoundignore` (and what
//!   [`import`] brings from gitleaks' and detect-secrets' baselines).
//!
//! Every suppression is counted and can be listed; nothing disappears silently.

pub mod allowlist;
pub mod baseline;
pub mod import;
pub mod inline;

use std::collections::HashSet;

pub use allowlist::{Allowlist, Allowlists};
pub use baseline::Baseline;
pub use inline::inline_allowed;

use crate::finding::fingerprint::legacy as legacy_fingerprint;
use crate::finding::{Finding, Location};
use crate::source::globs::Base;

/// Why a finding was not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Inline,
    Allowlist,
    Baseline,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Inline => "inline",
            Reason::Allowlist => "allowlist",
            Reason::Baseline => "baseline",
        }
    }
}

/// A key that was not reported (at some or all of its places), and why.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub reason: Reason,
    pub rule_id: String,
    pub fingerprint: String,
    /// The places it was not reported at.
    pub locations: Vec<Location>,
}

/// A baseline entry that matched no finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    pub fingerprint: String,
    /// Its line in the baseline file.
    pub line: usize,
    /// Its comment (rule and first place when keyhound wrote it).
    pub note: String,
}

/// Keys suppressed, by reason. A key suppressed at some places and reported at others counts
/// here and as a finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub inline: usize,
    pub allowlist: usize,
    pub baseline: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.inline + self.allowlist + self.baseline
    }
}

/// What is left to report, what was suppressed, and which baseline entries are stale.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub stale: Vec<Stale>,
    /// Baseline entries that matched in the fingerprint format of before guessable secrets got
    /// a slow hash: `keyhound baseline` rewrites them.
    pub legacy: usize,
}

impl Outcome {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for s in &self.suppressed {
            match s.reason {
                Reason::Inline => counts.inline += 1,
                Reason::Allowlist => counts.allowlist += 1,
                Reason::Baseline => counts.baseline += 1,
            }
        }
        counts
    }
}

/// What to suppress with.
#[derive(Debug, Clone, Copy)]
pub struct Suppressor<'a> {
    pub allowlists: &'a Allowlists,
    /// What allowlist path globs are relative to, for this run's paths.
    pub base: &'a Base,
    pub baseline: Option<&'a Baseline>,
    /// Whether the scan saw everything the baseline may list (a whole tree or the whole
    /// history): only then does an entry that matched nothing mean it is stale.
    pub check_stale: bool,
}

impl Suppressor<'_> {
    /// Applies the allowlists, then the baseline, to `findings`. `inline` are the findings made
    /// of places an inline marker suppressed while scanning; they are recorded as suppressed.
    pub fn apply(&self, findings: Vec<Finding>, inline: Vec<Finding>) -> Outcome {
        let mut out = Outcome::default();
        for f in inline {
            out.suppressed
                .push(suppressed(Reason::Inline, &f, f.locations.clone()));
        }
        let mut matched: HashSet<String> = HashSet::new();
        let mut trimmed = false;
        for mut f in findings {
            if self.allowlists.allows_secret(&f.rule_id, f.secret.expose()) {
                out.suppressed
                    .push(suppressed(Reason::Allowlist, &f, f.locations.clone()));
                continue;
            }
            if !self.allowlists.is_empty() {
                let (allowed, kept): (Vec<Location>, Vec<Location>) =
                    std::mem::take(&mut f.locations).into_iter().partition(|l| {
                        self.base
                            .relative(&l.path)
                            .is_some_and(|rel| self.allowlists.allows_path(&f.rule_id, &rel))
                    });
                f.locations = kept;
                if !allowed.is_empty() {
                    trimmed = true;
                    out.suppressed
                        .push(suppressed(Reason::Allowlist, &f, allowed));
                }
                if f.locations.is_empty() {
                    continue;
                }
            }
            if let Some(baseline) = self.baseline {
                // An entry written before the slow hash holds the fast one: it still counts.
                let entry = baseline::whole_match(baseline, &f).or_else(|| {
                    let old = legacy_fingerprint(&f.rule_id, f.secret.expose());
                    baseline.contains(&old).then(|| {
                        out.legacy += 1;
                        old
                    })
                });
                if let Some(entry) = entry {
                    matched.insert(entry);
                    let locations = std::mem::take(&mut f.locations);
                    out.suppressed
                        .push(suppressed(Reason::Baseline, &f, locations));
                    continue;
                }
                let (accepted, kept) =
                    baseline::split_places(baseline, self.base, &mut matched, &f.locations);
                if !accepted.is_empty() {
                    f.locations = kept;
                    trimmed = true;
                    out.suppressed
                        .push(suppressed(Reason::Baseline, &f, accepted));
                    if f.locations.is_empty() {
                        continue;
                    }
                }
            }
            out.findings.push(f);
        }
        if trimmed {
            // A finding whose first place was allowlisted is now reported at its next place.
            out.findings.sort_by(|a, b| {
                let (la, lb) = (a.primary(), b.primary());
                (&la.path, la.line, la.column, &a.rule_id)
                    .cmp(&(&lb.path, lb.line, lb.column, &b.rule_id))
            });
        }
        if let (Some(baseline), true) = (self.baseline, self.check_stale) {
            out.stale = baseline
                .entries()
                .filter(|(fp, _)| !matched.contains(*fp))
                .map(|(fp, entry)| Stale {
                    fingerprint: fp.to_string(),
                    line: entry.line,
                    note: entry.note.clone(),
                })
                .collect();
        }
        out
    }
}

fn suppressed(reason: Reason, f: &Finding, locations: Vec<Location>) -> Suppressed {
    Suppressed {
        reason,
        rule_id: f.rule_id.clone(),
        fingerprint: f.fingerprint.clone(),
        locations,
    }
}
