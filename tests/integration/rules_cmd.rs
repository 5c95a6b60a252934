//! User rule files (errors name the file, line, rule and problem; custom rules scan) and the
//! `rules list` / `rules check` commands.

use predicates::prelude::*;
use serde_json::Value;

use crate::support::*;

const ACME_ID: &str = "acme-deploy-token";

fn acme_token(seed: u64) -> String {
    format!(
        "{}_{}",
        "acmedt",
        random_from(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            seed,
            24
        )
    )
}

/// A valid rule file with one rule (`acme-deploy-token`, `id` on line 5) whose examples pass.
fn good_rules() -> String {
    format!(
        r#"[provider]
name = "Acme"

[[rule]]
id = "{ACME_ID}"
name = "Acme deploy token"
severity = "critical"
keywords = ["acmedt_"]
regex = '''(?:^|[^A-Za-z0-9_])(acmedt_[A-Za-z0-9]{{24}})\b'''
min_entropy = 3.0
examples = [
  {{ text = 'ACME_DEPLOY={a}', secret = "{a}" }},
  'deploy --token {b}',
]
negative_examples = [
  'ACME_DEPLOY=acmedt_short',
  'myacmedt_{c}',
]
"#,
        a = acme_token(1001),
        b = acme_token(1002),
        c = acme_token(1003),
    )
}

/// Asserts that `run` failed with 2 and that stderr names the file, one of `lines`, the rule
/// id and the problem (a regex).
fn assert_rule_error(run: &Run, file: &str, lines: &[usize], rule: &str, problem: &str) {
    run.assert_code(2);
    run.assert_stderr_contains(file);
    let file_re = regex_escape(file);
    let alternatives: Vec<String> = lines
        .iter()
        .map(|l| format!(r"{file_re}:{l}\b|\bline {l}\b"))
        .collect();
    run.assert_stderr_matches(&alternatives.join("|"));
    run.assert_stderr_contains(rule);
    run.assert_stderr_matches(problem);
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

fn scan_with_rules(text: &str) -> Run {
    let tree = Tree::new(&[("acme.toml", text), ("app/README.md", "# hello\n")]);
    tree.run(&["scan", "--rules", "acme.toml", "app"])
}

// ---- 10. bad rule files -----------------------------------------------------------------------

#[test]
fn unknown_field_in_a_rule_is_an_error_naming_file_line_rule_and_field() {
    // A good rule first, so that the error must name the second rule, not the first.
    let text = format!(
        "{}\n[[rule]]\nid = \"acme-other-token\"\nname = \"Acme other token\"\nkeywords = [\"acmeot_\"]\nregx = '(acmeot_[A-Za-z0-9]{{24}})'\n",
        good_rules()
    );
    let line = text.lines().position(|l| l.starts_with("regx")).unwrap() + 1;
    let run = scan_with_rules(&text);
    assert_rule_error(&run, "acme.toml", &[line], "acme-other-token", "regx");
}

#[test]
fn regex_that_does_not_parse_is_an_error_naming_file_line_rule_and_problem() {
    let text = good_rules().replace("(acmedt_[A-Za-z0-9]{24})", "(acmedt_[A-Za-z0-9]{24}");
    // The rule's line or the regex's line.
    let run = scan_with_rules(&text);
    assert_rule_error(&run, "acme.toml", &[5, 9], ACME_ID, r"(?i)regex");
    run.assert_stderr_matches(r"(?i)unclosed|parse");
}

#[test]
fn missing_keywords_is_an_error_naming_file_line_rule_and_field() {
    let text = good_rules().replace("keywords = [\"acmedt_\"]\n", "");
    // The `[[rule]]` header's line or the rule's `id` line.
    assert_rule_error(
        &scan_with_rules(&text),
        "acme.toml",
        &[4, 5],
        ACME_ID,
        "keywords",
    );
}

#[test]
fn missing_keywords_in_a_later_rule_names_that_rule() {
    let good = good_rules();
    let text = format!(
        "{good}\n[[rule]]\nid = \"acme-other-token\"\nname = \"Acme other token\"\nregex = '(acmeot_[A-Za-z0-9]{{24}})'\n"
    );
    let header = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "[[rule]]")
        .nth(1)
        .unwrap()
        .0
        + 1;
    let run = scan_with_rules(&text);
    assert_rule_error(
        &run,
        "acme.toml",
        &[header, header + 1],
        "acme-other-token",
        "keywords",
    );
    assert!(
        !run.stderr.contains(ACME_ID),
        "the error must not blame the rule before it\n{}",
        run.dump()
    );
}

#[test]
fn empty_keywords_is_an_error_naming_file_line_rule_and_field() {
    let text = good_rules().replace("keywords = [\"acmedt_\"]", "keywords = []");
    assert_rule_error(
        &scan_with_rules(&text),
        "acme.toml",
        &[5, 8],
        ACME_ID,
        "keyword",
    );
}

#[test]
fn toml_syntax_error_names_file_line_rule_and_problem() {
    let text = good_rules().replace("name = \"Acme deploy token\"", "name = \"Acme deploy token");
    assert_rule_error(
        &scan_with_rules(&text),
        "acme.toml",
        &[6],
        ACME_ID,
        r"(?i)string|quote|expected|invalid|syntax|unterminated",
    );
}

#[test]
fn duplicate_rule_id_is_an_error_naming_both_places() {
    let good = good_rules();
    let rule = &good[good.find("[[rule]]").unwrap()..];
    let text = format!("{good}\n{rule}");
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("id = "))
        .nth(1)
        .unwrap()
        .0
        + 1;
    let run = scan_with_rules(&text);
    assert_rule_error(
        &run,
        "acme.toml",
        &[second],
        ACME_ID,
        r"(?i)already|duplicate",
    );
}

#[test]
fn bad_rule_file_fails_every_command_that_loads_it() {
    let text = good_rules().replace("regex = ", "regx = ");
    let tree = Tree::new(&[("acme.toml", &text)]);
    tree.run(&["rules", "list", "--rules", "acme.toml"])
        .assert_code(2)
        .assert_stderr_contains("acme.toml");
    tree.run(&["rules", "check", "acme.toml"])
        .assert_code(2)
        .assert_stderr_contains("acme.toml");
    tree.run(&["scan", "--rules", "missing.toml", "acme.toml"])
        .assert_code(2)
        .assert_stderr_contains("missing.toml");
}

// ---- 10. rules check, custom rules -----------------------------------------------------------

#[test]
fn rules_check_passes_a_good_user_rule_file() {
    let tree = Tree::new(&[("acme.toml", &good_rules())]);
    tree.run(&["rules", "check", "acme.toml"]).assert_code(0);
}

#[test]
fn rules_check_fails_a_rule_whose_example_is_not_found() {
    // The regex wants 24 characters after the prefix; the example has 12.
    let short = format!(
        "{}_{}",
        "acmebt",
        random_from(
            b"ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789",
            1011,
            12
        )
    );
    let text = format!(
        "{}\n[[rule]]\nid = \"acme-broken-token\"\nname = \"Acme broken token\"\nkeywords = [\"acmebt_\"]\nregex = '(acmebt_[A-Za-z0-9]{{24}})'\nexamples = ['DEPLOY={short}']\n",
        good_rules()
    );
    let tree = Tree::new(&[("acme.toml", &text)]);
    let run = tree.run(&["rules", "check", "acme.toml"]);
    run.assert_code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains("acme-broken-token"),
        "the failing rule is named\n{}",
        run.dump()
    );
    assert!(
        !all.contains(&format!("FAIL {ACME_ID}")),
        "the good rule passes\n{}",
        run.dump()
    );
}

#[test]
fn rules_check_fails_a_rule_whose_negative_example_matches() {
    let token = acme_token(1021);
    let text = good_rules().replace(
        "'ACME_DEPLOY=acmedt_short',",
        &format!("'ACME_DEPLOY={token}',"),
    );
    let tree = Tree::new(&[("acme.toml", &text)]);
    let run = tree.run(&["rules", "check", "acme.toml"]);
    run.assert_code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        all.contains(ACME_ID),
        "the failing rule is named\n{}",
        run.dump()
    );
}

#[test]
fn custom_rule_finds_its_own_pattern() {
    let token = acme_token(1031);
    let script = format!("#!/bin/sh\nexport ACME_DEPLOY={token}\n./deploy\n");
    let tree = Tree::new(&[
        ("rules/acme.toml", &good_rules()),
        ("app/deploy.sh", &script),
    ]);
    let (line, column) = locate(&script, &token);
    for args in [
        vec![
            "scan",
            "--format",
            "json",
            "--rules",
            "rules/acme.toml",
            "app",
        ],
        vec!["scan", "--format", "json", "--rules", "rules", "app"],
        vec![
            "scan",
            "--format",
            "json",
            "--no-builtin-rules",
            "--rules",
            "rules/acme.toml",
            "app",
        ],
    ] {
        let run = tree.run(&args);
        let findings = run.assert_findings(&[(ACME_ID, "app/deploy.sh", line, column)]);
        assert_eq!(findings[0]["provider"], "Acme", "{}", run.dump());
        assert_eq!(findings[0]["severity"], "critical", "{}", run.dump());
    }
    // Without the rule file the token is nobody's.
    tree.scan_json(&["app"]).assert_findings(&[]);
}

// ---- 14. rules list ---------------------------------------------------------------------------

const LISTED: [(&str, &str, &str); 3] = [
    (PC_RULE, "Political Comms", "high"),
    (COMMUNAL_RULE, "Communal", "high"),
    (BEARER_RULE, "Generic", "medium"),
];

#[test]
fn rules_list_shows_id_provider_and_severity() {
    let run = Tree::new(&[]).run(&["rules", "list"]);
    run.assert_code(0);
    for (id, provider, severity) in LISTED {
        let row = run
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}\n{}", run.dump()));
        assert!(
            row.contains(provider) && row.contains(severity),
            "row for {id}: {row:?}"
        );
    }
}

#[test]
fn rules_list_json_parses() {
    let run = Tree::new(&[]).run(&["rules", "list", "--format", "json"]);
    run.assert_code(0);
    let rules: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.dump()));
    let rules = rules
        .as_array()
        .unwrap_or_else(|| panic!("an array\n{}", run.dump()));
    for (id, provider, severity) in LISTED {
        let rule = rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no rule {id}\n{}", run.dump()));
        assert_eq!(rule["provider"], provider, "{rule}");
        assert_eq!(rule["severity"], severity, "{rule}");
    }
    let custom = Tree::new(&[("acme.toml", &good_rules())]);
    let run = custom.run(&["rules", "list", "--format", "json", "--rules", "acme.toml"]);
    run.assert_code(0);
    assert!(
        predicate::str::contains(ACME_ID).eval(&run.stdout),
        "user rules are listed\n{}",
        run.dump()
    );
}

/// A rule whose key sits lines away from its keyword is found only when it says
/// `whole_file = true`; a rule whose regex spans lines (a block) needs nothing.
#[test]
fn regexes_run_near_keywords_unless_the_rule_says_whole_file() {
    let key = random_from(b"0123456789abcdef", 77, 32);
    let text = format!("vendor: zorgcloud\nregion: eu\nzone: b\nsettings:\n  value: \"{key}\"\n");
    let rule = |whole: bool| {
        format!(
            "[[rule]]\nid = \"zorg-key\"\nname = \"Zorg key\"\nkeywords = [\"zorgcloud\"]\n\
             whole_file = {whole}\nregex = '''value: \"([0-9a-f]{{32}})\"'''\n"
        )
    };
    for (whole, found) in [(false, 0), (true, 1)] {
        let tree = Tree::new(&[("rules.toml", &rule(whole)), ("conf.yaml", &text)]);
        let run = tree.scan_json(&["--no-builtin-rules", "--rules", "rules.toml", "conf.yaml"]);
        assert_eq!(
            run.findings().len(),
            found,
            "whole_file = {whole}\n{}",
            run.dump()
        );
    }
    let body: String = (0..12)
        .map(|i| {
            format!(
                "{}\n",
                random_from(b"ABCDEFGHabcdefgh0123456789", 100 + i, 48)
            )
        })
        .collect();
    let block = format!("-----BEGIN ZORG KEY-----\n{body}-----END ZORG KEY-----\n");
    let tree = Tree::new(&[
        ("rules.toml", "[[rule]]\nid = \"zorg-block\"\nname = \"Zorg block\"\nkeywords = [\"END ZORG KEY\"]\nregex = '''(-----BEGIN ZORG KEY-----[A-Za-z0-9\\s]{64,4000}-----END ZORG KEY-----)'''\n"),
        ("key.pem", &block),
    ]);
    let run = tree.scan_json(&["--no-builtin-rules", "--rules", "rules.toml", "key.pem"]);
    assert_eq!(run.findings().len(), 1, "{}", run.dump());
}

#[test]
fn docs_rules_md_is_current() {
    let run = Tree::new(&[]).run(&["rules", "list", "--format", "markdown"]);
    run.assert_code(0);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/RULES.md");
    let on_disk = std::fs::read_to_string(&path).expect("docs/RULES.md exists");
    assert!(
        on_disk == run.stdout,
        "docs/RULES.md is out of date: regenerate it with \
         `cargo run -q -- rules list --format markdown > docs/RULES.md`"
    );
}

#[test]
fn rules_list_counts_rules_by_provider() {
    let run = Tree::new(&[]).run(&["rules", "list", "--format", "providers"]);
    run.assert_code(0);
    let github = run
        .stdout
        .lines()
        .find(|l| l.starts_with("GitHub "))
        .expect("a GitHub row");
    let counts: Vec<usize> = github
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect();
    let listed = Tree::new(&[]).run(&["rules", "list", "--format", "json"]);
    let rules: Vec<serde_json::Value> = serde_json::from_str(&listed.stdout).unwrap();
    let of_github: Vec<&serde_json::Value> =
        rules.iter().filter(|r| r["provider"] == "GitHub").collect();
    let live = of_github.iter().filter(|r| r["live_check"] == true).count();
    assert_eq!(counts, [of_github.len(), live]);
    assert!(run.stdout.trim_end().ends_with(" with a live check"));
}

#[test]
fn rules_check_says_which_filter_dropped_an_example() {
    // The regex matches each example, and a filter drops it: the failure says which.
    let text = format!(
        "{}\n[[rule]]\nid = \"acme-filtered-token\"\nname = \"Acme filtered token\"\n\
         keywords = [\"acmeft_\"]\nregex = '(acmeft_[A-Za-z0-9]{{10,}})'\nmin_entropy = 3.0\n\
         examples = ['T=acmeft_YOURKEYHERE1', 'T=acmeft_abababababab', 'T=acmeft_a1a1a1b2b2b2c3']\n",
        good_rules()
    );
    let tree = Tree::new(&[("acme.toml", &text)]);
    let run = tree.run(&["rules", "check", "acme.toml"]);
    run.assert_code(1);
    for why in [
        "`acmeft_YOURKEYHERE1` is dropped by the placeholder filter",
        "`acmeft_abababababab` is dropped by the pattern filter",
        "`acmeft_a1a1a1b2b2b2c3` is dropped by the entropy filter (its body has",
    ] {
        run.assert_stderr_contains(why);
    }
}
