//! Companion parts of a multi-part credential: an AWS secret is checked with its access key id,
//! a Twilio token with its account SID. The rule names each part with a regex and how many
//! lines from the key it may be written; the few nearest values found there are tried in turn.

use std::sync::OnceLock;

use memchr::{memchr_iter, memrchr_iter};
use regex::bytes::Regex;

use crate::rules::spec::CompanionSpec;

/// The most values of one companion tried with a key: each one is a request to the provider.
pub const MAX_CANDIDATES: usize = 3;

/// The longest companion window, in lines either side of the key.
const MAX_LINES: usize = 50;

/// A compiled `[[rule.verify.companion]]`.
#[derive(Debug, Clone)]
pub struct Companion {
    /// The regex's named group: the template variable `{{ captures.NAME }}`.
    pub name: String,
    pub within_lines: usize,
    pattern: String,
    /// Built the first time a key of the rule is found.
    regex: OnceLock<Option<Regex>>,
}

impl Companion {
    pub fn compile(spec: CompanionSpec) -> Result<Companion, String> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(&spec.regex)
            .map_err(|e| format!("regex does not parse:\n{e}"))?;
        let mut names = Vec::new();
        crate::rules::embedded::group_names(&hir, &mut names);
        let [name] = names.as_slice() else {
            return Err(format!(
                "regex `{}` must have exactly one named group `(?P<NAME>...)`: its name is the \
                 template variable",
                spec.regex
            ));
        };
        if spec.within_lines > MAX_LINES {
            return Err(format!(
                "within_lines = {} is more than {MAX_LINES}",
                spec.within_lines
            ));
        }
        Ok(Companion {
            name: name.clone(),
            within_lines: spec.within_lines,
            pattern: spec.regex,
            regex: OnceLock::new(),
        })
    }

    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| super::super::build_regex(&self.pattern).ok())
            .as_ref()
    }

    /// The values of this companion within `within_lines` lines of the key at
    /// `blob[start..end]`, nearest first, without repeats or the key itself, at most
    /// [`MAX_CANDIDATES`].
    pub fn find_near(&self, blob: &[u8], start: usize, end: usize) -> Vec<String> {
        let Some(regex) = self.regex() else {
            return Vec::new();
        };
        let lo = memrchr_iter(b'\n', &blob[..start])
            .nth(self.within_lines)
            .map_or(0, |i| i + 1);
        let hi = memchr_iter(b'\n', &blob[end..])
            .nth(self.within_lines)
            .map_or(blob.len(), |i| end + i);
        let window = &blob[lo..hi];
        let key = &blob[start..end];
        let mut found: Vec<(usize, &[u8])> = regex
            .captures_iter(window)
            .filter_map(|c| c.name(&self.name))
            .filter(|m| m.as_bytes() != key && !m.as_bytes().is_empty())
            .map(|m| {
                let at = lo + m.start();
                (at.abs_diff(start), m.as_bytes())
            })
            .collect();
        found.sort_by_key(|(distance, _)| *distance);
        let mut out: Vec<String> = Vec::new();
        for (_, value) in found {
            let value = String::from_utf8_lossy(value).into_owned();
            if !out.contains(&value) {
                out.push(value);
            }
            if out.len() == MAX_CANDIDATES {
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn companion(regex: &str, lines: usize) -> Companion {
        Companion::compile(CompanionSpec {
            regex: regex.into(),
            within_lines: lines,
        })
        .unwrap()
    }

    #[test]
    fn nearest_values_within_the_window_first() {
        let c = companion(r"\b(?P<id>ID[0-9]{3})\b", 2);
        let text = b"ID001\nx\nID002\nID003\nKEY\nID004\nID003\nx\nID005\n";
        let start = text.windows(3).position(|w| w == b"KEY").unwrap();
        let found = c.find_near(text, start, start + 3);
        assert_eq!(found, vec!["ID004", "ID003", "ID002"]);
        assert!(c.find_near(b"KEY only", 0, 3).is_empty());
    }

    #[test]
    fn a_companion_needs_exactly_one_named_group() {
        let err = Companion::compile(CompanionSpec {
            regex: "(ID[0-9]+)".into(),
            within_lines: 3,
        })
        .unwrap_err();
        assert!(err.contains("named group"), "{err}");
    }
}
