//! The config file, `.keyhound.toml`: where it is, what it says, and what that means.
//!
//! The user's own config file (`$XDG_CONFIG_HOME/keyhound/config.toml`) is read first; over it,
//! `--config FILE`, else `$KEYHOUND_CONFIG`, else `.keyhound.toml` at the repository root (the
//! scanned directory outside git). [`ConfigFile`] is the serde mirror, with
//! `deny_unknown_fields` everywhere so that a typo is an error naming the file, the line and the
//! key rather than a setting silently ignored; [`Settings`] is what it means, every value with
//! the place that set it so that `keyhound config` can say where each part came from.
//!
//! A `.keyhound.toml` found in the scanned tree came with the code, and the code is untrusted
//! (a pull request's checkout, a repository sent for an audit). Such *repository config* may
//! narrow what is reported, never widen where keys go: a setting that would turn live checks on,
//! move them to another host, give a repository rule a live check or reach a file outside the
//! tree is ignored with a warning naming its line (see [`Settings::ignored`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::cli::parse_size;
use crate::rules::spec::{ProviderSpec, RuleSpec};
use crate::rules::{
    compile_spec, line_of, matches_everything, rule_id_at, without_values, Rule, RuleError,
};
use crate::source::fs::DEFAULT_MAX_FILE_SIZE;
use crate::source::globs::{is_blank_glob, PathGlobs};
use crate::suppress::{Allowlist, Allowlists};

/// The config file's name at the repository root.
pub const CONFIG_FILE: &str = ".keyhound.toml";
/// The environment variable that names a config file.
pub const CONFIG_ENV: &str = "KEYHOUND_CONFIG";
/// The baseline's name at the repository root, unless the config names another.
pub const BASELINE_FILE: &str = ".keyhoundignore";
/// The user's own config file, below `$XDG_CONFIG_HOME` (else `~/.config`).
pub const USER_CONFIG: &str = "keyhound/config.toml";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the configuration could not be loaded. Each names the file; most name the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the config file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    /// A setting that is valid TOML but means nothing (a rule id that names no rule); the
    /// origin is `FILE:LINE`.
    #[error("{origin}: {message}")]
    At { origin: String, message: String },
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// An error in the config file `$KEYHOUND_CONFIG` names.
    #[error("{inner} (the config file {var} names)")]
    FromEnv {
        var: &'static str,
        inner: Box<ConfigError>,
    },
    #[error("--endpoint `{0}`: expected RULE_ID=URL")]
    EndpointSyntax(String),
    #[error("{origin}: endpoint for `{rule}`: {message}")]
    Endpoint {
        /// `--endpoint`, or `FILE:LINE` in the config file.
        origin: String,
        rule: String,
        message: String,
    },
}

/// `.keyhound.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Bytes, or a string with a K, M or G suffix.
    #[serde(default)]
    pub max_file_size: Option<Spanned<toml::Value>>,
    /// How many encodings deep to decode; 0 decodes nothing.
    #[serde(default)]
    pub max_decode_depth: Option<Spanned<u8>>,
    #[serde(default)]
    pub exclude_paths: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub disable_rules: Vec<Spanned<String>>,
    /// The global allowlist.
    #[serde(default)]
    pub allow: Option<Spanned<AllowTable>>,
    /// `[rules.<id>]`: settings of one rule (its allowlist).
    #[serde(default)]
    pub rules: BTreeMap<String, RuleTable>,
    #[serde(default)]
    pub verify: Option<VerifyTable>,
    /// The baseline file, relative to the repository root.
    #[serde(default)]
    pub baseline: Option<Spanned<String>>,
    /// The provider of the `[[rule]]` tables below, as in a rule file.
    #[serde(default)]
    pub provider: Option<ProviderSpec>,
    /// Rules in the rule-file format.
    #[serde(default, rename = "rule")]
    pub rule: Vec<RuleSpec>,
}

/// `[allow]` and `[rules.<id>.allow]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowTable {
    #[serde(default)]
    pub paths: Vec<Spanned<String>>,
    #[serde(default)]
    pub regexes: Vec<Spanned<String>>,
    #[serde(default)]
    pub stopwords: Vec<Spanned<String>>,
}

/// `[rules.<id>]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTable {
    #[serde(default)]
    pub allow: Option<Spanned<AllowTable>>,
}

/// `[verify]`: live-check options, read by the verify stage.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyTable {
    #[serde(default)]
    pub enabled: Option<Spanned<bool>>,
    #[serde(default)]
    pub timeout: Option<Spanned<toml::Value>>,
    #[serde(default)]
    pub connect_timeout: Option<Spanned<toml::Value>>,
    /// Rule id → the URL to check its keys against instead of the rule's own.
    #[serde(default)]
    pub endpoints: BTreeMap<String, Spanned<String>>,
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// keyhound's default.
    Default,
    /// A command-line flag.
    Flag(&'static str),
    /// A line of the config file.
    File { file: String, line: usize },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Flag(flag) => f.write_str(flag),
            Origin::File { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Sourced<T> {
    pub fn default_value(value: T) -> Sourced<T> {
        Sourced {
            value,
            origin: Origin::Default,
        }
    }
}

/// How the config file was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// `--config FILE`.
    Flag,
    /// `$KEYHOUND_CONFIG`.
    Env,
    /// `.keyhound.toml` at the base directory: repository config, untrusted.
    Discovery,
    /// The user's own config file (`$XDG_CONFIG_HOME/keyhound/config.toml`).
    User,
}

impl FoundBy {
    /// Whether the file came with the scanned tree rather than from the user: it may narrow
    /// what is reported, never send keys anywhere or reach outside the tree.
    pub fn is_repository(self) -> bool {
        self == FoundBy::Discovery
    }
}

impl fmt::Display for FoundBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FoundBy::Flag => "--config",
            FoundBy::Env => CONFIG_ENV,
            FoundBy::Discovery => "found at the base directory",
            FoundBy::User => "the user's config",
        })
    }
}

/// The config file in use.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    pub path: PathBuf,
    /// How messages name it.
    pub display: String,
    pub found_by: FoundBy,
}

/// Live-check options (`[verify]`), carried for the verify stage.
#[derive(Debug, Clone)]
pub struct LiveCheckConfig {
    /// Check keys live without `--verify`.
    pub enabled: Sourced<bool>,
    /// The whole request's time limit.
    pub timeout: Sourced<Duration>,
    /// The time limit for connecting.
    pub connect_timeout: Sourced<Duration>,
    /// Rule id → the URL its keys are checked against instead of the rule's own.
    pub endpoints: BTreeMap<String, Sourced<String>>,
}

impl Default for LiveCheckConfig {
    fn default() -> Self {
        LiveCheckConfig {
            enabled: Sourced::default_value(false),
            timeout: Sourced::default_value(DEFAULT_TIMEOUT),
            connect_timeout: Sourced::default_value(DEFAULT_CONNECT_TIMEOUT),
            endpoints: BTreeMap::new(),
        }
    }
}

/// What the config file (or its absence) means, before flags: every setting with its origin.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The directory path globs and the baseline are relative to: the repository root, or the
    /// scanned directory outside git. Absolute.
    pub base: PathBuf,
    /// Whether `base` is a repository's root.
    pub in_repository: bool,
    /// The config file read over the user's (`--config`, `$KEYHOUND_CONFIG` or discovery), if any.
    pub source: Option<ConfigSource>,
    /// The user's own config file, if there is one.
    pub user: Option<ConfigSource>,
    /// Settings of repository config that were ignored because only the user may make them,
    /// each as `FILE:LINE: what and why`. Every command that reads the config prints them.
    pub ignored: Vec<String>,
    pub max_file_size: Sourced<u64>,
    pub max_decode_depth: Sourced<u8>,
    pub exclude_paths: Sourced<PathGlobs>,
    pub disable_rules: Vec<Sourced<String>>,
    pub allowlists: Allowlists,
    /// The baseline file as written (relative to `base`).
    pub baseline: Sourced<String>,
    /// The baseline must resolve inside `base` (symlinks followed): true unless the user's own
    /// config named it. The default file and one named by repository config came with the tree.
    pub baseline_confined: bool,
    pub live_checks: LiveCheckConfig,
    /// The `[[rule]]` tables of the user's config files, compiled.
    pub rules: Vec<Rule>,
    /// The `[[rule]]` tables of repository config, compiled without live checks: they may add
    /// rules, never replace one (see [`crate::rules::LoadOptions::repository`]).
    pub repository_rules: Vec<Rule>,
}

impl Settings {
    /// keyhound's defaults, for a base directory without a config file.
    pub fn defaults(base: PathBuf, in_repository: bool) -> Settings {
        Settings {
            base,
            in_repository,
            source: None,
            user: None,
            ignored: Vec::new(),
            max_file_size: Sourced::default_value(DEFAULT_MAX_FILE_SIZE),
            max_decode_depth: Sourced::default_value(crate::decode::DEFAULT_MAX_DEPTH),
            exclude_paths: Sourced::default_value(PathGlobs::default()),
            disable_rules: Vec::new(),
            allowlists: Allowlists::default(),
            baseline: Sourced::default_value(BASELINE_FILE.to_string()),
            baseline_confined: true,
            live_checks: LiveCheckConfig::default(),
            rules: Vec::new(),
            repository_rules: Vec::new(),
        }
    }

    /// Finds and reads the config files for a scan of `scanned` (a file or directory): the
    /// user's own config if it exists, then over it `flag`, else `$KEYHOUND_CONFIG`, else
    /// `.keyhound.toml` at the base directory.
    pub fn load(scanned: &Path, flag: Option<&Path>) -> Result<Settings, ConfigError> {
        let (base, in_repository) = base_dir(scanned);
        let mut settings = Settings::defaults(base, in_repository);
        if let Some(user) = user_config_path().filter(|p| p.is_file()) {
            settings = Settings::read(settings, user, FoundBy::User)?;
        }
        let env = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty());
        let (path, found_by) = match (flag, env) {
            (Some(p), _) => (p.to_path_buf(), FoundBy::Flag),
            (None, Some(p)) => (PathBuf::from(p), FoundBy::Env),
            (None, None) => {
                let p = settings.base.join(CONFIG_FILE);
                if !p.is_file() {
                    return Ok(settings);
                }
                (p, FoundBy::Discovery)
            }
        };
        Settings::read(settings, path, found_by)
    }

    /// Reads one config file over `settings`.
    fn read(settings: Settings, path: PathBuf, found_by: FoundBy) -> Result<Settings, ConfigError> {
        let display = display_path(&path);
        // A file named by the environment surprises whoever forgot they set it: say so.
        let named = |e: ConfigError| match found_by {
            FoundBy::Env => ConfigError::FromEnv {
                var: CONFIG_ENV,
                inner: Box::new(e),
            },
            _ => e,
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ConfigError::Read {
                file: display.clone(),
                source,
            })
            .map_err(named)?;
        let source = ConfigSource {
            path,
            display,
            found_by,
        };
        Settings::parse(settings, source, &text).map_err(named)
    }

    /// Parses config text over `defaults` (keyhound's defaults, or the user's config). A
    /// setting repository config may not make is left out and recorded in `ignored`.
    pub fn parse(
        defaults: Settings,
        source: ConfigSource,
        text: &str,
    ) -> Result<Settings, ConfigError> {
        let file = source.display.clone();
        let repository = source.found_by.is_repository();
        let spec: ConfigFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let message =
                without_values(e.message().trim()).replacen("unknown field", "unknown key", 1);
            let rule = in_rule_table(text, offset)
                .then(|| rule_id_at(text, offset))
                .flatten()
                .map(|id| format!("rule `{id}`: "))
                .unwrap_or_default();
            ConfigError::Invalid {
                file: file.clone(),
                line: line_of(text, offset),
                message: format!("{rule}{message}"),
            }
        })?;
        let at = |span: std::ops::Range<usize>| Origin::File {
            file: file.clone(),
            line: line_of(text, span.start),
        };
        let invalid = |span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
            file: file.clone(),
            line: line_of(text, span.start),
            message,
        };
        let mut s = defaults;
        // A setting repository config may not make: `FILE:LINE: what and why`.
        let ignore = |span: std::ops::Range<usize>, what: String| {
            format!("{file}:{}: {what}", line_of(text, span.start))
        };
        let mut ignored = Vec::new();

        if let Some(v) = spec.max_file_size {
            let size = match v.get_ref() {
                toml::Value::Integer(n) if *n >= 0 => Ok(*n as u64),
                toml::Value::String(t) => parse_size(t),
                _ => Err(String::new()),
            }
            .map_err(|_| {
                invalid(
                    v.span(),
                    "max_file_size: not a size such as 1048576 or \"100M\"".into(),
                )
            })?;
            s.max_file_size = Sourced {
                value: size,
                origin: at(v.span()),
            };
        }
        if let Some(v) = spec.max_decode_depth {
            s.max_decode_depth = Sourced {
                value: *v.get_ref(),
                origin: at(v.span()),
            };
        }
        if let Some(v) = spec.exclude_paths {
            let span = v.span();
            let patterns = non_empty(
                v.into_inner(),
                is_blank_glob,
                "exclude_paths: an empty glob matches every path, so nothing would be scanned",
                &invalid,
            )?;
            let globs = PathGlobs::new(&patterns)
                .map_err(|e| invalid(span.clone(), format!("exclude_paths: {e}")))?;
            s.exclude_paths = Sourced {
                value: globs,
                origin: at(span),
            };
        }
        for id in spec.disable_rules {
            s.disable_rules.push(Sourced {
                origin: at(id.span()),
                value: id.into_inner(),
            });
        }
        if let Some(table) = spec.allow {
            let origin = at(table.span()).to_string();
            let span = table.span();
            s.allowlists.global = Some(allowlist(
                origin,
                table.into_inner(),
                "[allow]",
                span,
                &invalid,
            )?);
        }
        for (id, table) in spec.rules {
            let Some(allow) = table.allow else {
                continue;
            };
            let origin = at(allow.span()).to_string();
            let span = allow.span();
            let key = format!("[rules.{id}.allow]");
            let list = allowlist(origin, allow.into_inner(), &key, span, &invalid)?;
            s.allowlists.rules.insert(id, list);
        }
        if let Some(verify) = spec.verify {
            let live = &mut s.live_checks;
            if let Some(v) = verify.enabled {
                if repository && *v.get_ref() {
                    ignored.push(ignore(
                        v.span(),
                        "`[verify] enabled = true` is ignored: repository config cannot turn \
                         live checks on (use --verify, or set it in your own config)"
                            .into(),
                    ));
                } else {
                    live.enabled = Sourced {
                        value: *v.get_ref(),
                        origin: at(v.span()),
                    };
                }
            }
            for (name, value, slot) in [
                ("timeout", verify.timeout, &mut live.timeout),
                (
                    "connect_timeout",
                    verify.connect_timeout,
                    &mut live.connect_timeout,
                ),
            ] {
                if let Some(v) = value {
                    *slot = Sourced {
                        value: parse_duration(v.get_ref()).map_err(|m| {
                            invalid(v.span(), format!("verify.{name}: {}", without_values(&m)))
                        })?,
                        origin: at(v.span()),
                    };
                }
            }
            for (id, url) in verify.endpoints {
                if repository {
                    ignored.push(ignore(
                        url.span(),
                        format!(
                            "`[verify.endpoints] {id}` is ignored: repository config cannot move \
                             a live check to another host (use --endpoint, or set it in your own \
                             config)"
                        ),
                    ));
                    continue;
                }
                let u = url.get_ref();
                if !(u.starts_with("https://") || u.starts_with("http://")) {
                    return Err(invalid(
                        url.span(),
                        format!("verify.endpoints.{id}: `{u}` is not an http(s) URL"),
                    ));
                }
                live.endpoints.insert(
                    id,
                    Sourced {
                        origin: at(url.span()),
                        value: url.into_inner(),
                    },
                );
            }
        }
        if let Some(b) = spec.baseline {
            if b.get_ref().trim().is_empty() {
                return Err(invalid(b.span(), "baseline: must name a file".into()));
            }
            if repository && !stays_inside(Path::new(b.get_ref())) {
                ignored.push(ignore(
                    b.span(),
                    "`baseline` is ignored: repository config may only name a file inside the \
                     repository (use --baseline, or set it in your own config)"
                        .into(),
                ));
            } else {
                s.baseline_confined = repository;
                s.baseline = Sourced {
                    origin: at(b.span()),
                    value: b.into_inner(),
                };
            }
        }
        let provider = spec
            .provider
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default();
        for mut rs in spec.rule {
            let line = line_of(text, rs.id.span().start);
            let id = rs.id.get_ref().clone();
            let same_file = if repository {
                &s.repository_rules
            } else {
                &s.rules
            };
            if let Some(first) = same_file.iter().find(|r| r.id == id && r.origin == file) {
                return Err(RuleError::Duplicate {
                    file: file.clone(),
                    line,
                    rule: id,
                    first: format!("{file}:{}", first.line),
                }
                .into());
            }
            if repository {
                if let Some(check) = rs.verify.take() {
                    ignored.push(ignore(
                        check.span(),
                        format!(
                            "rule `{id}`: `[rule.verify]` is ignored: a rule from repository \
                             config has no live check (put the rule in a --rules file or your \
                             own config to check its keys)"
                        ),
                    ));
                }
            }
            let mut rule =
                compile_spec(rs, &provider, &file).map_err(|message| RuleError::Invalid {
                    file: file.clone(),
                    line,
                    rule: Some(id),
                    message,
                })?;
            rule.line = line;
            if repository {
                s.repository_rules.push(rule);
            } else {
                s.rules.push(rule);
            }
        }
        s.ignored.extend(ignored);
        if source.found_by == FoundBy::User {
            s.user = Some(source);
        } else {
            s.source = Some(source);
        }
        Ok(s)
    }

    /// The baseline file's path.
    pub fn baseline_path(&self) -> PathBuf {
        self.base.join(&self.baseline.value)
    }
}

/// Compiles one `[allow]` / `[rules.<id>.allow]` table. An empty entry would match everything
/// and allow every finding: it is an error naming its line, never a silent "allow all".
fn allowlist(
    origin: String,
    table: AllowTable,
    key: &str,
    span: std::ops::Range<usize>,
    invalid: &impl Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<Allowlist, ConfigError> {
    let paths = non_empty(
        table.paths,
        is_blank_glob,
        &format!("{key} paths: an empty glob matches every path, so it would allow everything"),
        invalid,
    )?;
    let regexes = non_empty(
        table.regexes,
        matches_everything,
        &format!(
            "{key} regexes: this regex matches the empty string, so every secret, and would \
             allow everything"
        ),
        invalid,
    )?;
    let stopwords = non_empty(
        table.stopwords,
        |w| w.trim().is_empty(),
        &format!(
            "{key} stopwords: an empty stopword is part of every secret, so it would allow \
             everything"
        ),
        invalid,
    )?;
    Allowlist::new(origin, &paths, &regexes, &stopwords)
        .map_err(|m| invalid(span, format!("{key}: {m}")))
}

/// The entries of a list, or an error at the line of the first one that `empty` says would
/// match everything.
fn non_empty(
    values: Vec<Spanned<String>>,
    empty: fn(&str) -> bool,
    message: &str,
    invalid: &impl Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<Vec<String>, ConfigError> {
    values
        .into_iter()
        .map(|v| {
            if empty(v.get_ref()) {
                Err(invalid(v.span(), message.to_string()))
            } else {
                Ok(v.into_inner())
            }
        })
        .collect()
}

/// Whether a relative path written in repository config stays inside the base directory as
/// written: no root, no drive, no `..`. (Symlinks are checked when the file is opened.)
fn stays_inside(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// The user's own config file: `$XDG_CONFIG_HOME/keyhound/config.toml`, else
/// `~/.config/keyhound/config.toml`. Only an absolute `XDG_CONFIG_HOME` counts, as the XDG
/// specification says.
pub fn user_config_path() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = var("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| home.join(".config")))
        .or_else(|| var("APPDATA"))?;
    Some(dir.join(USER_CONFIG))
}

/// The base directory for a scan of `scanned`: the root of the repository it is in, else the
/// directory itself (a file's directory). Absolute; the second value says which.
pub fn base_dir(scanned: &Path) -> (PathBuf, bool) {
    let dir = if scanned.is_file() {
        scanned
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    } else {
        scanned
    };
    let absolute = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|cwd| cwd.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    match git2::Repository::discover(dir)
        .ok()
        .and_then(|r| r.workdir().map(Path::to_path_buf))
    {
        Some(root) => (absolute(&root), true),
        None => (absolute(dir), false),
    }
}

/// A path as messages name it: relative to the current directory when it is below it.
pub fn display_path(path: &Path) -> String {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
            let full = std::fs::canonicalize(path).ok()?;
            full.strip_prefix(&cwd).ok().map(Path::to_path_buf)
        })
        .filter(|p| !p.as_os_str().is_empty());
    shown.as_deref().unwrap_or(path).display().to_string()
}

/// Whether `offset` lies in a `[[rule]]` table (or one of its sub-tables): the last table
/// header before it says.
fn in_rule_table(text: &str, offset: usize) -> bool {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .is_some_and(|h| h.starts_with("[[rule]]") || h.starts_with("[rule."))
}

/// `"10s"`, `"500ms"`, `"2m"`, or a number of seconds; at most 24h (see
/// [`super::duration`]).
fn parse_duration(value: &toml::Value) -> Result<Duration, String> {
    let bad =
        |why: String| format!("`{value}`: {why} (a duration such as \"10s\", \"500ms\" or \"2m\")");
    match value {
        toml::Value::Integer(n) => crate::duration::from_scaled(*n as f64, 1.0).map_err(bad),
        toml::Value::Float(f) => crate::duration::from_scaled(*f, 1.0).map_err(bad),
        toml::Value::String(t) => crate::duration::parse(t).map_err(bad),
        _ => Err(bad("not a duration".into())),
    }
}

/// A size as the config file and `--max-file-size` write it: `100M`, `512K`, `1G`, `1000`.
pub fn format_size(bytes: u64) -> String {
    for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] {
        if bytes != 0 && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// A duration as the config file writes it: `10s`, `500ms`.
pub fn format_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        let source = ConfigSource {
            path: PathBuf::from("k.toml"),
            display: "k.toml".into(),
            found_by: FoundBy::Flag,
        };
        Settings::parse(Settings::defaults(PathBuf::from("/r"), true), source, text)
    }

    #[test]
    fn every_key() {
        let s = parse(
            r#"max_file_size = "50M"
exclude_paths = ["vendor/**", "**/*.min.js"]
disable_rules = ["jwt"]
baseline = "security/accepted.txt"

[allow]
paths = ["tests/fixtures/**"]
regexes = ['''^dummy''']
stopwords = ["notasecret"]

[rules.bearer-token.allow]
paths = ["docs/**"]

[verify]
enabled = true
timeout = "30s"
connect_timeout = "500ms"
endpoints = { political-comms-api-key = "http://127.0.0.1:8080/v1/organizations" }

[[rule]]
id = "acme-key"
name = "Acme key"
keywords = ["acme_"]
regex = '''(acme_[a-z0-9]{16})'''
"#,
        )
        .unwrap();
        assert_eq!(s.max_file_size.value, 50 << 20);
        assert_eq!(
            s.max_file_size.origin,
            Origin::File {
                file: "k.toml".into(),
                line: 1
            }
        );
        assert!(s.exclude_paths.value.matches("vendor/x.js"));
        assert_eq!(s.disable_rules[0].value, "jwt");
        assert_eq!(s.disable_rules[0].origin.to_string(), "k.toml:3");
        assert_eq!(s.baseline_path(), PathBuf::from("/r/security/accepted.txt"));
        assert_eq!(s.allowlists.global.as_ref().unwrap().origin, "k.toml:6");
        assert_eq!(s.allowlists.rules["bearer-token"].origin, "k.toml:11");
        assert!(s.live_checks.enabled.value);
        assert_eq!(s.live_checks.timeout.value, Duration::from_secs(30));
        assert_eq!(
            s.live_checks.connect_timeout.value,
            Duration::from_millis(500)
        );
        assert_eq!(
            s.live_checks.endpoints["political-comms-api-key"]
                .origin
                .to_string(),
            "k.toml:18"
        );
        assert_eq!(s.rules[0].id, "acme-key");
        assert_eq!(
            (s.rules[0].origin.as_str(), s.rules[0].line),
            ("k.toml", 21)
        );
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err = parse("max_file_size = 10\n\n[allow]\npaths = []\nglobs = []\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("k.toml:5: unknown key `globs`"), "{err}");
    }

    #[test]
    fn error_in_a_rule_names_the_rule() {
        let text = "[allow]\npaths = []\n\n[[rule]]\nid = \"acme-key\"\nname = \"A\"\nkeywords = [\"acme_\"]\nregex = 'acme_'\nsevrity = \"low\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with("k.toml:9: rule `acme-key`: unknown key `sevrity`"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_their_line() {
        let err = parse("\nmax_file_size = \"lots\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("k.toml:2: max_file_size:"), "{err}");
        let err = parse("[allow]\nregexes = ['(']\n").unwrap_err().to_string();
        assert!(err.starts_with("k.toml:1: [allow]:"), "{err}");
        let err = parse("[verify]\ntimeout = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("k.toml:2: verify.timeout:"), "{err}");
    }

    #[test]
    fn sizes_and_durations_round_trip() {
        assert_eq!(format_size(100 << 20), "100M");
        assert_eq!(format_size(1000), "1000");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(10)), "10s");
    }
}
