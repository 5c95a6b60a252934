//! What a rule file says, exactly as written: the serde mirror of the TOML format.
//!
//! Kept apart from the compiled [`super::Rule`] so that the file format can be validated and
//! reported on (file, line, rule id) before anything is compiled, and so that the on-disk shape
//! can evolve without touching the matcher.

use serde::Deserialize;
use toml::Spanned;

use super::Severity;

/// One rule file: an optional provider table and its rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSpec {
    /// Who issues the keys these rules find.
    pub provider: Option<ProviderSpec>,
    /// The `[[rule]]` tables.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// The `[provider]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// Display name, e.g. "GitHub".
    pub name: String,
    /// Where the provider documents its key format.
    pub docs: Option<String>,
}

/// One `[[rule]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Spanned so that errors found after parsing can still name the line.
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Severity,
    pub keywords: Vec<String>,
    pub regex: Patterns,
    #[serde(default)]
    pub secret_group: Option<usize>,
    #[serde(default)]
    pub min_entropy: f64,
    #[serde(default)]
    pub generic: bool,
    #[serde(default)]
    pub context: Option<ContextSpec>,
    #[serde(default)]
    pub allow: AllowSpec,
    #[serde(default)]
    pub examples: Vec<ExampleSpec>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// `regex` is one pattern, or several alternatives that each capture the secret in the same
/// group (a Communal key is found in a header *or* in an assignment to a Communal variable).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Patterns {
    One(String),
    Many(Vec<String>),
}

impl Patterns {
    /// The patterns as a slice, whichever way they were written.
    pub fn as_slice(&self) -> &[String] {
        match self {
            Patterns::One(p) => std::slice::from_ref(p),
            Patterns::Many(ps) => ps,
        }
    }
}

/// `[rule.context]`: words that must occur near a match for it to count.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub words: Vec<String>,
    #[serde(default = "default_within_lines")]
    pub within_lines: usize,
}

fn default_within_lines() -> usize {
    5
}

/// `[rule.allow]`: what a rule never reports.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSpec {
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// An example: text that must be found, optionally with the exact secret it must yield.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ExampleSpec {
    Text(String),
    WithSecret { text: String, secret: String },
}

impl ExampleSpec {
    pub fn text(&self) -> &str {
        match self {
            ExampleSpec::Text(t) | ExampleSpec::WithSecret { text: t, .. } => t,
        }
    }

    pub fn secret(&self) -> Option<&str> {
        match self {
            ExampleSpec::Text(_) => None,
            ExampleSpec::WithSecret { secret, .. } => Some(secret),
        }
    }
}
