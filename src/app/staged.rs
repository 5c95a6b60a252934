//! `keyhound scan --staged` / `--pre-commit`: the index's blobs, keys on added lines only (and
//! the pre-commit framework's pre-push stage, which scans the commits being pushed).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use crate::config::hook::HookCall;
use crate::config::{HistoryConfig, Output, ScanConfig};
use crate::report::HookStage;
use crate::scan::{BlobScanner, Scanned};
use crate::source::git;
use crate::source::scope;
use crate::source::staged;

use super::history::run_history;
use super::pipeline::{finish, load_matcher, merge, open_report, Tally};

/// `scan --staged` / `--pre-commit`: the index's blobs, keys on added lines only.
pub(super) fn scan_staged(
    config: &ScanConfig,
    output: Output,
    started: Instant,
) -> Result<ExitCode> {
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
    let tallies: Vec<Tally> = staged::read_each(
        &repo,
        &files,
        config.walk.max_file_size,
        || BlobScanner::new(matcher, config.run.scan),
        |scanner, file, read| {
            let mut tally = Tally::default();
            match read {
                Err(skipped) => tally.skipped.push(skipped),
                Ok(bytes) => {
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
            }
            tally
        },
    );
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
    finish(&config.run, output, matcher, tally, report, started)
}
