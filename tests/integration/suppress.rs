//! Suppression: inline markers, config allowlists and the baseline, as a user meets them.
//! Every suppression is counted; none shows a secret; none depends on a line number.

use std::path::Path;

use git2::{IndexAddOption, Repository, Signature, Time};

use crate::support::*;

// ---- inline markers -------------------------------------------------------------------------

/// A file with one marked key and one unmarked key (`{KEY}` in each line stands for a key): only the unmarked one is reported, and the
/// marked one is counted as suppressed inline.
fn expect_inline_allowed(path: &str, marked_line: &str, plain_line: &str) {
    let (allowed, reported) = (pc_live(501), pc_live(502));
    let text = format!(
        "{}\n{}\n",
        marked_line.replace("{KEY}", &allowed),
        plain_line.replace("{KEY}", &reported)
    );
    let tree = Tree::new(&[(path, &text)]);
    let run = tree.scan_json(&[]);
    let (line, column) = locate(&text, &reported);
    run.assert_findings(&[(PC_RULE, path, line, column)]);
    assert!(
        run.summary().contains("1 suppressed (1 inline)"),
        "{}",
        run.dump()
    );
    run.assert_nowhere(&allowed);
}

#[test]
fn inline_allow_in_python() {
    expect_inline_allowed(
        "app/settings.py",
        "TEST_KEY = \"{KEY}\"  # keyhound:allow",
        "API_KEY = \"{KEY}\"",
    );
}

#[test]
fn inline_allow_in_javascript() {
    expect_inline_allowed(
        "web/client.js",
        "const fixture = '{KEY}'; // keyhound:allow",
        "const apiKey = '{KEY}';",
    );
}

#[test]
fn inline_allow_in_yaml() {
    expect_inline_allowed(
        "config/app.yaml",
        "test_key: {KEY} # keyhound:allow",
        "api_key: {KEY}",
    );
}

#[test]
fn inline_allow_in_shell() {
    expect_inline_allowed(
        "scripts/deploy.sh",
        "export DEMO_KEY={KEY}  # keyhound:allow",
        "export POLITICAL_COMMS_API_KEY={KEY}",
    );
}

#[test]
fn inline_allow_in_markdown() {
    expect_inline_allowed(
        "docs/setup.md",
        "Set `X-API-Key: {KEY}` <!-- keyhound:allow -->",
        "Then call with `X-API-Key: {KEY}`.",
    );
}

#[test]
fn detect_secrets_pragma_is_honoured() {
    expect_inline_allowed(
        "app/settings.py",
        "TEST_KEY = \"{KEY}\"  # pragma: allowlist secret",
        "API_KEY = \"{KEY}\"",
    );
}

#[test]
fn markers_of_gitleaks_trufflehog_and_kingfisher_are_honoured() {
    for (path, line) in [
        ("config.go", "apiKey := \"{KEY}\" // gitleaks:allow"),
        ("settings.py", "TEST_KEY = \"{KEY}\"  # trufflehog:ignore"),
        ("app.js", "const k = '{KEY}'; // kingfisher:allow"),
        ("values.yaml", "key: {KEY} # kingfisher:ignore"),
    ] {
        expect_inline_allowed(path, line, "API_KEY = \"{KEY}\"");
    }
}

#[test]
fn a_marker_hides_nothing_on_other_lines() {
    let key = pc_live(503);
    let text = format!("# keyhound:allow\nAPI_KEY = \"{key}\"\n");
    let tree = Tree::new(&[("app.py", &text)]);
    let (line, column) = locate(&text, &key);
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "app.py", line, column)]);
}

#[test]
fn verbose_lists_suppressed_places_without_the_secret() {
    let key = pc_live(504);
    let tree = Tree::new(&[("app.py", &format!("K = \"{key}\"  # keyhound:allow\n"))]);
    let run = tree.run(&["scan", "-v", "--show-secrets"]);
    run.assert_code(0)
        .assert_stderr_contains("keyhound: suppressed (inline): app.py:1 political-comms-api-key")
        .assert_nowhere(pc_body(&key));
}

// ---- config allowlists ----------------------------------------------------------------------

/// A tree with a key in `app/settings.py` and another in `tests/fixtures/keys.env`.
fn two_key_tree(config: &str) -> (Tree, String, String) {
    let (app_key, fixture_key) = (pc_live(511), pc_live(512));
    let tree = Tree::new(&[
        ("app/settings.py", &format!("API_KEY = \"{app_key}\"\n")),
        (
            "tests/fixtures/keys.env",
            &format!("POLITICAL_COMMS_API_KEY={fixture_key}\n"),
        ),
        (".keyhound.toml", config),
    ]);
    (tree, app_key, fixture_key)
}

#[test]
fn allowlist_by_path() {
    let (tree, _, _) = two_key_tree("[allow]\npaths = [\"tests/fixtures/**\"]\n");
    let run = tree.scan_json(&[]);
    run.assert_findings(&[(PC_RULE, "app/settings.py", 1, 12)]);
    assert!(
        run.summary().contains("1 suppressed (1 allowlist)"),
        "{}",
        run.dump()
    );
}

#[test]
fn allowlist_by_path_is_relative_to_the_root_wherever_keyhound_runs() {
    let (tree, _, _) = two_key_tree("[allow]\npaths = [\"tests/fixtures/**\"]\n");
    Repository::init(tree.path()).expect("git init");
    let run = Run::of(
        {
            let mut cmd = tree.command(&["scan", "--format", "json", "."]);
            cmd.current_dir(tree.path().join("tests"));
            cmd
        },
        &["scan", "--format", "json", "."],
    );
    run.assert_findings(&[]);
}

#[test]
fn allowlist_by_path_keeps_the_other_places_of_a_key() {
    let key = pc_live(513);
    let tree = Tree::new(&[
        ("app/settings.py", &format!("API_KEY = \"{key}\"\n")),
        ("docs/example.md", &format!("X-API-Key: {key}\n")),
        (".keyhound.toml", "[allow]\npaths = [\"docs/\"]\n"),
    ]);
    let findings = tree
        .scan_json(&[])
        .assert_findings(&[(PC_RULE, "app/settings.py", 1, 12)]);
    assert_eq!(findings[0]["locations"].as_array().map(Vec::len), Some(1));
}

#[test]
fn allowlist_by_regex_on_the_secret() {
    let (tree, _, fixture_key) = two_key_tree("");
    let prefix = &fixture_key[..12];
    tree.write(
        ".keyhound.toml",
        format!("[allow]\nregexes = ['''^{prefix}''']\n"),
    );
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "app/settings.py", 1, 12)]);
}

#[test]
fn allowlist_by_stopword() {
    let key = format!("{}_{}_{}NotASecret", "pc", "live", body(514));
    let other = pc_live(515);
    let tree = Tree::new(&[
        ("a.py", &format!("K = \"{key}\"\n")),
        ("b.py", &format!("K = \"{other}\"\n")),
        (".keyhound.toml", "[allow]\nstopwords = [\"notasecret\"]\n"),
    ]);
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "b.py", 1, 6)]);
}

#[test]
fn a_rules_allowlist_applies_to_that_rule_only() {
    let pc = pc_live(516);
    let aws = aws_key_id(517);
    let tree = Tree::new(&[
        (
            "docs/keys.md",
            &format!("pc: `{pc}`\naws_access_key_id = {aws}\n"),
        ),
        (
            ".keyhound.toml",
            &format!("[rules.{PC_RULE}.allow]\npaths = [\"docs/**\"]\n"),
        ),
    ]);
    let findings = tree.scan_json(&[]).findings();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(rules, ["aws-access-key-id"]);
}

// ---- the baseline ---------------------------------------------------------------------------

#[test]
fn baseline_round_trip() {
    let old = pc_live(521);
    let tree = Tree::new(&[("app/settings.py", &format!("API_KEY = \"{old}\"\n"))]);

    // Create: one sorted line per fingerprint, a comment naming rule and place, nothing else.
    let run = tree.run(&["baseline"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("wrote 1 baseline entry to .keyhoundignore"),
        "{}",
        run.dump()
    );
    let text = std::fs::read_to_string(tree.path().join(".keyhoundignore")).unwrap();
    let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(entries.len(), 1, "{text}");
    let fingerprint = &entries[0][..32];
    assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()), "{text}");
    assert!(
        entries[0].ends_with(&format!("# {PC_RULE} at app/settings.py")),
        "{text}"
    );
    assert!(!text.contains(pc_body(&old)), "never the secret: {text}");
    assert!(!text.contains(":1"), "no line numbers: {text}");

    // The scan is clean, and says why.
    let run = tree.scan_json(&[]);
    run.assert_findings(&[]);
    assert!(
        run.summary().contains("1 suppressed (1 baseline)"),
        "{}",
        run.dump()
    );

    // Edits around the key do not matter.
    tree.write(
        "app/settings.py",
        format!("import os\n\n\nAPI_KEY = \"{old}\"\n"),
    );
    tree.scan_json(&[]).assert_findings(&[]);

    // A new key on the same line is reported.
    let new = pc_live(522);
    let line = format!("API_KEY = \"{old}\"; NEW_KEY = \"{new}\"\n");
    tree.write("app/settings.py", &line);
    let (l, c) = locate(&line, &new);
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "app/settings.py", l, c)]);

    // The accepted key moved to another file stays suppressed.
    tree.write("app/settings.py", "API_KEY = os.environ['API_KEY']\n");
    tree.write("deploy/.env", format!("POLITICAL_COMMS_API_KEY={old}\n"));
    tree.scan_json(&[]).assert_findings(&[]);

    // Once the key is gone, its entry is stale: a warning, or a failure when asked.
    std::fs::remove_file(tree.path().join("deploy/.env")).unwrap();
    let run = tree.scan_json(&[]);
    run.assert_findings(&[]);
    run.assert_stderr_contains(&format!(
        "keyhound: warning: .keyhoundignore:2: stale baseline entry {fingerprint} ({PC_RULE} at app/settings.py) matched nothing"
    ));
    assert!(
        run.summary().contains("1 stale baseline entry"),
        "{}",
        run.dump()
    );
    tree.run(&["scan", "--fail-on-stale-baseline"])
        .assert_code(1);
}

#[test]
fn baseline_entries_are_sorted_and_stable() {
    let tree = Tree::new(&[
        ("a.py", &format!("K = \"{}\"\n", pc_live(531))),
        ("b.py", &format!("K = \"{}\"\n", pc_live(532))),
        ("c.py", &format!("K = \"{}\"\n", aws_key_id(533))),
    ]);
    tree.run(&["baseline"]).assert_code(0);
    let first = std::fs::read_to_string(tree.path().join(".keyhoundignore")).unwrap();
    let fingerprints: Vec<&str> = first
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| &l[..32])
        .collect();
    let mut sorted = fingerprints.clone();
    sorted.sort();
    assert_eq!(fingerprints, sorted);
    assert_eq!(fingerprints.len(), 3);
    // Regenerating an unchanged tree changes nothing: no timestamps.
    tree.run(&["baseline"]).assert_code(0);
    let second = std::fs::read_to_string(tree.path().join(".keyhoundignore")).unwrap();
    assert_eq!(first, second);
}

#[test]
fn a_partial_scan_reports_no_stale_entries() {
    let tree = Tree::new(&[
        ("a/x.py", &format!("K = \"{}\"\n", pc_live(534))),
        ("b/y.py", &format!("K = \"{}\"\n", pc_live(535))),
    ]);
    Repository::init(tree.path()).expect("git init");
    tree.run(&["baseline"]).assert_code(0);
    // Scanning `a` alone says nothing about b's entry.
    let run = tree.run(&["scan", "--fail-on-stale-baseline", "a"]);
    run.assert_code(0);
    assert!(!run.stderr.contains("stale"), "{}", run.dump());
}

#[test]
fn no_baseline_and_another_baseline_file() {
    let key = pc_live(536);
    let tree = Tree::new(&[("app.py", &format!("K = \"{key}\"\n"))]);
    tree.run(&["baseline", "--baseline", "accepted.txt"])
        .assert_code(0);
    assert!(!tree.path().join(".keyhoundignore").exists());
    tree.scan_json(&["--baseline", "accepted.txt"])
        .assert_findings(&[]);
    // Without the flag the default file is read, and there is none.
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
    // The config can name it; --no-baseline ignores it.
    tree.write(".keyhound.toml", "baseline = \"accepted.txt\"\n");
    tree.scan_json(&[]).assert_findings(&[]);
    tree.scan_json(&["--no-baseline"])
        .assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
    // A baseline named by the flag must exist.
    tree.run(&["scan", "--baseline", "missing.txt"])
        .assert_code(2)
        .assert_stderr_contains("missing.txt: no such baseline file");
}

#[test]
fn a_malformed_baseline_names_its_file_and_line() {
    let tree = Tree::new(&[
        ("app.py", "print('hello')\n"),
        (
            ".keyhoundignore",
            "# accepted\n0123456789abcdef0123456789abcdef\nnot-a-fingerprint\n",
        ),
    ]);
    tree.run(&["scan"])
        .assert_code(2)
        .assert_stderr_contains(".keyhoundignore:3: not a fingerprint");
}

#[test]
fn a_bad_baseline_line_is_never_quoted() {
    // Failed before: the line was printed verbatim, and a `.env` named as the baseline put its
    // secret in the CI log.
    let password = format!("{}{}", "Dragon", "2024!x");
    let key = pc_live(537);
    let tree = Tree::new(&[
        ("app.py", "print('hello')\n"),
        (".env", &format!("API_KEY={key}\nDB_PASSWORD={password}\n")),
    ]);
    let run = tree.run(&["scan", "--baseline", ".env", "app.py"]);
    run.assert_code(2)
        .assert_stderr_contains(".env:1: not a fingerprint");
    run.assert_nowhere(pc_body(&key)).assert_nowhere(&password);
}

// ---- history and the index ------------------------------------------------------------------

fn commit_all(repo: &Repository, message: &str, clock: i64) {
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new("Ada Lovelace", "ada@example.org", &Time::new(clock, 0)).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .unwrap();
}

#[test]
fn baseline_of_history() {
    let tree = Tree::new(&[]);
    let repo = Repository::init(tree.path()).unwrap();
    let old = pc_live(541);
    tree.write("app.py", format!("K = \"{old}\"\n"));
    commit_all(&repo, "add a key", 1_700_000_000);
    tree.write("app.py", "K = os.environ['K']\n");
    commit_all(&repo, "remove it", 1_700_000_060);

    tree.run(&["history", "--format", "json"]).assert_code(1);
    let run = tree.run(&["baseline", "history"]);
    run.assert_code(0);
    let text = std::fs::read_to_string(tree.path().join(".keyhoundignore")).unwrap();
    assert!(text.contains(&format!("# {PC_RULE} at app.py")), "{text}");
    // `.keyhoundignore` is not committed: history is clean.
    let run = tree.run(&["history", "--format", "json"]);
    run.assert_code(0);
    assert!(
        run.summary().contains("1 suppressed (1 baseline)"),
        "{}",
        run.dump()
    );

    // A new key in a later commit is still reported.
    let new = pc_live(542);
    tree.write("app.py", format!("K = \"{new}\"\n"));
    commit_all(&repo, "another key", 1_700_000_120);
    let run = tree.run(&["history", "--format", "json"]);
    run.assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
}

#[test]
fn staged_scan_honours_inline_markers() {
    let tree = Tree::new(&[]);
    let repo = Repository::init(tree.path()).unwrap();
    tree.write("README.md", "hello\n");
    commit_all(&repo, "init", 1_700_000_000);
    let (allowed, reported) = (pc_live(543), pc_live(544));
    tree.write(
        "app.py",
        format!("A = \"{allowed}\"  # keyhound:allow\nB = \"{reported}\"\n"),
    );
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("app.py")).unwrap();
    index.write().unwrap();
    let run = tree.run(&["scan", "--staged", "--format", "json"]);
    run.assert_findings(&[(PC_RULE, "app.py", 2, 6)]);
    assert!(
        run.summary().contains("1 suppressed (1 inline)"),
        "{}",
        run.dump()
    );
}

// ---- fingerprints of guessable secrets --------------------------------------------------------

/// The fingerprint every version before the slow hash wrote: SHA-256 over rule id, NUL, secret.
fn fast_fingerprint(rule: &str, secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(rule)
        .chain_update([0])
        .chain_update(secret)
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A tree whose only finding is a human-chosen password, and that password.
fn password_tree() -> (Tree, String) {
    let password = format!("{}{}", "Dragon", "2024!x");
    let tree = Tree::new(&[("config.py", &format!("DB_PASSWORD = \"{password}\"\n"))]);
    (tree, password)
}

#[test]
fn a_passwords_fingerprint_does_not_give_it_back_to_a_guesser() {
    // Failed before: the fingerprint was the fast hash, so hashing a word list found it.
    let (tree, password) = password_tree();
    let run = tree.scan_json(&[]);
    let findings = run.assert_findings(&[("generic-password", "config.py", 1, 16)]);
    let fingerprint = findings[0]["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fingerprint.len(), 32);
    assert_ne!(fingerprint, fast_fingerprint("generic-password", &password));
    // Stable from run to run (the salt is fixed), so baselines keep working.
    let again = tree.scan_json(&[]).findings();
    assert_eq!(again[0]["fingerprint"], fingerprint.as_str());
    // A provider's random key keeps the fast hash: nothing to guess, nothing to migrate.
    let key = pc_live(541);
    tree.write("config.py", format!("API_KEY = \"{key}\"\n"));
    let findings = tree.scan_json(&[]).findings();
    assert_eq!(
        findings[0]["fingerprint"],
        fast_fingerprint(PC_RULE, &key).as_str()
    );
}

#[test]
fn an_old_baseline_still_matches_and_is_rewritten_in_the_new_format() {
    let (tree, password) = password_tree();
    let old = fast_fingerprint("generic-password", &password);
    tree.write(
        ".keyhoundignore",
        format!("# written by an older keyhound\n{old}  # generic-password at config.py\n"),
    );
    let run = tree.scan_json(&[]);
    run.assert_findings(&[]);
    assert!(
        run.summary().contains("1 suppressed (1 baseline)"),
        "{}",
        run.dump()
    );
    run.assert_stderr_contains(".keyhoundignore: 1 entry uses the old fingerprint format");
    assert!(!run.stderr.contains("stale"), "{}", run.dump());

    tree.run(&["baseline"]).assert_code(0);
    let text = std::fs::read_to_string(tree.path().join(".keyhoundignore")).unwrap();
    assert!(!text.contains(&old), "{text}");
    let run = tree.scan_json(&[]);
    run.assert_findings(&[]);
    assert!(!run.stderr.contains("old fingerprint"), "{}", run.dump());
}
