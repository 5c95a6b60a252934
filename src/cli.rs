//! The command line as typed: clap definitions and nothing else. What the flags mean is
//! resolved once, in [`crate::config`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Find leaked keys in files and git history.
#[derive(Debug, Parser)]
#[command(name = "keyhound", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour output: auto colours only a terminal, and honours NO_COLOR.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// Name every skipped file (-v), and more.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print no summary or warnings; only the report and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default: the current directory); `-` reads stdin.
    Scan(ScanArgs),
    /// Scan a git repository's history: every blob reachable from every ref, once.
    History(HistoryArgs),
    /// Install a git pre-commit hook that runs `keyhound scan --pre-commit`.
    InstallHook(InstallHookArgs),
    /// List or check the rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Accept the current findings: write their fingerprints to the baseline (.keyhoundignore)
    /// so that later scans skip them. Takes `scan`'s arguments, or `history ...`.
    Baseline(Box<BaselineArgs>),
    /// Print the effective configuration, and where each part of it came from.
    Config(ShowConfigArgs),
    /// Check whether one key still works: reads the key from stdin, never from the command
    /// line. Exit 0 valid, 1 invalid, 2 unknown or error.
    Verify(VerifyKeyArgs),
    /// Audit the history of many repositories: a list file or a GitHub organisation / GitLab
    /// group, sharded over machines; JSON Lines out, one record per finding and per repository.
    Audit(Box<AuditArgs>),
    /// Merge the JSON Lines of `keyhound audit` runs (shards) into one report. Exit 1 if any
    /// finding, 2 if any repository failed.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` is stdin. Default: `.`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Scan what is staged in the git index, reporting only keys on lines the commit adds.
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,

    /// --staged for a git hook: compact output, no progress bar, no live checks. With paths
    /// (the pre-commit framework passes them), the staged blobs of those paths if all are
    /// staged, else the files themselves (`pre-commit run --all-files`). At the framework's
    /// pre-push stage, the commits being pushed.
    #[arg(long)]
    pub pre_commit: bool,

    #[command(flatten)]
    pub walk: WalkArgs,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A path inside the repository (default: the current directory).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    /// Only commits reachable from HEAD (or --branch) and not from REF: a pull request's commits.
    #[arg(long, value_name = "REF", conflicts_with = "range")]
    pub since: Option<String>,

    /// Only the commits of a range, `A..B` as git means it.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,

    /// Only commits reachable from this ref (default: every ref).
    #[arg(long, value_name = "REF", conflicts_with = "range")]
    pub branch: Option<String>,

    /// Skip (and count) blobs larger than this: bytes, or with a K, M or G suffix
    /// [default: 100M, or the config file's max_file_size].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    /// Only commits committed on or after this date (2024-01-31, or RFC 3339 such as
    /// 2024-01-31T12:00:00Z; a date alone is its first second, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date_from)]
    pub since_date: Option<i64>,

    /// Only commits committed on or before this date (a date alone is its last second, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date_until)]
    pub until_date: Option<i64>,

    /// Only blobs at paths matching this glob (repeatable; the config's path-glob syntax).
    #[arg(long = "paths", value_name = "GLOB")]
    pub paths: Vec<String>,

    /// Link each finding to its commit and line on this host (default: guessed from the
    /// `origin` remote's host name; `none` turns links off).
    #[arg(long, value_enum, value_name = "PLATFORM")]
    pub platform: Option<crate::source::forge::Platform>,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// A path inside the repository (default: the current directory).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    /// Replace an existing pre-commit hook.
    #[arg(long)]
    pub force: bool,
}

/// How to walk a directory tree.
#[derive(Debug, Args)]
pub struct WalkArgs {
    /// Also scan files that .gitignore, .ignore and .git/info/exclude would skip.
    #[arg(long)]
    pub no_ignore: bool,

    /// Skip (and count) files larger than this: bytes, or with a K, M or G suffix
    /// [default: 100M, or the config file's max_file_size].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    /// Follow symbolic links while walking (loops are reported, not followed).
    #[arg(long)]
    pub follow: bool,
}

/// Options every scanning command shares: rules, report, exit code.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to this file instead of stdout (the summary still goes to stderr).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print secrets in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,

    /// Keep N % of each secret visible (0-100); bare `--redact` hides all but the key's
    /// prefix, as by default.
    #[arg(long, value_name = "N", num_args = 0..=1, require_equals = true,
          default_missing_value = "0", conflicts_with = "show_secrets",
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub redact: Option<u8>,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Exit with 2 if any file could not be read.
    #[arg(long)]
    pub strict: bool,

    /// The exit code when there are findings.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,

    /// Scanning threads (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub verify: VerifyArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(flatten)]
    pub suppress: SuppressArgs,

    #[command(flatten)]
    pub decode: DecodeArgs,
}

/// What is decoded and opened beyond plain text.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Decode base64, hex, percent-encoding, backslash escapes and HTML entities up to N
    /// levels deep and scan what they hold; 0 decodes nothing
    /// [default: 2, or the config file's max_decode_depth].
    #[arg(long, value_name = "N")]
    pub max_decode_depth: Option<u8>,

    /// Do not open archives and compressed files (zip, jar, tar, gzip, bzip2, xz, zstd):
    /// skip them as binary.
    #[arg(long)]
    pub no_archives: bool,

    /// Open archives nested up to N deep (`a.tar.gz!b.zip!c` is 2).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u8).range(1..))]
    pub max_archive_depth: u8,
}

/// Live checks of found keys, for every scanning command.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Ask each key's provider whether it still works (one request per unique key, only to
    /// the host its rule names).
    #[arg(long)]
    pub verify: bool,

    /// Report only keys whose live check says valid (needs --verify).
    #[arg(long, requires = "verify")]
    pub only_valid: bool,

    /// When findings fail the run: any finding, or only a key found valid (needs --verify).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = FailOn::Any,
          requires_if("valid", "verify"))]
    pub fail_on: FailOn,

    #[command(flatten)]
    pub live: LiveArgs,
}

/// How live checks are sent: shared by `--verify` and `keyhound verify`.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Print each request a live check would send (method, URL, header names; secrets
    /// redacted) and send nothing.
    #[arg(long)]
    pub verify_dry_run: bool,

    /// Give up on one live check after this long, e.g. 10s or 500ms (default: the config's
    /// `verify.timeout`, else 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub verify_timeout: Option<Duration>,

    /// Give up connecting to a provider after this long (default: the config's
    /// `verify.connect_timeout`, else 5s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// The longest wait honoured when a provider rate-limits (Retry-After, X-RateLimit-Reset).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub max_retry_wait: Duration,

    /// Send RULE_ID's check to this base URL instead, keeping the rule's path (repeatable):
    /// https, or http to loopback only.
    #[arg(long, value_name = "RULE_ID=URL")]
    pub endpoint: Vec<String>,

    /// Reuse a key's verdict from the verdict cache when it is younger than this (default 24
    /// hours; `7d`, `36h`, at most 365d; `invalid` verdicts last 7 times as long; 0s: always ask
    /// again).
    #[arg(long, value_name = "DURATION", value_parser = parse_cache_ttl)]
    pub verify_cache_ttl: Option<Duration>,

    /// Neither read nor write the verdict cache (~/.cache/keyhound/verdicts).
    #[arg(long)]
    pub no_verify_cache: bool,
}

/// `keyhound verify --rule RULE_ID`.
#[derive(Debug, Args)]
pub struct VerifyKeyArgs {
    /// The rule whose live check to run on the key read from stdin.
    #[arg(long, value_name = "RULE_ID")]
    pub rule: String,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub live: LiveArgs,

    /// Print the key in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding fails the run.
    Any,
    /// Only a key its provider accepts fails the run.
    Valid,
}

/// Which configuration file to read.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Read this config file (default: $KEYHOUND_CONFIG, else .keyhound.toml at the
    /// repository root or the scanned directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The baseline: accepted findings that are not reported.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// The baseline file (default: the config file's `baseline`, else .keyhoundignore at the
    /// repository root or the scanned directory).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Report every finding, ignoring the baseline.
    #[arg(long, conflicts_with = "baseline")]
    pub no_baseline: bool,

    /// Exit with 1 if a baseline entry matched nothing (whole-tree and whole-history scans).
    #[arg(long)]
    pub fail_on_stale_baseline: bool,
}

/// `keyhound baseline`: what to scan, as `scan` or `history` takes it.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub source: Option<BaselineSource>,

    /// Instead of scanning, add the entries of a gitleaks `.gitleaksignore` (fingerprint lines)
    /// to the baseline, as places (path and line).
    #[arg(long, value_name = "FILE")]
    pub from_gitleaks: Option<PathBuf>,

    /// Instead of scanning, add the secrets of a detect-secrets `.secrets.baseline` to the
    /// baseline, by the SHA-1 of each secret.
    #[arg(long, value_name = "FILE")]
    pub from_detect_secrets: Option<PathBuf>,

    #[command(flatten)]
    pub scan: ScanArgs,
}

#[derive(Debug, Subcommand)]
pub enum BaselineSource {
    /// Baseline what `keyhound scan` finds (the default).
    Scan(ScanArgs),
    /// Baseline what `keyhound history` finds: every key in the repository's past.
    History(HistoryArgs),
}

/// `keyhound config`.
#[derive(Debug, Args)]
pub struct ShowConfigArgs {
    /// A path in the repository or directory to scan (default: the current directory).
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,

    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Add rules from a TOML file, or every *.toml in a directory (repeatable).
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rule_paths: Vec<PathBuf>,

    /// Leave out the rules built into keyhound (use only --rules files).
    #[arg(long)]
    pub no_builtin_rules: bool,

    /// Use only the rules with these ids or id globs (comma-separated or repeated: `aws-*,gitlab-pat`).
    #[arg(long, value_name = "ID,...", value_delimiter = ',')]
    pub only_rules: Vec<String>,

    /// Use this rule even if the config file's disable_rules names it (id or glob; repeatable).
    #[arg(long, value_name = "ID")]
    pub enable_rule: Vec<String>,

    /// Leave this rule out (id or glob such as `generic-*`; repeatable).
    #[arg(long, value_name = "ID")]
    pub disable_rule: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules: id, provider, severity, live check.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Run every rule's examples and negative examples; exit 1 on any failure.
    Check {
        /// Rule files to check (default: the built-in rules and any --rules).
        #[arg(value_name = "FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

/// `keyhound audit`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("repositories").required(true).multiple(false)
    .args(["repos", "github_org", "gitlab_group"])))]
pub struct AuditArgs {
    /// The repositories to audit, one per line (`#` comments): a local path or a clone URL
    /// (`https://`, `ssh://`, `git@host:org/repo`, `file://`).
    #[arg(long, value_name = "FILE")]
    pub repos: Option<PathBuf>,

    /// Audit every repository of this GitHub organisation (token from GITHUB_TOKEN).
    #[arg(long, value_name = "ORG")]
    pub github_org: Option<String>,

    /// Audit every repository of this GitLab group and its subgroups (token from GITLAB_TOKEN).
    #[arg(long, value_name = "GROUP")]
    pub gitlab_group: Option<String>,

    /// The API's base URL, for GitHub Enterprise (`https://HOST/api/v3`) or a self-managed
    /// GitLab (`https://HOST`): https, or http to loopback only.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,

    /// Also audit archived repositories.
    #[arg(long)]
    pub include_archived: bool,

    /// Also audit forks.
    #[arg(long)]
    pub include_forks: bool,

    /// Audit only shard I of N (0 <= I < N): each repository belongs to one shard, by a hash
    /// of its normalised URL.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Clone into this directory (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<PathBuf>,

    /// Keep each clone after its scan (default: delete it).
    #[arg(long)]
    pub keep_clones: bool,

    /// Clone every ref (`git clone --mirror`: pull-request heads too), not only branches and tags.
    #[arg(long)]
    pub mirror: bool,

    /// Audit this many repositories at a time.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel_repos: u32,

    /// Record progress and each repository's refs in FILE: a killed run given the same FILE
    /// resumes where it stopped.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Scan only the commits added since the refs recorded in --state by the last audit.
    #[arg(long, requires = "state")]
    pub incremental: bool,

    /// Write the JSON Lines here instead of stdout (appended to when resuming).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print secrets in full instead of redacted.
    #[arg(long)]
    pub show_secrets: bool,

    /// Skip (and count) blobs larger than this: bytes, or with a K, M or G suffix.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,

    /// Scanning threads per repository (default: one per CPU).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub rules: RuleArgs,

    #[command(flatten)]
    pub config: ConfigArgs,
}

/// `keyhound merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON Lines written by `keyhound audit`.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--format`: how findings are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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

/// The report's own format type: the reporter knows nothing of the command line.
impl From<Format> for crate::report::Format {
    fn from(format: Format) -> Self {
        match format {
            Format::Human => crate::report::Format::Human,
            Format::Json => crate::report::Format::Json,
            Format::Jsonl => crate::report::Format::Jsonl,
            Format::Sarif => crate::report::Format::Sarif,
            Format::Junit => crate::report::Format::Junit,
            Format::Github => crate::report::Format::Github,
            Format::Gitlab => crate::report::Format::Gitlab,
            Format::Csv => crate::report::Format::Csv,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One line per rule: id, provider, severity, live check.
    Human,
    /// A JSON array of rules.
    Json,
    /// One line per provider with its rule and live-check counts, then the totals.
    Providers,
    /// The Markdown catalogue kept in docs/RULES.md.
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `1048576`, `512K`, `100M`, `1G` (binary multiples).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, shift) = match t.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'K') => (&t[..t.len() - 1], 10),
        Some(b'M') => (&t[..t.len() - 1], 20),
        Some(b'G') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 1048576, 512K, 100M or 1G"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// `10s`, `500ms`, `2m`, `1h`, `1d`, or plain seconds (`10`, `0.5`); at most 24h.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text).map_err(|e| format!("`{text}`: {e}"))
}

/// `--verify-cache-ttl`: the duration grammar, up to 365 days (`7d`).
pub fn parse_cache_ttl(text: &str) -> Result<Duration, String> {
    crate::duration::parse_cache_ttl(text).map_err(|e| format!("`{text}`: {e}"))
}

/// `2024-01-31` (its first second, UTC) or RFC 3339, as Unix seconds.
pub fn parse_date_from(text: &str) -> Result<i64, String> {
    parse_date(text, false)
}

/// `2024-01-31` (its last second, UTC) or RFC 3339, as Unix seconds.
pub fn parse_date_until(text: &str) -> Result<i64, String> {
    parse_date(text, true)
}

fn parse_date(text: &str, end_of_day: bool) -> Result<i64, String> {
    use time::format_description::well_known::Rfc3339;
    let t = text.trim();
    let bad = || format!("`{text}` is not a date such as 2024-01-31 or 2024-01-31T12:00:00Z");
    if let Ok(at) = time::OffsetDateTime::parse(t, &Rfc3339) {
        return Ok(at.unix_timestamp());
    }
    let mut parts = t.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (y, m, d): (i32, u8, u8) = match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) => (y, m, d),
        _ => return Err(bad()),
    };
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(y, month, d).map_err(|_| bad())?;
    let start = date.midnight().assume_utc().unix_timestamp();
    Ok(if end_of_day { start + 86_399 } else { start })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date_from("2024-01-31"), Ok(1_706_659_200));
        assert_eq!(parse_date_until("2024-01-31"), Ok(1_706_659_200 + 86_399));
        assert_eq!(
            parse_date_from("2024-01-31T01:00:00+01:00"),
            Ok(1_706_659_200)
        );
        assert!(parse_date_from("2024-02-30").is_err());
        assert!(parse_date_from("yesterday").is_err());
    }

    /// The grammar itself is tested in `duration`; the flag adds the typed text to the error.
    #[test]
    fn duration_flags_quote_what_was_typed() {
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        let err = parse_duration("soon").unwrap_err();
        assert!(err.starts_with("`soon`: "), "{err}");
        assert_eq!(
            parse_cache_ttl("7d"),
            Ok(Duration::from_secs(7 * 24 * 3600))
        );
        assert!(
            parse_duration("7d").is_err(),
            "only the cache TTL may exceed 24h"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
