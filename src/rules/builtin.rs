//! The rule files shipped inside the binary.
//!
//! Listed by hand with `include_str!` so the binary needs no files at run time; a test
//! (`every_rule_file_is_embedded`) fails when a file in `rules/` is missing from this list.

/// Each built-in rule file: its name under `rules/` and its text.
pub const FILES: &[(&str, &str)] = &[
    (
        "political-comms.toml",
        include_str!("../../rules/political-comms.toml"),
    ),
    ("communal.toml", include_str!("../../rules/communal.toml")),
    ("bearer.toml", include_str!("../../rules/bearer.toml")),
    ("aws.toml", include_str!("../../rules/aws.toml")),
    ("github.toml", include_str!("../../rules/github.toml")),
    ("gitlab.toml", include_str!("../../rules/gitlab.toml")),
    ("slack.toml", include_str!("../../rules/slack.toml")),
    ("stripe.toml", include_str!("../../rules/stripe.toml")),
    ("google.toml", include_str!("../../rules/google.toml")),
    ("openai.toml", include_str!("../../rules/openai.toml")),
    ("anthropic.toml", include_str!("../../rules/anthropic.toml")),
    ("sendgrid.toml", include_str!("../../rules/sendgrid.toml")),
    ("twilio.toml", include_str!("../../rules/twilio.toml")),
    ("npm.toml", include_str!("../../rules/npm.toml")),
    ("pypi.toml", include_str!("../../rules/pypi.toml")),
    (
        "huggingface.toml",
        include_str!("../../rules/huggingface.toml"),
    ),
    ("shopify.toml", include_str!("../../rules/shopify.toml")),
    ("mailgun.toml", include_str!("../../rules/mailgun.toml")),
    ("telegram.toml", include_str!("../../rules/telegram.toml")),
    ("azure.toml", include_str!("../../rules/azure.toml")),
    (
        "private-key.toml",
        include_str!("../../rules/private-key.toml"),
    ),
    ("jwt.toml", include_str!("../../rules/jwt.toml")),
    (
        "connection-url.toml",
        include_str!("../../rules/connection-url.toml"),
    ),
    (
        "generic-secret.toml",
        include_str!("../../rules/generic-secret.toml"),
    ),
];

#[cfg(test)]
mod tests {
    use super::FILES;
    use crate::rules::check::{check_all, MIN_EXAMPLES};
    use crate::rules::{parse_rule_file, RuleSet};

    #[test]
    fn every_rule_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "rules/ and builtin::FILES differ");
    }

    #[test]
    fn every_file_names_its_provider_and_has_rules() {
        for (name, text) in FILES {
            let rules = parse_rule_file(name, text).unwrap();
            assert!(!rules.is_empty(), "{name} has no rules");
            assert!(
                rules.iter().all(|r| !r.provider.is_empty()),
                "{name} has no [provider] name"
            );
        }
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

    #[test]
    fn seed_rules_are_built_in() {
        let set = RuleSet::builtin().unwrap();
        for id in [
            "political-comms-api-key",
            "communal-api-key",
            "bearer-token",
        ] {
            assert!(set.get(id).is_some(), "{id} missing");
        }
        assert!(set.get("bearer-token").unwrap().generic);
        assert!(!set.get("communal-api-key").unwrap().generic);
    }
}
