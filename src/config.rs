//! What the flags mean: the command line resolved once into the settings the pipeline uses.
//! Nothing past this module reads a flag.

pub mod file;
pub mod show;

use std::path::PathBuf;

use crate::cli::{ColorChoice, Format, HistoryArgs, RuleArgs, RunArgs, ScanArgs};
use crate::rules::LoadOptions;
use crate::source::fs::WalkOptions;
use crate::source::git::Selection;

/// Output settings shared by every command.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Colour the human report and messages.
    pub color: bool,
    /// 0 normal, 1 name each skipped file, 2+ more detail.
    pub verbosity: u8,
    pub quiet: bool,
}

impl Output {
    /// Resolves `--color` against the terminal and NO_COLOR / CLICOLOR_FORCE for stdout.
    pub fn new(color: ColorChoice, verbosity: u8, quiet: bool) -> Output {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
            }
        };
        Output {
            color,
            verbosity,
            quiet,
        }
    }
}

/// What every scanning command shares: which rules, how to report, when to fail.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub rules: LoadOptions,
    pub format: Format,
    pub show_secrets: bool,
    pub strict: bool,
    pub exit_code: u8,
    /// Scanning threads; 0 picks the number of CPUs.
    pub threads: usize,
}

impl RunConfig {
    pub fn from_args(args: &RunArgs) -> RunConfig {
        RunConfig {
            rules: rule_load(&args.rules),
            format: args.format,
            show_secrets: args.show_secrets,
            strict: args.strict,
            exit_code: args.exit_code,
            threads: args.threads.unwrap_or(0),
        }
    }
}

/// Everything `keyhound scan` needs.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Files and directories to walk.
    pub roots: Vec<PathBuf>,
    /// Whether `-` (stdin) was among the paths.
    pub stdin: bool,
    pub walk: WalkOptions,
    pub run: RunConfig,
    /// Scan the git index instead of paths (`--staged`, `--pre-commit`).
    pub staged: bool,
    /// Running as a git hook (`--pre-commit`): compact output, no progress, no live checks.
    pub hook: bool,
}

impl ScanConfig {
    pub fn from_args(args: &ScanArgs) -> ScanConfig {
        let mut roots = Vec::new();
        let mut stdin = false;
        for p in &args.paths {
            if p.as_os_str() == "-" {
                stdin = true;
            } else {
                roots.push(p.clone());
            }
        }
        if args.paths.is_empty() {
            roots.push(PathBuf::from("."));
        }
        let run = RunConfig::from_args(&args.run);
        ScanConfig {
            roots,
            stdin,
            walk: WalkOptions {
                no_ignore: args.walk.no_ignore,
                max_file_size: args.walk.max_file_size,
                follow_links: args.walk.follow,
                threads: run.threads,
            },
            run,
            staged: args.staged || args.pre_commit,
            hook: args.pre_commit,
        }
    }
}

/// Everything `keyhound history` needs.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// A path inside the repository.
    pub path: PathBuf,
    pub selection: Selection,
    pub max_file_size: u64,
    pub run: RunConfig,
}

impl HistoryConfig {
    pub fn from_args(args: &HistoryArgs) -> HistoryConfig {
        let selection = match (&args.range, &args.since, &args.branch) {
            (Some(range), _, _) => Selection::Range(range.clone()),
            (None, Some(base), tip) => Selection::Since {
                base: base.clone(),
                tip: tip.clone(),
            },
            (None, None, Some(branch)) => Selection::Branch(branch.clone()),
            (None, None, None) => Selection::All,
        };
        HistoryConfig {
            path: args.path.clone().unwrap_or_else(|| PathBuf::from(".")),
            selection,
            max_file_size: args.max_file_size,
            run: RunConfig::from_args(&args.run),
        }
    }
}

/// Which rules to load.
pub fn rule_load(args: &RuleArgs) -> LoadOptions {
    LoadOptions {
        builtin: !args.no_builtin_rules,
        paths: args.rule_paths.clone(),
    }
}
