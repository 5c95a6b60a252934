//! `keyhound verify --rule RULE_ID`: one key from stdin, checked live.

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};

use crate::cli::VerifyKeyArgs;
use crate::config::{rule_load, Output, Settings, VerifyConfig};
use crate::finding::{self, Secret, Verdict};
use crate::matcher::{Matcher, Scratch};
use crate::rules::RuleSet;
use crate::verify;

use super::live::check_endpoints;
use super::pipeline::warn_ignored;

/// `keyhound verify --rule RULE_ID`: checks one key read from stdin. Exit 0 valid, 1 invalid,
/// 2 unknown or error.
pub(super) fn verify_key(args: &VerifyKeyArgs, output: Output) -> Result<ExitCode> {
    let rules = RuleSet::load(&rule_load(&args.rules))?;
    let Some(rule) = rules.get(&args.rule) else {
        bail!("no rule `{}` (see `keyhound rules list`)", args.rule);
    };
    let Some(check) = rule.verify.as_ref() else {
        bail!("rule `{}` has no live check", rule.id);
    };
    let settings = Settings::load(Path::new("."), None)?;
    warn_ignored(&settings.ignored, output);
    let config = VerifyConfig::live(&args.live, &settings.live_checks)?;
    check_endpoints(&config, rules.rules())?;

    let stdin = io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        // Typed at a terminal: read one line without echoing it, so the key is not left on
        // the screen or in a terminal recording.
        if !output.quiet {
            eprint!("keyhound: key for {} (not shown): ", rule.id);
        }
        text = rpassword::read_password().context("reading the key from the terminal")?;
    } else {
        stdin
            .lock()
            .take(1 << 20)
            .read_to_string(&mut text)
            .context("reading the key from stdin")?;
    }
    let key = text.trim();
    if key.is_empty() {
        bail!(
            "no key on stdin: pipe it in, e.g. `keyhound verify --rule {} < key.txt`",
            rule.id
        );
    }
    let needs = check.captures_used();
    let (secret, captures, companions) = if needs.is_empty() {
        (Secret::new(key), Vec::new(), Vec::new())
    } else {
        // The check needs a value found beside the key (a key id): find both in the text.
        let matcher = Matcher::new(RuleSet::from_rules(vec![rule.clone()]));
        let mut matches = Vec::new();
        matcher.scan(text.as_bytes(), None, &mut Scratch::default(), &mut matches);
        let hit = finding::hits_in(text.as_bytes(), "<stdin>", &matches, matcher.rules())
            .into_iter()
            .next();
        match hit {
            Some(h) => (h.secret, h.captures, h.companions),
            None => bail!(
                "rule `{}`'s check needs {} beside the key: pipe in text in which the rule finds \
                 both (such as the lines that hold them)",
                rule.id,
                needs.join(", ")
            ),
        }
    };
    let job = verify::job(
        rule,
        check,
        &secret,
        &captures,
        &companions,
        &config.options.endpoints,
    );
    if config.dry_run {
        eprintln!("keyhound: dry run: would send {}", job.describe());
        return Ok(ExitCode::SUCCESS);
    }
    let run = verify::cache::run(std::slice::from_ref(&job), &config.options);
    if !output.quiet {
        for warning in &run.warnings {
            eprintln!("keyhound: warning: {warning}");
        }
    }
    let checked = run.checked.into_iter().next().unwrap_or_default();
    let verdict = checked.verdict;
    let shown = if args.show_secrets {
        secret.expose().to_string()
    } else {
        job.redacted.clone()
    };
    println!("{} {shown}: {verdict}", rule.id);
    Ok(match verdict {
        Verdict::Valid { .. } => ExitCode::SUCCESS,
        Verdict::Invalid => ExitCode::from(1),
        Verdict::Unknown { .. } | Verdict::Unchecked => ExitCode::from(2),
    })
}
