//! Rule selection from the command line: `--only-rules`, `--enable-rule`, `--disable-rule`.
//! Each takes ids or globs over ids (`aws-*`); a glob that matches no rule is an error, since
//! a typo would otherwise silently scan with the wrong rules.

use globset::{Glob, GlobMatcher};

use super::{RuleError, RuleSet};

/// What the flags select, as typed.
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    /// `--only-rules`: keep only the rules matching one of these (empty: every rule).
    pub only: Vec<String>,
    /// `--enable-rule`: rules kept even though the config file's `disable_rules` names them.
    pub enable: Vec<String>,
    /// `--disable-rule`: rules left out.
    pub disable: Vec<String>,
}

/// One flag's globs, compiled.
struct Globs<'a> {
    flag: &'static str,
    patterns: &'a [String],
    matchers: Vec<GlobMatcher>,
}

impl<'a> Globs<'a> {
    fn new(flag: &'static str, patterns: &'a [String]) -> Result<Globs<'a>, RuleError> {
        let matchers = patterns
            .iter()
            .map(|p| {
                Glob::new(p)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| RuleError::Select {
                        message: format!("{flag} `{p}` is not a glob: {}", e.kind()),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Globs {
            flag,
            patterns,
            matchers,
        })
    }

    fn matches(&self, id: &str) -> bool {
        self.matchers.iter().any(|m| m.is_match(id))
    }

    /// `--flag `pattern`` for each pattern no id matches.
    fn unmatched<'i>(
        &self,
        ids: impl Fn() -> Box<dyn Iterator<Item = &'i str> + 'i>,
    ) -> Vec<String> {
        self.patterns
            .iter()
            .zip(&self.matchers)
            .filter(|(_, m)| !ids().any(|id| m.is_match(id)))
            .map(|(p, _)| format!("{} `{p}`", self.flag))
            .collect()
    }
}

impl RuleSelection {
    pub fn is_empty(&self) -> bool {
        self.only.is_empty() && self.enable.is_empty() && self.disable.is_empty()
    }

    /// Narrows `rules`: `--only-rules`, then the config's `disabled` ids (unless `--enable-rule`
    /// names them), then `--disable-rule`. Every glob must match a rule of `rules` (or a
    /// built-in rule when `builtin_loaded` is false: `--no-builtin-rules` left it out).
    pub fn apply(
        &self,
        rules: &mut RuleSet,
        disabled: &[String],
        builtin_loaded: bool,
    ) -> Result<(), RuleError> {
        let only = Globs::new("--only-rules", &self.only)?;
        let enable = Globs::new("--enable-rule", &self.enable)?;
        let disable = Globs::new("--disable-rule", &self.disable)?;
        let mut unknown = Vec::new();
        let mut builtin: Option<RuleSet> = None;
        for globs in [&only, &enable, &disable] {
            for missing in globs.unmatched(|| Box::new(rules.rules.iter().map(|r| r.id.as_str()))) {
                if !builtin_loaded && builtin.is_none() {
                    builtin = Some(RuleSet::builtin()?);
                }
                let in_builtin = builtin.as_ref().is_some_and(|b| {
                    let pattern = missing.split('`').nth(1).unwrap_or_default();
                    Glob::new(pattern).is_ok_and(|g| {
                        let m = g.compile_matcher();
                        b.rules.iter().any(|r| m.is_match(&r.id))
                    })
                });
                if !in_builtin {
                    unknown.push(missing);
                }
            }
        }
        if !unknown.is_empty() {
            return Err(RuleError::Select {
                message: format!(
                    "no rule matches {} (`keyhound rules list` names every rule)",
                    unknown.join(", ")
                ),
            });
        }
        rules.rules.retain(|r| {
            let id = r.id.as_str();
            let selected = self.only.is_empty() || only.matches(id);
            let config_off = disabled.iter().any(|d| d == id);
            selected && (!config_off || enable.matches(id)) && !disable.matches(id)
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(set: &RuleSet) -> Vec<&str> {
        set.rules().iter().map(|r| r.id.as_str()).collect()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_enable_disable() {
        let mut set = RuleSet::builtin().unwrap();
        RuleSelection {
            only: strings(&["github-*", "gitlab-pat"]),
            enable: strings(&["github-oauth-token"]),
            disable: strings(&["github-refresh-*"]),
        }
        .apply(
            &mut set,
            &strings(&["github-oauth-token", "github-classic-pat"]),
            true,
        )
        .unwrap();
        let ids = ids(&set);
        assert!(ids.contains(&"gitlab-pat"));
        assert!(
            ids.contains(&"github-oauth-token"),
            "enabled over the config"
        );
        assert!(
            !ids.contains(&"github-classic-pat"),
            "disabled by the config"
        );
        assert!(!ids.contains(&"github-refresh-token"));
        assert!(!ids.contains(&"aws-access-key-id"));
    }

    #[test]
    fn unknown_globs_are_named() {
        let mut set = RuleSet::builtin().unwrap();
        let err = RuleSelection {
            only: strings(&["aws-*", "nope-*"]),
            enable: Vec::new(),
            disable: strings(&["typo"]),
        }
        .apply(&mut set, &[], true)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no rule matches --only-rules `nope-*`, --disable-rule `typo` \
             (`keyhound rules list` names every rule)"
        );
    }
}
