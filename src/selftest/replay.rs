//! `rules check` for live checks: every recorded response of a rule is replayed in-process. The
//! rule's real check is built and sent through the same HTTP layer as against the provider
//! (the same request on the wire, the same rate limits and retries, the same classification);
//! only the transport differs: it answers with the recorded response, and records what it
//! was asked, so that the request can be checked too. So a check proves itself offline,
//! without a socket, through the code that runs against the provider.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::CheckFailure;
use crate::finding::{Secret, Verdict};
use crate::rules::live::{Escape, Expect, RecordedTest, Template};
use crate::rules::{Rule, RuleSet};
use crate::verify::classify::Answer;
use crate::verify::http::{Transport, Wire};
use crate::verify::{check_at, job, Client, HttpOptions, Request};

/// The time recorded answers are replayed at, so that a signed request is the same on every
/// run: 2015-08-30T12:36:00Z, the time of AWS's own signing examples.
fn replay_clock() -> std::time::SystemTime {
    std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

/// A request as the transport received it.
#[derive(Debug, Clone)]
struct Sent {
    method: String,
    /// `host` or `host:port`.
    authority: String,
    /// Path and query.
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// The transport of a replay: answers every request with the current recorded response, and
/// records what it was asked.
#[derive(Default)]
struct Replay {
    answer: Mutex<Option<RecordedTest>>,
    seen: Mutex<Vec<Sent>>,
}

/// Shared between the client, which owns its transport, and the self-test, which sets the
/// answer and reads what was sent.
#[derive(Default, Clone)]
struct SharedReplay(Arc<Replay>);

impl Transport for SharedReplay {
    fn carry(&self, _req: &Request, wire: Wire) -> Result<Answer, String> {
        let (parts, body) = wire.into_parts();
        lock(&self.0.seen).push(Sent {
            method: parts.method.to_string(),
            authority: parts
                .uri
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            path: parts
                .uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.to_string()),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
        });
        let Some(test) = lock(&self.0.answer).clone() else {
            return Err("no recorded answer to replay".to_string());
        };
        // As the network gives them: header names lower-cased, no body for a HEAD.
        Ok(Answer {
            status: test.status,
            headers: test
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect(),
            body: if parts.method == "HEAD" {
                Vec::new()
            } else {
                test.body.into_bytes()
            },
        })
    }
}

/// Replays every rule's recorded responses.
pub fn replay_all(rules: &RuleSet) -> Vec<CheckFailure> {
    rules.rules().iter().flat_map(replay_rule).collect()
}

/// How many recorded responses a set of rules carries.
pub fn recorded(rules: &RuleSet) -> usize {
    rules
        .rules()
        .iter()
        .filter_map(|r| r.verify.as_ref())
        .map(|c| c.tests.len())
        .sum()
}

/// Replays one rule's recorded responses; a rule without a live check passes trivially.
/// A check must carry at least one recorded `valid`, `invalid` and `unknown` answer.
pub fn replay_rule(rule: &Rule) -> Vec<CheckFailure> {
    let Some(live) = rule.verify.as_ref() else {
        return Vec::new();
    };
    let fail = |message: String| CheckFailure {
        rule_id: rule.id.clone(),
        origin: format!("{}:{}", rule.origin, rule.line),
        message,
    };
    let mut failures = Vec::new();
    for kind in [Expect::Valid, Expect::Invalid, Expect::Unknown] {
        if !live.tests.iter().any(|t| t.expect == kind) {
            failures.push(fail(format!(
                "verify needs a recorded `{kind}` answer ([[rule.verify.test]] with \
                 expect = \"{kind}\")"
            )));
        }
    }
    if live.tests.is_empty() {
        return failures;
    }
    let secret = Secret::new(sample_secret(rule));
    let captures: Vec<(String, Secret)> = live
        .captures_used()
        .into_iter()
        .map(|n| {
            (
                n.to_string(),
                Secret::new(format!("keyhound-self-test-{n}")),
            )
        })
        .collect();
    // The rule's own endpoint: the request is the one that would go to the provider.
    let one = job(rule, live, &secret, &captures, &[], &Default::default());
    let capture = |n: &str| {
        captures
            .iter()
            .find(|(c, _)| c == n)
            .map(|(_, v)| v.expose())
    };
    let fill = |template: &Template, escape| template.render(secret.expose(), &capture, escape);
    let expected_path = fill(&live.path, Escape::Url).unwrap_or_default();
    let expected_headers: Vec<(&str, String)> = live
        .headers
        .iter()
        .filter_map(|(name, t)| Some((name.as_str(), fill(t, Escape::None).ok()?)))
        .collect();
    let expected_body = live.body.as_ref().and_then(|t| fill(t, Escape::None).ok());
    let replay = SharedReplay::default();
    // Recorded answers are served at once: no waiting for rate limits, no pause before a retry.
    let client = Client::with_transport(
        HttpOptions {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            max_wait: Duration::ZERO,
            retry_delay: Duration::ZERO,
            per_host: 1,
        },
        Box::new(replay.clone()),
    );
    for (i, test) in live.tests.iter().enumerate() {
        *lock(&replay.0.answer) = Some(test.clone());
        lock(&replay.0.seen).clear();
        let checked = check_at(&client, &one, replay_clock());
        let what = format!("verify.test[{i}] (HTTP {})", test.status);
        if let Some(message) = mismatch(test, &checked.verdict) {
            failures.push(fail(format!("{what}: {message}")));
        }
        for (name, want) in &test.key_info {
            let got = checked.key_info.iter().find(|(n, _)| n == name);
            if got.map(|(_, v)| v) != Some(want) {
                failures.push(fail(format!(
                    "{what}: expected detail {name} = `{want}`, got {}",
                    got.map_or("nothing".to_string(), |(_, v)| format!("`{v}`"))
                )));
            }
        }
        let seen = std::mem::take(&mut *lock(&replay.0.seen));
        let Some(sent) = seen.first() else {
            failures.push(fail(format!("{what}: no request was sent")));
            continue;
        };
        if sent.method != live.method || sent.path != expected_path {
            failures.push(fail(format!(
                "{what}: the check sent {} {}, expected {} {expected_path}",
                sent.method, sent.path, live.method
            )));
        }
        if sent.authority != live.origin.authority() {
            failures.push(fail(format!(
                "{what}: the check went to {}, expected {}",
                sent.authority,
                live.origin.authority()
            )));
        }
        for (name, value) in &expected_headers {
            if !sent
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value)
            {
                failures.push(fail(format!(
                    "{what}: the check did not send its `{name}` header as the rule writes it"
                )));
            }
        }
        if expected_body.is_some() && sent.body != expected_body {
            failures.push(fail(format!(
                "{what}: the check did not send its body as the rule writes it"
            )));
        }
    }
    failures
}

/// Why a verdict is not the recorded one, if it is not.
fn mismatch(test: &RecordedTest, verdict: &Verdict) -> Option<String> {
    let got = verdict.as_str();
    let shown = match verdict.detail() {
        Some(d) => format!("{got} ({d})"),
        None => got.to_string(),
    };
    if got != test.expect.as_str() {
        return Some(format!("expected {}, got {shown}", test.expect));
    }
    match &test.detail {
        Some(want) if !verdict.detail().is_some_and(|d| d.contains(want.as_str())) => {
            Some(format!(
                "expected {} with detail containing `{want}`, got {shown}",
                test.expect
            ))
        }
        _ => None,
    }
}

/// The key the self-test sends: a rule example's secret if one is given, so that the request
/// looks like a real one. It goes only to the loopback server.
fn sample_secret(rule: &Rule) -> String {
    rule.examples
        .iter()
        .find_map(|e| e.secret())
        .unwrap_or("keyhound-self-test-key")
        .to_string()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_sees_the_request_as_the_network_would_and_answers_like_it() {
        let origin = crate::rules::live::Origin::parse("https://api.example.com").unwrap();
        let mut request = Request::for_tests(origin, "https://api.example.com/v1/me?x=1");
        request.method = "POST".into();
        request.headers.push(("X-Api-Key".into(), "k".into()));
        let replay = SharedReplay::default();
        *lock(&replay.0.answer) = Some(RecordedTest {
            status: 401,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: "{}".into(),
            expect: Expect::Invalid,
            detail: None,
            key_info: Vec::new(),
        });
        let wire = crate::verify::http::wire_request(&request).unwrap();
        let answer = replay.carry(&request, wire).unwrap();
        assert_eq!(answer.status, 401);
        assert_eq!(
            answer.headers,
            [("content-type".into(), "application/json".into())]
        );
        assert_eq!(answer.body, b"{}");
        let sent = lock(&replay.0.seen)[0].clone();
        assert_eq!(
            (
                sent.method.as_str(),
                sent.authority.as_str(),
                sent.path.as_str()
            ),
            ("POST", "api.example.com", "/v1/me?x=1")
        );
        assert_eq!(sent.headers, [("x-api-key".into(), "k".into())]);
        // A POST states its length even when empty, as on the network.
        assert_eq!(sent.body.as_deref(), Some(""));
    }

    #[test]
    fn builtin_checks_pass_their_recorded_answers() {
        let set = RuleSet::builtin().unwrap();
        let failures = replay_all(&set);
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn builtin_checks_record_valid_invalid_and_unknown_answers() {
        let set = RuleSet::builtin().unwrap();
        for rule in set.rules() {
            let Some(live) = &rule.verify else { continue };
            for kind in [Expect::Valid, Expect::Invalid, Expect::Unknown] {
                assert!(
                    live.tests.iter().any(|t| t.expect == kind),
                    "{} has no recorded `{kind}` answer",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn seed_rules_check_their_documented_endpoints_and_generic_rules_none() {
        let set = RuleSet::builtin().unwrap();
        let url = |id: &str| {
            let live = set.get(id).unwrap().verify.as_ref().unwrap();
            (live.method.clone(), live.origin.url(&live.path.redacted()))
        };
        assert_eq!(
            url("political-comms-api-key"),
            (
                "GET".into(),
                "https://api.politicalcomms.com/v1/organizations".into()
            )
        );
        assert_eq!(
            url("communal-api-key"),
            (
                "GET".into(),
                "https://api.getcommunal.com/api/parent_programs".into()
            )
        );
        for rule in set.rules().iter().filter(|r| r.generic) {
            assert!(rule.verify.is_none(), "{} is generic", rule.id);
        }
        assert!(set.get("bearer-token").unwrap().verify.is_none());
    }
}
