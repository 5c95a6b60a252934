//! Choosing rules on the command line: `--only-rules`, `--enable-rule`, `--disable-rule`.

use crate::support::*;

const AWS_RULE: &str = "aws-access-key-id";

/// A tree with one Political Comms key and one AWS key id.
fn two_rule_tree() -> (Tree, String) {
    let text = format!(
        "PC_KEY = \"{}\"\nAWS_ACCESS_KEY_ID = \"{}\"\n",
        pc_live(601),
        aws_key_id(602)
    );
    (Tree::new(&[("app.env", &text)]), text)
}

fn rule_ids(run: &Run) -> Vec<String> {
    let mut ids: Vec<String> = run
        .findings()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn both_rules_fire_by_default() {
    let (tree, _) = two_rule_tree();
    assert_eq!(rule_ids(&tree.scan_json(&[])), [AWS_RULE, PC_RULE]);
}

#[test]
fn only_rules_takes_globs_and_lists() {
    let (tree, _) = two_rule_tree();
    assert_eq!(
        rule_ids(&tree.scan_json(&["--only-rules", "aws-*"])),
        [AWS_RULE]
    );
    assert_eq!(
        rule_ids(&tree.scan_json(&["--only-rules", "political-*,aws-access-key-id"])),
        [AWS_RULE, PC_RULE]
    );
}

#[test]
fn disable_rule_takes_globs() {
    let (tree, _) = two_rule_tree();
    assert_eq!(
        rule_ids(&tree.scan_json(&["--disable-rule", "aws-*"])),
        [PC_RULE]
    );
    let run = tree.scan_json(&["--disable-rule", "aws-*", "--disable-rule", PC_RULE]);
    run.assert_code(0);
}

#[test]
fn enable_rule_overrides_the_configs_disable_rules() {
    let (tree, _) = two_rule_tree();
    tree.write(
        ".keyhound.toml",
        format!("disable_rules = [\"{AWS_RULE}\"]\n"),
    );
    assert_eq!(rule_ids(&tree.scan_json(&[])), [PC_RULE]);
    assert_eq!(
        rule_ids(&tree.scan_json(&["--enable-rule", "aws-access-*"])),
        [AWS_RULE, PC_RULE]
    );
    // The config still names a rule --only-rules left out: not an error.
    assert_eq!(
        rule_ids(&tree.scan_json(&["--only-rules", PC_RULE])),
        [PC_RULE]
    );
}

#[test]
fn a_glob_that_matches_no_rule_is_an_error_naming_it() {
    let (tree, _) = two_rule_tree();
    let run = tree.run(&[
        "scan",
        "--only-rules",
        "aws-*,awz-*",
        "--disable-rule",
        "politcal-comms-api-key",
    ]);
    run.assert_code(2);
    run.assert_stderr_contains(
        "no rule matches --only-rules `awz-*`, --disable-rule `politcal-comms-api-key` \
         (`keyhound rules list` names every rule)",
    );
}

#[test]
fn rules_list_shows_the_selection() {
    let tree = Tree::new(&[]);
    let run = tree.run(&["rules", "list", "--only-rules", "aws-*"]);
    run.assert_code(0);
    assert!(run.stdout.contains(AWS_RULE), "{}", run.dump());
    assert!(!run.stdout.contains(PC_RULE), "{}", run.dump());
}
