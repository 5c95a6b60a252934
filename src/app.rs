//! Orchestration only: sources → parallel scan → findings → report → exit code. Each stage
//! lives in its own module; this one decides the order and what the user is told.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::cli::{Cli, Command, ListFormat, RulesCommand, ScanArgs};
use crate::config::{rule_load, Output, RunConfig, ScanConfig};
use crate::finding::{self, Hit};
use crate::matcher::{Match, Matcher, Scratch};
use crate::report::{self, ReportOptions};
use crate::rules::{check, LoadOptions, RuleSet};
use crate::source::{fs, Blob, Skipped, Visitor};

/// Runs a parsed command line; `Err` means exit code 2.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let output = Output::new(cli.color, cli.verbose, cli.quiet);
    match &cli.command {
        Command::Scan(args) => scan(args, output),
        Command::Rules(RulesCommand::List { rules, format }) => {
            rules_list(&rule_load(rules), *format)
        }
        Command::Rules(RulesCommand::Check { files, rules }) => {
            let load = if files.is_empty() {
                rule_load(rules)
            } else {
                LoadOptions {
                    builtin: false,
                    paths: files.clone(),
                }
            };
            rules_check(&load)
        }
    }
}

/// What one scanning thread gathered.
struct ScanVisitor<'m> {
    matcher: &'m Matcher,
    scratch: Scratch,
    matches: Vec<Match>,
    tally: Tally,
}

/// Counts and results, merged across threads at the end.
#[derive(Default)]
struct Tally {
    hits: Vec<Hit>,
    skipped: Vec<Skipped>,
    files: u64,
    bytes: u64,
}

impl<'m> ScanVisitor<'m> {
    fn new(matcher: &'m Matcher) -> Self {
        ScanVisitor {
            matcher,
            scratch: Scratch::default(),
            matches: Vec::new(),
            tally: Tally::default(),
        }
    }
}

impl Visitor for ScanVisitor<'_> {
    fn blob(&mut self, blob: Blob<'_>) {
        self.tally.files += 1;
        self.tally.bytes += blob.bytes.len() as u64;
        self.matcher.scan(
            blob.bytes,
            Some(blob.path.as_bytes()),
            &mut self.scratch,
            &mut self.matches,
        );
        if !self.matches.is_empty() {
            let hits = finding::hits_in(blob.bytes, blob.path, &self.matches, self.matcher.rules());
            self.tally.hits.extend(hits);
        }
    }

    fn skipped(&mut self, skipped: Skipped) {
        self.tally.skipped.push(skipped);
    }
}

fn scan(args: &ScanArgs, output: Output) -> Result<ExitCode> {
    let started = Instant::now();
    let config = ScanConfig::from_args(args);
    for root in &config.roots {
        if std::fs::symlink_metadata(root).is_err() {
            bail!("{}: no such file or directory", root.display());
        }
    }
    let matcher = load_matcher(&config.run)?;
    let mut tally = Tally::default();
    if config.stdin {
        let mut visitor = ScanVisitor::new(&matcher);
        fs::read_stdin(&mut visitor);
        merge(&mut tally, visitor.tally);
    }
    if !config.roots.is_empty() {
        for visitor in fs::walk(&config.roots, &config.walk, || ScanVisitor::new(&matcher)) {
            merge(&mut tally, visitor.tally);
        }
    }
    finish(&config.run, output, &matcher, tally, started)
}

/// Loads the rules a run asked for and builds the matcher over them.
fn load_matcher(run: &RunConfig) -> Result<Matcher> {
    let rules = RuleSet::load(&run.rules)?;
    if rules.is_empty() {
        bail!("no rules to scan with (--no-builtin-rules without --rules)");
    }
    Ok(Matcher::new(rules))
}

/// The stages after scanning, shared by every scanning command: hits → findings → report →
/// summary → exit code.
fn finish(
    run: &RunConfig,
    output: Output,
    matcher: &Matcher,
    mut tally: Tally,
    started: Instant,
) -> Result<ExitCode> {
    tally.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    let findings = finding::findings_from(std::mem::take(&mut tally.hits), matcher.rules());

    let opts = ReportOptions {
        show_secrets: run.show_secrets,
        color: output.color,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = report::write(run.format, &findings, &opts, &mut out).and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the report")?,
    }
    drop(out);

    let errors = tally.skipped.iter().filter(|s| s.reason.is_error()).count();
    if !output.quiet {
        report_skipped(&tally.skipped, output.verbosity);
        eprintln!("{}", summary(&tally, findings.len(), started.elapsed()));
    }
    Ok(if run.strict && errors > 0 {
        ExitCode::from(2)
    } else if !findings.is_empty() {
        ExitCode::from(run.exit_code)
    } else {
        ExitCode::SUCCESS
    })
}

fn merge(into: &mut Tally, from: Tally) {
    into.hits.extend(from.hits);
    into.skipped.extend(from.skipped);
    into.files += from.files;
    into.bytes += from.bytes;
}

/// Errors are always warned about; deliberate skips are named with -v.
fn report_skipped(skipped: &[Skipped], verbosity: u8) {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    for s in skipped {
        if s.reason.is_error() {
            let _ = writeln!(err, "keyhound: warning: {}: {}", s.path, s.reason);
        } else if verbosity > 0 {
            let _ = writeln!(err, "keyhound: skipped {}: {}", s.path, s.reason);
        }
    }
}

/// `scanned 3,012 files (25.1 MiB) in 0.14s: 3 findings; 2 skipped (1 binary, 1 too large)`.
fn summary(tally: &Tally, findings: usize, elapsed: Duration) -> String {
    let mut line = format!(
        "keyhound: scanned {} {} ({}) in {:.2}s: {} {}",
        tally.files,
        plural(tally.files, "file", "files"),
        human_bytes(tally.bytes),
        elapsed.as_secs_f64(),
        findings,
        plural(findings as u64, "finding", "findings"),
    );
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
        if tally.skipped.iter().any(|s| !s.reason.is_error()) {
            line.push_str("; -v names them");
        }
    }
    line
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn human_bytes(bytes: u64) -> String {
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

fn rules_list(load: &LoadOptions, format: ListFormat) -> Result<ExitCode> {
    let rules = RuleSet::load(load)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match format {
        ListFormat::Json => {
            let items: Vec<serde_json::Value> = rules
                .rules()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "name": r.name,
                        "provider": r.provider,
                        "severity": r.severity,
                        "keywords": r.keywords,
                        "live_check": r.verify.is_some(),
                        "origin": format!("{}:{}", r.origin, r.line),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &items)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        }
        ListFormat::Human => {
            let id_width = rules
                .rules()
                .iter()
                .map(|r| r.id.len())
                .max()
                .unwrap_or(2)
                .max(2);
            let provider_width = rules
                .rules()
                .iter()
                .map(|r| r.provider.len())
                .max()
                .unwrap_or(8)
                .max(8);
            let mut result = writeln!(
                out,
                "{:id_width$}  {:provider_width$}  {:8}  LIVE CHECK",
                "ID", "PROVIDER", "SEVERITY"
            );
            for r in rules.rules() {
                result = result.and_then(|()| {
                    writeln!(
                        out,
                        "{:id_width$}  {:provider_width$}  {:8}  {}",
                        r.id,
                        r.provider,
                        r.severity.as_str(),
                        live_check(r)
                    )
                });
            }
            result
        }
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the rule list")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `rules list`'s LIVE CHECK column: the host a key of this rule is sent to, or `no`.
fn live_check(rule: &crate::rules::Rule) -> String {
    match &rule.verify {
        Some(check) => format!("{} {}", check.method, check.origin.authority()),
        None => "no".to_string(),
    }
}

fn rules_check(load: &LoadOptions) -> Result<ExitCode> {
    let rules = RuleSet::load(load)?;
    let failures = check::check_all(&rules);
    let examples: usize = rules
        .rules()
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    for f in &failures {
        eprintln!("FAIL {} ({}): {}", f.rule_id, f.origin, f.message);
    }
    eprintln!(
        "keyhound: checked {} {} ({} examples): {} {}",
        rules.len(),
        plural(rules.len() as u64, "rule", "rules"),
        examples,
        failures.len(),
        plural(failures.len() as u64, "failure", "failures"),
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
