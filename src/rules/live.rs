//! A rule's live check, compiled from `[rule.verify]` and validated at load.
//!
//! The safety of live checks rests on what this module refuses: the scheme and host of a check
//! are literal text of the rule (never built from scanned text), only `https` is accepted, and
//! templates (`{{ secret }}`, `{{ captures.NAME }}`) may fill in the path, query, headers and
//! body only. Everything here is data and its validation: filling the templates in, reading
//! answers against the cases, and sending requests are `crate::verify`'s job.

use std::fmt;
use std::net::Ipv4Addr;

use serde_json::Value;

use super::spec::{VerifyCaseSpec, VerifySpec, VerifyTestSpec};

pub mod companion;
pub mod detail;
pub mod forms;

/// Methods a check may use: reads, and POST for the few APIs whose "who am I" call is a POST
/// (Slack's `auth.test`).
const METHODS: &[&str] = &["GET", "HEAD", "POST"];

/// Headers a rule may not set: they would change where or how the request goes.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "proxy-authorization",
];

/// A compiled `[rule.verify]`.
#[derive(Debug, Clone)]
pub struct LiveCheck {
    /// `GET`, `HEAD` or `POST`.
    pub method: String,
    /// Where the rule sends the check (before any `--endpoint` override).
    pub origin: Origin,
    /// Path and query, beginning with `/`; a template.
    pub path: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    /// Response cases in order; the first that matches decides.
    pub cases: Vec<Case>,
    /// Recorded responses that `rules check` replays.
    pub tests: Vec<RecordedTest>,
    /// Basic credentials, form and JSON bodies, companions, signing, verdict details.
    pub extras: forms::Extras,
    /// The provider's documentation of the endpoint (`docs`), an https URL.
    pub docs: Option<String>,
}

impl LiveCheck {
    /// Names of the captures the request uses.
    pub fn captures_used(&self) -> Vec<&str> {
        let mut names: Vec<&str> = std::iter::once(&self.path)
            .chain(self.headers.iter().map(|(_, t)| t))
            .chain(self.body.iter())
            .chain(self.extras.templates())
            .flat_map(Template::captures)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The verdict a case (or a recorded test) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Valid,
    Invalid,
    Unknown,
}

impl Expect {
    fn parse(text: &str) -> Result<Expect, String> {
        match text {
            "valid" => Ok(Expect::Valid),
            "invalid" => Ok(Expect::Invalid),
            "unknown" => Ok(Expect::Unknown),
            other => Err(format!(
                "verdict `{other}` is not one of `valid`, `invalid`, `unknown`"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Valid => "valid",
            Expect::Invalid => "invalid",
            Expect::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `https` or (for an `--endpoint` on loopback only) `http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Https,
    Http,
}

/// Scheme, host, port and an optional base path: where a check goes. Never templated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: Scheme,
    /// Lower-cased; an IPv6 address keeps its brackets.
    pub host: String,
    pub port: Option<u16>,
    /// A path prefix put before the rule's path (`--endpoint https://git.example.com/gitlab`);
    /// empty or beginning with `/`, never ending with `/`.
    pub base_path: String,
}

impl Origin {
    /// Parses `scheme://host[:port][/base/path]`: no templates, no user info, no query.
    /// `https` is always accepted; `http` only when the host is loopback.
    pub fn parse(text: &str) -> Result<Origin, String> {
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(format!("`{text}` must begin with https://"));
        };
        if text.contains("{{") || text.contains("}}") {
            return Err(format!(
                "`{text}`: the scheme, host and port must be literal (templates go in the path, \
                 query, headers or body)"
            ));
        }
        if rest.contains(['?', '#']) {
            return Err(format!("`{text}` must not have a query or fragment"));
        }
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let (host, port) = split_authority(authority).map_err(|e| format!("`{text}`: {e}"))?;
        let origin = Origin {
            scheme,
            host,
            port,
            base_path: path.trim_end_matches('/').to_string(),
        };
        if origin.scheme == Scheme::Http && !origin.is_loopback() {
            return Err(format!(
                "`{text}`: plain http is allowed only to loopback (127.0.0.1, ::1, localhost); \
                 use https"
            ));
        }
        Ok(origin)
    }

    /// `host[:port]`.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// True for 127.0.0.0/8, `::1` and `localhost`: this machine.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.as_str();
        host == "localhost"
            || host.ends_with(".localhost")
            || host == "[::1]"
            || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The full URL of `path` (which begins with `/`) at this origin.
    pub fn url(&self, path: &str) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        format!("{scheme}://{}{}{path}", self.authority(), self.base_path)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url(""))
    }
}

/// Splits and validates `host[:port]`.
fn split_authority(authority: &str) -> Result<(String, Option<u16>), String> {
    if authority.contains('@') {
        return Err("user info (`user:pass@`) is not allowed; send credentials in headers".into());
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or("an IPv6 host needs its closing `]`")?;
        let (host, rest) = authority.split_at(end + 1);
        let inner = &host[1..host.len() - 1];
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        match rest {
            "" => (host, None),
            _ => (
                host,
                Some(rest.strip_prefix(':').ok_or("junk after the host")?),
            ),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the host is missing".into());
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(format!("`{host}` is not a host name"));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("`{p}` is not a port"))?,
        ),
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// `{{ secret }}`
    Secret,
    /// `{{ captures.NAME }}`: a named group of the rule's regex.
    Capture(String),
}

/// Text with `{{ secret }}` and `{{ captures.NAME }}` holes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// How values are written into a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As they are (headers, bodies).
    None,
    /// Percent-encoded, so a value cannot add path segments, a query or a fragment.
    Url,
}

impl Template {
    /// Parses a template; any `{{ ... }}` other than the two variables is an error.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("`{{{{` without `}}}}` in `{text}`"))?;
            let name = after[..close].trim();
            pieces.push(match name {
                "secret" => Piece::Secret,
                _ => match name.strip_prefix("captures.") {
                    Some(c)
                        if !c.is_empty()
                            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                    {
                        Piece::Capture(c.to_string())
                    }
                    _ => {
                        return Err(format!(
                            "unknown template variable `{{{{ {name} }}}}`: use `{{{{ secret }}}}` \
                             or `{{{{ captures.NAME }}}}`"
                        ))
                    }
                },
            });
            rest = &after[close + 2..];
        }
        if rest.contains("}}") {
            return Err(format!("`}}}}` without `{{{{` in `{text}`"));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    pub fn uses_secret(&self) -> bool {
        self.pieces.contains(&Piece::Secret)
    }

    /// The capture names the template uses.
    pub fn captures(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Capture(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The pieces, in order (for rendering).
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The literal text only (for validating it).
    fn literal(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Text(t) => Some(t.as_str()),
            _ => None,
        })
    }
}

/// A dotted path into a JSON document: `code`, `error.type`, `errors.0.message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub text: String,
    segments: Vec<String>,
}

impl JsonPath {
    /// The path's segments, in order (for looking it up).
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    pub(crate) fn parse(text: &str) -> Result<JsonPath, String> {
        let segments: Vec<String> = text.split('.').map(str::to_string).collect();
        if segments.iter().any(String::is_empty) {
            return Err(format!(
                "`{text}` is not a dotted JSON path such as `error.type`"
            ));
        }
        Ok(JsonPath {
            text: text.to_string(),
            segments,
        })
    }
}

/// One response case: every condition given must hold.
#[derive(Debug, Clone)]
pub struct Case {
    /// Any of these statuses; any status if empty.
    pub status: Vec<u16>,
    /// The value at each path is one of the values listed.
    pub json: Vec<(JsonPath, Vec<Value>)>,
    /// Each path exists.
    pub json_has: Vec<JsonPath>,
    /// The first XML element of each name has one of the texts listed.
    pub xml: Vec<(String, Vec<String>)>,
    /// An XML element of each name exists.
    pub xml_has: Vec<String>,
    /// Lower-cased header name and the lower-cased values it may have (`""`: any).
    pub headers: Vec<(String, Vec<String>)>,
    pub verdict: Expect,
    pub note: Option<String>,
}

/// A recorded response and the verdict it must produce.
#[derive(Debug, Clone)]
pub struct RecordedTest {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub expect: Expect,
    /// Text the verdict's note or reason must contain.
    pub detail: Option<String>,
    /// Verdict details the answer must give, by name.
    pub key_info: Vec<(String, String)>,
}

/// Validates a `[rule.verify]` table. `named_groups` lists, for each of the rule's regexes, its
/// named capture groups: a capture the check uses must be in every one of them.
pub fn compile(mut spec: VerifySpec, named_groups: &[Vec<String>]) -> Result<LiveCheck, String> {
    let method = spec.method.to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "verify.method `{}` is not one of {}: a check must be a harmless read",
            spec.method,
            METHODS.join(", ")
        ));
    }
    let extras = forms::compile(&method, &mut spec)?;
    if let Some(docs) = &spec.docs {
        let https = docs
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
        if !https {
            return Err(format!(
                "verify.docs `{docs}` must be an https URL: the provider's page for the endpoint"
            ));
        }
    }
    let (origin, path) = split_url(&spec.url).map_err(|e| format!("verify.url: {e}"))?;
    if origin.scheme != Scheme::Https {
        return Err(format!(
            "verify.url `{}` must be https (point a check at a local mock with --endpoint)",
            spec.url
        ));
    }
    let mut headers = Vec::with_capacity(spec.headers.len());
    for (name, value) in spec.headers {
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(format!("verify.headers: `{name}` is not a header name"));
        }
        if FORBIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "verify.headers: a check may not set `{name}`: it would change where or how \
                 the request goes"
            ));
        }
        let template =
            Template::parse(&value).map_err(|e| format!("verify.headers.{name}: {e}"))?;
        if template.literal().any(|t| t.contains(['\r', '\n'])) {
            return Err(format!(
                "verify.headers.{name}: a header value cannot span lines"
            ));
        }
        headers.push((name, template));
    }
    let body = match spec.body {
        None => None,
        Some(_) if method != "POST" => {
            return Err(format!(
                "verify.body: a {method} request has no body; use POST"
            ))
        }
        Some(b) => Some(Template::parse(&b).map_err(|e| format!("verify.body: {e}"))?),
    };
    let check = LiveCheck {
        method,
        origin,
        path,
        headers,
        body,
        cases: spec
            .cases
            .into_iter()
            .enumerate()
            .map(|(i, c)| compile_case(c).map_err(|e| format!("verify.on[{i}]: {e}")))
            .collect::<Result<_, _>>()?,
        tests: spec
            .tests
            .into_iter()
            .enumerate()
            .map(|(i, t)| compile_test(t).map_err(|e| format!("verify.test[{i}]: {e}")))
            .collect::<Result<_, _>>()?,
        extras,
        docs: spec.docs,
    };
    let sends_secret = check.path.uses_secret()
        || check.headers.iter().any(|(_, t)| t.uses_secret())
        || check.body.as_ref().is_some_and(Template::uses_secret)
        || check.extras.templates().iter().any(|t| t.uses_secret());
    if !sends_secret {
        return Err("verify never sends `{{ secret }}`: it would check nothing".into());
    }
    for name in check.captures_used() {
        if check.extras.companion_names().any(|c| c == name) {
            continue;
        }
        if named_groups.iter().any(|g| !g.iter().any(|n| n == name)) {
            return Err(format!(
                "verify uses `{{{{ captures.{name} }}}}`, but not every regex of the rule has a \
                 group `(?P<{name}>...)`"
            ));
        }
    }
    if check.cases.is_empty() {
        return Err(
            "verify needs at least one [[rule.verify.on]] case: an answer no case describes is \
             `unknown`"
                .into(),
        );
    }
    Ok(check)
}

/// Splits a rule's URL into its literal origin and its templated path and query.
fn split_url(url: &str) -> Result<(Origin, Template), String> {
    let after_scheme = url
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| format!("`{url}` must begin with https://"))?;
    let authority_end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    let origin_text = &url[..authority_end];
    if origin_text.contains("{{") {
        return Err(format!(
            "`{url}`: the scheme, host and port must be literal (templates go in the path, \
             query, headers or body)"
        ));
    }
    // The rule's own URL may be https to any host; only an --endpoint may be http to loopback,
    // and compile() refuses http here. Parse with the same rules as an endpoint.
    let origin = Origin::parse(origin_text).map_err(|e| {
        if origin_text.starts_with("http://") {
            format!("`{url}` must be https")
        } else {
            e
        }
    })?;
    let rest = &url[authority_end..];
    if rest.contains('#') {
        return Err(format!("`{url}` must not have a fragment"));
    }
    let path = match rest.chars().next() {
        None => "/".to_string(),
        Some('?') => format!("/{rest}"),
        Some(_) => rest.to_string(),
    };
    let path = Template::parse(&path)?;
    if path.literal().any(|t| t.contains(char::is_whitespace)) {
        return Err(format!("`{url}` contains white space"));
    }
    Ok((origin, path))
}

fn compile_case(spec: VerifyCaseSpec) -> Result<Case, String> {
    check_statuses(&spec.status)?;
    let verdict = Expect::parse(&spec.verdict)?;
    let mut json = Vec::with_capacity(spec.json.len());
    for (path, value) in spec.json {
        let values = match value {
            toml::Value::Array(items) => items.into_iter().map(scalar).collect::<Result<_, _>>()?,
            other => vec![scalar(other)?],
        };
        json.push((JsonPath::parse(&path)?, values));
    }
    let json_has = spec
        .json_has
        .as_slice()
        .iter()
        .map(|p| JsonPath::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let headers: Vec<(String, Vec<String>)> = spec
        .header
        .into_iter()
        .map(|(n, v)| {
            let values = v.as_slice().iter().map(|v| v.trim().to_ascii_lowercase());
            (n.to_ascii_lowercase(), values.collect())
        })
        .collect();
    let xml: Vec<(String, Vec<String>)> = spec
        .xml
        .into_iter()
        .map(|(n, v)| (n, v.as_slice().to_vec()))
        .collect();
    let xml_has = spec.xml_has.as_slice().to_vec();
    if verdict == Expect::Valid
        && json.is_empty()
        && json_has.is_empty()
        && headers.is_empty()
        && xml.is_empty()
        && xml_has.is_empty()
    {
        return Err(
            "a `valid` case must look at the body (`json`, `json_has`, `xml`, `xml_has`) or a \
             `header`, not only the status: a proxy or captive portal answers 200 too"
                .into(),
        );
    }
    if verdict == Expect::Invalid && spec.note.is_some() {
        return Err("an `invalid` verdict carries no note".into());
    }
    Ok(Case {
        status: spec.status,
        json,
        json_has,
        xml,
        xml_has,
        headers,
        verdict,
        note: spec.note,
    })
}

/// Statuses a case may name: real ones, and never a redirect, which is always `unknown`.
fn check_statuses(statuses: &[u16]) -> Result<(), String> {
    for &s in statuses {
        if !(100..=599).contains(&s) {
            return Err(format!("status {s} is not an HTTP status"));
        }
        if (300..=399).contains(&s) {
            return Err(format!(
                "status {s}: redirects are never followed and always `unknown`; a case cannot \
                 name them"
            ));
        }
    }
    Ok(())
}

/// A TOML scalar as the JSON value it must equal.
fn scalar(value: toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        other => {
            return Err(format!(
                "json values are strings, numbers or booleans (or a list of them), not {}",
                other.type_str()
            ))
        }
    })
}

fn compile_test(spec: VerifyTestSpec) -> Result<RecordedTest, String> {
    if !(100..=599).contains(&spec.status) {
        return Err(format!("status {} is not an HTTP status", spec.status));
    }
    Ok(RecordedTest {
        status: spec.status,
        headers: spec.headers.into_iter().collect(),
        body: spec.body,
        expect: Expect::parse(&spec.expect)?,
        detail: spec.detail,
        key_info: spec.key_info.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_literal_and_https() {
        let o = Origin::parse("https://API.example.com:8443/base/").unwrap();
        assert_eq!(o.host, "api.example.com");
        assert_eq!(o.url("/v1"), "https://api.example.com:8443/base/v1");
        assert!(Origin::parse("http://api.example.com").is_err());
        assert!(Origin::parse("http://127.0.0.1:9").unwrap().is_loopback());
        assert!(Origin::parse("http://[::1]:9").unwrap().is_loopback());
        assert!(Origin::parse("http://localhost").unwrap().is_loopback());
        assert!(Origin::parse("http://127.0.0.1.example.com").is_err());
        assert!(Origin::parse("https://user:pw@example.com").is_err());
        assert!(Origin::parse("https://example.com?x=1").is_err());
        assert!(Origin::parse("ftp://example.com").is_err());
    }

    #[test]
    fn urls_keep_templates_out_of_the_host() {
        assert!(split_url("https://{{ secret }}.example.com/").is_err());
        assert!(split_url("https://example.com{{ secret }}").is_err());
        assert!(split_url("https://example.com:{{ secret }}/").is_err());
        let (origin, path) = split_url("https://example.com?key={{ secret }}").unwrap();
        assert_eq!(origin.host, "example.com");
        assert_eq!(path.redacted(), "/?key=*****");
    }

    #[test]
    fn json_paths_walk_objects_and_arrays() {
        let doc: Value = serde_json::json!({"errors": [{"message": "bad"}], "ok": false});
        let p = JsonPath::parse("errors.0.message").unwrap();
        assert_eq!(p.lookup(&doc), Some(&Value::from("bad")));
        assert!(JsonPath::parse("a..b").is_err());
    }
}
