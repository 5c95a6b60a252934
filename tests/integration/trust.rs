//! The trust boundary: a scanned tree's own `.keyhound.toml` (repository config) may narrow
//! what is reported, never reach outside the tree, hide everything, or leak a secret through
//! an error message; the user's own config may do what repository config may not. (Live checks
//! across the boundary are tested in `verify`, beside the mock provider.)

use crate::support::*;

// ---- the user's own config ------------------------------------------------------------------

/// A config that disables the Political Comms rule: its effect is easy to see.
const DISABLE_PC: &str = "disable_rules = [\"political-comms-api-key\"]\n";

#[test]
fn the_users_config_is_read_from_xdg_config_home() {
    // Failed before: there was no user config.
    let tree = Tree::new(&[("a.py", &format!("K = \"{}\"\n", pc_live(701)))]);
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "a.py", 1, 6)]);
    let path = tree.user_config(DISABLE_PC);
    tree.scan_json(&[]).assert_findings(&[]);
    let run = tree.run(&["config"]);
    assert!(
        run.stdout
            .contains(&format!("# user config: {}", path.display())),
        "{}",
        run.dump()
    );
}

#[test]
fn the_users_config_falls_back_to_home_dot_config() {
    let tree = Tree::new(&[("a.py", &format!("K = \"{}\"\n", pc_live(702)))]);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".config/keyhound/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, DISABLE_PC).unwrap();
    let args = ["scan", "--format", "json"];
    let mut cmd = tree.command(&args);
    cmd.env_remove("XDG_CONFIG_HOME").env("HOME", home.path());
    Run::of(cmd, &args).assert_findings(&[]);
}

#[test]
fn repository_config_adds_to_the_users_config() {
    let tree = Tree::new(&[
        ("a.py", &format!("K = \"{}\"\n", pc_live(703))),
        ("b.py", &format!("K = \"{}\"\n", aws_key_id(704))),
        (
            ".keyhound.toml",
            "disable_rules = [\"aws-access-key-id\"]\n",
        ),
    ]);
    tree.user_config(DISABLE_PC);
    tree.scan_json(&[]).assert_findings(&[]);
}

// ---- files outside the tree -----------------------------------------------------------------

/// A tree with one key, and its fingerprint written to a baseline outside the tree by the user
/// (`--baseline` may name any file). Returns the tree and the outside directory.
fn baselined_outside() -> (Tree, tempfile::TempDir) {
    let tree = Tree::new(&[("app.py", &format!("K = \"{}\"\n", pc_live(711)))]);
    let outside = tempfile::tempdir().unwrap();
    let accepted = outside.path().join("accepted.txt");
    tree.run(&["baseline", "--baseline", accepted.to_str().unwrap()])
        .assert_code(0);
    (tree, outside)
}

#[test]
fn repository_config_cannot_name_a_baseline_outside_the_tree() {
    // Failed before: the tree's config made keyhound read (and `keyhound baseline` write) any
    // file on the machine.
    let (tree, outside) = baselined_outside();
    let accepted = outside.path().join("accepted.txt");
    for named in [
        accepted.display().to_string(),
        format!(
            "../{}/accepted.txt",
            outside.path().file_name().unwrap().to_string_lossy()
        ),
    ] {
        tree.write(
            ".keyhound.toml",
            format!(
                "max_file_size = \"1M\"\nbaseline = {}\n",
                toml_string(&named)
            ),
        );
        let run = tree.scan_json(&[]);
        run.assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
        run.assert_stderr_contains(".keyhound.toml:2: `baseline` is ignored");
    }
    let before = std::fs::read_to_string(&accepted).unwrap();
    tree.write("app.py", format!("K = \"{}\"\n", pc_live(712)));
    tree.run(&["baseline"]).assert_code(0);
    assert_eq!(std::fs::read_to_string(&accepted).unwrap(), before);
    // The user may name it, with the flag or in their own config.
    tree.user_config(&format!(
        "baseline = {}\n",
        toml_string(&accepted.display().to_string())
    ));
    tree.write(".keyhound.toml", "");
    tree.write("app.py", format!("K = \"{}\"\n", pc_live(711)));
    tree.scan_json(&[]).assert_findings(&[]);
}

#[cfg(unix)]
#[test]
fn a_baseline_symlink_out_of_the_tree_is_neither_read_nor_written() {
    // Failed before: the link was followed both ways; `keyhound baseline` overwrote the file it
    // pointed at.
    let (tree, outside) = baselined_outside();
    let accepted = outside.path().join("accepted.txt");
    tree.symlink(accepted.to_str().unwrap(), ".keyhoundignore");
    let run = tree.scan_json(&[]);
    run.assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
    run.assert_stderr_contains(".keyhoundignore: the baseline leads outside");
    let before = std::fs::read_to_string(&accepted).unwrap();
    tree.write("app.py", format!("K = \"{}\"\n", pc_live(713)));
    tree.run(&["baseline"])
        .assert_code(2)
        .assert_stderr_contains(".keyhoundignore: the baseline leads outside");
    assert_eq!(std::fs::read_to_string(&accepted).unwrap(), before);
    // A directory link out of the tree is no way around it.
    tree.symlink(outside.path().to_str().unwrap(), "elsewhere");
    tree.write(".keyhound.toml", "baseline = \"elsewhere/accepted.txt\"\n");
    tree.run(&["baseline"])
        .assert_code(2)
        .assert_stderr_contains("the baseline leads outside");
    assert_eq!(std::fs::read_to_string(&accepted).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn the_baseline_is_written_whole_through_a_link_inside_the_tree() {
    let tree = Tree::new(&[
        ("app.py", &format!("K = \"{}\"\n", pc_live(714))),
        ("security/accepted.txt", "# old\n"),
    ]);
    tree.symlink("security/accepted.txt", ".keyhoundignore");
    tree.run(&["baseline"]).assert_code(0);
    let link = std::fs::symlink_metadata(tree.path().join(".keyhoundignore")).unwrap();
    assert!(link.file_type().is_symlink());
    let written = std::fs::read_to_string(tree.path().join("security/accepted.txt")).unwrap();
    assert!(written.contains(PC_RULE), "{written}");
    let leftovers: Vec<_> = std::fs::read_dir(tree.path().join("security"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
    tree.scan_json(&[]).assert_findings(&[]);
}

fn toml_string(s: &str) -> String {
    format!("'{s}'")
}

// ---- error messages never quote a value -----------------------------------------------------

#[test]
fn config_errors_do_not_quote_values() {
    // Failed before: each of these echoed the value (a key pasted in the wrong place, or an
    // `.env` named as the config).
    let key = pc_live(721);
    for (config, message) in [
        (format!("max_file_size = \"{key}\"\n"), ".keyhound.toml:1: max_file_size:"),
        (format!("[verify]\nenabled = \"{key}\"\n"), ".keyhound.toml:2: invalid type: string, expected a boolean"),
        (format!("[verify]\ntimeout = \"{key}\"\n"), ".keyhound.toml:2: verify.timeout:"),
        (
            format!("[[rule]]\nid = \"acme-key\"\nname = \"A\"\nkeywords = [\"acme_\"]\nregex = 'acme_'\nseverity = \"{key}\"\n"),
            ".keyhound.toml:6: rule `acme-key`: unknown value, expected one of",
        ),
    ] {
        let tree = Tree::new(&[("a.py", "x = 1\n"), (".keyhound.toml", &config)]);
        let run = tree.run(&["scan"]);
        run.assert_code(2).assert_stderr_contains(message);
        run.assert_nowhere(pc_body(&key));
    }
}

#[test]
fn rule_file_errors_do_not_quote_values() {
    let key = pc_live(722);
    let tree = Tree::new(&[
        ("a.py", "x = 1\n"),
        (
            "rules.toml",
            &format!("[[rule]]\nid = \"acme-key\"\nname = \"A\"\nkeywords = [\"acme_\"]\nregex = 'acme_'\nseverity = \"{key}\"\n"),
        ),
    ]);
    let run = tree.run(&["scan", "--rules", "rules.toml"]);
    run.assert_code(2)
        .assert_stderr_contains("rules.toml:6: rule `acme-key`: unknown value");
    run.assert_nowhere(pc_body(&key));
}

// ---- empty patterns -------------------------------------------------------------------------

#[test]
fn an_empty_pattern_is_an_error_not_allow_all() {
    // Failed before: each of these silently allowed (or excluded) everything.
    let key = pc_live(731);
    for (config, message) in [
        (
            "max_file_size = \"1M\"\nexclude_paths = [\n  \"vendor\",\n  \"\",\n]\n",
            "4: exclude_paths: an empty glob",
        ),
        (
            "\n[allow]\npaths = [\"\"]\n",
            "3: [allow] paths: an empty glob",
        ),
        (
            "[allow]\nregexes = [\"^dummy\", \"\"]\n",
            "2: [allow] regexes: this regex matches the empty string",
        ),
        ("[allow]\nregexes = [\".*\"]\n", "2: [allow] regexes:"),
        (
            "[allow]\n\nstopwords = [\"\"]\n",
            "3: [allow] stopwords: an empty stopword",
        ),
        (
            "[rules.political-comms-api-key.allow]\nstopwords = [\"\"]\n",
            "2: [rules.political-comms-api-key.allow] stopwords",
        ),
    ] {
        let tree = Tree::new(&[
            ("a.py", &format!("K = \"{key}\"\n")),
            (".keyhound.toml", config),
        ]);
        tree.run(&["scan"])
            .assert_code(2)
            .assert_stderr_contains(&format!("keyhound: error: .keyhound.toml:{message}"));
    }
}

#[test]
fn an_empty_pattern_in_a_rule_file_allowlist_is_an_error() {
    let tree = Tree::new(&[
        ("a.py", "x = 1\n"),
        (
            "rules.toml",
            "[[rule]]\nid = \"acme-key\"\nname = \"A\"\nkeywords = [\"acme_\"]\nregex = '(acme_[a-z0-9]{16})'\n\n[rule.allow]\nstopwords = [\"\"]\n",
        ),
    ]);
    tree.run(&["scan", "--rules", "rules.toml"])
        .assert_code(2)
        .assert_stderr_contains("rules.toml:2: rule `acme-key`: an empty allow stopword");
}

// ---- --rules: loops and empty sets ----------------------------------------------------------

const ACME_RULE: &str = "[provider]\nname = \"Acme\"\n\n[[rule]]\nid = \"acme-key\"\nname = \"Acme key\"\nkeywords = [\"acme_\"]\nregex = '(acme_[A-Za-z0-9]{20})'\n";

#[cfg(unix)]
#[test]
fn a_rules_directory_with_a_link_loop_is_read_once() {
    // Failed before: two links to `..` made the walk branch forever (the run timed out).
    let secret = format!("acme_{}", body(732));
    let tree = Tree::new(&[
        ("rules/acme.toml", ACME_RULE),
        ("src/a.env", &format!("ACME={secret}\n")),
    ]);
    tree.symlink("..", "rules/loop/a");
    tree.symlink("..", "rules/loop/b");
    tree.scan_json(&["src", "--no-builtin-rules", "--rules", "rules"])
        .assert_findings(&[("acme-key", "src/a.env", 1, 6)]);
}

#[test]
fn rules_that_add_no_rule_are_an_error() {
    // Failed before: an empty file or directory added nothing, silently.
    let tree = Tree::new(&[
        ("a.py", "x = 1\n"),
        ("empty.toml", ""),
        ("only-provider.toml", "[provider]\nname = \"Acme\"\n"),
    ]);
    std::fs::create_dir(tree.path().join("none")).unwrap();
    for (path, message) in [
        ("empty.toml", "empty.toml: no [[rule]] table in this file"),
        (
            "only-provider.toml",
            "only-provider.toml: no [[rule]] table in this file",
        ),
        ("none", "none: no *.toml rule file in this directory"),
    ] {
        tree.run(&["scan", "--rules", path])
            .assert_code(2)
            .assert_stderr_contains(message);
        tree.run(&["rules", "check", path]).assert_code(2);
    }
}
