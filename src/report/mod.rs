//! Reports: findings written in the format a person or a CI system reads. One file per
//! format, each with one `write` function; none of them decides what is a finding.
//!
//! [`write`] writes a whole report at once. The app instead feeds findings to a [`Report`]
//! one by one as each becomes final ([`Report::add`]): JSON Lines writes each finding's lines
//! and flushes at once, so a long audit can be piped and read as it runs; the other formats are
//! documents (an array, a SARIF log, an XML tree) and keep their findings until
//! [`Report::finish`].

pub mod csv;
mod detail;
pub mod escape;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod meta;
pub mod sarif;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::rules::Severity;

pub use meta::ScanMeta;

/// How to write a report.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Print secrets in full (`--show-secrets`); otherwise only their redacted form.
    pub show_secrets: bool,
    /// ANSI colour in the human report.
    pub color: bool,
    /// One line per finding (git hooks), for the human report.
    pub compact: bool,
    /// Which hook the compact report speaks to: what was scanned decides how to remove a key.
    pub hook_stage: HookStage,
}

/// What a git hook scanned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HookStage {
    /// The staged changes of a commit.
    #[default]
    Commit,
    /// Whole files (`pre-commit run --all-files`).
    Files,
    /// The commits of a push.
    Push,
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// rustc-style snippets and a summary.
    Human,
    /// A JSON array of findings.
    Json,
    /// JSON Lines: one object per location of a key, written as each finding is final.
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// JUnit XML: one failing test case per finding, for GitLab and Jenkins test reports.
    Junit,
    /// GitHub Actions workflow commands: annotations on the pull request's diff (and a job
    /// summary when $GITHUB_STEP_SUMMARY is set).
    Github,
    /// A GitLab Secret Detection report (`artifacts:reports:secret_detection`).
    Gitlab,
    /// CSV with a header row, one row per location of a key.
    Csv,
}

/// Writes `findings` to `out` in `format`, with no scan metadata (a library caller's report).
pub fn write(
    format: Format,
    findings: &[Finding],
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_with(format, findings, opts, &ScanMeta::default(), out)
}

/// Writes `findings` to `out` in `format`; the formats that describe the scan take it from
/// `meta`.
pub fn write_with(
    format: Format,
    findings: &[Finding],
    opts: &ReportOptions,
    meta: &ScanMeta,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human if opts.compact => human::write_compact(findings, opts, out),
        Format::Human => human::write(findings, opts, out),
        Format::Json => json::write(findings, opts, meta, out),
        Format::Jsonl => {
            jsonl::write(findings, opts, out)?;
            jsonl::write_metadata(meta, out)
        }
        Format::Sarif => sarif::write(findings, opts, meta, out),
        Format::Junit => junit::write(findings, opts, out),
        Format::Github => github::write(findings, opts, out),
        Format::Gitlab => gitlab::write(findings, opts, meta, out),
        Format::Csv => csv::write(findings, opts, out),
    }
}

/// A report being written: final findings go in one at a time, and a format writes each as
/// early as it can.
pub trait Report {
    /// Takes one final finding. A streaming format writes (and flushes) it now.
    fn add(&mut self, finding: Finding) -> io::Result<()>;

    /// Writes whatever the format can only write at the end (with what `meta` says about the
    /// scan), and flushes.
    fn finish(self: Box<Self>, meta: &ScanMeta) -> io::Result<()>;
}

/// Opens a report in `format` on `out`.
pub fn open<'w>(
    format: Format,
    opts: ReportOptions,
    out: Box<dyn Write + 'w>,
) -> Box<dyn Report + 'w> {
    match format {
        Format::Jsonl => Box::new(Streaming { opts, out }),
        _ => Box::new(Document {
            format,
            opts,
            out,
            findings: Vec::new(),
        }),
    }
}

/// JSON Lines: each finding is written the moment it is added.
struct Streaming<'w> {
    opts: ReportOptions,
    out: Box<dyn Write + 'w>,
}

impl Report for Streaming<'_> {
    fn add(&mut self, finding: Finding) -> io::Result<()> {
        jsonl::write_finding(&finding, &self.opts, &mut self.out)?;
        self.out.flush()
    }

    fn finish(mut self: Box<Self>, meta: &ScanMeta) -> io::Result<()> {
        jsonl::write_metadata(meta, &mut self.out)?;
        self.out.flush()
    }
}

/// A format that is one document: the findings are kept and written whole at the end.
struct Document<'w> {
    format: Format,
    opts: ReportOptions,
    out: Box<dyn Write + 'w>,
    findings: Vec<Finding>,
}

impl Report for Document<'_> {
    fn add(&mut self, finding: Finding) -> io::Result<()> {
        self.findings.push(finding);
        Ok(())
    }

    fn finish(mut self: Box<Self>, meta: &ScanMeta) -> io::Result<()> {
        write_with(self.format, &self.findings, &self.opts, meta, &mut self.out)?;
        self.out.flush()
    }
}

/// What a CI system should do about a finding of this severity: stop the build (`error`),
/// warn (`warning`), or mention it (`note`). The names are SARIF's levels.
pub(crate) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// What to do about a leaked key, in the order that matters: the key is compromised the moment
/// it is pushed, so removing it from the code alone protects nothing.
pub(crate) const REMEDIATION: &str = "Rotate the key at the provider that issued it: revoke \
    it and issue a new one, since anyone who could read the repository may have copied it. Then \
    remove it from the code (read it from the environment or a secret manager instead) and from \
    the git history (for example with git filter-repo), and check that no fork, cache or CI log \
    still holds it.";

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::finding::{Location, Secret, Snippet, Verdict};

    /// A writer whose bytes the test can read while the report still holds it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn lines(&self) -> usize {
            self.0
                .lock()
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        }
    }

    fn finding(paths: &[&str]) -> Finding {
        Finding {
            rule_id: "r".into(),
            rule_name: "R".into(),
            provider: "P".into(),
            severity: Severity::High,
            description: None,
            secret: Secret::new("s3cr3t"),
            captures: Vec::new(),
            companions: Vec::new(),
            key_info: Vec::new(),
            checked_with: Vec::new(),
            redacted: "*****".into(),
            fingerprint: "f".into(),
            entropy: 2.5,
            locations: paths
                .iter()
                .map(|p| Location {
                    path: p.to_string(),
                    line: 1,
                    column: 1,
                    end_line: 1,
                    end_column: 7,
                    snippet: Snippet::default(),
                    commit: None,
                    link: None,
                    decoded: None,
                })
                .collect(),
            verdict: Verdict::Unchecked,
            in_head: None,
        }
    }

    #[test]
    fn json_lines_are_written_as_each_finding_is_added() {
        let out = Shared::default();
        // Buffered, as the app writes: the report must flush each finding itself.
        let buffered = io::BufWriter::new(out.clone());
        let mut report = open(Format::Jsonl, ReportOptions::default(), Box::new(buffered));
        report.add(finding(&["a", "b"])).unwrap();
        assert_eq!(
            out.lines(),
            2,
            "one line per location, before the scan ends"
        );
        report.add(finding(&["c"])).unwrap();
        assert_eq!(out.lines(), 3);
        report.finish(&ScanMeta::default()).unwrap();
        assert_eq!(out.lines(), 4, "and the scan's metadata record last");
    }

    #[test]
    fn documents_are_written_whole_at_the_end() {
        let out = Shared::default();
        let mut report = open(
            Format::Sarif,
            ReportOptions::default(),
            Box::new(out.clone()),
        );
        report.add(finding(&["a"])).unwrap();
        assert_eq!(out.lines(), 0);
        report.finish(&ScanMeta::default()).unwrap();
        let log: serde_json::Value = serde_json::from_slice(&out.0.lock().unwrap()).unwrap();
        assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 1);
    }
}
