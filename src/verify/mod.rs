//! Live checks: ask each found key's provider, as its rule describes, whether the key still
//! works.
//!
//! A scanner that sends keys to the wrong place is itself a leak, so: a key goes only to the
//! host written in its rule (or to the `--endpoint` the user named), over https (plain http
//! only to loopback); redirects are never followed; each unique (rule, secret) is sent once per
//! run; and every answer the rule does not describe is `unknown`, never `valid`. Requests run
//! on a small pool of their own threads (not the scanning pool), at most a few at a time per
//! host, and wait when a provider asks them to.

pub mod classify;
pub mod http;
pub mod replay;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::finding::{redact, Finding, Secret, Verdict};
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
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            http: HttpOptions::default(),
            threads: DEFAULT_THREADS,
            endpoints: HashMap::new(),
        }
    }
}

/// A request ready to send. It holds the key, so its `Debug` shows only the redacted form.
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
        let capture = |name: &str| {
            captures
                .iter()
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
        let body = match &check.body {
            Some(t) => Some(t.render(key, &capture, Escape::None).map_err(missing)?),
            None => None,
        };
        let origin = endpoint.unwrap_or(&check.origin).clone();
        let mut values = vec![key.to_string()];
        values.extend(captures.iter().map(|(_, v)| v.expose().to_string()));
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
        })
    }

    /// What a dry run prints: method, URL and header names, never a value.
    pub fn describe(&self) -> String {
        let mut line = format!("{} {}", self.method, self.redacted_url);
        if !self.headers.is_empty() {
            let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
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
    /// Indexes of the findings this job decides.
    pub findings: Vec<usize>,
}

impl Job<'_> {
    /// One line for `--verify-dry-run`.
    pub fn describe(&self) -> String {
        match &self.request {
            Ok(r) => format!("{} [{} {}]", r.describe(), self.rule.id, self.redacted),
            Err(e) => format!("nothing ({e}) [{} {}]", self.rule.id, self.redacted),
        }
    }
}

/// A job for one key.
pub fn job<'r>(
    rule: &'r Rule,
    check: &'r LiveCheck,
    secret: &Secret,
    captures: &[(String, Secret)],
    endpoints: &HashMap<String, Origin>,
) -> Job<'r> {
    Job {
        rule,
        check,
        redacted: redact(secret.expose(), &rule.keywords),
        request: Request::build(check, secret, captures, endpoints.get(&rule.id)),
        findings: Vec::new(),
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
                jobs.push(job(rule, check, &f.secret, &f.captures, endpoints));
                jobs.len() - 1
            });
        jobs[at].findings.push(i);
    }
    jobs
}

/// Checks one job: sends its request and classifies the answer.
pub fn check(client: &Client, job: &Job<'_>) -> Verdict {
    let request = match &job.request {
        Ok(r) => r,
        Err(reason) => {
            return Verdict::Unknown {
                reason: reason.clone(),
            }
        }
    };
    match client.exchange(request) {
        Outcome::Answer(answer) => match classify::classify(job.check, &answer) {
            Verdict::Unknown { reason } => Verdict::Unknown {
                reason: request.scrub(reason),
            },
            other => other,
        },
        Outcome::Failed(reason) => Verdict::Unknown {
            reason: request.scrub(reason),
        },
    }
}

/// Runs every job on a pool of `opts.threads` threads; the verdicts come back in job order.
pub fn run(jobs: &[Job<'_>], opts: &VerifyOptions) -> Vec<Verdict> {
    let client = Client::new(opts.http.clone());
    let mut verdicts = vec![Verdict::Unchecked; jobs.len()];
    if jobs.is_empty() {
        return verdicts;
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..opts.threads.clamp(1, jobs.len()) {
            let tx = tx.clone();
            let (client, next) = (&client, &next);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else {
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

/// Gives each finding its job's verdict.
pub fn apply(jobs: &[Job<'_>], verdicts: Vec<Verdict>, findings: &mut [Finding]) {
    for (job, verdict) in jobs.iter().zip(verdicts) {
        for &i in &job.findings {
            findings[i].verdict = verdict.clone();
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
