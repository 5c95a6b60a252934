//! What a rule file says, exactly as written: the serde mirror of the TOML format.
//!
//! Kept apart from the compiled [`super::Rule`] so that the file format can be validated and
//! reported on (file, line, rule id) before anything is compiled, and so that the on-disk shape
//! can evolve without touching the matcher.

use std::collections::BTreeMap;

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
    /// Run the regexes over the whole file rather than the lines around each keyword: for
    /// matches that span many lines (key blocks) or sit far from every keyword.
    #[serde(default)]
    pub whole_file: bool,
    #[serde(default)]
    pub context: Option<ContextSpec>,
    #[serde(default)]
    pub allow: AllowSpec,
    #[serde(default)]
    pub examples: Vec<ExampleSpec>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    /// `[rule.verify]`: the optional live check.
    #[serde(default)]
    pub verify: Option<VerifySpec>,
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

/// `[rule.verify]`: how to ask the provider whether a key still works, and how to read its answer.
///
/// Only the request's path, query, headers and body may be templated (`{{ secret }}`,
/// `{{ captures.NAME }}`); the scheme and host are literal, so scanned text can never choose
/// where a key is sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// `GET`, `HEAD` or `POST` (default `GET`): a check must be a harmless read.
    #[serde(default = "default_method")]
    pub method: String,
    /// `https://host[:port]/path?query`.
    pub url: String,
    /// Request headers; values are templates.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// An optional request body (a template).
    #[serde(default)]
    pub body: Option<String>,
    /// HTTP Basic credentials (templates): `basic = { username = "api", password = "{{ secret }}" }`.
    #[serde(default)]
    pub basic: Option<BasicSpec>,
    /// A form-urlencoded POST body: field name → template.
    #[serde(default)]
    pub form: Option<BTreeMap<String, String>>,
    /// A JSON POST body whose strings are templates.
    #[serde(default)]
    pub json_body: Option<toml::Value>,
    /// `[[rule.verify.companion]]`: other parts of the credential, found near the key.
    #[serde(default, rename = "companion")]
    pub companions: Vec<CompanionSpec>,
    /// `[rule.verify.sign]`: a request signature the check computes (AWS Signature Version 4).
    #[serde(default)]
    pub sign: Option<SignSpec>,
    /// `[rule.verify.detail]`: what a valid key can do, read from the check's own answer.
    #[serde(default)]
    pub detail: BTreeMap<String, DetailSpec>,
    /// `[[rule.verify.on]]`: response cases, tried in order; the first that matches decides.
    #[serde(default, rename = "on")]
    pub cases: Vec<VerifyCaseSpec>,
    /// `[[rule.verify.test]]`: recorded responses and the verdict each must produce.
    #[serde(default, rename = "test")]
    pub tests: Vec<VerifyTestSpec>,
}

fn default_method() -> String {
    "GET".to_string()
}

/// One `[[rule.verify.on]]` case: every condition given must hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCaseSpec {
    /// The HTTP status is one of these (any status if empty).
    #[serde(default)]
    pub status: Vec<u16>,
    /// The body is JSON, and each dotted path (`error.type`, `errors.0.message`) holds this
    /// value (or one of these values, given a list).
    #[serde(default)]
    pub json: BTreeMap<String, toml::Value>,
    /// The body is JSON and has each of these dotted paths.
    #[serde(default)]
    pub json_has: Strings,
    /// The body is XML and the first element of each name has this text (or one of these).
    #[serde(default)]
    pub xml: BTreeMap<String, Strings>,
    /// The body is XML with an element of each of these names.
    #[serde(default)]
    pub xml_has: Strings,
    /// Each header is present with this value or one of these values (case-insensitive; a
    /// value also matches without its `;` parameters; `""` means any value).
    #[serde(default)]
    pub header: BTreeMap<String, Strings>,
    /// `valid`, `invalid` or `unknown`.
    pub verdict: String,
    /// The note of a valid verdict ("lacks permission") or the reason of an unknown one.
    #[serde(default)]
    pub note: Option<String>,
}

/// One `[[rule.verify.test]]`: a recorded response, replayed by `rules check`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyTestSpec {
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    /// The verdict it must produce: `valid`, `invalid` or `unknown`.
    pub expect: String,
    /// Text the verdict's note or reason must contain.
    #[serde(default)]
    pub detail: Option<String>,
    /// The verdict details (`[rule.verify.detail]`) the answer must give.
    #[serde(default)]
    pub key_info: BTreeMap<String, String>,
}

/// One string or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Strings {
    One(String),
    Many(Vec<String>),
}

impl Default for Strings {
    fn default() -> Self {
        Strings::Many(Vec::new())
    }
}

impl Strings {
    pub fn as_slice(&self) -> &[String] {
        match self {
            Strings::One(s) => std::slice::from_ref(s),
            Strings::Many(v) => v,
        }
    }
}

/// `basic = { username = ..., password = ... }`: both templates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicSpec {
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// One `[[rule.verify.companion]]`: a part of a multi-part credential written near the key (the
/// key id beside a secret).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionSpec {
    /// A regex with one named group; the group's name is the template variable
    /// (`{{ captures.NAME }}`).
    pub regex: String,
    /// How many lines above or below the key it may be.
    #[serde(default = "default_companion_lines")]
    pub within_lines: usize,
}

fn default_companion_lines() -> usize {
    5
}

/// `[rule.verify.sign]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignSpec {
    /// `aws-sigv4`.
    pub algorithm: String,
    pub service: String,
    pub region: String,
    /// Templates: the key id and the secret that signs.
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Where one verdict detail is read: a JSON dotted path or an XML element name (a plain
/// string), or `{ header = "X-OAuth-Scopes" }`, `{ json = "a.b" }`, `{ xml = "Arn" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DetailSpec {
    Path(String),
    From(DetailFromSpec),
}

/// The table form of [`DetailSpec`]: exactly one source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailFromSpec {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub json: Option<String>,
    #[serde(default)]
    pub xml: Option<String>,
}
