//! From a provider's answer to a verdict, as the rule describes it.
//!
//! The rule's cases are tried in order and the first that matches decides. Everything the
//! rule does not describe is `unknown` with a reason a person can act on, never `valid`: a
//! login page, a proxy's error, a 5xx, an answer in an unexpected shape. A redirect is
//! `unknown` before any case is tried: it is never followed, so the key is never re-sent to
//! wherever it points.

use serde_json::Value;

use crate::finding::Verdict;
use crate::rules::live::{Expect, LiveCheck};

/// What a provider answered: status, headers, and the start of the body.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    /// Names as received (compare them case-insensitively).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The media type, without parameters (`text/html`), if the answer names one.
    fn content_type(&self) -> Option<&str> {
        self.header("content-type")
            .map(|v| v.split(';').next().unwrap_or(v).trim())
            .filter(|v| !v.is_empty())
    }
}

/// Decides the verdict for an answer.
pub fn classify(check: &LiveCheck, answer: &Answer) -> Verdict {
    if (300..=399).contains(&answer.status) {
        let target = answer
            .header("location")
            .map(|l| match host_of(l) {
                Some(host) => format!(" to {host}"),
                None => " within the same host".to_string(),
            })
            .unwrap_or_default();
        return Verdict::Unknown {
            reason: format!("redirect (HTTP {}){target} not followed", answer.status),
        };
    }
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    for case in &check.cases {
        if case.matches_answer(answer.status, &answer.headers, json.as_ref(), &answer.body) {
            return match case.verdict {
                Expect::Valid => Verdict::Valid {
                    note: case.note.clone(),
                },
                Expect::Invalid => Verdict::Invalid,
                Expect::Unknown => Verdict::Unknown {
                    reason: case
                        .note
                        .clone()
                        .unwrap_or_else(|| format!("HTTP {}", answer.status)),
                },
            };
        }
    }
    Verdict::Unknown {
        reason: unexpected(answer, json.is_some()),
    }
}

/// Why an answer no case describes is `unknown`.
fn unexpected(answer: &Answer, is_json: bool) -> String {
    match answer.status {
        429 => "rate limited (HTTP 429)".to_string(),
        s @ 500..=599 => format!("server error (HTTP {s})"),
        s => {
            let kind = match answer.content_type() {
                Some(t) => t.to_string(),
                None if answer.body.is_empty() => "empty body".to_string(),
                None if is_json => "JSON body".to_string(),
                None => "no content type".to_string(),
            };
            let kind = if !is_json && kind.contains("json") && !answer.body.is_empty() {
                format!("{kind} that does not parse")
            } else {
                kind
            };
            format!("unexpected response: HTTP {s} {kind}")
        }
    }
}

/// The host of an absolute URL (`https://evil.example/x` → `evil.example`), or `None` for a
/// relative one.
fn host_of(location: &str) -> Option<&str> {
    let rest = location
        .split_once("://")
        .map(|(_, r)| r)
        .or_else(|| location.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit('@').next().unwrap_or(authority);
    Some(host).filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    fn check() -> LiveCheck {
        let text = r#"
[provider]
name = "T"
[[rule]]
id = "t"
name = "t"
keywords = ["tok_"]
regex = '(tok_[a-z0-9]+)'
[rule.verify]
url = "https://api.example.com/v1/me"
headers = { "X-Key" = "{{ secret }}" }
[[rule.verify.on]]
json = { code = "INVALID" }
verdict = "invalid"
[[rule.verify.on]]
json = { code = ["DENIED", "NO_SCOPE"] }
verdict = "valid"
note = "lacks permission"
[[rule.verify.on]]
status = [200]
json_has = "data"
verdict = "valid"
[[rule.verify.on]]
status = [401]
verdict = "invalid"
"#;
        parse_rule_file("t.toml", text).unwrap()[0]
            .verify
            .clone()
            .unwrap()
    }

    fn answer(status: u16, ct: Option<&str>, body: &str) -> Answer {
        Answer {
            status,
            headers: ct
                .map(|c| vec![("Content-Type".to_string(), c.to_string())])
                .unwrap_or_default(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn cases_decide_in_order() {
        let c = check();
        let json = Some("application/json");
        assert_eq!(
            classify(&c, &answer(200, json, r#"{"data": []}"#)),
            Verdict::Valid { note: None }
        );
        assert_eq!(
            classify(&c, &answer(401, json, r#"{"code": "INVALID"}"#)),
            Verdict::Invalid
        );
        // The JSON code wins over the status.
        assert_eq!(
            classify(&c, &answer(400, json, r#"{"code": "INVALID"}"#)),
            Verdict::Invalid
        );
        assert_eq!(
            classify(&c, &answer(403, json, r#"{"code": "NO_SCOPE"}"#)),
            Verdict::Valid {
                note: Some("lacks permission".into())
            }
        );
    }

    #[test]
    fn anything_undescribed_is_unknown() {
        let c = check();
        let html = classify(&c, &answer(200, Some("text/html"), "<html>hi</html>"));
        assert_eq!(
            html,
            Verdict::Unknown {
                reason: "unexpected response: HTTP 200 text/html".into()
            }
        );
        assert_eq!(
            classify(&c, &answer(503, None, "")).detail(),
            Some("server error (HTTP 503)")
        );
        let mut redirect = answer(302, None, "");
        redirect
            .headers
            .push(("Location".into(), "https://evil.example/steal?x=1".into()));
        assert_eq!(
            classify(&c, &redirect).detail(),
            Some("redirect (HTTP 302) to evil.example not followed")
        );
    }
}
