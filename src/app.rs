//! Orchestration only: sources → parallel scan → findings → report → exit code. Each stage
//! lives in its own module; this one decides the order and what the user is told.

use std::collections::{HashMap, HashSet};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use git2::{Oid, Repository};
use indicatif::{ProgressBar, ProgressDrawTarget};
use rayon::prelude::*;

use crate::cli::{
    BaselineArgs, BaselineSource, Cli, Command, HistoryArgs, InstallHookArgs, ListFormat,
    RulesCommand, ScanArgs, ShowConfigArgs, VerifyKeyArgs,
};
use crate::config::file::display_path;
use crate::config::hook::HookCall;
use crate::config::{
    rule_load, rule_select, show, HistoryConfig, Output, RunConfig, ScanConfig, Settings,
    VerifyConfig,
};
use crate::finding::{self, Finding, Hit, Secret, Verdict};
use crate::matcher::{Matcher, Scratch};
use crate::report::{self, HookStage, Report, ReportOptions};
use crate::rules::select::RuleSelection;
use crate::rules::{catalog, check, LoadOptions, Rule, RuleSet};
use crate::scan::{BlobScanner, ScanOptions, Scanned};
use crate::source::git::{self, Selection};
use crate::source::scope::{self, RepoScope};
use crate::source::{fs, is_binary, staged, Blob, SkipReason, Skipped, Visitor};
use crate::suppress::{self, Baseline, Suppressor};
use crate::verify;

/// std's `eprintln!` panics when stderr cannot be written (closed pipe, full disk): messages
/// are best effort, and the run ends with the exit code its outcome calls for.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

/// std's `println!` panics on a broken pipe (`keyhound ... | head`): the reader has gone, so
/// the rest is dropped quietly, as the report itself is.
macro_rules! println {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stdout(), $($arg)*);
    }};
}

/// Runs a parsed command line; `Err` means exit code 2.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let output = Output::new(cli.color, cli.verbose, cli.quiet);
    match &cli.command {
        Command::Scan(args) => scan(args, output),
        Command::History(args) => history(args, output),
        Command::InstallHook(args) => install_hook(args),
        Command::Baseline(args) => baseline(args, output),
        Command::Config(args) => show_config(args),
        Command::Rules(RulesCommand::List { rules, format }) => {
            rules_list(&rule_load(rules), &rule_select(rules), *format)
        }
        Command::Rules(RulesCommand::Check { files, rules }) => {
            let load = if files.is_empty() {
                rule_load(rules)
            } else {
                LoadOptions {
                    builtin: false,
                    paths: files.clone(),
                    ..LoadOptions::default()
                }
            };
            rules_check(&load, &rule_select(rules))
        }
        Command::Verify(args) => verify_key(args, output),
        Command::Audit(args) => crate::audit::run::audit(args, output),
        Command::Merge(args) => crate::audit::merge::merge(args, output),
    }
}

/// An error and its causes on one line, each cause once: a message that already quotes its
/// cause (`cannot read x: No such file or directory (os error 2)`) is not followed by it again.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// What one scanning thread gathered.
struct ScanVisitor<'m> {
    scanner: BlobScanner<'m>,
    tally: Tally,
}

/// Counts and results, merged across threads at the end.
#[derive(Default)]
struct Tally {
    hits: Vec<Hit>,
    /// Hits on lines with an inline `keyhound:allow` marker: not reported, but counted.
    inline: Vec<Hit>,
    /// Keys suppressed, by reason (set after scanning).
    suppressed: suppress::Counts,
    /// Baseline entries that matched nothing.
    stale: usize,
    skipped: Vec<Skipped>,
    /// Files (or blobs, for history) scanned, and their bytes.
    files: u64,
    bytes: u64,
    /// What was scanned: files, or blobs from this many commits.
    commits: Option<usize>,
    /// What the user should know that is neither a finding nor a skipped file.
    warnings: Vec<String>,
    /// The directory scanned and the repository it is in, for the reports' metadata.
    root: Option<PathBuf>,
    repository: Option<RepoScope>,
    /// What relative finding paths are relative to (history: the repository's root).
    paths_from: Option<PathBuf>,
}

impl<'m> ScanVisitor<'m> {
    fn new(matcher: &'m Matcher, options: ScanOptions) -> Self {
        ScanVisitor {
            scanner: BlobScanner::new(matcher, options),
            tally: Tally::default(),
        }
    }
}

impl Visitor for ScanVisitor<'_> {
    fn blob(&mut self, blob: Blob<'_>) {
        let mut scanned = Scanned::default();
        self.scanner.scan_blob(blob.path, blob.bytes, &mut scanned);
        self.tally.absorb(scanned, |_| true);
    }

    fn skipped(&mut self, skipped: Skipped) {
        self.tally.skipped.push(skipped);
    }
}

impl Tally {
    /// Adds what the scan of a blob found, keeping the hits `keep` accepts.
    fn absorb(&mut self, scanned: Scanned, keep: impl Fn(&Hit) -> bool) {
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

fn scan(args: &ScanArgs, output: Output) -> Result<ExitCode> {
    let started = Instant::now();
    let mut config = ScanConfig::from_args(args)?;
    bound_threads(&mut config.run.threads, output);
    config.walk.threads = config.run.threads;
    check_baseline(&config.run)?;
    scan_with(&config, output, started)
}

/// `keyhound scan` with its configuration resolved.
fn scan_with(config: &ScanConfig, output: Output, started: Instant) -> Result<ExitCode> {
    if config.staged {
        return scan_staged(config, output, started);
    }
    for root in &config.roots {
        if std::fs::symlink_metadata(root).is_err() {
            bail!("{}: no such file or directory", root.display());
        }
    }
    let matcher = load_matcher(&config.run, output)?;
    let report = open_report(&config.run, output, config.hook.then_some(HookStage::Files))?;
    let mut tally = Tally::default();
    let dir = match &config.run.base {
        crate::source::globs::Base::Dir { root, .. } => root.clone(),
        crate::source::globs::Base::Relative => config
            .roots
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    tally.repository = scope::repository_of(&dir);
    tally.root = Some(std::fs::canonicalize(&dir).unwrap_or(dir));
    tally.paths_from = std::env::current_dir()
        .ok()
        .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
    if config.stdin {
        let mut visitor = ScanVisitor::new(&matcher, config.run.scan);
        fs::read_stdin(&mut visitor, config.walk.max_file_size).context("reading stdin")?;
        merge(&mut tally, visitor.tally);
    }
    if !config.roots.is_empty() {
        let options = config.run.scan;
        for visitor in fs::walk(&config.roots, &config.walk, || {
            ScanVisitor::new(&matcher, options)
        }) {
            merge(&mut tally, visitor.tally);
        }
    }
    finish(&config.run, output, &matcher, tally, report, started)
}

/// More threads than this many per CPU only cost memory and start-up time (and `-j 100000`
/// would try to start a hundred thousand threads).
const THREADS_PER_CPU: usize = 4;

/// Clamps `-j` to [`THREADS_PER_CPU`] × the CPUs, with a warning.
fn bound_threads(threads: &mut usize, output: Output) {
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
fn check_baseline(run: &RunConfig) -> Result<()> {
    let s = &run.suppress;
    if s.use_baseline && s.baseline_required && !s.baseline.is_file() {
        bail!(
            "{}: no such baseline file (`keyhound baseline --baseline FILE` writes one)",
            s.baseline.display()
        );
    }
    Ok(())
}

/// `scan --staged` / `--pre-commit`: the index's blobs, keys on added lines only.
fn scan_staged(config: &ScanConfig, output: Output, started: Instant) -> Result<ExitCode> {
    // The pre-commit framework's pre-push stage: scan the commits being pushed.
    if let Some(HookCall::Push(selection)) = &config.hook_call {
        let history = HistoryConfig {
            path: PathBuf::from("."),
            selection: selection.clone(),
            dates: Default::default(),
            paths: Default::default(),
            platform: None,
            max_file_size: config.walk.max_file_size,
            run: config.run.clone(),
        };
        return run_history(&history, output, started, Some(HookStage::Push));
    }
    let repo = git::open(Path::new("."))?;
    let mut files = staged::staged_files(&repo)?;
    files.retain(|f| !config.run.exclude.matches(&f.path));
    if let Some(HookCall::Staged { only }) = &config.hook_call {
        if !only.is_empty() {
            files.retain(|f| only.contains(&f.path));
        }
    }
    let matcher = load_matcher(&config.run, output)?;
    let dir = repo.path().to_path_buf();
    let max = config.walk.max_file_size;
    let tallies: Vec<Tally> = files
        .par_iter()
        .map_init(
            || {
                (
                    Repository::open(&dir),
                    BlobScanner::new(&matcher, config.run.scan),
                )
            },
            |(repo, scanner), file| {
                let mut tally = Tally::default();
                let skip = |reason| Skipped {
                    path: file.path.clone(),
                    reason,
                };
                // Check the size from the object's header before the blob is inflated.
                if let Some(size) = repo
                    .as_ref()
                    .ok()
                    .and_then(|r| git::header_size(r, file.oid))
                {
                    if size > max {
                        tally
                            .skipped
                            .push(skip(SkipReason::TooLarge { size, limit: max }));
                        return tally;
                    }
                }
                let blob = match repo
                    .as_ref()
                    .map_err(|e| e.message().to_string())
                    .and_then(|r| {
                        r.find_blob(file.oid).map_err(|e| {
                            format!("missing or corrupt blob {}: {}", file.oid, e.message())
                        })
                    }) {
                    Ok(blob) => blob,
                    Err(e) => {
                        tally.skipped.push(skip(SkipReason::Unreadable(e)));
                        return tally;
                    }
                };
                let bytes = blob.content();
                if bytes.len() as u64 > max {
                    tally.skipped.push(skip(SkipReason::TooLarge {
                        size: bytes.len() as u64,
                        limit: max,
                    }));
                } else if is_binary(bytes) {
                    tally.skipped.push(skip(SkipReason::Binary));
                } else {
                    let mut scanned = Scanned::default();
                    scanner.scan_blob(&file.path, bytes, &mut scanned);
                    // Lines of an archive's members are not lines of the staged file: a
                    // staged archive is new or changed as a whole. Git numbers lines by LF
                    // alone, so a file with lone CRs is judged by git's numbers.
                    tally.absorb(scanned, |hit| {
                        hit.location.path != file.path
                            || file.adds_any(
                                staged::lf_line(bytes, hit.location.line),
                                staged::lf_line(bytes, hit.location.end_line),
                            )
                    });
                }
                tally
            },
        )
        .collect();
    let mut tally = Tally::default();
    for t in tallies {
        merge(&mut tally, t);
    }
    tally.repository = scope::describe(&repo, None);
    tally.root = tally.repository.as_ref().map(|r| r.root.clone());
    tally.paths_from = tally.root.clone();
    let report = open_report(
        &config.run,
        output,
        config.hook.then_some(HookStage::Commit),
    )?;
    finish(&config.run, output, &matcher, tally, report, started)
}

/// `keyhound history`.
fn history(args: &HistoryArgs, output: Output) -> Result<ExitCode> {
    let started = Instant::now();
    if let Some(path) = &args.path {
        if std::fs::symlink_metadata(path).is_err() {
            bail!("{}: no such file or directory", path.display());
        }
    }
    let mut config = HistoryConfig::from_args(args)?;
    bound_threads(&mut config.run.threads, output);
    check_baseline(&config.run)?;
    run_history(&config, output, started, None)
}

/// What one history-scanning thread gathered: hits with the blob they came from.
struct HistoryVisitor<'m> {
    scanner: BlobScanner<'m>,
    progress: &'m ProgressBar,
    /// Hits, with their paths relative to the blob's (`!member` inside an archive, else
    /// empty): the blob's paths are the commits' to give.
    hits: Vec<(u32, Hit)>,
    /// Archive members and binary blobs passed over.
    skipped: Vec<Skipped>,
    /// Hits an inline marker allows.
    inline: Vec<(u32, Hit)>,
    files: u64,
    bytes: u64,
}

impl git::BlobVisitor for HistoryVisitor<'_> {
    fn blob(&mut self, index: u32, path: &str, bytes: &[u8]) {
        let mut scanned = Scanned::default();
        self.scanner.scan_blob(path, bytes, &mut scanned);
        self.files += scanned.files;
        self.bytes += scanned.bytes;
        self.skipped.extend(scanned.skipped);
        for (allowed, mut hit) in scanned.hits {
            hit.location.path = hit
                .location
                .path
                .split_off(path.len().min(hit.location.path.len()));
            if allowed {
                self.inline.push((index, hit));
            } else {
                self.hits.push((index, hit));
            }
        }
        self.progress.inc(1);
    }
}

fn run_history(
    config: &HistoryConfig,
    output: Output,
    started: Instant,
    hook: Option<HookStage>,
) -> Result<ExitCode> {
    let repo = git::open(&config.path)?;
    let matcher = load_matcher(&config.run, output)?;
    let report = open_report(&config.run, output, hook)?;
    let phase = Instant::now();
    let listing = crate::progress::listing(progress_target(output, hook.is_some()));
    let inventory = git::inventory_in(&repo, &config.selection, config.dates);
    listing.finish_and_clear();
    let mut inventory = inventory?;
    if !config.run.exclude.is_empty() {
        inventory.retain_paths(|path| !config.run.exclude.matches(path));
    }
    if !config.paths.is_empty() {
        inventory.retain_paths(|path| config.paths.matches(path));
    }
    if output.verbosity >= 2 {
        eprintln!(
            "keyhound: listed {} commits and {} blobs in {:.2}s",
            inventory.commits.len(),
            inventory.blobs.len(),
            phase.elapsed().as_secs_f64()
        );
    }
    let phase = Instant::now();
    let repository = scope::describe(&repo, inventory.head);
    let mut tally = Tally {
        commits: Some(inventory.commits.len()),
        root: repository.as_ref().map(|r| r.root.clone()),
        paths_from: repository.as_ref().map(|r| r.root.clone()),
        repository,
        ..Tally::default()
    };
    tally.warnings.extend(inventory.warnings.iter().cloned());
    tally.skipped.extend(inventory.skipped.iter().cloned());
    if inventory.commits.is_empty() && inventory.skipped.is_empty() {
        tally.warnings.push(match config.selection {
            Selection::All => "the repository has no commits: nothing to scan".to_string(),
            _ => "the selection holds no commits: nothing to scan".to_string(),
        });
    }
    let progress = progress_bar(inventory.blobs.len() as u64, output, hook.is_some());
    let threads = if config.run.threads == 0 {
        rayon::current_num_threads()
    } else {
        config.run.threads
    };
    let outcome = git::read_blobs(&repo, &inventory, config.max_file_size, threads, || {
        HistoryVisitor {
            scanner: BlobScanner::new(&matcher, config.run.scan),
            progress: &progress,
            hits: Vec::new(),
            skipped: Vec::new(),
            inline: Vec::new(),
            files: 0,
            bytes: 0,
        }
    });
    progress.finish_and_clear();
    tally.skipped.extend(outcome.skipped);
    tally.warnings.extend(outcome.warnings);
    let mut blob_hits = Vec::new();
    let mut inline_hits = Vec::new();
    for v in outcome.visitors {
        tally.files += v.files;
        tally.bytes += v.bytes;
        blob_hits.extend(v.hits);
        inline_hits.extend(v.inline);
        tally.skipped.extend(v.skipped);
    }
    if output.verbosity >= 2 {
        eprintln!(
            "keyhound: read and scanned the blobs in {:.2}s",
            phase.elapsed().as_secs_f64()
        );
    }
    let phase = Instant::now();
    tally.hits = attribute(&repo, &inventory, blob_hits);
    // Apart: a blob whose key is marked allowed does not make the key "already there" for the
    // reported hits (removing a marker reports the key where it was removed), and vice versa.
    tally.inline = attribute(&repo, &inventory, inline_hits);
    if let Some(forge) = crate::source::forge::Forge::detect(&repo, config.platform) {
        for hit in &mut tally.hits {
            let loc = &mut hit.location;
            if let Some(c) = &loc.commit {
                loc.link = Some(forge.line_url(&c.id, &loc.path, loc.line));
            }
        }
    }
    if output.verbosity >= 2 {
        eprintln!(
            "keyhound: attributed the findings in {:.2}s; peak memory {}",
            phase.elapsed().as_secs_f64(),
            peak_memory().unwrap_or_else(|| "unknown".into())
        );
    }
    finish(&config.run, output, &matcher, tally, report, started)
}

/// Turns hits in blobs into hits at the commits and paths that introduced each key, and marks
/// whether each key is still in HEAD.
fn attribute(
    repo: &Repository,
    inventory: &git::Inventory,
    blob_hits: Vec<(u32, Hit)>,
) -> Vec<Hit> {
    let mut attribution = git::Attribution::new(repo, inventory.head);
    // Which scanned blobs hold each secret: answers "did the parent already have it?" without
    // reading anything again.
    let mut holders: HashMap<String, HashSet<Oid>> = HashMap::new();
    for (blob, hit) in &blob_hits {
        holders
            .entry(hit.secret.expose().to_string())
            .or_default()
            .insert(inventory.blobs[*blob as usize].oid);
    }
    let mut out = Vec::new();
    for (blob, hit) in blob_hits {
        let blob = &inventory.blobs[blob as usize];
        let secret = hit.secret.expose();
        let held = holders.get(secret);
        let has_secret = |oid: Oid| {
            inventory
                .index
                .contains_key(&oid)
                .then(|| held.is_some_and(|h| h.contains(&oid)))
        };
        let in_head = held.is_some_and(|h| h.iter().any(|oid| attribution.in_head(*oid)));
        for occurrence in &blob.occurrences {
            let commit = inventory.commits[occurrence.commit as usize];
            if !attribution.introduced(commit, &occurrence.path, secret, &has_secret) {
                continue;
            }
            let mut located = hit.clone();
            // The hit's path is what follows the blob's own (an archive member's `!name`).
            located.location.path = format!("{}{}", occurrence.path, hit.location.path);
            located.location.commit = Some(attribution.commit(commit));
            located.in_head = Some(in_head);
            out.push(located);
        }
    }
    out
}

/// This process's peak resident memory (Linux), for -vv: `git cat-file` runs as a child, so
/// `time -v` alone would report the larger of the two.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line["VmHWM:".len()..].trim().to_string())
}

/// A progress bar on stderr for long scans, only where a person watches: a terminal, not CI,
/// not a git hook, not --quiet.
fn progress_bar(total: u64, output: Output, hook: bool) -> ProgressBar {
    crate::progress::blobs(total, progress_target(output, hook))
}

/// Where progress is drawn: stderr when a person watches it, nowhere otherwise.
fn progress_target(output: Output, hook: bool) -> ProgressDrawTarget {
    let watched = io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && std::env::var_os("PRE_COMMIT").is_none()
        && !output.quiet
        && !hook;
    if watched {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// `keyhound install-hook`: a pre-commit hook that runs `keyhound scan --pre-commit`, in
/// `core.hooksPath` if set.
fn install_hook(args: &InstallHookArgs) -> Result<ExitCode> {
    let repo = git::open(args.path.as_deref().unwrap_or(Path::new(".")))?;
    let hooks = match repo.config().and_then(|c| c.get_path("core.hooksPath")) {
        Ok(p) if p.is_relative() => git::root(&repo).join(p),
        Ok(p) => p,
        Err(_) => repo.commondir().join("hooks"),
    };
    std::fs::create_dir_all(&hooks).with_context(|| format!("creating {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    if hook.exists() && !args.force {
        bail!(
            "{}: a pre-commit hook exists already; --force replaces it",
            hook.display()
        );
    }
    let exe = std::env::current_exe().context("finding keyhound's own path")?;
    let quoted = format!("'{}'", exe.display().to_string().replace('\'', "'\\''"));
    let script = format!(
        "#!/bin/sh\n\
         # Installed by `keyhound install-hook`: blocks commits that add leaked keys.\n\
         # A false positive? Mark its line with `keyhound:allow`.\n\
         if command -v keyhound >/dev/null 2>&1; then\n  exec keyhound scan --pre-commit\nfi\n\
         exec {quoted} scan --pre-commit\n"
    );
    std::fs::write(&hook, script).with_context(|| format!("writing {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", hook.display()))?;
    }
    println!("keyhound: installed {}", hook.display());
    Ok(ExitCode::SUCCESS)
}

/// Loads the rules a run asked for and builds the matcher over them. What repository config
/// tried and may not do (settings, rules) is warned about here, once per run.
fn load_matcher(run: &RunConfig, output: Output) -> Result<Matcher> {
    let mut rules = RuleSet::load(&run.rules)?;
    warn_ignored(run.ignored.iter().chain(&rules.ignored), output);
    run.apply_to_rules(&mut rules)?;
    if rules.is_empty() {
        bail!("no rules to scan with (--no-builtin-rules without --rules)");
    }
    Ok(Matcher::new(rules))
}

/// Warns about each setting of repository config that was ignored (`FILE:LINE: why`).
fn warn_ignored<'a>(ignored: impl IntoIterator<Item = &'a String>, output: Output) {
    if output.quiet {
        return;
    }
    for what in ignored {
        eprintln!("keyhound: warning: repository config: {what}");
    }
}

/// Opens the report a run asked for: on stdout, or on `--output FILE`, created before the
/// scan starts so that a path that cannot be written fails at once, not after a long scan.
fn open_report(
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
fn finish(
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
    if run.format == crate::cli::Format::Github {
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

/// What the reports say about the scan: keyhound, the command, what was scanned, when, and
/// the counts of the summary line.
fn scan_meta(tally: &Tally, found: usize, rules: &[Rule], started: Instant) -> report::ScanMeta {
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
fn write_job_summary(
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

/// How the live checks of a run came out, for the summary line.
#[derive(Debug, Default)]
struct Checked {
    dry_run: bool,
    requests: usize,
    /// Verdicts taken from the verdict cache, without a request.
    from_cache: usize,
    valid: usize,
    invalid: usize,
    unknown: usize,
    /// Why the `unknown` ones are.
    causes: verify::causes::Causes,
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

/// The live-check stage: one request per unique key whose rule has a check, then each
/// finding gets its key's verdict. A dry run prints the requests instead of sending them.
fn live_checks(
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
fn check_endpoints(config: &VerifyConfig, rules: &[Rule]) -> Result<()> {
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

/// `keyhound verify --rule RULE_ID`: checks one key read from stdin. Exit 0 valid, 1 invalid,
/// 2 unknown or error.
fn verify_key(args: &VerifyKeyArgs, output: Output) -> Result<ExitCode> {
    let rules = RuleSet::load(&rule_load(&args.rules))?;
    let Some(rule) = rules.get(&args.rule) else {
        bail!("no rule `{}` (see `keyhound rules list`)", args.rule);
    };
    let Some(check) = rule.verify.as_ref() else {
        bail!("rule `{}` has no live check", rule.id);
    };
    let settings = Settings::load(Path::new("."), None)?;
    warn_ignored(&settings.ignored, output);
    let config = VerifyConfig::live(&args.live, &settings.live_checks)?;
    check_endpoints(&config, rules.rules())?;

    let stdin = io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        // Typed at a terminal: read one line without echoing it, so the key is not left on
        // the screen or in a terminal recording.
        if !output.quiet {
            eprint!("keyhound: key for {} (not shown): ", rule.id);
        }
        text = rpassword::read_password().context("reading the key from the terminal")?;
    } else {
        stdin
            .lock()
            .take(1 << 20)
            .read_to_string(&mut text)
            .context("reading the key from stdin")?;
    }
    let key = text.trim();
    if key.is_empty() {
        bail!(
            "no key on stdin: pipe it in, e.g. `keyhound verify --rule {} < key.txt`",
            rule.id
        );
    }
    let needs = check.captures_used();
    let (secret, captures, companions) = if needs.is_empty() {
        (Secret::new(key), Vec::new(), Vec::new())
    } else {
        // The check needs a value found beside the key (a key id): find both in the text.
        let matcher = Matcher::new(RuleSet::from_rules(vec![rule.clone()]));
        let mut matches = Vec::new();
        matcher.scan(text.as_bytes(), None, &mut Scratch::default(), &mut matches);
        let hit = finding::hits_in(text.as_bytes(), "<stdin>", &matches, matcher.rules())
            .into_iter()
            .next();
        match hit {
            Some(h) => (h.secret, h.captures, h.companions),
            None => bail!(
                "rule `{}`'s check needs {} beside the key: pipe in text in which the rule finds \
                 both (such as the lines that hold them)",
                rule.id,
                needs.join(", ")
            ),
        }
    };
    let job = verify::job(
        rule,
        check,
        &secret,
        &captures,
        &companions,
        &config.options.endpoints,
    );
    if config.dry_run {
        eprintln!("keyhound: dry run: would send {}", job.describe());
        return Ok(ExitCode::SUCCESS);
    }
    let run = verify::cache::run(std::slice::from_ref(&job), &config.options);
    if !output.quiet {
        for warning in &run.warnings {
            eprintln!("keyhound: warning: {warning}");
        }
    }
    let checked = run.checked.into_iter().next().unwrap_or_default();
    let verdict = checked.verdict;
    let shown = if args.show_secrets {
        secret.expose().to_string()
    } else {
        job.redacted.clone()
    };
    println!("{} {shown}: {verdict}", rule.id);
    Ok(match verdict {
        Verdict::Valid { .. } => ExitCode::SUCCESS,
        Verdict::Invalid => ExitCode::from(1),
        Verdict::Unknown { .. } | Verdict::Unchecked => ExitCode::from(2),
    })
}

/// The suppress stage: inline-allowed hits become suppressed findings, then the config
/// allowlists and the baseline are applied. Counts go to the tally for the summary.
fn suppress_findings(
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

/// `keyhound baseline`: writes the findings' fingerprints instead of reporting them.
fn write_baseline(
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

/// Stale baseline entries are always warned about; suppressed places are listed with -v.
/// Neither ever shows a secret.
fn report_suppressed(
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

/// `keyhound baseline [scan args]` / `keyhound baseline history [history args]`.
fn baseline(args: &BaselineArgs, output: Output) -> Result<ExitCode> {
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
fn baseline_import(args: &BaselineArgs, output: Output) -> Result<ExitCode> {
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

fn baseline_scan(args: &ScanArgs, output: Output, started: Instant) -> Result<ExitCode> {
    let mut config = ScanConfig::from_args(args)?;
    bound_threads(&mut config.run.threads, output);
    config.walk.threads = config.run.threads;
    config.run.suppress.write_to = Some(config.run.suppress.baseline.clone());
    scan_with(&config, output, started)
}

/// `keyhound config [--config FILE] [PATH]`.
fn show_config(args: &ShowConfigArgs) -> Result<ExitCode> {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if std::fs::symlink_metadata(&path).is_err() {
        bail!("{}: no such file or directory", path.display());
    }
    let settings = Settings::load(&path, args.config.config.as_deref())?;
    let text = show::render(&settings);
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the configuration")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn merge(into: &mut Tally, from: Tally) {
    into.warnings.extend(from.warnings);
    into.hits.extend(from.hits);
    into.inline.extend(from.inline);
    into.skipped.extend(from.skipped);
    into.files += from.files;
    into.bytes += from.bytes;
}

/// Errors are always warned about; deliberate skips are named with -v.
fn report_skipped(skipped: &[Skipped], verbosity: u8) {
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

/// `scanned 3,012 files (25.1 MiB) in 0.14s: 3 findings; 2 skipped (1 binary, 1 too large)`.
/// With -v the places are listed above it, so the line does not point at -v.
fn summary(tally: &Tally, findings: usize, elapsed: Duration, verbosity: u8) -> String {
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

fn rules_list(load: &LoadOptions, select: &RuleSelection, format: ListFormat) -> Result<ExitCode> {
    let mut rules = RuleSet::load(load)?;
    select.apply(&mut rules, &[], load.builtin)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match format {
        ListFormat::Providers => out.write_all(catalog::provider_table(rules.rules()).as_bytes()),
        ListFormat::Markdown => out.write_all(catalog::markdown(rules.rules()).as_bytes()),
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
            // No rule has a live check until verification exists.
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

fn rules_check(load: &LoadOptions, select: &RuleSelection) -> Result<ExitCode> {
    let mut rules = RuleSet::load(load)?;
    select.apply(&mut rules, &[], load.builtin)?;
    let mut failures = check::check_all(&rules);
    failures.extend(verify::replay::replay_all(&rules));
    let examples: usize = rules
        .rules()
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    let recorded = verify::replay::recorded(&rules);
    for f in &failures {
        eprintln!("FAIL {} ({}): {}", f.rule_id, f.origin, f.message);
    }
    let answers = if recorded > 0 {
        format!(
            ", {recorded} recorded {}",
            plural(recorded as u64, "answer", "answers")
        )
    } else {
        String::new()
    };
    eprintln!(
        "keyhound: checked {} {} ({} examples{answers}): {} {}",
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
