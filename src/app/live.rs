//! The live-check stage: endpoint overrides checked and announced, one request per unique key,
//! verdicts applied to the findings.

use std::io::{self, Write};

use anyhow::{bail, Result};

use crate::config::{Output, VerifyConfig};
use crate::finding::{Finding, Verdict};
use crate::rules::Rule;
use crate::verify;

use super::summary::Checked;

/// The live-check stage: one request per unique key whose rule has a check, then each
/// finding gets its key's verdict. A dry run prints the requests instead of sending them.
pub(super) fn live_checks(
    config: &VerifyConfig,
    rules: &[Rule],
    findings: &mut [Finding],
    output: Output,
) -> Result<Checked> {
    check_endpoints(config, rules)?;
    let jobs = verify::plan(findings, rules, &config.options.endpoints);
    let mut checked = Checked {
        dry_run: config.dry_run,
        requests: jobs.len(),
        ..Checked::default()
    };
    if config.dry_run {
        for job in &jobs {
            eprintln!("keyhound: dry run: would send {}", job.describe());
        }
        return Ok(checked);
    }
    let run = verify::cache::run(&jobs, &config.options);
    if !output.quiet {
        for warning in &run.warnings {
            eprintln!("keyhound: warning: {warning}");
        }
    }
    checked.from_cache = run.from_cache;
    let verdicts = run.checked;
    for v in &verdicts {
        match &v.verdict {
            Verdict::Valid { .. } => checked.valid += 1,
            Verdict::Invalid => checked.invalid += 1,
            Verdict::Unknown { reason } => {
                checked.unknown += 1;
                checked.causes.add(reason);
            }
            Verdict::Unchecked => {}
        }
    }
    verify::apply(&jobs, verdicts, findings);
    Ok(checked)
}

/// Every endpoint override must name a rule with a live check. Live checks turned on, or
/// moved, by a config file rather than a flag are announced: the user learns where keys go.
pub(super) fn check_endpoints(config: &VerifyConfig, rules: &[Rule]) -> Result<()> {
    let mut ids: Vec<&String> = config.options.endpoints.keys().collect();
    ids.sort();
    for id in ids {
        match rules.iter().find(|r| &r.id == id) {
            None => bail!("endpoint for `{id}`: no such rule (see `keyhound rules list`)"),
            Some(r) if r.verify.is_none() => {
                bail!("endpoint for `{id}`: the rule has no live check")
            }
            Some(_) => {}
        }
    }
    // Where keys are sent is never hidden, not even by -q.
    if let Some(origin) = &config.enabled_by_file {
        eprintln!(
            "keyhound: note: live checks are on (set in {origin}): each key found is sent to its \
             rule's provider"
        );
    }
    for (id, file) in &config.endpoints_from_file {
        if let Some(origin) = config.options.endpoints.get(id) {
            eprintln!(
                "keyhound: note: live checks of `{id}` go to {origin} (set in {})",
                file
            );
        }
    }
    Ok(())
}
