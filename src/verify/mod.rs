//! Live checks: ask each found key's provider, as its rule describes, whether the key still
//! works.
//!
//! A scanner that sends keys to the wrong place is itself a leak, so: a key goes only to the
//! host written in its rule (or to the `--endpoint` the user named), over https (plain http
//! only to loopback); redirects are never followed; each unique (rule, secret) is sent once per
//! run; and every answer the rule does not describe is `unknown`, never `valid`. Requests run
//! on a small pool of their own threads (not the scanning pool), at most a few at a time per
//! host, and wait when a provider asks them to.

pub mod answer;
pub mod cache;
pub mod causes;
pub mod classify;
pub mod http;
pub mod render;

pub mod sigv4;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::SystemTime;

use crate::finding::{redact, Finding, Secret, Verdict};
use crate::rules::live::forms::Algorithm;
use crate::rules::live::{Escape, LiveCheck, Origin};
use crate::rules::Rule;

pub use self::http::{Client, HttpOptions, Outcome};

/// Threads that send checks; requests wait on the network, not the CPU.
pub const DEFAULT_THREADS: usize = 8;

/// How a run's live checks are made.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub http: HttpOptions,
    /// Worker threads for the checks.
    pub threads: usize,
    /// Rule id → the origin its check goes to instead of the rule's own (`--endpoint`).
    pub endpoints: HashMap<String, Origin>,
    /// The verdict cache, unless `--no-verify-cache` (or no cache directory).
    pub cache: Option<cache::CacheSettings>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            http: HttpOptions::default(),
            threads: DEFAULT_THREADS,
            endpoints: HashMap::new(),
            cache: None,
        }
    }
}

/// A request ready to send. It holds the key, so its `Debug` shows only the redacted form.
#[derive(Clone)]
pub struct Request {
    pub method: String,
    /// Where it goes: the rule's origin or the `--endpoint` override.
    pub origin: Origin,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The URL with every filled-in value shown as `*****`.
    pub redacted_url: String,
    /// The values filled in, so that no message can repeat them.
    values: Vec<String>,
    /// The companion parts filled in (`[[rule.verify.companion]]`).
    pub companions: Vec<(String, Secret)>,
    /// What signs the request when it is sent.
    sign: Option<SignWith>,
}

/// The filled-in signing parameters of a request.
#[derive(Clone)]
struct SignWith {
    algorithm: Algorithm,
    access_key_id: String,
    secret_access_key: String,
    region: String,
    service: String,
}

impl Request {
    /// A bare GET of `url` at `origin`, for tests of how failures are told.
    #[cfg(test)]
    pub(crate) fn for_tests(origin: Origin, url: &str) -> Request {
        Request {
            method: "GET".into(),
            origin,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            redacted_url: url.into(),
            values: Vec::new(),
            companions: Vec::new(),
            sign: None,
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Request({} {})", self.method, self.redacted_url)
    }
}

impl Request {
    /// Fills a rule's check with a key (and the captures beside it). The origin is the rule's
    /// own unless `endpoint` overrides it; the path is always the rule's.
    pub fn build(
        check: &LiveCheck,
        secret: &Secret,
        captures: &[(String, Secret)],
        endpoint: Option<&Origin>,
    ) -> Result<Request, String> {
        Request::build_with(check, secret, captures, &[], endpoint)
    }

    /// [`Request::build`] with companion parts found near the key, which fill in
    /// `{{ captures.NAME }}` like the regex's own captures.
    pub fn build_with(
        check: &LiveCheck,
        secret: &Secret,
        captures: &[(String, Secret)],
        companions: &[(String, Secret)],
        endpoint: Option<&Origin>,
    ) -> Result<Request, String> {
        let capture = |name: &str| {
            captures
                .iter()
                .chain(companions)
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.expose())
        };
        let missing =
            |name: String| format!("the value `{name}` the check needs was not found with the key");
        let key = secret.expose();
        let path = check
            .path
            .render(key, &capture, Escape::Url)
            .map_err(missing)?;
        let mut headers = Vec::with_capacity(check.headers.len());
        for (name, template) in &check.headers {
            let value = template
                .render(key, &capture, Escape::None)
                .map_err(missing)?;
            if value.contains(['\r', '\n']) {
                return Err(format!("the key cannot be sent in the `{name}` header"));
            }
            headers.push((name.clone(), value));
        }
        let mut body = match &check.body {
            Some(t) => Some(t.render(key, &capture, Escape::None).map_err(missing)?),
            None => None,
        };
        let extras = &check.extras;
        if let Some(basic) = &extras.basic {
            use base64::Engine as _;
            let user = basic
                .username
                .render(key, &capture, Escape::None)
                .map_err(missing)?;
            let password = basic
                .password
                .render(key, &capture, Escape::None)
                .map_err(missing)?;
            if user.contains(':') {
                return Err("the user name of a Basic credential cannot contain `:`".into());
            }
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            headers.push(("Authorization".to_string(), format!("Basic {token}")));
        }
        if let Some(form) = &extras.body {
            body = Some(form.render(key, &capture).map_err(missing)?);
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".to_string(), form.content_type().to_string()));
            }
        }
        let sign = match &extras.sign {
            None => None,
            Some(s) => Some(SignWith {
                algorithm: s.algorithm,
                access_key_id: s
                    .access_key_id
                    .render(key, &capture, Escape::None)
                    .map_err(missing)?,
                secret_access_key: s
                    .secret_access_key
                    .render(key, &capture, Escape::None)
                    .map_err(missing)?,
                region: s.region.clone(),
                service: s.service.clone(),
            }),
        };
        let origin = endpoint.unwrap_or(&check.origin).clone();
        let mut values = vec![key.to_string()];
        values.extend(
            captures
                .iter()
                .chain(companions)
                .map(|(_, v)| v.expose().to_string()),
        );
        // Too short a value (a one-digit id) would blank out unrelated text; keys never are.
        values.retain(|v| v.len() >= 4);
        Ok(Request {
            method: check.method.clone(),
            url: origin.url(&path),
            redacted_url: origin.url(&check.path.redacted()),
            origin,
            headers,
            body,
            values,
            companions: companions.to_vec(),
            sign,
        })
    }

    /// The request as sent at `now`: signed, if its check signs.
    pub fn signed(&self, now: SystemTime) -> Request {
        let Some(sign) = &self.sign else {
            return self.clone();
        };
        let mut out = self.clone();
        match sign.algorithm {
            Algorithm::AwsSigV4 => {
                let path_and_query = self
                    .url
                    .split_once("://")
                    .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
                    .unwrap_or("/");
                let host = self.origin.authority();
                let unsigned = sigv4::Unsigned {
                    method: &self.method,
                    host: &host,
                    path_and_query,
                    headers: &self.headers,
                    body: self.body.as_deref().unwrap_or("").as_bytes(),
                };
                let creds = sigv4::Credentials {
                    access_key_id: &sign.access_key_id,
                    secret_access_key: &sign.secret_access_key,
                    region: &sign.region,
                    service: &sign.service,
                };
                out.headers.extend(sigv4::sign(&unsigned, &creds, now));
            }
        }
        out
    }

    /// What a dry run prints: method, URL and header names, never a value.
    pub fn describe(&self) -> String {
        let mut line = format!("{} {}", self.method, self.redacted_url);
        if !self.headers.is_empty() || self.sign.is_some() {
            let mut names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
            if self.sign.is_some() {
                names.extend(["X-Amz-Date", "Authorization"]);
            }
            line.push_str(&format!(" (headers: {})", names.join(", ")));
        }
        if let Some(body) = &self.body {
            line.push_str(&format!(" with a {}-byte body", body.len()));
        }
        line
    }

    /// `text` with every filled-in value replaced by `*****`.
    fn scrub(&self, text: String) -> String {
        self.values.iter().fold(text, |t, v| {
            if t.contains(v.as_str()) {
                t.replace(v.as_str(), "*****")
            } else {
                t
            }
        })
    }
}

/// One unique (rule, secret) to check, and the findings that share it.
pub struct Job<'r> {
    pub rule: &'r Rule,
    pub check: &'r LiveCheck,
    /// The key as reports show it (`pc_live_*****`).
    pub redacted: String,
    /// The request, or why none could be built (an `unknown` reason).
    pub request: Result<Request, String>,
    /// The same check with other companion parts found near the key, tried in turn until one
    /// is accepted (at most [`MAX_ATTEMPTS`] requests in all).
    pub alternatives: Vec<Request>,
    /// Indexes of the findings this job decides.
    pub findings: Vec<usize>,
    /// The key (for the cache's keyed hash; never stored).
    pub secret: Secret,
    /// Every companion part found near the key, nearest first.
    pub companions: Vec<(String, Secret)>,
}

impl Job<'_> {
    /// One line for `--verify-dry-run`.
    pub fn describe(&self) -> String {
        let more = match self.alternatives.len() {
            0 => String::new(),
            n => format!(
                " (and {n} more with other {} found near the key)",
                if n == 1 { "part" } else { "parts" }
            ),
        };
        match &self.request {
            Ok(r) => format!(
                "{}{more} [{} {}]",
                r.describe(),
                self.rule.id,
                self.redacted
            ),
            Err(e) => format!("nothing ({e}) [{} {}]", self.rule.id, self.redacted),
        }
    }
}

/// The most requests one key's check makes, trying the companion parts found near it.
pub const MAX_ATTEMPTS: usize = 3;

/// How one key's check came out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    pub verdict: Verdict,
    /// What the answer says the key can do (`[rule.verify.detail]`), for a valid key.
    pub key_info: Vec<(String, String)>,
    /// The companion parts of the verdict: those of the accepted request, or every one tried.
    pub checked_with: Vec<(String, Secret)>,
}

impl From<Verdict> for Checked {
    fn from(verdict: Verdict) -> Checked {
        Checked {
            verdict,
            ..Checked::default()
        }
    }
}

/// Each combination of the companion parts found near a key, at most [`MAX_ATTEMPTS`], in the
/// order found (nearest first). One empty combination when the check has none.
fn combinations(check: &LiveCheck, companions: &[(String, Secret)]) -> Vec<Vec<(String, Secret)>> {
    let mut combos: Vec<Vec<(String, Secret)>> = vec![Vec::new()];
    for companion in &check.extras.companions {
        let values: Vec<&Secret> = companions
            .iter()
            .filter(|(n, _)| *n == companion.name)
            .map(|(_, v)| v)
            .collect();
        if values.is_empty() {
            continue;
        }
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                values.iter().map(move |v| {
                    let mut next = combo.clone();
                    next.push((companion.name.clone(), (*v).clone()));
                    next
                })
            })
            .take(MAX_ATTEMPTS)
            .collect();
    }
    combos
}

/// A job for one key, with the companion parts found near it.
pub fn job<'r>(
    rule: &'r Rule,
    check: &'r LiveCheck,
    secret: &Secret,
    captures: &[(String, Secret)],
    companions: &[(String, Secret)],
    endpoints: &HashMap<String, Origin>,
) -> Job<'r> {
    let endpoint = endpoints.get(&rule.id);
    let mut requests = combinations(check, companions)
        .into_iter()
        .map(|combo| Request::build_with(check, secret, captures, &combo, endpoint));
    let request = requests
        .next()
        .unwrap_or_else(|| Err("no request could be built".to_string()));
    Job {
        rule,
        check,
        redacted: redact(secret.expose(), &rule.keywords),
        request,
        alternatives: requests.filter_map(Result::ok).collect(),
        findings: Vec::new(),
        secret: secret.clone(),
        companions: companions.to_vec(),
    }
}

/// One job per unique (rule, secret) among the findings whose rule has a check. Findings of
/// rules without a check get no job and stay `unchecked`.
pub fn plan<'r>(
    findings: &[Finding],
    rules: &'r [Rule],
    endpoints: &HashMap<String, Origin>,
) -> Vec<Job<'r>> {
    let by_id: HashMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut jobs: Vec<Job<'r>> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(rule) = by_id.get(f.rule_id.as_str()).copied() else {
            continue;
        };
        let Some(check) = rule.verify.as_ref() else {
            continue;
        };
        let at = *index
            .entry((rule.id.as_str(), f.secret.expose()))
            .or_insert_with(|| {
                jobs.push(job(
                    rule,
                    check,
                    &f.secret,
                    &f.captures,
                    &f.companions,
                    endpoints,
                ));
                jobs.len() - 1
            });
        jobs[at].findings.push(i);
    }
    jobs
}

/// Checks one job now: see [`check_at`].
pub fn check(client: &Client, job: &Job<'_>) -> Checked {
    check_at(client, job, SystemTime::now())
}

/// Checks one job, signing at `now` if its check signs: sends its request (then each
/// alternative until one is accepted) and classifies the answers. Valid if any request is
/// accepted; else unknown if any answer was (a rejection with one key id says nothing of
/// another); else invalid.
pub fn check_at(client: &Client, job: &Job<'_>, now: SystemTime) -> Checked {
    let first = match &job.request {
        Ok(r) => r,
        Err(reason) => {
            return Verdict::Unknown {
                reason: reason.clone(),
            }
            .into()
        }
    };
    let mut outcome: Option<Verdict> = None;
    let mut tried: Vec<(String, Secret)> = Vec::new();
    for request in std::iter::once(first).chain(&job.alternatives) {
        let (verdict, key_info) = check_one(client, job.check, request, now);
        if verdict.is_valid() {
            return Checked {
                verdict,
                key_info,
                checked_with: request.companions.clone(),
            };
        }
        for part in &request.companions {
            if !tried.contains(part) {
                tried.push(part.clone());
            }
        }
        outcome = match (outcome, verdict) {
            (Some(u @ Verdict::Unknown { .. }), _) => Some(u),
            (_, v) => Some(v),
        };
    }
    Checked {
        verdict: outcome.unwrap_or_default(),
        key_info: Vec::new(),
        checked_with: tried,
    }
}

/// One request: its verdict, and for a valid key the details its answer gives.
fn check_one(
    client: &Client,
    check: &LiveCheck,
    request: &Request,
    now: SystemTime,
) -> (Verdict, Vec<(String, String)>) {
    match client.exchange(&request.signed(now)) {
        Outcome::Answer(answer) => match classify::classify(check, &answer) {
            Verdict::Unknown { reason } => (
                Verdict::Unknown {
                    reason: request.scrub(reason),
                },
                Vec::new(),
            ),
            v @ Verdict::Valid { .. } => {
                let json: Option<serde_json::Value> = serde_json::from_slice(&answer.body).ok();
                let info = check
                    .extras
                    .detail
                    .iter()
                    .filter_map(|d| {
                        let value = d.read(&answer.headers, json.as_ref(), &answer.body)?;
                        Some((d.name.clone(), request.scrub(value)))
                    })
                    .collect();
                (v, info)
            }
            other => (other, Vec::new()),
        },
        Outcome::Failed(reason) => (
            Verdict::Unknown {
                reason: request.scrub(reason),
            },
            Vec::new(),
        ),
    }
}

/// Runs every job on a pool of `opts.threads` threads; the verdicts come back in job order.
pub fn run(jobs: &[Job<'_>], opts: &VerifyOptions) -> Vec<Checked> {
    let all: Vec<usize> = (0..jobs.len()).collect();
    run_only(jobs, &all, opts)
}

/// Runs the jobs at `which`; the verdicts come back in the order of `which`.
pub fn run_only(jobs: &[Job<'_>], which: &[usize], opts: &VerifyOptions) -> Vec<Checked> {
    let mut verdicts = vec![Checked::default(); which.len()];
    if which.is_empty() {
        return verdicts;
    }
    let client = Client::new(opts.http.clone());
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.clamp(1, which.len()) {
            let tx = tx.clone();
            let (client, next) = (&client, &next);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = which.get(i).and_then(|&j| jobs.get(j)) else {
                    break;
                };
                if tx.send((i, check(client, job))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, verdict) in rx {
            verdicts[i] = verdict;
        }
    });
    verdicts
}

/// Gives each finding its job's verdict, details and companion parts.
pub fn apply(jobs: &[Job<'_>], verdicts: Vec<Checked>, findings: &mut [Finding]) {
    for (job, checked) in jobs.iter().zip(verdicts) {
        for &i in &job.findings {
            findings[i].verdict = checked.verdict.clone();
            findings[i].key_info = checked.key_info.clone();
            findings[i].checked_with = checked.checked_with.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    fn rule() -> Rule {
        let text = r#"
[provider]
name = "T"
[[rule]]
id = "t"
name = "t"
keywords = ["tok_"]
regex = '(?P<id>id[0-9]+):(tok_[a-z0-9]+)'
secret_group = 2
[rule.verify]
url = "https://api.example.com/v1/{{ captures.id }}?k={{ secret }}"
headers = { "X-Key" = "{{ secret }}", "X-Id" = "{{ captures.id }}" }
[[rule.verify.on]]
status = [200]
json_has = "ok"
verdict = "valid"
"#;
        parse_rule_file("t.toml", text).unwrap().remove(0)
    }

    #[test]
    fn requests_fill_templates_and_redact() {
        let rule = rule();
        let check = rule.verify.as_ref().unwrap();
        let captures = vec![("id".to_string(), Secret::new("id7"))];
        let req = Request::build(check, &Secret::new("tok_a b"), &captures, None).unwrap();
        assert_eq!(req.url, "https://api.example.com/v1/id7?k=tok_a%20b");
        assert_eq!(req.redacted_url, "https://api.example.com/v1/*****?k=*****");
        assert_eq!(req.headers[0], ("X-Id".to_string(), "id7".to_string()));
        let shown = format!("{req:?} {}", req.describe());
        assert!(!shown.contains("tok_a"), "{shown}");
        assert!(shown.contains("X-Key"), "{shown}");
        assert_eq!(req.scrub("bad tok_a b here".into()), "bad ***** here");
        let endpoint = Origin::parse("http://127.0.0.1:9/base").unwrap();
        let req = Request::build(check, &Secret::new("tok_1"), &captures, Some(&endpoint)).unwrap();
        assert_eq!(req.url, "http://127.0.0.1:9/base/v1/id7?k=tok_1");
    }

    #[test]
    fn a_missing_capture_is_a_reason_not_a_request() {
        let rule = rule();
        let err = Request::build(
            rule.verify.as_ref().unwrap(),
            &Secret::new("tok_1"),
            &[],
            None,
        )
        .unwrap_err();
        assert!(err.contains("`id`"), "{err}");
    }
}
