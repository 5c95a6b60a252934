//! Rules: what a key looks like, loaded from TOML and compiled for the matcher.
//!
//! `RuleSpec` (in [`spec`]) is what a file says; [`Rule`] is what the matcher uses. Loading
//! validates everything that can be validated without building automata (ids, keywords,
//! regex syntax, capture groups, allowlists) so that a bad file fails fast with its name, line
//! and rule id. Building a rule's regex is deferred to the first blob that contains one of its
//! keywords: most runs touch a handful of rules, and compiling all of them would cost more than
//! scanning a small file.

pub mod builtin;
pub mod catalog;

pub mod checksum;
pub mod embedded;
pub mod live;
pub mod select;
pub mod spec;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
pub(crate) use embedded::line_of;
use regex::bytes::{Regex, RegexBuilder};
pub use spec::Severity;
use spec::{ExampleSpec, RuleFileSpec, RuleSpec};

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rule file could not be loaded. Every variant names the file; those about one rule
/// name the line and the rule too.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: cannot read rule file: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {}{message}", rule.as_ref().map(|r| format!("rule `{r}`: ")).unwrap_or_default())]
    Invalid {
        file: String,
        line: usize,
        rule: Option<String>,
        message: String,
    },
    #[error("{file}:{line}: rule `{rule}` is already defined in {first}")]
    Duplicate {
        file: String,
        line: usize,
        rule: String,
        first: String,
    },
    /// `--only-rules`, `--enable-rule` or `--disable-rule` named no rule, or is not a glob.
    #[error("{message}")]
    Select { message: String },
    /// A user rule with a built-in rule's id: replacing a built-in rule silently would change
    /// what is found, and where its keys are checked, behind `rules list`'s back.
    #[error(
        "{file}:{line}: rule `{rule}` has the id of the built-in rule in {builtin}: a rule cannot \
         replace a built-in one; give it another id (and `disable_rules` the built-in rule if it \
         should not run)"
    )]
    ReplacesBuiltin {
        file: String,
        line: usize,
        rule: String,
        builtin: String,
    },
    #[error("{path}: {what}: `--rules` must add at least one rule")]
    NoRules { path: String, what: &'static str },
}

/// Words that must occur near a match, searched case-insensitively.
#[derive(Debug, Clone)]
pub struct Context {
    /// Lower-case.
    pub words: Vec<String>,
    pub within_lines: usize,
    /// Built the first time a match of the rule is checked: most runs check none, and building
    /// one for each of hundreds of rules at start-up cost more than a small scan.
    finder: OnceLock<Option<AhoCorasick>>,
}

impl Context {
    /// True if any context word occurs in `text` (ASCII case-insensitive).
    pub fn occurs_in(&self, text: &[u8]) -> bool {
        let finder = self.finder.get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&self.words)
                .ok()
        });
        match finder {
            Some(finder) => finder.is_match(text),
            // Only an automaton too large to build gets here: search word by word instead.
            None => self
                .words
                .iter()
                .any(|w| contains_ignore_ascii_case(text, w.as_bytes())),
        }
    }
}

/// What a rule (or, later, a config allowlist) never reports.
#[derive(Debug, Clone, Default)]
pub struct Allow {
    secrets: HashSet<String>,
    patterns: Vec<String>,
    /// Built the first time a candidate secret is checked: most runs check none.
    regexes: OnceLock<Vec<Regex>>,
    stopwords: Vec<String>,
}

impl Allow {
    /// Builds an allowlist; a regex that does not parse is returned as its error message.
    pub fn new(
        secrets: &[String],
        regexes: &[String],
        stopwords: &[String],
    ) -> Result<Allow, String> {
        for r in regexes {
            regex_syntax::ParserBuilder::new()
                .unicode(false)
                .utf8(false)
                .build()
                .parse(r)
                .map_err(|e| format!("allow regex `{r}` does not parse:\n{e}"))?;
            if matches_everything(r) {
                return Err(
                    "an allow regex matches the empty string, so every secret: it would allow \
                     everything"
                        .into(),
                );
            }
        }
        if stopwords.iter().any(|w| w.trim().is_empty()) {
            return Err(
                "an empty allow stopword is part of every secret: it would allow everything".into(),
            );
        }
        Ok(Allow {
            secrets: secrets.iter().cloned().collect(),
            patterns: regexes.to_vec(),
            regexes: OnceLock::new(),
            stopwords: stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
        })
    }

    /// An allowlist whose regexes were validated elsewhere (built-in rules, by `build.rs`).
    fn unchecked(secrets: &[String], regexes: &[String], stopwords: &[String]) -> Allow {
        Allow {
            secrets: secrets.iter().cloned().collect(),
            patterns: regexes.to_vec(),
            regexes: OnceLock::new(),
            stopwords: stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
        }
    }

    fn regexes(&self) -> &[Regex] {
        // Parsed at load; building can only fail on a size limit, and then the pattern is one
        // that allows nothing rather than a scan that stops.
        self.regexes.get_or_init(|| {
            self.patterns
                .iter()
                .filter_map(|p| build_regex(p).ok())
                .collect()
        })
    }

    /// True if `secret` is allowlisted.
    pub fn allows(&self, secret: &[u8]) -> bool {
        if !self.secrets.is_empty() {
            if let Ok(s) = std::str::from_utf8(secret) {
                if self.secrets.contains(s) {
                    return true;
                }
            }
        }
        if self.regexes().iter().any(|r| r.is_match(secret)) {
            return true;
        }
        self.stopwords
            .iter()
            .any(|w| contains_ignore_ascii_case(secret, w.as_bytes()))
    }
}

/// Whether a regex matches every input: it can match the empty string with no assertion
/// (`""`, `.*`, `x?`), so an empty match is found at the start of anything.
pub fn matches_everything(pattern: &str) -> bool {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .is_ok_and(|hir| {
            let p = hir.properties();
            p.minimum_len() == Some(0) && p.look_set().is_empty()
        })
}

/// Case-insensitive (ASCII) substring test; `needle` must already be lower-case.
pub(crate) fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    haystack.windows(needle.len()).any(|w| {
        w.iter()
            .zip(needle)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// A compiled rule, shared read-only by every scanning thread.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub provider: String,
    /// The provider's documentation of its keys (`[provider] docs`), for reports and RULES.md.
    pub docs: Option<String>,
    pub description: Option<String>,
    pub severity: Severity,
    pub keywords: Vec<String>,
    pub min_entropy: f64,
    /// Longer secrets are not reported (`max_secret_len`).
    pub max_secret_len: Option<usize>,
    pub generic: bool,
    /// The offline check a candidate must pass (`checksum = "..."`), if the format has one.
    pub checksum: Option<checksum::Checksum>,
    /// Regexes run over the whole file (`whole_file = true`), not only around keywords.
    pub whole_file: bool,
    pub context: Option<Context>,
    pub allow: Allow,
    /// The rule file it came from (`builtin:aws.toml` for embedded rules).
    pub origin: String,
    /// The line of its `id` in that file.
    pub line: usize,
    pub examples: Vec<ExampleSpec>,
    pub negative_examples: Vec<String>,
    /// The live check from `[rule.verify]`, if the rule has one.
    pub verify: Option<live::LiveCheck>,
    /// Named capture groups of the rule's regexes (`(?P<id>...)`): the matcher records them
    /// beside the secret for live checks that need a second value.
    pub capture_names: Vec<String>,
    patterns: Vec<String>,
    /// Each pattern's screen, where it has one.
    screen_patterns: Vec<Option<String>>,
    secret_group: usize,
    compiled: OnceLock<Vec<Compiled>>,
    windowed: bool,
}

/// One pattern of a rule, compiled in two steps: its screen
/// ([`embedded::screen_pattern`]), then, only for a haystack the screen matches, the pattern
/// itself.
#[derive(Debug, Clone)]
struct Compiled {
    /// `None` when the pattern has no repeat worth relaxing: then it is its own screen.
    screen: Option<Arc<Screen>>,
    exact: OnceLock<Result<RuleRegex, String>>,
}

type ScreenCache = regex_automata::hybrid::dfa::Cache;
type MakeCache = Box<dyn Fn() -> ScreenCache + Send + Sync>;

/// A screen, compiled: asked only whether it matches somewhere, so it is one forward lazy DFA
/// (a regex that can also say where a match starts and what it captured builds a reverse
/// automaton and several engines more, which doubled the cost of building a screen).
#[derive(Debug)]
struct Screen {
    dfa: regex_automata::hybrid::dfa::DFA,
    /// The lazy DFA's state cache, one per scanning thread.
    caches: regex_automata::util::pool::Pool<ScreenCache, MakeCache>,
}

impl Screen {
    fn new(pattern: &str) -> Result<Screen, String> {
        use regex_automata::nfa::thompson;
        let nfa = thompson::Compiler::new()
            .syntax(
                regex_automata::util::syntax::Config::new()
                    .unicode(false)
                    .utf8(false),
            )
            .configure(
                thompson::Config::new()
                    .which_captures(thompson::WhichCaptures::None)
                    .nfa_size_limit(Some(32 * (1 << 20))),
            )
            .build(pattern)
            .map_err(|e| e.to_string())?;
        let dfa = regex_automata::hybrid::dfa::Builder::new()
            .build_from_nfa(nfa)
            .map_err(|e| e.to_string())?;
        let for_caches = dfa.clone();
        Ok(Screen {
            dfa,
            caches: regex_automata::util::pool::Pool::new(Box::new(move || {
                for_caches.create_cache()
            })),
        })
    }

    /// False only when no match can be in `haystack`; a search the lazy DFA gives up on
    /// says "maybe", and the exact pattern decides.
    fn may_match(&self, haystack: &[u8]) -> bool {
        let mut cache = self.caches.get();
        let input = regex_automata::Input::new(haystack).earliest(true);
        !matches!(self.dfa.try_search_fwd(&mut cache, &input), Ok(None))
    }
}

impl Rule {
    /// Whether the rule's regexes may run on the lines around its keywords only (see the
    /// matcher): not when the rule says `whole_file = true`, nor when one of its regexes can
    /// hold more than one newline between its ends (a key block). Decided from the regexes'
    /// syntax when they are parsed (by `build.rs` for built-in rules).
    pub fn windowed(&self) -> bool {
        self.windowed
    }

    /// The capture group holding the secret.
    pub fn secret_group(&self) -> usize {
        self.secret_group
    }

    /// The regex source(s), as written in the rule file.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The exact regexes, built on first use. Syntax was validated at load time, so an error
    /// here can only be a size limit; it is reported once by the caller via [`Rule::compile`].
    pub fn regexes(&self) -> impl Iterator<Item = &RuleRegex> + '_ {
        (0..self.patterns.len()).filter_map(|i| self.exact(i))
    }

    /// The exact regexes that can match in `haystack`: a pattern whose screen finds nothing
    /// there is passed over without building (or running) the pattern itself.
    pub fn candidate_regexes<'r>(
        &'r self,
        haystack: &'r [u8],
    ) -> impl Iterator<Item = &'r RuleRegex> + 'r {
        self.screens().iter().enumerate().filter_map(move |(i, c)| {
            if let Some(screen) = &c.screen {
                if !screen.may_match(haystack) {
                    return None;
                }
            }
            self.exact(i)
        })
    }

    /// Builds every regex now (idempotent); `rules check` uses this to surface size-limit
    /// errors.
    pub fn compile(&self) -> Result<(), String> {
        for i in 0..self.patterns.len() {
            self.exact_result(i)?;
        }
        Ok(())
    }

    /// A screen that cannot be built (a size limit) is left out: the exact pattern then runs
    /// everywhere, as it would without screens.
    /// Only rules that search their keywords' lines have screens: a whole-file rule's exact
    /// pattern skips ahead with its literal prefilter, which a screen would not.
    fn screens(&self) -> &[Compiled] {
        self.compiled.get_or_init(|| {
            let windowed = self.windowed();
            self.screen_patterns
                .iter()
                .map(|p| Compiled {
                    screen: p
                        .as_ref()
                        .filter(|_| windowed)
                        .and_then(|p| Screen::new(p).ok())
                        .map(Arc::new),
                    exact: OnceLock::new(),
                })
                .collect()
        })
    }

    fn exact(&self, i: usize) -> Option<&RuleRegex> {
        self.exact_result(i).ok()
    }

    fn exact_result(&self, i: usize) -> Result<&RuleRegex, String> {
        self.screens()[i]
            .exact
            .get_or_init(|| {
                build_rule_regex(&self.patterns[i], !self.windowed()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| e.clone())
    }
}

/// A rule's compiled pattern: the regex crate's own engine, built with options it does not
/// expose.
pub type RuleRegex = regex_automata::meta::Regex;

/// Builds a rule pattern as [`build_regex`] does, but with the literal prefilter only where
/// it pays: a rule that searches whole files needs it to skip to its literals, while one that
/// searches only its keyword's lines (most rules) searches a few hundred bytes at a time, and
/// extracting the prefilter was half the time of building such a regex (1.5 of 3.1 ms for
/// `generic-api-key`), which a one-file scan pays for every rule its file triggers.
pub(crate) fn build_rule_regex(
    pattern: &str,
    prefilter: bool,
) -> Result<RuleRegex, Box<regex_automata::meta::BuildError>> {
    regex_automata::meta::Builder::new()
        .configure(
            regex_automata::meta::Config::new()
                .auto_prefilter(prefilter)
                // As `regex::bytes` does: an empty match may fall inside a UTF-8 sequence.
                .utf8_empty(false)
                .nfa_size_limit(Some(32 * (1 << 20))),
        )
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .build(pattern)
        .map_err(Box::new)
}

/// Every regex in keyhound is a byte regex with Unicode off: key formats are ASCII, and ASCII
/// classes make automata several times smaller and faster to build.
pub(crate) fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(32 * (1 << 20))
        .build()
}

/// The rules in force for a run: built-in ∪ user files ∪ config rules. No rule replaces
/// another: an id used twice by the user is an error, by repository config a warning.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Repository config rules left out because their id was taken, as `FILE:LINE: why`.
    pub ignored: Vec<String>,
}

/// Where to load rules from.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Include the rules embedded in the binary.
    pub builtin: bool,
    /// With the built-in rules' examples and recorded answers: only `rules check` reads them,
    /// and a scan's start-up should not pay for decoding them.
    pub examples: bool,
    /// User rule files, or directories of `*.toml` files.
    pub paths: Vec<PathBuf>,
    /// Rules compiled already (the `[[rule]]` tables of the user's config files); like user
    /// files, one with a built-in rule's id is an error.
    pub extra: Vec<Rule>,
    /// The `[[rule]]` tables of repository config (compiled without live checks): added only
    /// under ids no other rule has, so the scanned tree can never replace a rule.
    pub repository: Vec<Rule>,
}

impl RuleSet {
    /// The embedded rules only, with their examples.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::load(&LoadOptions {
            builtin: true,
            examples: true,
            ..LoadOptions::default()
        })
    }

    /// Loads built-in, user and config rules. A rule id used twice is an error (naming both
    /// places), except in repository config, whose rule is then left out with a warning in
    /// [`RuleSet::ignored`]. A `--rules` path that adds no rule is an error.
    pub fn load(opts: &LoadOptions) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        if opts.builtin {
            for rule in builtin::rules(opts.examples)? {
                set.insert(rule)?;
            }
        }
        for path in &opts.paths {
            let files = rule_files_in(path)?;
            let before = set.rules.len();
            for file in &files {
                let display = file.display().to_string();
                let text = std::fs::read_to_string(file).map_err(|source| RuleError::Read {
                    file: display.clone(),
                    source,
                })?;
                for rule in parse_rule_file(&display, &text)? {
                    set.insert(rule)?;
                }
            }
            if set.rules.len() == before {
                return Err(RuleError::NoRules {
                    path: path.display().to_string(),
                    what: match files.len() {
                        0 => "no *.toml rule file in this directory",
                        1 if files[0] == *path => "no [[rule]] table in this file",
                        _ => "no [[rule]] table in any *.toml file of this directory",
                    },
                });
            }
        }
        for rule in &opts.extra {
            set.insert(rule.clone())?;
        }
        for rule in &opts.repository {
            match set.get(&rule.id) {
                Some(taken) => set.ignored.push(format!(
                    "{}:{}: rule `{}` is ignored: {}:{} has a rule of that id, and repository \
                     config cannot replace a rule (give it another id)",
                    rule.origin, rule.line, rule.id, taken.origin, taken.line
                )),
                None => set.rules.push(rule.clone()),
            }
        }
        Ok(set)
    }

    /// A set of exactly these rules (used to check one rule in isolation).
    pub fn from_rules(rules: Vec<Rule>) -> RuleSet {
        RuleSet {
            rules,
            ignored: Vec::new(),
        }
    }

    fn insert(&mut self, rule: Rule) -> Result<(), RuleError> {
        if let Some(existing) = self.rules.iter().find(|r| r.id == rule.id) {
            if existing.origin.starts_with("builtin:") && !rule.origin.starts_with("builtin:") {
                return Err(RuleError::ReplacesBuiltin {
                    file: rule.origin.clone(),
                    line: rule.line,
                    rule: rule.id.clone(),
                    builtin: format!("{}:{}", existing.origin, existing.line),
                });
            }
            return Err(RuleError::Duplicate {
                file: rule.origin.clone(),
                line: rule.line,
                rule: rule.id.clone(),
                first: format!("{}:{}", existing.origin, existing.line),
            });
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Removes rules by id; returns the ids that named no rule.
    pub fn disable(&mut self, ids: &[String]) -> Vec<String> {
        let unknown = ids
            .iter()
            .filter(|id| !self.rules.iter().any(|r| &r.id == *id))
            .cloned()
            .collect();
        self.rules.retain(|r| !ids.contains(&r.id));
        unknown
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// A file, or every `*.toml` below a directory in a stable order. Symbolic links are followed,
/// each directory and file once however many links lead to it, so a link loop ends the walk
/// of that branch instead of running forever.
fn rule_files_in(path: &Path) -> Result<Vec<PathBuf>, RuleError> {
    let meta = std::fs::metadata(path).map_err(|source| RuleError::Read {
        file: path.display().to_string(),
        source,
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let real = std::fs::canonicalize(&dir).map_err(|source| RuleError::Read {
            file: dir.display().to_string(),
            source,
        })?;
        if !seen.insert(real) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|source| RuleError::Read {
            file: dir.display().to_string(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| RuleError::Read {
                file: dir.display().to_string(),
                source,
            })?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "toml")
                && std::fs::canonicalize(&p).map_or(true, |real| seen.insert(real))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Parses and validates one rule file. `file` is how errors name it.
pub fn parse_rule_file(file: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    let spec: RuleFileSpec = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        RuleError::Invalid {
            file: file.to_string(),
            line: line_of(text, offset),
            rule: rule_id_at(text, offset),
            message: without_values(e.message().trim()),
        }
    })?;
    let provider = spec
        .provider
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let docs = spec.provider.as_ref().and_then(|p| p.docs.clone());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rules = Vec::with_capacity(spec.rules.len());
    for rs in spec.rules {
        let line = line_of(text, rs.id.span().start);
        let id = rs.id.get_ref().clone();
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(RuleError::Duplicate {
                file: file.to_string(),
                line,
                rule: id,
                first: format!("{file}:{first}"),
            });
        }
        // An unknown checksum name is reported at its own line, not the rule's.
        let error_line = rs
            .checksum
            .as_ref()
            .filter(|c| checksum::Checksum::from_name(c.get_ref()).is_none())
            .map_or(line, |c| line_of(text, c.span().start));
        let mut rule = compile_spec(rs, &provider, file).map_err(|message| RuleError::Invalid {
            file: file.to_string(),
            line: error_line,
            rule: Some(id),
            message,
        })?;
        rule.line = line;
        rule.docs = docs.clone();
        rules.push(rule);
    }
    Ok(rules)
}

/// Validates a spec and turns it into a rule, without building its regex automata.
pub fn compile_spec(rs: RuleSpec, provider: &str, origin: &str) -> Result<Rule, String> {
    let groups = rs
        .regex
        .as_slice()
        .iter()
        .map(|p| embedded::capture_groups(p))
        .collect::<Result<Vec<_>, _>>()?;
    rule_from_spec(rs, provider, origin, groups)
}

/// [`compile_spec`] with the capture groups of each regex already counted (by `build.rs`, for
/// built-in rules, whose regexes it validated).
fn rule_from_spec(
    rs: RuleSpec,
    provider: &str,
    origin: &str,
    groups: Vec<embedded::Groups>,
) -> Result<Rule, String> {
    let id = rs.id.get_ref().clone();
    let valid_id = !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !valid_id {
        return Err("id must be lower-case kebab-case (letters, digits and single dashes)".into());
    }
    if rs.name.trim().is_empty() {
        return Err("name must not be empty".into());
    }
    if rs.keywords.is_empty() {
        return Err("needs at least one keyword: the prefilter decides which rules run".into());
    }
    if let Some(k) = rs.keywords.iter().find(|k| k.len() < 3) {
        return Err(format!(
            "keyword `{k}` is shorter than 3 bytes: it would match everywhere"
        ));
    }
    if !(0.0..=8.0).contains(&rs.min_entropy) {
        return Err(format!(
            "min_entropy {} is outside 0.0..=8.0 bits per byte",
            rs.min_entropy
        ));
    }
    if rs.max_secret_len == Some(0) {
        return Err("max_secret_len must be at least 1".into());
    }
    let patterns = rs.regex.as_slice().to_vec();
    if patterns.is_empty() {
        return Err("regex must not be an empty list".into());
    }
    if groups.len() != patterns.len() {
        return Err("internal: capture groups were not counted for every regex".into());
    }
    let mut secret_group = None;
    let mut named_groups = Vec::with_capacity(patterns.len());
    let windowed = !rs.whole_file && groups.iter().all(|g| g.newlines.is_some_and(|n| n <= 1));
    let mut groups = groups;
    let screen_patterns = groups.iter_mut().map(|g| g.screen.take()).collect();
    let builtin = origin.starts_with("builtin:");
    for (
        pattern,
        embedded::Groups {
            count: groups,
            names,
            ..
        },
    ) in patterns.iter().zip(groups)
    {
        named_groups.push(names);
        let group = rs.secret_group.unwrap_or(if groups >= 1 { 1 } else { 0 });
        if group > groups {
            return Err(format!(
                "secret_group = {group}, but regex `{pattern}` has only {groups} capture group(s)"
            ));
        }
        if secret_group.is_some_and(|g| g != group) {
            return Err("every regex of a rule must capture the secret in the same group".into());
        }
        secret_group = Some(group);
    }
    let context = match rs.context {
        None => None,
        Some(c) => {
            if c.words.is_empty() || c.words.iter().any(|w| w.trim().is_empty()) {
                return Err("context.words must list at least one non-empty word".into());
            }
            Some(Context {
                words: c.words.iter().map(|w| w.to_ascii_lowercase()).collect(),
                within_lines: c.within_lines,
                finder: OnceLock::new(),
            })
        }
    };
    let allow = if builtin {
        Allow::unchecked(&rs.allow.secrets, &rs.allow.regexes, &rs.allow.stopwords)
    } else {
        Allow::new(&rs.allow.secrets, &rs.allow.regexes, &rs.allow.stopwords)?
    };
    if rs.generic && rs.verify.is_some() {
        return Err(
            "a generic rule cannot have a live check: its keys belong to no one provider, \
             and a key is never sent to a host its rule does not name"
                .into(),
        );
    }
    let checksum = match &rs.checksum {
        None => None,
        Some(name) => Some(
            checksum::Checksum::from_name(name.get_ref()).ok_or_else(|| {
                format!(
                    "unknown checksum `{}`; known checksums: {}",
                    name.get_ref(),
                    checksum::Checksum::names().collect::<Vec<_>>().join(", ")
                )
            })?,
        ),
    };
    let verify = rs
        .verify
        .map(|v| live::compile(v.into_inner(), &named_groups))
        .transpose()?;
    let mut capture_names: Vec<String> = named_groups.into_iter().flatten().collect();
    capture_names.sort();
    capture_names.dedup();
    Ok(Rule {
        id,
        name: rs.name,
        provider: provider.to_string(),
        docs: None,
        description: rs.description,
        severity: rs.severity,
        keywords: rs.keywords,
        min_entropy: rs.min_entropy,
        max_secret_len: rs.max_secret_len,
        generic: rs.generic,
        checksum,
        whole_file: rs.whole_file,
        context,
        allow,
        origin: origin.to_string(),
        // compile_spec cannot see the file text: parse_rule_file sets the line.
        line: 0,
        examples: rs.examples,
        negative_examples: rs.negative_examples,
        verify,
        capture_names,
        patterns,
        screen_patterns,
        secret_group: secret_group.unwrap_or(0),
        compiled: OnceLock::new(),
        windowed,
    })
}

/// The most newlines a match of `hir` can contain; `None` when unbounded. A boundary class such
/// as `[^A-Za-z0-9_]` counts one; `\s{0,4000}` makes a pattern multi-line.
/// A config or rule file may be anything (an `.env` named by mistake, say), so an error about a value
/// never quotes the value: serde's `invalid type: string "…", expected a boolean` keeps only
/// the kind, `unknown variant` its expected values, and keyhound's own "`…` is not a size"
/// says "the value".
pub(crate) fn without_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (found, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
            let kind = found.split(['"', '`']).next().unwrap_or("").trim();
            let expected = if expected.is_empty() {
                String::new()
            } else {
                format!(", expected{expected}")
            };
            return format!("{prefix}{kind}{expected}");
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let expected = rest.split_once("`, expected").map_or("", |(_, e)| e);
        return format!("unknown value, expected{expected}");
    }
    if let Some(rest) = message.strip_prefix('`') {
        if let Some(end) = rest.find('`') {
            return format!("the value{}", &rest[end + 1..]);
        }
    }
    message.to_string()
}

/// The id of the `[[rule]]` table enclosing `offset`, read from the raw text, so that even a
/// table that failed to deserialize can be named in the error.
pub(crate) fn rule_id_at(text: &str, offset: usize) -> Option<String> {
    // The offset may point at the `[[rule]]` header itself (a missing field): include it.
    let end = (offset + "[[rule]]".len()).min(text.len());
    let start = text.get(..end).unwrap_or(text).rfind("[[rule]]")?;
    let block_end = text[start + 8..]
        .find("[[rule]]")
        .map_or(text.len(), |i| start + 8 + i);
    text[start..block_end].lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix("id")?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &rest[1..];
        Some(inner[..inner.find(quote)?].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::embedded::{interior_newlines, max_newlines};
    use super::*;

    #[test]
    fn names_rule_of_bad_table() {
        let text = "[[rule]]\nid = \"a-b\"\nname = \"x\"\nkeywords = [\"abc\"]\nregex = 'abc'\nbogus = 1\n";
        let err = parse_rule_file("f.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("f.toml:"), "{err}");
        assert!(err.contains("rule `a-b`"), "{err}");
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn unknown_checksum_names_file_line_and_rule() {
        let text = "[[rule]]\nid = \"a-b\"\nname = \"x\"\nkeywords = [\"abc\"]\nregex = 'abc'\nchecksum = \"crc64\"\n";
        let err = parse_rule_file("f.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("f.toml:6: rule `a-b`"), "{err}");
        assert!(err.contains("unknown checksum `crc64`"), "{err}");
        assert!(err.contains("github-crc32"), "{err}");
        let ok = text.replace("crc64", "github-crc32");
        let rules = parse_rule_file("f.toml", &ok).unwrap();
        assert_eq!(rules[0].checksum, Some(checksum::Checksum::GithubCrc32));
    }

    /// A pattern's syntax tree, as the rules parse it (Unicode off).
    fn hir(pattern: &str) -> regex_syntax::hir::Hir {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap()
    }

    #[test]
    fn newlines_a_pattern_can_cross() {
        let n = |p: &str| max_newlines(&hir(p));
        assert_eq!(n(r"(?:^|[^A-Za-z0-9_])(pc_live_[A-Za-z0-9]{16,})"), Some(1));
        assert_eq!(n(r"key[ \t]*=[ \t]*([a-z0-9]{32})"), Some(0));
        assert_eq!(
            n(r"-----BEGIN KEY-----[A-Za-z0-9+/=\s]{32,4000}-----END KEY-----"),
            Some(4000)
        );
        assert_eq!(n(r"(?s)BEGIN.*END"), None);
    }

    /// A newline that can only be a match's first or last byte (a boundary class) does not
    /// take the match out of its keyword's window; one between its ends does.
    #[test]
    fn newlines_inside_a_match_not_at_its_edges() {
        let n = |p: &str| interior_newlines(&hir(p));
        let bounded = r#"(?:^|[^A-Za-z0-9_])(?i:wise[_.-]?token)[ \t]*[:=][ \t]*([0-9a-f]{32})(?:[^A-Za-z0-9_-]|$)"#;
        assert_eq!(max_newlines(&hir(bounded)), Some(2));
        assert_eq!(n(bounded), Some(0));
        assert_eq!(
            n(r"(?i)(?:^|\W)pass[:=]\s?([^\s]{8,})(?:[\s,;]|$)"),
            Some(1)
        );
        assert_eq!(n(r"(?:a\nb|c)"), Some(1));
        assert_eq!(n(r"[^x]KEY[\s\S]{0,3}[^x]"), Some(3));
        assert_eq!(n(r"(?s)BEGIN.*END"), None);
    }

    #[test]
    fn screens_relax_only_long_bounded_repeats() {
        let screen = |p: &str| embedded::screen_pattern(p).map(|s| hir(&s));
        assert!(screen(r"key=([a-z]{4,6}x{2}y?)").is_none());
        assert!(screen(r"key=([a-z]{16,})").is_none());
        assert_eq!(
            screen(r"(?i)key=((?:\d{1,2}\|)?[a-z]{16,256}=*)").unwrap(),
            hir(r"(?i)key=((?:\d{1,2}\|)?[a-z]{16,}=*)")
        );
        assert_eq!(
            screen(r"(?:a|b[0-9]{0,100}?)+x\b").unwrap(),
            hir(r"(?:a|b[0-9]*?)+x\b")
        );
        assert_eq!(
            embedded::screen_pattern(r"[{]x{2,99}\{1,200\}(?:y{0,40}){3,4}").unwrap(),
            r"[{]x{2,}\{1,200\}(?:y{0,}){3,4}"
        );
    }

    #[test]
    fn a_screened_pattern_keeps_its_bounds_and_is_built_only_when_needed() {
        let text = "[[rule]]\nid = \"t-k\"\nname = \"x\"\nkeywords = [\"tok_\"]\nregex = 'tok_([a-z]{16,64})\\b'\n";
        let rules = parse_rule_file("f.toml", text).unwrap();
        let rule = &rules[0];
        let found = |hay: &str| {
            rule.candidate_regexes(hay.as_bytes())
                .flat_map(|r| r.find_iter(hay.as_bytes()))
                .map(|m| m.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(found("x = 'nothing here'"), Vec::<usize>::new());
        assert!(
            rule.screens()[0].exact.get().is_none(),
            "a haystack the screen rejects must not build the exact regex"
        );
        assert_eq!(found(&format!("tok_{}", "a".repeat(20))), vec![24]);
        // The screen's `{16,}` matches 100 letters; the rule's `{16,64}` does not.
        assert_eq!(
            found(&format!("tok_{} ", "a".repeat(100))),
            Vec::<usize>::new()
        );
    }
}
