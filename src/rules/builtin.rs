//! The rule files shipped inside the binary.
//!
//! `build.rs` lists every `rules/*.toml` with `include_str!`, so the binary needs no files at
//! run time and a new provider is one new file.

/// Each built-in rule file: its name under `rules/` and its text, sorted by name.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

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
