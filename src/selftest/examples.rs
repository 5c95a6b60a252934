//! `rules check`, offline examples: every rule proves itself against its own examples.
//!
//! Each rule is checked alone (a matcher holding only that rule), through the full matcher:
//! keywords, regex, filters and context. So an example passes only if a real scan would report
//! it, and a negative example fails if a real scan would.

use super::CheckFailure;
use crate::matcher::filter;
use crate::matcher::{Matcher, Scratch};
use crate::rules::{contains_ignore_ascii_case, Rule, RuleSet};

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
                "example not found: {}: {}",
                quote(example.text()),
                why_not_found(rule, example.text())
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

/// Why a rule does not find `text`: no keyword, no regex match, a match too far from its
/// keyword, or which filter dropped each candidate.
pub fn why_not_found(rule: &Rule, text: &str) -> String {
    let bytes = text.as_bytes();
    if !rule
        .keywords
        .iter()
        .any(|k| contains_ignore_ascii_case(bytes, k.as_bytes()))
    {
        return format!(
            "none of the rule's keywords ({}) occurs in it",
            rule.keywords.join(", ")
        );
    }
    let mut reasons: Vec<String> = Vec::new();
    let group = rule.secret_group();
    for regex in rule.regexes() {
        for caps in regex.captures_iter(bytes) {
            let Some(secret) = caps.get_group(group).filter(|s| !s.is_empty()) else {
                continue;
            };
            let shown = quote(&String::from_utf8_lossy(&bytes[secret.range()]));
            match filter::judge(rule, bytes, secret.start, secret.end, None) {
                Err(rejected) => reasons.push(format!("{shown} is dropped by {rejected}")),
                Ok(_) => reasons.push(format!(
                    "{shown} matches, but not on a keyword's line or the line after it \
                     (`whole_file = true` searches the whole file)"
                )),
            }
        }
    }
    if reasons.is_empty() {
        return "a keyword occurs, but the regex does not match".to_string();
    }
    reasons.dedup();
    reasons.join("; ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    fn rule(extra: &str) -> Rule {
        let text = format!(
            "[provider]\nname = \"T\"\n[[rule]]\nid = \"t-key\"\nname = \"T key\"\n\
             keywords = [\"tk_\"]\nregex = '''(tk_[A-Za-z0-9]{{8,}})'''\n{extra}"
        );
        parse_rule_file("t.toml", &text).unwrap().remove(0)
    }

    #[test]
    fn says_which_filter_dropped_an_example() {
        let r = rule("min_entropy = 3.5\n");
        assert_eq!(
            why_not_found(&r, "nothing here"),
            "none of the rule's keywords (tk_) occurs in it"
        );
        assert_eq!(
            why_not_found(&r, "tk_ alone"),
            "a keyword occurs, but the regex does not match"
        );
        let why = why_not_found(&r, "k = tk_EXAMPLEkey1");
        assert!(
            why.contains("`tk_EXAMPLEkey1` is dropped by the placeholder filter"),
            "{why}"
        );
        let why = why_not_found(&r, "k = tk_aaaaaaaaaa");
        assert!(why.contains("is dropped by the pattern filter"), "{why}");
        let why = why_not_found(&r, "k = tk_a1b2a1b2a1b2");
        assert!(
            why.contains("the entropy filter (its body has 2.18 bits/byte"),
            "{why}"
        );
        let r = rule("[rule.allow]\nsecrets = [\"tk_Q8zR3xL1mT\"]\n");
        let why = why_not_found(&r, "k = tk_Q8zR3xL1mT");
        assert!(why.contains("the rule's own allowlist"), "{why}");
    }

    #[test]
    fn builtin_rules_pass_their_examples() {
        let set = RuleSet::builtin().unwrap();
        let failures = check_all(&set);
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn builtin_rules_carry_enough_examples() {
        let set = RuleSet::builtin().unwrap();
        for rule in set.rules() {
            assert!(
                rule.examples.len() >= MIN_EXAMPLES && rule.negative_examples.len() >= MIN_EXAMPLES,
                "{} has {} examples and {} negative examples; built-in rules need {MIN_EXAMPLES} of each",
                rule.id,
                rule.examples.len(),
                rule.negative_examples.len()
            );
        }
    }
}
