//! `keyhound merge`: the JSON Lines of an audit's shards joined into one report.

use std::io::{self, BufReader, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::audit::merge::read_all;
use crate::audit::record::RepoRecord;
use crate::cli::MergeArgs;
use crate::config::Output;
use crate::report::{self, ReportOptions};

/// `keyhound merge FILE...`: exit 2 if a repository failed, 1 if anything was found.
pub(super) fn merge(args: &MergeArgs, output: Output) -> Result<ExitCode> {
    let mut inputs = Vec::new();
    for path in &args.files {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        inputs.push((path.display().to_string(), BufReader::new(file)));
    }
    let merged = read_all(inputs)?;
    let (mut out, color): (Box<dyn Write>, bool) = match &args.output {
        Some(path) => (
            Box::new(BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            )),
            false,
        ),
        None => (Box::new(BufWriter::new(io::stdout())), output.color),
    };
    let opts = ReportOptions {
        // The records hold what the audit chose to show: redacted unless it ran with
        // --show-secrets.
        show_secrets: true,
        color,
        ..ReportOptions::default()
    };
    match report::write(args.format.into(), &merged.findings, &opts, &mut out)
        .and_then(|()| out.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the merged report")?,
    }
    let failed: Vec<&RepoRecord> = merged
        .repos
        .values()
        .filter(|r| r.error.is_some())
        .collect();
    if !output.quiet {
        for r in &failed {
            eprintln!(
                "keyhound: {}: {}",
                r.repository,
                r.error.as_deref().unwrap_or_default()
            );
        }
        let (commits, bytes) = merged
            .repos
            .values()
            .fold((0u64, 0u64), |(c, b), r| (c + r.commits, b + r.bytes));
        eprintln!(
            "keyhound: merged {} repositories ({} failed; {} commits, {} bytes of blobs): {} {}",
            merged.repos.len(),
            failed.len(),
            commits,
            bytes,
            merged.findings.len(),
            if merged.findings.len() == 1 {
                "finding"
            } else {
                "findings"
            }
        );
    }
    Ok(if !failed.is_empty() {
        ExitCode::from(2)
    } else if !merged.findings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
