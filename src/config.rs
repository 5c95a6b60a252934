//! What the flags mean: the command line resolved once into the settings the pipeline uses.
//! Nothing past this module reads a flag.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{
    ColorChoice, FailOn, Format, HistoryArgs, LiveArgs, RuleArgs, RunArgs, ScanArgs, VerifyArgs,
};
use crate::rules::live::Origin;
use crate::rules::LoadOptions;
use crate::source::fs::WalkOptions;
use crate::source::git::Selection;
use crate::verify::{HttpOptions, VerifyOptions};

/// The name of the configuration file, looked for in the current directory and its parents.
pub const CONFIG_FILE: &str = ".keyhound.toml";

/// Why the flags or the configuration file do not make a configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--endpoint `{0}`: expected RULE_ID=URL")]
    EndpointSyntax(String),
    #[error("{origin}: endpoint for `{rule}`: {message}")]
    Endpoint {
        /// `--endpoint` or the configuration file.
        origin: String,
        rule: String,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
}

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
    /// Where the report goes; `None` is stdout.
    pub output: Option<PathBuf>,
    pub show_secrets: bool,
    pub strict: bool,
    pub exit_code: u8,
    /// Scanning threads; 0 picks the number of CPUs.
    pub threads: usize,
    pub verify: VerifyConfig,
}

impl RunConfig {
    pub fn from_args(args: &RunArgs) -> Result<RunConfig, ConfigError> {
        Ok(RunConfig {
            rules: rule_load(&args.rules),
            format: args.format,
            output: args.output.clone(),
            show_secrets: args.show_secrets,
            strict: args.strict,
            exit_code: args.exit_code,
            threads: args.threads.unwrap_or(0),
            verify: VerifyConfig::from_args(&args.verify)?,
        })
    }
}

/// Live checks: whether to make them and how.
#[derive(Debug, Clone, Default)]
pub struct VerifyConfig {
    /// `--verify` or `--verify-dry-run`.
    pub enabled: bool,
    /// Print the requests, send nothing.
    pub dry_run: bool,
    /// Report only keys found valid.
    pub only_valid: bool,
    /// Only a valid key fails the run.
    pub fail_on_valid_only: bool,
    pub options: VerifyOptions,
    /// Endpoints set in a configuration file rather than on the command line, with that file:
    /// the user is told, since such a file may come with the repository being scanned.
    pub endpoints_from_file: Vec<(String, PathBuf)>,
}

impl VerifyConfig {
    /// Resolves the flags; the configuration file is read only when checks are asked for.
    pub fn from_args(args: &VerifyArgs) -> Result<VerifyConfig, ConfigError> {
        let enabled = args.verify || args.live.verify_dry_run;
        let mut config = if enabled {
            VerifyConfig::live(&args.live)?
        } else {
            VerifyConfig::default()
        };
        config.enabled = enabled;
        config.only_valid = args.only_valid;
        config.fail_on_valid_only = args.fail_on == FailOn::Valid;
        Ok(config)
    }

    /// How checks are sent (`keyhound verify` uses this alone). Endpoints from `--endpoint`
    /// override those of the configuration file.
    pub fn live(args: &LiveArgs) -> Result<VerifyConfig, ConfigError> {
        let mut endpoints = HashMap::new();
        let mut endpoints_from_file = Vec::new();
        if let Some(file) = find_config_file() {
            for (rule, url) in read_endpoints(&file)? {
                let origin = Origin::parse(&url).map_err(|message| ConfigError::Endpoint {
                    origin: file.display().to_string(),
                    rule: rule.clone(),
                    message,
                })?;
                endpoints_from_file.push((rule.clone(), file.clone()));
                endpoints.insert(rule, origin);
            }
        }
        for text in &args.endpoint {
            let (rule, url) = text
                .split_once('=')
                .filter(|(r, u)| !r.trim().is_empty() && !u.trim().is_empty())
                .ok_or_else(|| ConfigError::EndpointSyntax(text.clone()))?;
            let rule = rule.trim().to_string();
            let origin = Origin::parse(url.trim()).map_err(|message| ConfigError::Endpoint {
                origin: "--endpoint".into(),
                rule: rule.clone(),
                message,
            })?;
            endpoints_from_file.retain(|(r, _)| *r != rule);
            endpoints.insert(rule, origin);
        }
        Ok(VerifyConfig {
            enabled: true,
            dry_run: args.verify_dry_run,
            only_valid: false,
            fail_on_valid_only: false,
            options: VerifyOptions {
                http: HttpOptions {
                    timeout: args.verify_timeout,
                    connect_timeout: args.connect_timeout,
                    max_wait: args.max_retry_wait,
                    ..HttpOptions::default()
                },
                endpoints,
                ..VerifyOptions::default()
            },
            endpoints_from_file,
        })
    }
}

/// `.keyhound.toml` in the current directory or the nearest parent that has one.
fn find_config_file() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(CONFIG_FILE))
        .find(|p| p.is_file())
}

/// The `[verify]` table of a configuration file; other tables belong to other stages.
#[derive(Debug, Default, Deserialize)]
struct ConfigFileSpec {
    #[serde(default)]
    verify: Option<VerifyFileSpec>,
}

/// `[verify]` in `.keyhound.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyFileSpec {
    /// Rule id → base URL, as `--endpoint RULE_ID=URL`.
    #[serde(default)]
    endpoints: BTreeMap<String, String>,
}

fn read_endpoints(file: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let err = |message: String| ConfigError::File {
        file: file.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(file).map_err(|e| err(e.to_string()))?;
    let spec: ConfigFileSpec = toml::from_str(&text).map_err(|e| err(e.message().to_string()))?;
    Ok(spec.verify.unwrap_or_default().endpoints)
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
    pub fn from_args(args: &ScanArgs) -> Result<ScanConfig, ConfigError> {
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
        let mut run = RunConfig::from_args(&args.run)?;
        if args.pre_commit {
            // A hook must be fast and must not send anyone's key anywhere as a side effect of
            // `git commit`: live checks are for deliberate scans.
            run.verify.enabled = false;
            run.verify.dry_run = false;
        }
        Ok(ScanConfig {
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
        })
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
    pub fn from_args(args: &HistoryArgs) -> Result<HistoryConfig, ConfigError> {
        let selection = match (&args.range, &args.since, &args.branch) {
            (Some(range), _, _) => Selection::Range(range.clone()),
            (None, Some(base), tip) => Selection::Since {
                base: base.clone(),
                tip: tip.clone(),
            },
            (None, None, Some(branch)) => Selection::Branch(branch.clone()),
            (None, None, None) => Selection::All,
        };
        Ok(HistoryConfig {
            path: args.path.clone().unwrap_or_else(|| PathBuf::from(".")),
            selection,
            max_file_size: args.max_file_size,
            run: RunConfig::from_args(&args.run)?,
        })
    }
}

/// Which rules to load.
pub fn rule_load(args: &RuleArgs) -> LoadOptions {
    LoadOptions {
        builtin: !args.no_builtin_rules,
        paths: args.rule_paths.clone(),
    }
}
