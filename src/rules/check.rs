//! `rules check`: every rule proves itself against its own examples.
//!
//! Each rule is checked alone (a matcher holding only that rule), through the full matcher:
//! keywords, regex, filters and context. So an example passes only if a real scan would report
//! it, and a negative example fails if a real scan would.

use super::{Rule, RuleSet};
use crate::matcher::{Matcher, Scratch};

/// One way a rule failed its examples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub rule_id: String,
    /// `file:line` of the rule.
    pub origin: String,
    pub message: String,
}

/// How many examples of each kind a built-in rule must carry.
pub const MIN_EXAMPLES: usize = 3;

/// Checks one rule's examples and negative examples; returns every failure.
pub fn check_rule(rule: &Rule) -> Vec<CheckFailure> {
    let fail = |message: String| CheckFailure {
        rule_id: rule.id.clone(),
        origin: format!("{}:{}", rule.origin, rule.line),
        message,
    };
    let mut failures = Vec::new();
    if let Err(e) = rule.compile() {
        failures.push(fail(format!("regex does not build: {e}")));
        return failures;
    }
    let matcher = Matcher::new(RuleSet::from_rules(vec![rule.clone()]));
    let mut scratch = Scratch::default();
    let mut matches = Vec::new();
    for example in &rule.examples {
        let text = example.text().as_bytes();
        matcher.scan(text, None, &mut scratch, &mut matches);
        let found: Vec<&[u8]> = matches.iter().map(|m| &text[m.start..m.end]).collect();
        match example.secret() {
            _ if found.is_empty() => failures.push(fail(format!(
                "example not found: {}",
                quote(example.text())
            ))),
            Some(secret) if !found.contains(&secret.as_bytes()) => failures.push(fail(format!(
                "example {} yields {} instead of {}",
                quote(example.text()),
                found
                    .iter()
                    .map(|f| quote(&String::from_utf8_lossy(f)))
                    .collect::<Vec<_>>()
                    .join(", "),
                quote(secret)
            ))),
            _ => {}
        }
    }
    for negative in &rule.negative_examples {
        matcher.scan(negative.as_bytes(), None, &mut scratch, &mut matches);
        if let Some(m) = matches.first() {
            failures.push(fail(format!(
                "negative example matched ({}): {}",
                quote(&String::from_utf8_lossy(
                    &negative.as_bytes()[m.start..m.end]
                )),
                quote(negative)
            )));
        }
    }
    failures
}

/// Checks every rule of a set.
pub fn check_all(rules: &RuleSet) -> Vec<CheckFailure> {
    rules.rules().iter().flat_map(check_rule).collect()
}

/// Quotes example text for a message, keeping it on one line.
fn quote(text: &str) -> String {
    let one_line = text.replace('\n', "\\n");
    if one_line.len() > 120 {
        let mut cut = 117;
        while !one_line.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("`{}...`", &one_line[..cut])
    } else {
        format!("`{one_line}`")
    }
}
