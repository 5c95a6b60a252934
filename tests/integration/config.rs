//! `.keyhound.toml`: where it is found, what each key does, how its errors read, and
//! `keyhound config`.

use std::path::Path;

use git2::Repository;

use crate::support::*;

/// Runs `keyhound ARGS...` in `dir` below the tree, with extra environment variables.
fn run_in(tree: &Tree, dir: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = tree.command(args);
    cmd.current_dir(tree.path().join(dir));
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::of(cmd, args)
}

/// A config that disables the Political Comms rule: its effect is easy to see.
const DISABLE_PC: &str = "disable_rules = [\"political-comms-api-key\"]\n";

// ---- discovery ------------------------------------------------------------------------------

#[test]
fn found_at_the_repository_root_from_a_subdirectory() {
    let key = pc_live(601);
    let tree = Tree::new(&[
        (".keyhound.toml", DISABLE_PC),
        ("src/app/settings.py", &format!("K = \"{key}\"\n")),
    ]);
    Repository::init(tree.path()).unwrap();
    run_in(&tree, "src", &[], &["scan", "--format", "json"]).assert_findings(&[]);
    run_in(&tree, ".", &[], &["scan", "--format", "json", "src/app"]).assert_findings(&[]);
    let run = run_in(&tree, "src", &[], &["config"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("(.keyhound.toml at the base directory)")
            && run.stdout.contains("(the repository root)"),
        "{}",
        run.dump()
    );
}

#[test]
fn found_in_the_scanned_directory_outside_git() {
    let key = pc_live(602);
    let tree = Tree::new(&[
        ("proj/.keyhound.toml", DISABLE_PC),
        ("proj/settings.py", &format!("K = \"{key}\"\n")),
    ]);
    tree.scan_json(&["proj"]).assert_findings(&[]);
    // The current directory's config is not the scanned directory's.
    tree.write(".keyhound.toml", "");
    tree.write("proj/.keyhound.toml", "");
    tree.scan_json(&["proj"])
        .assert_findings(&[(PC_RULE, "proj/settings.py", 1, 6)]);
}

#[test]
fn discovery_order_flag_then_environment_then_root() {
    let tree = Tree::new(&[
        (".keyhound.toml", "max_file_size = \"1K\"\n"),
        ("env.toml", "max_file_size = \"2K\"\n"),
        ("flag.toml", "max_file_size = \"3K\"\n"),
    ]);
    let shown = |env: &[(&str, &str)], args: &[&str]| {
        let run = run_in(&tree, ".", env, args);
        run.assert_code(0);
        run.stdout
    };
    let root = shown(&[], &["config"]);
    assert!(
        root.contains("max_file_size = \"1K\"  # from .keyhound.toml:1"),
        "{root}"
    );
    let env = shown(&[("KEYHOUND_CONFIG", "env.toml")], &["config"]);
    assert!(
        env.contains("max_file_size = \"2K\"  # from env.toml:1")
            && env.contains("(named by $KEYHOUND_CONFIG)"),
        "{env}"
    );
    let flag = shown(
        &[("KEYHOUND_CONFIG", "env.toml")],
        &["config", "--config", "flag.toml"],
    );
    assert!(
        flag.contains("max_file_size = \"3K\"  # from flag.toml:1")
            && flag.contains("(named by --config)"),
        "{flag}"
    );
}

#[test]
fn the_environment_variable_and_flag_apply_to_scans() {
    let key = pc_live(603);
    let tree = Tree::new(&[
        ("settings.py", &format!("K = \"{key}\"\n")),
        ("elsewhere/disable.toml", DISABLE_PC),
    ]);
    run_in(
        &tree,
        ".",
        &[("KEYHOUND_CONFIG", "elsewhere/disable.toml")],
        &["scan", "--format", "json"],
    )
    .assert_findings(&[]);
    tree.scan_json(&["--config", "elsewhere/disable.toml"])
        .assert_findings(&[]);
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "settings.py", 1, 6)]);
}

#[test]
fn a_named_config_file_must_exist() {
    let tree = Tree::new(&[("a.py", "x = 1\n")]);
    tree.run(&["scan", "--config", "nope.toml"])
        .assert_code(2)
        .assert_stderr_contains("nope.toml: cannot read the config file");
}

// ---- what each key does ---------------------------------------------------------------------

#[test]
fn disabling_a_builtin_rule() {
    let (pc, aws) = (pc_live(611), aws_key_id(612));
    let tree = Tree::new(&[
        ("a.py", &format!("K = \"{pc}\"\n")),
        ("b.py", &format!("aws_access_key_id = \"{aws}\"\n")),
        (".keyhound.toml", DISABLE_PC),
    ]);
    tree.scan_json(&[])
        .assert_findings(&[("aws-access-key-id", "b.py", 1, 22)]);
}

#[test]
fn a_custom_rule_from_the_config_is_found() {
    let key = format!("acme_{}", body(613));
    let config = r#"
[provider]
name = "Acme"

[[rule]]
id = "acme-api-key"
name = "Acme API key"
keywords = ["acme_"]
regex = '''\b(acme_[A-Za-z0-9]{20})\b'''
severity = "critical"
"#;
    let text = format!("ACME = \"{key}\"\n");
    let tree = Tree::new(&[("app.py", &text), (".keyhound.toml", config)]);
    let findings = tree
        .scan_json(&[])
        .assert_findings(&[("acme-api-key", "app.py", 1, 9)]);
    assert_eq!(findings[0]["provider"], "Acme");
    assert_eq!(findings[0]["severity"], "critical");
}

#[test]
fn exclude_paths_are_not_scanned() {
    let tree = Tree::new(&[
        ("app.py", &format!("K = \"{}\"\n", pc_live(621))),
        ("vendor/lib/x.py", &format!("K = \"{}\"\n", pc_live(622))),
        ("web/app.min.js", &format!("k='{}'\n", pc_live(623))),
        (
            ".keyhound.toml",
            "exclude_paths = [\"vendor/**\", \"*.min.js\"]\n",
        ),
    ]);
    let run = tree.scan_json(&[]);
    run.assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
    assert!(
        run.summary().contains("scanned 2 files"),
        "the excluded files are not even read\n{}",
        run.dump()
    );
}

#[test]
fn exclude_paths_apply_to_history() {
    let tree = Tree::new(&[
        ("app.py", &format!("K = \"{}\"\n", pc_live(624))),
        ("vendor/x.py", &format!("K = \"{}\"\n", pc_live(625))),
    ]);
    let repo = Repository::init(tree.path()).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let oid = index.write_tree().unwrap();
    let sig = git2::Signature::now("A", "a@example.org").unwrap();
    repo.commit(
        Some("HEAD"),
        &sig,
        &sig,
        "init",
        &repo.find_tree(oid).unwrap(),
        &[],
    )
    .unwrap();
    tree.write(".keyhound.toml", "exclude_paths = [\"vendor\"]\n");
    tree.run(&["history", "--format", "json"])
        .assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
}

#[test]
fn a_flag_wins_over_the_config_file() {
    let tree = Tree::new(&[
        ("app.py", &format!("K = \"{}\"\n", pc_live(631))),
        (".keyhound.toml", "max_file_size = 10\n"),
    ]);
    let run = tree.scan_json(&[]);
    run.assert_findings(&[]);
    assert!(run.summary().contains("too large"), "{}", run.dump());
    tree.scan_json(&["--max-file-size", "1M"])
        .assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
}

#[test]
fn verify_options_are_accepted_and_shown() {
    // Endpoints are the user's to set: a file the user names (repository config cannot).
    let tree = Tree::new(&[(
        "mine.toml",
        "[verify]\nenabled = false\ntimeout = \"30s\"\nconnect_timeout = \"2s\"\n\n[verify.endpoints]\npolitical-comms-api-key = \"https://pc.internal.example/v1/organizations\"\n",
    )]);
    tree.scan_json(&["--config", "mine.toml"])
        .assert_findings(&[]);
    let run = tree.run(&["config", "--config", "mine.toml"]);
    assert!(
        run.stdout.contains("timeout = \"30s\"  # from mine.toml:3")
            && run.stdout.contains(
                "political-comms-api-key = \"https://pc.internal.example/v1/organizations\"  # from mine.toml:7"
            ),
        "{}",
        run.dump()
    );
}

#[test]
fn config_shows_defaults_without_a_file() {
    let tree = Tree::new(&[("a.py", "x = 1\n")]);
    let run = tree.run(&["config"]);
    run.assert_code(0);
    for line in [
        "# config file: none",
        "max_file_size = \"100M\"  # default",
        "baseline = \".keyhoundignore\"  # default (not present)",
        "enabled = false  # default",
    ] {
        assert!(run.stdout.contains(line), "{line:?}\n{}", run.dump());
    }
}

// ---- errors name the file, the line and the key ---------------------------------------------

fn expect_config_error(config: &str, message: &str) {
    let tree = Tree::new(&[("a.py", "x = 1\n"), (".keyhound.toml", config)]);
    tree.run(&["scan"])
        .assert_code(2)
        .assert_stderr_contains(&format!("keyhound: error: .keyhound.toml:{message}"));
}

#[test]
fn an_unknown_key_is_an_error() {
    expect_config_error(
        "max_file_size = \"1M\"\nexclude = [\"vendor\"]\n",
        "2: unknown key `exclude`",
    );
}

#[test]
fn an_unknown_key_in_a_table_is_an_error() {
    expect_config_error(
        "[allow]\npaths = []\nglobs = [\"x\"]\n",
        "3: unknown key `globs`",
    );
}

#[test]
fn an_unknown_key_in_a_rule_names_the_rule() {
    expect_config_error(
        "[[rule]]\nid = \"acme-api-key\"\nname = \"Acme\"\nkeywords = [\"acme_\"]\nregex = 'acme_\\w+'\nsevrity = \"low\"\n",
        "6: rule `acme-api-key`: unknown key `sevrity`",
    );
}

#[test]
fn a_bad_value_is_an_error() {
    expect_config_error(
        "\n[allow]\nregexes = ['(unclosed']\n",
        "2: [allow]: allow regex `(unclosed`",
    );
    expect_config_error("max_file_size = \"lots\"\n", "1: max_file_size:");
}

#[test]
fn a_rule_id_that_names_no_rule_is_an_error() {
    expect_config_error(
        "disable_rules = [\n  \"bearer-token\",\n  \"politcal-comms-api-key\",\n]\n",
        "3: disable_rules: no rule `politcal-comms-api-key`",
    );
    expect_config_error(
        "[rules.nope.allow]\npaths = []\n",
        "1: [rules.<id>]: no rule `nope`",
    );
}

#[test]
fn built_in_ids_are_accepted_when_built_in_rules_are_left_out() {
    let key = pc_live(641);
    let tree = Tree::new(&[
        ("a.py", &format!("K = \"{key}\"\n")),
        (".keyhound.toml", "disable_rules = [\"bearer-token\"]\n"),
    ]);
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/political-comms.toml");
    let rules = rules.to_string_lossy();
    tree.scan_json(&["--no-builtin-rules", "--rules", &rules])
        .assert_findings(&[(PC_RULE, "a.py", 1, 6)]);
}
