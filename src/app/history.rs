//! `keyhound history`: every blob of the selected commits scanned once, then each hit placed at
//! the commits and paths that introduced its key.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use git2::Repository;
use indicatif::{ProgressBar, ProgressDrawTarget};

use crate::cli::HistoryArgs;
use crate::config::{HistoryConfig, Output};
use crate::delta::Origin;
use crate::finding::{Commit, Hit};
use crate::report::HookStage;
use crate::scan::{BlobScanner, KeptSegments, Scanned};
use crate::source::git::{self, Selection};
use crate::source::scope;
use crate::source::Skipped;

use super::pipeline::{bound_threads, check_baseline, finish, load_matcher, open_report, Tally};

/// `keyhound history`.
pub(super) fn history(args: &HistoryArgs, output: Output) -> Result<ExitCode> {
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
pub(super) struct HistoryVisitor<'m> {
    pub(super) scanner: BlobScanner<'m>,
    pub(super) progress: &'m ProgressBar,
    /// Hits, with their paths relative to the blob's (`!member` inside an archive, else
    /// empty): the blob's paths are the commits' to give.
    pub(super) hits: Vec<(u32, Hit)>,
    /// Archive members and binary blobs passed over.
    pub(super) skipped: Vec<Skipped>,
    /// Hits an inline marker allows.
    pub(super) inline: Vec<(u32, Hit)>,
    pub(super) files: u64,
    pub(super) bytes: u64,
}

impl git::BlobVisitor for HistoryVisitor<'_> {
    fn blob(&mut self, index: u32, path: &str, bytes: &[u8], origin: Option<Origin<'_>>) {
        let mut scanned = Scanned::default();
        self.scanner
            .scan_blob_from(path, bytes, origin, &mut scanned);
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

pub(super) fn run_history(
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
    let threads = if config.run.threads == 0 {
        rayon::current_num_threads()
    } else {
        config.run.threads
    };
    let inventory = git::inventory_on(&repo, &config.selection, config.dates, threads);
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
    let kept = KeptSegments::default();
    let outcome = git::read_blobs(&repo, &inventory, config.max_file_size, threads, || {
        HistoryVisitor {
            scanner: BlobScanner::new(matcher, config.run.scan).keeping(&kept),
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
    finish(&config.run, output, matcher, tally, report, started)
}

/// Turns hits in blobs into hits at the commits and paths that introduced each key, and marks
/// whether each key is still in HEAD (the git source decides both).
pub(super) fn attribute(
    repo: &Repository,
    inventory: &git::Inventory,
    blob_hits: Vec<(u32, Hit)>,
) -> Vec<Hit> {
    let keys: Vec<(u32, &str)> = blob_hits
        .iter()
        .map(|(blob, hit)| (*blob, hit.secret.expose()))
        .collect();
    git::introductions(repo, inventory, &keys)
        .into_iter()
        .map(|placed| {
            let hit = &blob_hits[placed.key].1;
            let mut located = hit.clone();
            // The hit's path is what follows the blob's own (an archive member's `!name`).
            located.location.path = format!("{}{}", placed.path, hit.location.path);
            located.location.commit = Some(commit_of(placed.commit));
            located.in_head = Some(placed.in_head);
            located
        })
        .collect()
}

/// A finding's copy of the git source's commit.
fn commit_of(c: git::Commit) -> Commit {
    Commit {
        id: c.id,
        author: c.author,
        email: c.email,
        date: c.date,
        time: c.time,
    }
}

/// This process's peak resident memory (Linux), for -vv: what the scan itself held, whatever
/// else `time -v` would count (a `git` child of `audit`, for one).
pub(super) fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line["VmHWM:".len()..].trim().to_string())
}

/// A progress bar on stderr for long scans, only where a person watches: a terminal, not CI,
/// not a git hook, not --quiet.
pub(super) fn progress_bar(total: u64, output: Output, hook: bool) -> ProgressBar {
    crate::progress::blobs(total, progress_target(output, hook))
}

/// Where progress is drawn: stderr when a person watches it, nowhere otherwise.
pub(super) fn progress_target(output: Output, hook: bool) -> ProgressDrawTarget {
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
