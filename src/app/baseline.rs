//! `keyhound baseline`: writes the findings' fingerprints, or imports another tool's baseline.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::cli::{BaselineArgs, BaselineSource, ScanArgs};
use crate::config::file::display_path;
use crate::config::{HistoryConfig, Output, RunConfig, ScanConfig};
use crate::finding;
use crate::suppress::{self, Baseline};

use super::history::run_history;
use super::pipeline::{bound_threads, Tally};
use super::scan::scan_with;
use super::summary::{plural, report_skipped, summary};

/// `keyhound baseline [scan args]` / `keyhound baseline history [history args]`.
pub(super) fn baseline(args: &BaselineArgs, output: Output) -> Result<ExitCode> {
    let started = Instant::now();
    if args.from_gitleaks.is_some() || args.from_detect_secrets.is_some() {
        return baseline_import(args, output);
    }
    match &args.source {
        Some(BaselineSource::History(h)) => {
            let mut config = HistoryConfig::from_args(h)?;
            bound_threads(&mut config.run.threads, output);
            config.run.suppress.write_to = Some(config.run.suppress.baseline.clone());
            run_history(&config, output, started, None)
        }
        Some(BaselineSource::Scan(s)) => baseline_scan(s, output, started),
        None => baseline_scan(&args.scan, output, started),
    }
}

/// `keyhound baseline --from-gitleaks FILE` / `--from-detect-secrets FILE`: adds what those
/// files accept to the baseline (keeping its entries), and names what could not be imported.
pub(super) fn baseline_import(args: &BaselineArgs, output: Output) -> Result<ExitCode> {
    use suppress::import;
    let config = ScanConfig::from_args(&args.scan)?;
    let target = &config.run.suppress.baseline;
    let mut lines = std::collections::BTreeMap::new();
    if target.is_file() {
        for (text, entry) in Baseline::read(target)?.entries() {
            lines.insert(text.to_string(), entry.note.clone());
        }
    }
    let before = lines.len();
    let mut sources = Vec::new();
    if let Some(path) = &args.from_gitleaks {
        sources.push((path, import::gitleaks(path)?));
    }
    if let Some(path) = &args.from_detect_secrets {
        sources.push((path, import::detect_secrets(path)?));
    }
    let mut rejected = Vec::new();
    let mut read = Vec::new();
    for (path, found) in sources {
        read.push(format!(
            "{} from {}",
            found.entries.len(),
            display_path(path)
        ));
        for entry in found.entries {
            lines.entry(entry.key.text()).or_insert(entry.note);
        }
        rejected.extend(found.rejected);
    }
    let text = suppress::baseline::render_lines(&lines);
    std::fs::write(target, text)
        .with_context(|| format!("cannot write the baseline {}", display_path(target)))?;
    if !output.quiet && !rejected.is_empty() {
        if output.verbosity > 0 {
            for r in &rejected {
                eprintln!("keyhound: not imported: {}: {}", r.place, r.reason);
            }
        }
        eprintln!(
            "keyhound: {} {} could not be imported{}",
            rejected.len(),
            plural(rejected.len() as u64, "entry", "entries"),
            if output.verbosity > 0 {
                ""
            } else {
                "; -v names them"
            }
        );
    }
    println!(
        "keyhound: imported {} into {}: {} new, {} in all",
        read.join(" and "),
        display_path(target),
        lines.len() - before,
        lines.len()
    );
    Ok(if config.run.strict && !rejected.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

pub(super) fn baseline_scan(args: &ScanArgs, output: Output, started: Instant) -> Result<ExitCode> {
    let mut config = ScanConfig::from_args(args)?;
    bound_threads(&mut config.run.threads, output);
    config.walk.threads = config.run.threads;
    config.run.suppress.write_to = Some(config.run.suppress.baseline.clone());
    scan_with(&config, output, started)
}

/// `keyhound baseline`: writes the findings' fingerprints instead of reporting them.
pub(super) fn write_baseline(
    run: &RunConfig,
    output: Output,
    path: &Path,
    findings: &[finding::Finding],
    tally: &Tally,
    started: Instant,
) -> Result<ExitCode> {
    let entries =
        suppress::baseline::write(path, findings, run.suppress.baseline_within.as_deref())?;
    if !output.quiet {
        for warning in &tally.warnings {
            eprintln!("keyhound: warning: {warning}");
        }
        report_skipped(&tally.skipped, output.verbosity);
        eprintln!(
            "{}",
            summary(tally, findings.len(), started.elapsed(), output.verbosity)
        );
    }
    println!(
        "keyhound: wrote {entries} {} to {}",
        plural(entries as u64, "baseline entry", "baseline entries"),
        display_path(path)
    );
    let errors = tally.skipped.iter().any(|s| s.reason.is_error());
    Ok(if run.strict && errors {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
