//! Config allowlists: what a team has decided is never a leak, globally or for one rule.
//!
//! An allowlist matches a finding by its secret (regexes, stopwords) or by each of its places
//! (path globs). A rule's own `[rule.allow]` table is applied earlier, inside the matcher;
//! these come from `.keyhound.toml` and are applied to findings, after scanning.

use std::collections::BTreeMap;

use crate::rules::Allow;
use crate::source::globs::PathGlobs;

/// One `[allow]` or `[rules.<id>.allow]` table, compiled.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    /// Where it was written (`FILE:LINE`).
    pub origin: String,
    paths: PathGlobs,
    secrets: Allow,
    regexes: Vec<String>,
    stopwords: Vec<String>,
}

impl Allowlist {
    /// Compiles an allowlist; a bad glob or regex is returned as its message.
    pub fn new(
        origin: String,
        paths: &[String],
        regexes: &[String],
        stopwords: &[String],
    ) -> Result<Allowlist, String> {
        let secrets = Allow::new(&[], regexes, stopwords)?;
        let paths = PathGlobs::new(paths).map_err(|e| format!("allow {e}"))?;
        Ok(Allowlist {
            origin,
            paths,
            secrets,
            regexes: regexes.to_vec(),
            stopwords: stopwords.to_vec(),
        })
    }

    /// Path globs, as written.
    pub fn paths(&self) -> &[String] {
        self.paths.patterns()
    }

    /// Regexes over the secret, as written.
    pub fn regexes(&self) -> &[String] {
        &self.regexes
    }

    /// Case-insensitive substrings of the secret, as written.
    pub fn stopwords(&self) -> &[String] {
        &self.stopwords
    }

    fn allows_secret(&self, secret: &str) -> bool {
        self.secrets.allows(secret.as_bytes())
    }

    fn allows_path(&self, rel: &str) -> bool {
        self.paths.matches(rel)
    }
}

/// Every config allowlist of a run: the global one and those of single rules.
#[derive(Debug, Clone, Default)]
pub struct Allowlists {
    pub global: Option<Allowlist>,
    /// By rule id.
    pub rules: BTreeMap<String, Allowlist>,
}

impl Allowlists {
    pub fn is_empty(&self) -> bool {
        self.global.is_none() && self.rules.is_empty()
    }

    fn for_rule<'a>(&'a self, rule_id: &str) -> impl Iterator<Item = &'a Allowlist> {
        self.global.iter().chain(self.rules.get(rule_id))
    }

    /// Whether the secret itself is allowlisted for this rule.
    pub fn allows_secret(&self, rule_id: &str, secret: &str) -> bool {
        self.for_rule(rule_id).any(|a| a.allows_secret(secret))
    }

    /// Whether a place (base-relative path) is allowlisted for this rule.
    pub fn allows_path(&self, rule_id: &str, rel: &str) -> bool {
        self.for_rule(rule_id).any(|a| a.allows_path(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn global_and_per_rule() {
        let global = Allowlist::new(
            "cfg:1".into(),
            &strings(&["tests/fixtures/**"]),
            &strings(&["^dummy"]),
            &strings(&["NotASecret"]),
        )
        .unwrap();
        let bearer = Allowlist::new("cfg:5".into(), &strings(&["docs/**"]), &[], &[]).unwrap();
        let lists = Allowlists {
            global: Some(global),
            rules: [("bearer-token".to_string(), bearer)].into_iter().collect(),
        };
        assert!(lists.allows_secret("any-rule", "dummy_1234"));
        assert!(lists.allows_secret("any-rule", "abc-notasecret-xyz"));
        assert!(!lists.allows_secret("any-rule", "x_dummy"));
        assert!(lists.allows_path("any-rule", "tests/fixtures/a.env"));
        assert!(lists.allows_path("bearer-token", "docs/api.md"));
        assert!(!lists.allows_path("other-rule", "docs/api.md"));
    }

    #[test]
    fn bad_regex_is_an_error() {
        let err = Allowlist::new("cfg:1".into(), &[], &strings(&["(unclosed"]), &[]).unwrap_err();
        assert!(err.contains("(unclosed"), "{err}");
    }
}
