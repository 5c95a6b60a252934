//! What a rule file says, exactly as written: the serde mirror of the TOML format.
//!
//! Kept apart from the compiled [`super::Rule`] so that the file format can be validated and
//! reported on (file, line, rule id) before anything is compiled, and so that the on-disk shape
//! can evolve without touching the matcher.
//!
//! The same types are the embedded form of the built-in rules (see `embedded.rs`): `build.rs`
//! parses `rules/*.toml` into them and writes them in a compact binary format, so that start-up
//! parses no TOML. That format cannot guess which shape an untagged value has, so the few
//! either-or types below are untagged in TOML and tagged in the binary form
//! ([`Serializer::is_human_readable`] tells the two apart).
//!
//! This file depends on nothing else in the crate: `build.rs` includes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::Spanned;

/// How bad a leak of this kind of key is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    #[default]
    High,
    Critical,
}

/// Implements serde for an either-or type through two mirrors: `$written` (untagged: whichever
/// shape the TOML has) for human-readable formats, `$tagged` for the binary embedded form.
macro_rules! either_shape {
    ($ty:ident, $written:ident, $tagged:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    $written::serialize(self, serializer)
                } else {
                    $tagged::serialize(self, serializer)
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if deserializer.is_human_readable() {
                    $written::deserialize(deserializer)
                } else {
                    $tagged::deserialize(deserializer)
                }
            }
        }
    };
}

/// One rule file: an optional provider table and its rules.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSpec {
    /// Who issues the keys these rules find.
    pub provider: Option<ProviderSpec>,
    /// The `[[rule]]` tables.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// The `[provider]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// Display name, e.g. "GitHub".
    pub name: String,
    /// Where the provider documents its key format.
    pub docs: Option<String>,
}

/// One `[[rule]]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Spanned so that errors found after parsing can still name the line.
    #[serde(with = "spanned_id")]
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
    /// The longest secret the rule reports, in bytes. Checked in code, so that a regex can say
    /// `{64,}` where `{64,12000}` would compile to megabytes of automaton.
    #[serde(default)]
    pub max_secret_len: Option<usize>,
    #[serde(default)]
    pub min_entropy: f64,
    #[serde(default)]
    pub generic: bool,
    /// `checksum = "github-crc32"`: an offline structure check a candidate must pass (see
    /// [`super::checksum`]). Spanned so that an unknown name is reported at its own line.
    #[serde(default, with = "spanned_opt")]
    pub checksum: Option<Spanned<String>>,
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
    /// `[rule.verify]`: the optional live check (spanned: repository config may not add one,
    /// and the warning names its line).
    #[serde(default, with = "spanned_opt")]
    pub verify: Option<Spanned<VerifySpec>>,
}

/// `regex` is one pattern, or several alternatives that each capture the secret in the same
/// group (a Communal key is found in a header *or* in an assignment to a Communal variable).
#[derive(Debug, Clone)]
pub enum Patterns {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Patterns", untagged)]
enum PatternsAsWritten {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Patterns")]
enum PatternsTagged {
    One(String),
    Many(Vec<String>),
}

either_shape!(Patterns, PatternsAsWritten, PatternsTagged);

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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone)]
pub enum ExampleSpec {
    Text(String),
    WithSecret { text: String, secret: String },
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "ExampleSpec", untagged)]
enum ExampleAsWritten {
    Text(String),
    WithSecret { text: String, secret: String },
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "ExampleSpec")]
enum ExampleTagged {
    Text(String),
    WithSecret { text: String, secret: String },
}

either_shape!(ExampleSpec, ExampleAsWritten, ExampleTagged);

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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// `GET`, `HEAD` or `POST` (default `GET`): a check must be a harmless read.
    #[serde(default = "default_method")]
    pub method: String,
    /// `https://host[:port]/path?query`.
    pub url: String,
    /// The provider's documentation of the endpoint the check calls (an https URL): where the
    /// request, its authentication and the answers the cases read were taken from.
    #[serde(default)]
    pub docs: Option<String>,
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
    #[serde(default, with = "toml_value_opt")]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyCaseSpec {
    /// The HTTP status is one of these (any status if empty).
    #[serde(default)]
    pub status: Vec<u16>,
    /// The body is JSON, and each dotted path (`error.type`, `errors.0.message`) holds this
    /// value (or one of these values, given a list).
    #[serde(default, with = "toml_values")]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone)]
pub enum Strings {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Strings", untagged)]
enum StringsAsWritten {
    One(String),
    Many(Vec<String>),
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Strings")]
enum StringsTagged {
    One(String),
    Many(Vec<String>),
}

either_shape!(Strings, StringsAsWritten, StringsTagged);

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

/// A rule id with its place in the file: spanned in TOML; in the binary form, the span and the
/// id as a plain tuple (the span's own serde only works with the TOML deserializer).
mod spanned_id {
    use super::*;

    pub fn serialize<S: Serializer>(
        id: &Spanned<String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            id.serialize(serializer)
        } else {
            let span = id.span();
            (span.start, span.end, id.get_ref()).serialize(serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Spanned<String>, D::Error> {
        if deserializer.is_human_readable() {
            Spanned::deserialize(deserializer)
        } else {
            let (start, end, id) = <(usize, usize, String)>::deserialize(deserializer)?;
            Ok(Spanned::new(start..end, id))
        }
    }
}

/// An optional spanned value (`checksum`, `[rule.verify]`): spanned in TOML; in the binary form,
/// the span and the value as a plain tuple, as [`spanned_id`] does for the id.
mod spanned_opt {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Spanned<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            value.serialize(serializer)
        } else {
            value
                .as_ref()
                .map(|v| (v.span().start, v.span().end, v.get_ref()))
                .serialize(serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Spanned<T>>, D::Error> {
        if deserializer.is_human_readable() {
            Option::<Spanned<T>>::deserialize(deserializer)
        } else {
            let tuple = Option::<(usize, usize, T)>::deserialize(deserializer)?;
            Ok(tuple.map(|(start, end, v)| Spanned::new(start..end, v)))
        }
    }
}

/// `json` conditions hold any TOML value; the binary form cannot guess a value's type, so there
/// each value is tagged.
mod toml_values {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub(super) enum Tagged {
        String(String),
        Integer(i64),
        Float(f64),
        Boolean(bool),
        Datetime(String),
        Array(Vec<Tagged>),
        Table(BTreeMap<String, Tagged>),
    }

    impl From<&toml::Value> for Tagged {
        fn from(value: &toml::Value) -> Tagged {
            match value {
                toml::Value::String(s) => Tagged::String(s.clone()),
                toml::Value::Integer(i) => Tagged::Integer(*i),
                toml::Value::Float(f) => Tagged::Float(*f),
                toml::Value::Boolean(b) => Tagged::Boolean(*b),
                toml::Value::Datetime(d) => Tagged::Datetime(d.to_string()),
                toml::Value::Array(items) => {
                    Tagged::Array(items.iter().map(Tagged::from).collect())
                }
                toml::Value::Table(t) => Tagged::Table(
                    t.iter()
                        .map(|(k, v)| (k.clone(), Tagged::from(v)))
                        .collect(),
                ),
            }
        }
    }

    impl Tagged {
        pub(super) fn into_value<E: serde::de::Error>(self) -> Result<toml::Value, E> {
            Ok(match self {
                Tagged::String(s) => toml::Value::String(s),
                Tagged::Integer(i) => toml::Value::Integer(i),
                Tagged::Float(f) => toml::Value::Float(f),
                Tagged::Boolean(b) => toml::Value::Boolean(b),
                Tagged::Datetime(d) => toml::Value::Datetime(d.parse().map_err(E::custom)?),
                Tagged::Array(items) => toml::Value::Array(
                    items
                        .into_iter()
                        .map(Tagged::into_value)
                        .collect::<Result<_, E>>()?,
                ),
                Tagged::Table(t) => toml::Value::Table(
                    t.into_iter()
                        .map(|(k, v)| Ok((k, v.into_value()?)))
                        .collect::<Result<_, E>>()?,
                ),
            })
        }
    }

    pub fn serialize<S: Serializer>(
        values: &BTreeMap<String, toml::Value>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            values.serialize(serializer)
        } else {
            let tagged: BTreeMap<&String, Tagged> =
                values.iter().map(|(k, v)| (k, Tagged::from(v))).collect();
            tagged.serialize(serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, toml::Value>, D::Error> {
        if deserializer.is_human_readable() {
            BTreeMap::deserialize(deserializer)
        } else {
            BTreeMap::<String, Tagged>::deserialize(deserializer)?
                .into_iter()
                .map(|(k, v)| Ok((k, v.into_value()?)))
                .collect()
        }
    }
}

/// An optional TOML value (`json_body`), tagged in the binary form as [`toml_values`] does.
mod toml_value_opt {
    use super::toml_values::Tagged;
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &Option<toml::Value>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            value.serialize(serializer)
        } else {
            value.as_ref().map(Tagged::from).serialize(serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<toml::Value>, D::Error> {
        if deserializer.is_human_readable() {
            Option::<toml::Value>::deserialize(deserializer)
        } else {
            Option::<Tagged>::deserialize(deserializer)?
                .map(Tagged::into_value)
                .transpose()
        }
    }
}

/// `basic = { username = ..., password = ... }`: both templates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicSpec {
    pub username: String,
    #[serde(default)]
    pub password: String,
}

/// One `[[rule.verify.companion]]`: a part of a multi-part credential written near the key (the
/// key id beside a secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone)]
pub enum DetailSpec {
    Path(String),
    From(DetailFromSpec),
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "DetailSpec", untagged)]
enum DetailSpecAsWritten {
    Path(String),
    From(DetailFromSpec),
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "DetailSpec")]
enum DetailSpecTagged {
    Path(String),
    From(DetailFromSpec),
}

either_shape!(DetailSpec, DetailSpecAsWritten, DetailSpecTagged);

/// The table form of [`DetailSpec`]: exactly one source.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailFromSpec {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub json: Option<String>,
    #[serde(default)]
    pub xml: Option<String>,
}
