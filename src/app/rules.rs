//! `keyhound rules list` and `keyhound rules check`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context as _, Result};

use crate::cli::ListFormat;
use crate::rules::select::RuleSelection;
use crate::rules::{catalog, LoadOptions, RuleSet};
use crate::selftest::{examples, replay};

use super::summary::plural;

pub(super) fn rules_list(
    load: &LoadOptions,
    select: &RuleSelection,
    format: ListFormat,
) -> Result<ExitCode> {
    let mut rules = RuleSet::load(load)?;
    select.apply(&mut rules, &[], load.builtin)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match format {
        ListFormat::Providers => out.write_all(catalog::provider_table(rules.rules()).as_bytes()),
        ListFormat::Markdown => out.write_all(catalog::markdown(rules.rules()).as_bytes()),
        ListFormat::Json => {
            let items: Vec<serde_json::Value> = rules
                .rules()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "name": r.name,
                        "provider": r.provider,
                        "severity": r.severity,
                        "keywords": r.keywords,
                        "live_check": r.verify.is_some(),
                        "origin": format!("{}:{}", r.origin, r.line),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &items)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        }
        ListFormat::Human => {
            let id_width = rules
                .rules()
                .iter()
                .map(|r| r.id.len())
                .max()
                .unwrap_or(2)
                .max(2);
            let provider_width = rules
                .rules()
                .iter()
                .map(|r| r.provider.len())
                .max()
                .unwrap_or(8)
                .max(8);
            let mut result = writeln!(
                out,
                "{:id_width$}  {:provider_width$}  {:8}  LIVE CHECK",
                "ID", "PROVIDER", "SEVERITY"
            );
            // No rule has a live check until verification exists.
            for r in rules.rules() {
                result = result.and_then(|()| {
                    writeln!(
                        out,
                        "{:id_width$}  {:provider_width$}  {:8}  {}",
                        r.id,
                        r.provider,
                        r.severity.as_str(),
                        live_check(r)
                    )
                });
            }
            result
        }
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the rule list")?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `rules list`'s LIVE CHECK column: the host a key of this rule is sent to, or `no`.
pub(super) fn live_check(rule: &crate::rules::Rule) -> String {
    match &rule.verify {
        Some(check) => format!("{} {}", check.method, check.origin.authority()),
        None => "no".to_string(),
    }
}

pub(super) fn rules_check(load: &LoadOptions, select: &RuleSelection) -> Result<ExitCode> {
    let load = LoadOptions {
        examples: true,
        ..load.clone()
    };
    let mut rules = RuleSet::load(&load)?;
    select.apply(&mut rules, &[], load.builtin)?;
    let mut failures = examples::check_all(&rules);
    failures.extend(replay::replay_all(&rules));
    let examples: usize = rules
        .rules()
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    let recorded = replay::recorded(&rules);
    for f in &failures {
        eprintln!("FAIL {} ({}): {}", f.rule_id, f.origin, f.message);
    }
    let answers = if recorded > 0 {
        format!(
            ", {recorded} recorded {}",
            plural(recorded as u64, "answer", "answers")
        )
    } else {
        String::new()
    };
    eprintln!(
        "keyhound: checked {} {} ({} examples{answers}): {} {}",
        rules.len(),
        plural(rules.len() as u64, "rule", "rules"),
        examples,
        failures.len(),
        plural(failures.len() as u64, "failure", "failures"),
    );
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
