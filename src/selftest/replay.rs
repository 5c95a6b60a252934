//! `rules check` for live checks: every recorded response of a rule is served from a server
//! on loopback, the rule's real check is sent to it (its endpoint pointed there, its path
//! kept), and the verdict must be the one recorded. So a check proves itself offline, through
//! the same code that runs against the provider.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::CheckFailure;
use crate::finding::{Secret, Verdict};
use crate::rules::live::{Escape, Expect, Origin, RecordedTest};
use crate::rules::{Rule, RuleSet};
use crate::verify::{check_at, job, Client, HttpOptions};

/// The time recorded answers are replayed at, so that a signed request is the same on every
/// run: 2015-08-30T12:36:00Z, the time of AWS's own signing examples.
fn replay_clock() -> std::time::SystemTime {
    std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

/// What the loopback server answers, and what it was asked.
#[derive(Default)]
struct Mock {
    answer: Option<RecordedTest>,
    /// (method, path and query) of each request received.
    seen: Vec<(String, String)>,
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
    let server = match tiny_http::Server::http("127.0.0.1:0") {
        Ok(s) => Arc::new(s),
        Err(e) => {
            failures.push(fail(format!("cannot start a loopback server: {e}")));
            return failures;
        }
    };
    let Some(port) = server.server_addr().to_ip().map(|a| a.port()) else {
        failures.push(fail("the loopback server has no port".into()));
        return failures;
    };
    let mock = Arc::new(Mutex::new(Mock::default()));
    let serving = {
        let (server, mock) = (Arc::clone(&server), Arc::clone(&mock));
        std::thread::spawn(move || serve(&server, &mock))
    };

    let endpoint = match Origin::parse(&format!("http://127.0.0.1:{port}")) {
        Ok(o) => o,
        Err(e) => {
            failures.push(fail(e));
            return failures;
        }
    };
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
    let endpoints = [(rule.id.clone(), endpoint)].into_iter().collect();
    let one = job(rule, live, &secret, &captures, &[], &endpoints);
    let expected_path = live
        .path
        .render(
            secret.expose(),
            &|n| {
                captures
                    .iter()
                    .find(|(c, _)| c == n)
                    .map(|(_, v)| v.expose())
            },
            Escape::Url,
        )
        .unwrap_or_default();
    // Recorded answers are served at once: no waiting for rate limits, no pause before a retry.
    let client = Client::new(HttpOptions {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        max_wait: Duration::ZERO,
        retry_delay: Duration::ZERO,
        per_host: 1,
    });
    for (i, test) in live.tests.iter().enumerate() {
        {
            let mut m = lock(&mock);
            m.answer = Some(test.clone());
            m.seen.clear();
        }
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
        let seen = std::mem::take(&mut lock(&mock).seen);
        match seen.first() {
            None => failures.push(fail(format!("{what}: no request reached the server"))),
            Some((method, path)) if *method != live.method || *path != expected_path => failures
                .push(fail(format!(
                    "{what}: the check sent {method} {path}, expected {} {expected_path}",
                    live.method
                ))),
            Some(_) => {}
        }
    }
    server.unblock();
    let _ = serving.join();
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

fn lock(mock: &Mutex<Mock>) -> std::sync::MutexGuard<'_, Mock> {
    mock.lock().unwrap_or_else(|e| e.into_inner())
}

/// Answers every request with the current recorded response until unblocked.
fn serve(server: &tiny_http::Server, mock: &Mutex<Mock>) {
    for request in server.incoming_requests() {
        let answer = {
            let mut m = lock(mock);
            m.seen
                .push((request.method().to_string(), request.url().to_string()));
            m.answer.clone()
        };
        let Some(test) = answer else {
            let _ = request.respond(tiny_http::Response::empty(599));
            continue;
        };
        let mut response =
            tiny_http::Response::from_data(test.body.into_bytes()).with_status_code(test.status);
        for (name, value) in &test.headers {
            if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(h);
            }
        }
        let _ = request.respond(response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
