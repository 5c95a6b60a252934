//! Why a verdict is `unknown`, in a word, so the summary can count each cause:
//! `2 unknown (1 timeout, 1 rate limited)`. A reason is classified by how keyhound words it
//! (the HTTP client's errors, the classifier's, a rule's own note).

use std::collections::BTreeMap;

/// The cause of an `unknown` verdict, from its reason.
pub fn cause(reason: &str) -> &'static str {
    let lower = reason.to_ascii_lowercase();
    let starts = |p: &str| lower.starts_with(p);
    if starts("timeout") || lower.contains("timed out") {
        "timeout"
    } else if lower.contains("rate limit") || lower.contains("rate-limit") {
        "rate limited"
    } else if starts("server error") {
        "server error"
    } else if starts("tls") || lower.contains("certificate") {
        "TLS error"
    } else if starts("connection error")
        || lower.contains("host not found")
        || lower.contains("dns")
    {
        "connection error"
    } else if starts("redirect") {
        "redirect"
    } else if starts("unexpected response") {
        "unexpected answer"
    } else if lower.contains("was not found with the key") {
        "missing part"
    } else {
        "other"
    }
}

/// Counts of causes, shown most frequent first: `1 timeout, 1 rate limited`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Causes(BTreeMap<&'static str, usize>);

impl Causes {
    pub fn add(&mut self, reason: &str) {
        *self.0.entry(cause(reason)).or_default() += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Causes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut counts: Vec<(&str, usize)> = self.0.iter().map(|(c, n)| (*c, *n)).collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = counts.iter().map(|(c, n)| format!("{n} {c}")).collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_become_causes() {
        assert_eq!(cause("timeout: no answer within 10s"), "timeout");
        assert_eq!(cause("rate limited (HTTP 429)"), "rate limited");
        assert_eq!(cause("rate limited by GitHub"), "rate limited");
        assert_eq!(cause("server error (HTTP 503)"), "server error");
        assert_eq!(cause("TLS error: invalid peer certificate"), "TLS error");
        assert_eq!(
            cause("connection error: host not found"),
            "connection error"
        );
        assert_eq!(cause("redirect (HTTP 302) to x not followed"), "redirect");
        assert_eq!(
            cause("unexpected response: HTTP 200 text/html"),
            "unexpected answer"
        );
        assert_eq!(
            cause("the value `key_id` the check needs was not found with the key"),
            "missing part"
        );
        let mut c = Causes::default();
        for r in ["rate limited (HTTP 429)", "timeout: x", "timeout: y"] {
            c.add(r);
        }
        assert_eq!(c.to_string(), "2 timeout, 1 rate limited");
    }
}
