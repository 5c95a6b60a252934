//! The rule files shipped inside the binary.
//!
//! `build.rs` parses and validates every `rules/*.toml` and embeds the result in a compact
//! binary form (see [`super::embedded`]), so the binary needs no files at run time, a new
//! provider is one new file, and start-up parses no TOML.

use super::embedded::{self, EmbeddedFile};
use super::{rule_from_spec, Rule, RuleError};

/// The name of each built-in rule file under `rules/`, sorted.
pub const NAMES: &[&str] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The pre-parsed rule files, as `build.rs` wrote them.
const ENCODED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin_rules.bin"));

/// Every built-in rule's examples and recorded answers, in rule order (see
/// [`embedded::EmbeddedExamples`]).
const EXAMPLES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin_examples.bin"));

fn build_error(e: impl std::fmt::Display) -> RuleError {
    RuleError::Invalid {
        file: "builtin".into(),
        line: 0,
        rule: None,
        message: format!("the embedded rules do not decode (a build error): {e}"),
    }
}

/// The embedded rule files, decoded, with their examples and recorded answers when
/// `examples` is set (only `rules check` and tests read them).
pub fn files(examples: bool) -> Result<Vec<EmbeddedFile>, RuleError> {
    let mut files = embedded::decode(ENCODED).map_err(build_error)?;
    if examples {
        let mut taken = embedded::decode_examples(EXAMPLES)
            .map_err(build_error)?
            .into_iter();
        for rule in files.iter_mut().flat_map(|f| f.rules.iter_mut()) {
            let next = taken
                .next()
                .ok_or_else(|| build_error("fewer examples than rules"))?;
            embedded::restore_examples(&mut rule.spec, next);
        }
        if taken.next().is_some() {
            return Err(build_error("more examples than rules"));
        }
    }
    Ok(files)
}

/// Every built-in rule, in file order, ready for the matcher (origin `builtin:FILE`); with
/// `examples`, also each rule's examples and its live check's recorded answers.
pub fn rules(examples: bool) -> Result<Vec<Rule>, RuleError> {
    let mut out = Vec::new();
    for file in files(examples)? {
        let origin = format!("builtin:{}", file.name);
        let provider = file
            .provider
            .as_ref()
            .map(|p| p.name.as_str())
            .unwrap_or("");
        for er in file.rules {
            let id = er.spec.id.get_ref().clone();
            let mut rule =
                rule_from_spec(er.spec, provider, &origin, er.groups).map_err(|message| {
                    RuleError::Invalid {
                        file: origin.clone(),
                        line: er.line,
                        rule: Some(id),
                        message,
                    }
                })?;
            rule.line = er.line;
            rule.docs = file.provider.as_ref().and_then(|p| p.docs.clone());
            out.push(rule);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{files, NAMES};
    use crate::rules::{parse_rule_file, RuleSet};

    fn rules_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
    }

    #[test]
    fn every_rule_file_is_embedded() {
        let mut on_disk: Vec<String> = std::fs::read_dir(rules_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = files(true).unwrap().into_iter().map(|f| f.name).collect();
        assert_eq!(on_disk, NAMES, "rules/ and builtin::NAMES differ");
        assert_eq!(on_disk, embedded, "rules/ and the embedded rules differ");
    }

    /// The embedded form loads into exactly the rules that parsing the TOML at run time gave
    /// (same fields, lines, capture groups, examples and live checks), so moving the parse to
    /// build time changed nothing a user sees.
    #[test]
    fn embedded_rules_equal_the_rule_files() {
        let embedded = RuleSet::builtin().unwrap();
        let mut parsed = Vec::new();
        for name in NAMES {
            let text = std::fs::read_to_string(rules_dir().join(name)).unwrap();
            parsed.extend(parse_rule_file(&format!("builtin:{name}"), &text).unwrap());
        }
        assert_eq!(embedded.len(), parsed.len());
        for (e, p) in embedded.rules().iter().zip(&parsed) {
            let (mut e, mut p) = (e.clone(), p.clone());
            // A set's Debug order is random: compare the allowed secrets apart.
            let (es, ps) = (
                std::mem::take(&mut e.allow.secrets),
                std::mem::take(&mut p.allow.secrets),
            );
            assert_eq!(es, ps, "rule {} differs in its allowed secrets", p.id);
            assert_eq!(format!("{e:?}"), format!("{p:?}"), "rule {} differs", p.id);
        }
    }

    /// `build.rs` runs this on every rule file: a bad one fails the build with its file, line
    /// and rule, and a bad regex is found there rather than at start-up.
    #[test]
    fn a_bad_rule_file_fails_embedding_with_its_place() {
        let bad_regex = "[provider]\nname = \"P\"\n\n[[rule]]\nid = \"p-key\"\nname = \"x\"\nkeywords = [\"pk_\"]\nregex = '(pk_[a-z'\n";
        let err = super::embedded::embed("p.toml", bad_regex).unwrap_err();
        assert!(
            err.starts_with("p.toml:5: rule `p-key`: regex does not parse"),
            "{err}"
        );
        let bad_field = "[[rule]]\nid = \"p-key\"\nname = \"x\"\nkeywords = [\"pk_\"]\nregex = 'pk_'\nbogus = 1\n";
        let err = super::embedded::embed("p.toml", bad_field).unwrap_err();
        assert!(
            err.starts_with("p.toml:6: ") && err.contains("bogus"),
            "{err}"
        );
        let twice = "[[rule]]\nid = \"p-key\"\nname = \"x\"\nkeywords = [\"pk_\"]\nregex = 'pk_'\n[[rule]]\nid = \"p-key\"\nname = \"x\"\nkeywords = [\"pk_\"]\nregex = 'pk_'\n";
        let err = super::embedded::embed("p.toml", twice).unwrap_err();
        assert!(
            err.contains("p.toml:7: rule `p-key`: already defined at line 2"),
            "{err}"
        );
    }

    #[test]
    fn every_file_names_its_provider_and_has_rules() {
        for file in files(true).unwrap() {
            let name = &file.name;
            assert!(!file.rules.is_empty(), "{name} has no rules");
            assert!(
                file.provider.is_some_and(|p| !p.name.is_empty()),
                "{name} has no [provider] name"
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
