//! `--format jsonl`: JSON Lines, one object per location of a key. Each object holds the
//! finding's fields (as in `--format json`) and that one location; `fingerprint` ties the
//! locations of one key together. The app writes a finding's lines as soon as the finding is
//! final, so a large audit can be piped and grouped downstream while it runs. The last line is
//! the scan's metadata (`"record": "scan"`), written when the scan is over: a reader that
//! stops before it knows the scan did not finish.

use std::io::{self, Write};

use serde::Serialize;

use super::meta::{ScanMeta, SCHEMA_VERSION};
use super::{json, ReportOptions};
use crate::finding::Finding;

/// Writes one finding: one line per location, each ending in `\n`.
pub fn write_finding(
    finding: &Finding,
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    for loc in &finding.locations {
        serde_json::to_writer(&mut *out, &json::row(finding, loc, opts.show_secrets))
            .map_err(io::Error::from)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes every finding's lines; nothing at all when there are none.
pub fn write(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    findings
        .iter()
        .try_for_each(|f| write_finding(f, opts, out))
}

/// The last line: what the scan was (see [`ScanMeta`]), marked `"record": "scan"` so that it
/// is told apart from the findings' lines.
pub fn write_metadata(meta: &ScanMeta, out: &mut dyn Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct Record<'a> {
        record: &'static str,
        schema_version: u32,
        #[serde(flatten)]
        meta: &'a ScanMeta,
    }
    let record = Record {
        record: "scan",
        schema_version: SCHEMA_VERSION,
        meta,
    };
    serde_json::to_writer(&mut *out, &record).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
