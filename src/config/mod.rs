//! What the flags mean: the command line and the config file resolved once into the settings
//! the pipeline uses. Nothing past this module reads a flag or the config file. A flag wins
//! over the config file, which wins over keyhound's defaults.

pub mod file;
pub mod hook;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cli::{
    ColorChoice, FailOn, HistoryArgs, LiveArgs, RuleArgs, RunArgs, ScanArgs, VerifyArgs,
};
use crate::report;
use crate::rules::live;
use crate::rules::select::RuleSelection;
use crate::rules::{LoadOptions, RuleSet};
use crate::scan::ScanOptions;
use crate::source::archive::ArchiveLimits;
use crate::source::forge::Platform;
use crate::source::fs::WalkOptions;
use crate::source::git::{DateWindow, Selection};
use crate::source::globs::{Base, PathGlobs};
use crate::suppress::Allowlists;
use crate::verify::cache::{self, CacheSettings};
use crate::verify::{HttpOptions, VerifyOptions};

pub use file::{ConfigError, LiveCheckConfig, Origin, Settings, Sourced};

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
    pub format: report::Format,
    /// Where the report goes; `None` is stdout.
    pub output: Option<PathBuf>,
    pub show_secrets: bool,
    /// `--redact=N`: the percentage of each secret reports show (0: only its prefix).
    pub redact_visible: u8,
    pub strict: bool,
    pub exit_code: u8,
    /// Scanning threads; 0 picks the number of CPUs.
    pub threads: usize,
    /// Live checks: whether and how (flags over the config's `[verify]`).
    pub verify: VerifyConfig,
    /// Paths never scanned (the config's `exclude_paths`), relative to the base directory.
    pub exclude: PathGlobs,
    /// How this run's paths relate to the base directory that globs are relative to.
    pub base: Base,
    /// Rule ids the config file disables, with where it says so.
    pub disable_rules: Vec<Sourced<String>>,
    /// The rules the flags select.
    pub select: RuleSelection,
    /// Allowlists and the baseline.
    pub suppress: SuppressConfig,
    /// The config's `[verify]` table, for the live-check stage.
    pub live_checks: LiveCheckConfig,
    /// Settings of repository config that were ignored (`FILE:LINE: why`), to be warned about.
    pub ignored: Vec<String>,
    /// Decoding and archives.
    pub scan: ScanOptions,
}

/// What is not reported: config allowlists and the baseline.
#[derive(Debug, Clone, Default)]
pub struct SuppressConfig {
    pub allowlists: Allowlists,
    /// The baseline file (`--baseline`, else the config's `baseline`, else `.keyhoundignore`).
    pub baseline: PathBuf,
    /// Read the baseline (not `--no-baseline`).
    pub use_baseline: bool,
    /// `--baseline` named the file: it must exist. A default or configured baseline that does
    /// not exist yet is simply empty.
    pub baseline_required: bool,
    /// The directory the baseline must resolve inside (symlinks followed), when the scanned
    /// tree chose it (the default file, or repository config); `None` when the user did.
    pub baseline_within: Option<PathBuf>,
    /// `--fail-on-stale-baseline`.
    pub fail_on_stale: bool,
    /// The scan sees everything a baseline may list (the whole base directory, or the whole
    /// history), so an entry that matched nothing is stale. A partial scan (a subdirectory,
    /// `--staged`, `--since`) says nothing about entries outside it.
    pub whole: bool,
    /// `keyhound baseline`: write the findings to this file instead of reporting them.
    pub write_to: Option<PathBuf>,
}

impl RunConfig {
    /// The flags, over the config file's settings.
    pub fn from_args(args: &RunArgs, settings: &Settings) -> Result<RunConfig, ConfigError> {
        let mut rules = rule_load(&args.rules);
        rules.extra = settings.rules.clone();
        rules.repository = settings.repository_rules.clone();
        let flags = &args.suppress;
        Ok(RunConfig {
            rules,
            format: args.format.into(),
            output: args.output.clone(),
            show_secrets: args.show_secrets,
            redact_visible: args.redact.unwrap_or(0),
            strict: args.strict,
            exit_code: args.exit_code,
            threads: args.threads.unwrap_or(0),
            verify: VerifyConfig::from_args(&args.verify, &settings.live_checks)?,
            exclude: settings.exclude_paths.value.clone(),
            base: Base::Relative,
            disable_rules: settings.disable_rules.clone(),
            select: rule_select(&args.rules),
            suppress: SuppressConfig {
                allowlists: settings.allowlists.clone(),
                baseline: flags
                    .baseline
                    .clone()
                    .unwrap_or_else(|| settings.baseline_path()),
                use_baseline: !flags.no_baseline,
                baseline_required: flags.baseline.is_some(),
                baseline_within: (flags.baseline.is_none() && settings.baseline_confined)
                    .then(|| settings.base.clone()),
                fail_on_stale: flags.fail_on_stale_baseline,
                whole: false,
                write_to: None,
            },
            live_checks: settings.live_checks.clone(),
            ignored: settings.ignored.clone(),
            scan: ScanOptions {
                max_decode_depth: args
                    .decode
                    .max_decode_depth
                    .unwrap_or(settings.max_decode_depth.value),
                archives: (!args.decode.no_archives).then(|| ArchiveLimits {
                    max_depth: usize::from(args.decode.max_archive_depth),
                    max_member: settings.max_file_size.value,
                    ..ArchiveLimits::default()
                }),
            },
        })
    }

    /// Checks that every rule id the config names (`disable_rules`, `[rules.<id>]`,
    /// `verify.endpoints`) is a rule, then disables the `disable_rules`. Under
    /// `--no-builtin-rules` an id of a built-in rule is accepted: the flag left it out.
    pub fn apply_to_rules(&self, rules: &mut RuleSet) -> Result<(), ConfigError> {
        // Parsed only if an id is missing and the built-in rules were left out.
        let mut builtin: Option<RuleSet> = None;
        let named = self
            .disable_rules
            .iter()
            .map(|d| ("disable_rules", d.value.as_str(), d.origin.to_string()))
            .chain(
                self.suppress
                    .allowlists
                    .rules
                    .iter()
                    .map(|(id, a)| ("[rules.<id>]", id.as_str(), a.origin.clone())),
            )
            .chain(
                self.live_checks
                    .endpoints
                    .iter()
                    .map(|(id, e)| ("verify.endpoints", id.as_str(), e.origin.to_string())),
            );
        for (key, id, origin) in named {
            if rules.get(id).is_some() {
                continue;
            }
            if !self.rules.builtin && builtin.is_none() {
                builtin = Some(RuleSet::builtin()?);
            }
            if builtin.as_ref().is_none_or(|b| b.get(id).is_none()) {
                return Err(ConfigError::At {
                    origin,
                    message: format!(
                        "{key}: no rule `{id}` (`keyhound rules list` names every rule)"
                    ),
                });
            }
        }
        let ids: Vec<String> = self.disable_rules.iter().map(|d| d.value.clone()).collect();
        self.select.apply(rules, &ids, self.rules.builtin)?;
        Ok(())
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
    /// Endpoints set in a configuration file rather than on the command line, with where
    /// (`FILE:LINE`): the user is told, even with `-q`, where keys will go.
    pub endpoints_from_file: Vec<(String, String)>,
    /// Where live checks were turned on by a config file (`FILE:LINE`) rather than a flag:
    /// announced, even with `-q`, since keys then leave the machine without `--verify`.
    pub enabled_by_file: Option<String>,
}

impl VerifyConfig {
    /// Resolves the flags over the config file's `[verify]` table.
    pub fn from_args(
        args: &VerifyArgs,
        file: &LiveCheckConfig,
    ) -> Result<VerifyConfig, ConfigError> {
        let flagged = args.verify || args.live.verify_dry_run;
        let enabled = flagged || file.enabled.value;
        let mut config = if enabled {
            VerifyConfig::live(&args.live, file)?
        } else {
            VerifyConfig::default()
        };
        config.enabled = enabled;
        if !flagged && enabled {
            config.enabled_by_file = Some(file.enabled.origin.to_string());
        }
        config.only_valid = args.only_valid;
        config.fail_on_valid_only = args.fail_on == FailOn::Valid;
        Ok(config)
    }

    /// How checks are sent (`keyhound verify` uses this alone). `--endpoint` overrides the
    /// config file's `[verify.endpoints]`; flags override its timeouts.
    pub fn live(args: &LiveArgs, file: &LiveCheckConfig) -> Result<VerifyConfig, ConfigError> {
        let mut endpoints = HashMap::new();
        let mut endpoints_from_file = Vec::new();
        for (rule, url) in &file.endpoints {
            let endpoint =
                live::Origin::parse(&url.value).map_err(|message| ConfigError::Endpoint {
                    origin: url.origin.to_string(),
                    rule: rule.clone(),
                    message,
                })?;
            endpoints_from_file.push((rule.clone(), url.origin.to_string()));
            endpoints.insert(rule.clone(), endpoint);
        }
        for text in &args.endpoint {
            let (rule, url) = text
                .split_once('=')
                .filter(|(r, u)| !r.trim().is_empty() && !u.trim().is_empty())
                .ok_or_else(|| ConfigError::EndpointSyntax(text.clone()))?;
            let rule = rule.trim().to_string();
            let endpoint =
                live::Origin::parse(url.trim()).map_err(|message| ConfigError::Endpoint {
                    origin: "--endpoint".into(),
                    rule: rule.clone(),
                    message,
                })?;
            endpoints_from_file.retain(|(r, _)| *r != rule);
            endpoints.insert(rule, endpoint);
        }
        Ok(VerifyConfig {
            enabled: true,
            dry_run: args.verify_dry_run,
            only_valid: false,
            fail_on_valid_only: false,
            options: VerifyOptions {
                http: HttpOptions {
                    timeout: args.verify_timeout.unwrap_or(file.timeout.value),
                    connect_timeout: args.connect_timeout.unwrap_or(file.connect_timeout.value),
                    max_wait: args.max_retry_wait,
                    ..HttpOptions::default()
                },
                endpoints,
                cache: verify_cache(args),
                ..VerifyOptions::default()
            },
            endpoints_from_file,
            enabled_by_file: None,
        })
    }
}

/// The verdict cache a run uses: none under `--no-verify-cache` or without a cache directory.
fn verify_cache(args: &LiveArgs) -> Option<CacheSettings> {
    if args.no_verify_cache {
        return None;
    }
    Some(CacheSettings {
        dir: CacheSettings::default_dir()?,
        ttl: args.verify_cache_ttl.unwrap_or(cache::DEFAULT_TTL),
    })
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
    /// What a hook run scans (`--pre-commit` only): decides between the pushed commits, the
    /// index and the named files.
    pub hook_call: Option<hook::HookCall>,
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
        let hook_call = args.pre_commit.then(|| hook::decide(&args.paths));
        let staged = args.staged || (args.pre_commit && hook_call != Some(hook::HookCall::Files));
        // The config and the base directory are those of the (first) path scanned.
        let scanned = match roots.first() {
            Some(root) if !staged => root.as_path(),
            _ => Path::new("."),
        };
        let settings = Settings::load(scanned, args.run.config.config.as_deref())?;
        let mut run = RunConfig::from_args(&args.run, &settings)?;
        if let (Some(limits), Some(size)) = (&mut run.scan.archives, args.walk.max_file_size) {
            limits.max_member = size;
        }
        if args.pre_commit {
            // A hook must be fast and must not send anyone's key anywhere as a side effect of
            // `git commit`: live checks are for deliberate scans.
            run.verify.enabled = false;
            run.verify.dry_run = false;
        }
        if !staged {
            // The walker reports paths as the roots were typed; the index, repository-relative.
            run.base = Base::dir(&settings.base);
            run.suppress.whole = roots.iter().any(|r| same_dir(r, &settings.base));
        }
        Ok(ScanConfig {
            roots,
            stdin,
            walk: WalkOptions {
                no_ignore: args.walk.no_ignore,
                max_file_size: args
                    .walk
                    .max_file_size
                    .unwrap_or(settings.max_file_size.value),
                follow_links: args.walk.follow,
                threads: run.threads,
                exclude: run.exclude.clone(),
                base: run.base.clone(),
            },
            run,
            staged,
            hook: args.pre_commit,
            hook_call,
        })
    }
}

/// Whether two paths name the same existing directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Everything `keyhound history` needs.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// A path inside the repository.
    pub path: PathBuf,
    pub selection: Selection,
    /// `--since-date` / `--until-date`.
    pub dates: DateWindow,
    /// `--paths`: only blobs at these paths (empty: every path).
    pub paths: PathGlobs,
    /// `--platform`: links to the host's pages (`None`: guess from the origin remote).
    pub platform: Option<Platform>,
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
        let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
        let settings = Settings::load(&path, args.run.config.config.as_deref())?;
        let mut run = RunConfig::from_args(&args.run, &settings)?;
        if let (Some(limits), Some(size)) = (&mut run.scan.archives, args.max_file_size) {
            limits.max_member = size;
        }
        // History paths are repository-relative already: `run.base` stays `Relative`.
        let dates = DateWindow {
            since: args.since_date,
            until: args.until_date,
        };
        let paths = PathGlobs::new(&args.paths).map_err(|e| ConfigError::At {
            origin: "--paths".into(),
            message: format!("`{}` is not a glob: {}", e.glob, e.message),
        })?;
        run.suppress.whole =
            matches!(selection, Selection::All) && dates.is_open() && paths.is_empty();
        Ok(HistoryConfig {
            path,
            selection,
            dates,
            paths,
            platform: args.platform,
            max_file_size: args.max_file_size.unwrap_or(settings.max_file_size.value),
            run,
        })
    }
}

/// Which of the loaded rules to use (`--only-rules`, `--enable-rule`, `--disable-rule`).
pub fn rule_select(args: &RuleArgs) -> RuleSelection {
    RuleSelection {
        only: args.only_rules.clone(),
        enable: args.enable_rule.clone(),
        disable: args.disable_rule.clone(),
    }
}

/// Which rules to load.
pub fn rule_load(args: &RuleArgs) -> LoadOptions {
    LoadOptions {
        builtin: !args.no_builtin_rules,
        // `rules check` asks for them itself; nothing else reads them.
        examples: false,
        paths: args.rule_paths.clone(),
        extra: Vec::new(),
        repository: Vec::new(),
    }
}
