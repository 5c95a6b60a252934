//! `keyhound scan`: files and directories (and stdin), walked in parallel.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};

use crate::cli::ScanArgs;
use crate::config::{Output, ScanConfig};
use crate::matcher::Matcher;
use crate::report::HookStage;
use crate::scan::{BlobScanner, ScanOptions, Scanned};
use crate::source::scope;
use crate::source::{fs, Blob, Skipped, Visitor};

use super::pipeline::{
    bound_threads, check_baseline, finish, load_matcher, merge, open_report, Tally,
};
use super::staged::scan_staged;

pub(super) fn scan(args: &ScanArgs, output: Output) -> Result<ExitCode> {
    let started = Instant::now();
    let mut config = ScanConfig::from_args(args)?;
    bound_threads(&mut config.run.threads, output);
    config.walk.threads = config.run.threads;
    check_baseline(&config.run)?;
    scan_with(&config, output, started)
}

/// `keyhound scan` with its configuration resolved.
pub(super) fn scan_with(config: &ScanConfig, output: Output, started: Instant) -> Result<ExitCode> {
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
        let mut visitor = ScanVisitor::new(matcher, config.run.scan);
        fs::read_stdin(&mut visitor, config.walk.max_file_size).context("reading stdin")?;
        merge(&mut tally, visitor.tally);
    }
    if !config.roots.is_empty() {
        let options = config.run.scan;
        for visitor in fs::walk(&config.roots, &config.walk, || {
            ScanVisitor::new(matcher, options)
        }) {
            merge(&mut tally, visitor.tally);
        }
    }
    finish(&config.run, output, matcher, tally, report, started)
}

/// What one scanning thread gathered.
struct ScanVisitor<'m> {
    pub(super) scanner: BlobScanner<'m>,
    pub(super) tally: Tally,
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
