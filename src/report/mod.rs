//! Reports: findings written in the format a person or a CI system reads. One file per
//! format, each with one `write` function; none of them decides what is a finding.

pub mod human;
pub mod json;

use std::io::{self, Write};

use crate::cli::Format;
use crate::finding::Finding;

/// How to write a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print secrets in full (`--show-secrets`); otherwise only their redacted form.
    pub show_secrets: bool,
    /// ANSI colour in the human report.
    pub color: bool,
    /// One line per finding (git hooks), for the human report.
    pub compact: bool,
}

/// Writes `findings` to `out` in `format`.
pub fn write(
    format: Format,
    findings: &[Finding],
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human if opts.compact => human::write_compact(findings, opts, out),
        Format::Human => human::write(findings, opts, out),
        Format::Json => json::write(findings, opts, out),
    }
}
