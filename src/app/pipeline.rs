//! The stages every scanning command shares once its blobs are read: the tally of what was
//! scanned, the matcher over the selected rules, the report, and `finish` (hits → findings →
//! suppression → live checks → report → summary → exit code).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};

use crate::config::file::display_path;
use crate::config::{Output, RunConfig};
use crate::finding::{self, Finding, Hit};
use crate::matcher::Matcher;
use crate::report::{self, HookStage, Report, ReportOptions};
use crate::rules::{Rule, RuleSet};
use crate::scan::Scanned;
use crate::source::scope::RepoScope;
use crate::source::Skipped;
use crate::suppress::{self, Baseline, Suppressor};

use super::baseline::write_baseline;
use super::live::live_checks;
use super::summary::{plural, report_skipped, report_suppressed, summary};

/// Counts and results, merged across threads at the end.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) hits: Vec<Hit>,
    /// Hits on lines with an inline `keyhound:allow` marker: not reported, but counted.
    pub(super) inline: Vec<Hit>,
    /// Keys suppressed, by reason (set after scanning).
    pub(super) suppressed: suppress::Counts,
    /// Baseline entries that matched nothing.
    pub(super) stale: usize,
    pub(super) skipped: Vec<Skipped>,
    /// Files (or blobs, for history) scanned, and their bytes.
    pub(super) files: u64,
    pub(super) bytes: u64,
    /// What was scanned: files, or blobs from this many commits.
    pub(super) commits: Option<usize>,
    /// What the user should know that is neither a finding nor a skipped file.
    pub(super) warnings: Vec<String>,
    /// The directory scanned and the repository it is in, for the reports' metadata.
    pub(super) root: Option<PathBuf>,
    pub(super) repository: Option<RepoScope>,
    /// What relative finding paths are relative to (history: the repository's root).
    pub(super) paths_from: Option<PathBuf>,
}

impl Tally {
    /// Adds what the scan of a blob found, keeping the hits `keep` accepts.
    pub(super) fn absorb(&mut self, scanned: Scanned, keep: impl Fn(&Hit) -> bool) {
        self.files += scanned.files;
        self.bytes += scanned.bytes;
        self.skipped.extend(scanned.skipped);
        for (allowed, hit) in scanned.hits.into_iter().filter(|(_, h)| keep(h)) {
            if allowed {
                self.inline.push(hit);
            } else {
                self.hits.push(hit);
            }
        }
    }
}

pub(super) fn merge(into: &mut Tally, from: Tally) {
    into.warnings.extend(from.warnings);
    into.hits.extend(from.hits);
    into.inline.extend(from.inline);
    into.skipped.extend(from.skipped);
    into.files += from.files;
    into.bytes += from.bytes;
}

/// More threads than this many per CPU only cost memory and start-up time (and `-j 100000`
/// would try to start a hundred thousand threads).
pub(super) const THREADS_PER_CPU: usize = 4;

/// Clamps `-j` to [`THREADS_PER_CPU`] × the CPUs, with a warning.
pub(super) fn bound_threads(threads: &mut usize, output: Output) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bound = cpus.saturating_mul(THREADS_PER_CPU);
    if *threads > bound {
        if !output.quiet {
            eprintln!(
                "keyhound: warning: -j {} is more than {THREADS_PER_CPU} threads per CPU ({cpus} {}); using {bound}",
                *threads,
                plural(cpus as u64, "CPU", "CPUs")
            );
        }
        *threads = bound;
    }
}

/// `--baseline FILE` must name a file that exists: fail before scanning, not after.
pub(super) fn check_baseline(run: &RunConfig) -> Result<()> {
    let s = &run.suppress;
    if s.use_baseline && s.baseline_required && !s.baseline.is_file() {
        bail!(
            "{}: no such baseline file (`keyhound baseline --baseline FILE` writes one)",
            s.baseline.display()
        );
    }
    Ok(())
}

/// Loads the rules a run asked for and builds the matcher over them. What repository config
/// tried and may not do (settings, rules) is warned about here, once per run.
///
/// The matcher lives until the process exits (one run per process: `audit` runs each
/// repository in a child), so it is leaked rather than dropped: freeing its thousands of
/// rules, automata and regexes was 8 % of a one-file scan's instructions.
pub(super) fn load_matcher(run: &RunConfig, output: Output) -> Result<&'static Matcher> {
    let mut rules = RuleSet::load(&run.rules)?;
    warn_ignored(run.ignored.iter().chain(&rules.ignored), output);
    run.apply_to_rules(&mut rules)?;
    if rules.is_empty() {
        bail!("no rules to scan with (--no-builtin-rules without --rules)");
    }
    Ok(Box::leak(Box::new(Matcher::new(rules))))
}

/// Warns about each setting of repository config that was ignored (`FILE:LINE: why`).
pub(super) fn warn_ignored<'a>(ignored: impl IntoIterator<Item = &'a String>, output: Output) {
    if output.quiet {
        return;
    }
    for what in ignored {
        eprintln!("keyhound: warning: repository config: {what}");
    }
}

/// Opens the report a run asked for: on stdout, or on `--output FILE`, created before the
/// scan starts so that a path that cannot be written fails at once, not after a long scan.
pub(super) fn open_report(
    run: &RunConfig,
    output: Output,
    hook: Option<HookStage>,
) -> Result<Box<dyn Report>> {
    let (out, color): (Box<dyn Write>, bool) = match &run.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            (Box::new(io::BufWriter::new(file)), false)
        }
        None => (Box::new(io::BufWriter::new(io::stdout())), output.color),
    };
    let opts = ReportOptions {
        show_secrets: run.show_secrets,
        color,
        compact: hook.is_some(),
        hook_stage: hook.unwrap_or_default(),
    };
    Ok(report::open(run.format, opts, out))
}

/// The stages after scanning, shared by every scanning command: hits → findings →
/// live checks → report → summary → exit code. Each finding goes to the report as soon as it
/// is final, so a streaming format (JSON Lines) writes it then.
pub(super) fn finish(
    run: &RunConfig,
    output: Output,
    matcher: &Matcher,
    mut tally: Tally,
    mut report: Box<dyn Report>,
    started: Instant,
) -> Result<ExitCode> {
    tally.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let findings = finding::findings_from(std::mem::take(&mut tally.hits), matcher.rules());
    let suppression = suppress_findings(run, matcher, &mut tally, findings)?;
    if let Some(path) = &run.suppress.write_to {
        return write_baseline(run, output, path, &suppression.findings, &tally, started);
    }
    let mut findings = suppression.findings;
    if run.redact_visible > 0 && !run.show_secrets {
        finding::reveal_percent(&mut findings, run.redact_visible);
    }
    let checked = if run.verify.enabled {
        Some(live_checks(
            &run.verify,
            matcher.rules(),
            &mut findings,
            output,
        )?)
    } else {
        None
    };
    let found_valid = findings.iter().any(|f| f.verdict.is_valid());
    if run.verify.only_valid {
        findings.retain(|f| f.verdict.is_valid());
    }
    let found = findings.len();
    let meta = scan_meta(&tally, found, matcher.rules(), started);
    if run.format == report::Format::Github {
        write_job_summary(&findings, run, &meta, output);
    }

    let written = findings
        .into_iter()
        .try_for_each(|f| report.add(f))
        .and_then(|()| report.finish(&meta));
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.with_context(|| match &run.output {
            Some(path) => format!("writing the report to {}", path.display()),
            None => "writing the report".to_string(),
        })?,
    }

    let errors = tally.skipped.iter().filter(|s| s.reason.is_error()).count();
    if !output.quiet {
        for warning in &tally.warnings {
            eprintln!("keyhound: warning: {warning}");
        }
        report_skipped(&tally.skipped, output.verbosity);
        report_suppressed(
            &suppression.suppressed,
            &suppression.stale,
            run,
            output.verbosity,
        );
        let mut line = summary(&tally, found, started.elapsed(), output.verbosity);
        if let Some(checked) = checked {
            line.push_str(&format!("; live checks: {checked}"));
        }
        eprintln!("{line}");
    }
    let failing = if run.verify.fail_on_valid_only {
        found_valid
    } else {
        found > 0
    };
    Ok(if run.strict && errors > 0 {
        ExitCode::from(2)
    } else if failing {
        ExitCode::from(run.exit_code)
    } else if run.suppress.fail_on_stale && !suppression.stale.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The suppress stage: inline-allowed hits become suppressed findings, then the config
/// allowlists and the baseline are applied. Counts go to the tally for the summary.
pub(super) fn suppress_findings(
    run: &RunConfig,
    matcher: &Matcher,
    tally: &mut Tally,
    findings: Vec<finding::Finding>,
) -> Result<suppress::Outcome> {
    let inline = finding::findings_from(std::mem::take(&mut tally.inline), matcher.rules());
    let s = &run.suppress;
    // `keyhound baseline` records every finding, baselined before or not.
    let baseline = if s.use_baseline && s.write_to.is_none() && s.baseline.is_file() {
        match suppress::baseline::confined(&s.baseline, s.baseline_within.as_deref()) {
            Ok(path) => Some(Baseline::read(&path)?),
            // Reporting more is the safe way to fail: the baseline is left out, and said so.
            Err(e) => {
                tally.warnings.push(format!("{e}; it is ignored"));
                None
            }
        }
    } else {
        None
    };
    let outcome = Suppressor {
        allowlists: &s.allowlists,
        base: &run.base,
        baseline: baseline.as_ref(),
        check_stale: s.whole,
    }
    .apply(findings, inline);
    tally.suppressed = outcome.counts();
    tally.stale = outcome.stale.len();
    if outcome.legacy > 0 {
        tally.warnings.push(format!(
            "{}: {} {} the old fingerprint format, which gives a guessable secret back to \
             whoever hashes guesses; `keyhound baseline` rewrites the file in the new one",
            display_path(&s.baseline),
            outcome.legacy,
            plural(outcome.legacy as u64, "entry uses", "entries use"),
        ));
    }
    Ok(outcome)
}

/// What the reports say about the scan: keyhound, the command, what was scanned, when, and
/// the counts of the summary line.
pub(super) fn scan_meta(
    tally: &Tally,
    found: usize,
    rules: &[Rule],
    started: Instant,
) -> report::ScanMeta {
    use report::meta::{self, Counts, RepositoryInfo, ScanMeta};
    let now = std::time::SystemTime::now();
    let unix = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    };
    let began = now.checked_sub(started.elapsed()).unwrap_or(now);
    let mut args = std::env::args().skip(1).map(|a| meta::scrub_userinfo(&a));
    let command = args.next().unwrap_or_default();
    let counts = tally.suppressed;
    ScanMeta {
        tool: Default::default(),
        command,
        args: args.collect(),
        root: tally
            .root
            .as_ref()
            .map(|r| r.display().to_string())
            .unwrap_or_default(),
        started: meta::rfc3339_utc(unix(began)),
        finished: meta::rfc3339_utc(unix(now)),
        counts: Counts {
            findings: found,
            files: tally.files,
            bytes: tally.bytes,
            commits: tally.commits,
            skipped: tally.skipped.len(),
            suppressed: meta::Suppressed {
                inline: counts.inline,
                allowlist: counts.allowlist,
                baseline: counts.baseline,
            },
            stale_baseline_entries: tally.stale,
        },
        repository: tally.repository.as_ref().map(|r| RepositoryInfo {
            url: r.url.clone(),
            commit: r.commit.clone(),
            branch: r.branch.clone(),
        }),
        rule_docs: rules
            .iter()
            .filter_map(|r| Some((r.id.clone(), r.docs.clone()?)))
            .collect(),
        repository_root: tally.repository.as_ref().map(|r| r.root.clone()),
        cwd: tally.paths_from.clone(),
    }
}

/// `--format github` in a GitHub Actions job: a markdown table of every finding in the job's
/// summary page, since the runner shows only about ten annotations per step.
pub(super) fn write_job_summary(
    findings: &[Finding],
    run: &RunConfig,
    meta: &report::ScanMeta,
    output: Output,
) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let text = report::github::summary(findings, run.show_secrets, meta);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        if !output.quiet {
            eprintln!(
                "keyhound: warning: cannot write the job summary to {}: {e}",
                Path::new(&path).display()
            );
        }
    }
}
