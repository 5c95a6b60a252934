//! `keyhound baseline --from-gitleaks` / `--from-detect-secrets`: a team switching scanners
//! keeps what it had accepted, and is told what could not be carried over.

use git2::{IndexAddOption, Repository, Signature, Time};
use sha1::{Digest, Sha1};

use crate::support::*;

fn sha1_hex(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn gitleaks_fingerprints_become_places() {
    let (accepted, other) = (pc_live(561), pc_live(562));
    let text = format!("# settings\nAPI_KEY = \"{accepted}\"\nOTHER = \"{other}\"\n");
    let tree = Tree::new(&[
        ("app/settings.py", &text),
        (
            ".gitleaksignore",
            "# accepted keys\napp/settings.py:generic-api-key:2\nnot a fingerprint\n",
        ),
    ]);
    let run = tree.run(&["baseline", "--from-gitleaks", ".gitleaksignore"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("imported 1 from .gitleaksignore into .keyhoundignore: 1 new, 1 in all"),
        "{}",
        run.dump()
    );
    run.assert_stderr_contains("keyhound: 1 entry could not be imported; -v names them");
    let baseline = std::fs::read_to_string(tree.path().join(".keyhoundignore")).unwrap();
    assert!(
        baseline.contains("at:app/settings.py:2  # gitleaks generic-api-key"),
        "{baseline}"
    );

    // The key on the accepted line is suppressed; the other is still reported.
    let run = tree.scan_json(&[]);
    let (line, column) = locate(&text, &other);
    run.assert_findings(&[(PC_RULE, "app/settings.py", line, column)]);
    assert!(
        run.summary().contains("1 suppressed (1 baseline)"),
        "{}",
        run.dump()
    );

    // -v names what was not imported, and does not point at itself.
    let run = tree.run(&["baseline", "--from-gitleaks", ".gitleaksignore", "-v"]);
    run.assert_stderr_contains(
        "keyhound: not imported: .gitleaksignore:3: not a gitleaks fingerprint",
    );
    assert!(!run.stderr.contains("-v names them"), "{}", run.dump());
    // --strict makes anything left behind an error.
    tree.run(&["baseline", "--from-gitleaks", ".gitleaksignore", "--strict"])
        .assert_code(2);
}

#[test]
fn gitleaks_commit_fingerprints_match_that_commit_only() {
    let tree = Tree::new(&[]);
    let repo = Repository::init(tree.path()).unwrap();
    let key = pc_live(563);
    tree.write("app.py", format!("K = \"{key}\"\n"));
    let first = commit(&repo, 1_700_000_000);
    tree.write("other.py", format!("K = \"{key}\"\n"));
    commit(&repo, 1_700_000_060);
    tree.write(
        ".gitleaksignore",
        format!("{first}:app.py:generic-api-key:1\n"),
    );
    tree.run(&["baseline", "--from-gitleaks", ".gitleaksignore"])
        .assert_code(0);
    // The key is accepted where gitleaks saw it, and reported where it was not accepted.
    let run = tree.run(&["history", "--format", "json"]);
    let found = run.assert_findings(&[(PC_RULE, "other.py", 1, 6)]);
    assert_eq!(
        found[0]["locations"].as_array().unwrap().len(),
        1,
        "{}",
        run.dump()
    );
    // A working-tree scan has no commit to match: the entry accepts nothing there.
    let run = tree.scan_json(&[]);
    let found = run.assert_findings(&[(PC_RULE, "app.py", 1, 6)]);
    assert_eq!(
        found[0]["locations"].as_array().unwrap().len(),
        2,
        "{}",
        run.dump()
    );
    assert!(!run.summary().contains("suppressed"), "{}", run.dump());
}

fn commit(repo: &Repository, clock: i64) -> String {
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new("Ada Lovelace", "ada@example.org", &Time::new(clock, 0)).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, "commit", &tree, &parents)
        .unwrap()
        .to_string()
}

#[test]
fn detect_secrets_hashes_accept_the_same_secret_anywhere() {
    let (accepted, other) = (pc_live(564), pc_live(565));
    let baseline = format!(
        r#"{{
  "version": "1.5.0",
  "plugins_used": [{{"name": "KeywordDetector"}}],
  "results": {{
    "app/settings.py": [
      {{"type": "Secret Keyword", "filename": "app/settings.py", "hashed_secret": "{}",
        "is_verified": false, "line_number": 1}},
      {{"type": "Secret Keyword", "filename": "app/settings.py", "is_verified": false,
        "line_number": 9}}
    ]
  }},
  "generated_at": "2024-01-31T00:00:00Z"
}}"#,
        sha1_hex(&accepted)
    );
    let tree = Tree::new(&[
        ("app/settings.py", &format!("API_KEY = \"{accepted}\"\n")),
        ("deploy/.env", &format!("KEY={accepted}\nOTHER={other}\n")),
        (".secrets.baseline", &baseline),
        (
            ".keyhoundignore",
            "# old\n0123456789abcdef0123456789abcdef  # kept\n",
        ),
    ]);
    let run = tree.run(&[
        "baseline",
        "--from-detect-secrets",
        ".secrets.baseline",
        "-v",
    ]);
    run.assert_code(0);
    run.assert_stderr_contains(
        "keyhound: not imported: .secrets.baseline: results[\"app/settings.py\"][1]: \
         Secret Keyword at app/settings.py:9 has no hashed_secret",
    );
    assert!(run.stdout.contains("1 new, 2 in all"), "{}", run.dump());
    let text = std::fs::read_to_string(tree.path().join(".keyhoundignore")).unwrap();
    assert!(
        text.contains("0123456789abcdef0123456789abcdef  # kept"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "sha1:{}  # detect-secrets Secret Keyword at app/settings.py:1",
            sha1_hex(&accepted)
        )),
        "{text}"
    );

    let run = tree.scan_json(&[]);
    run.assert_findings(&[(PC_RULE, "deploy/.env", 2, 7)]);
    assert!(
        run.summary().contains("1 suppressed (1 baseline)"),
        "{}",
        run.dump()
    );
}

#[test]
fn a_file_that_is_not_a_detect_secrets_baseline_is_an_error() {
    let tree = Tree::new(&[("x.json", "[]")]);
    let run = tree.run(&["baseline", "--from-detect-secrets", "x.json"]);
    run.assert_code(2);
    run.assert_stderr_contains("x.json: not a detect-secrets baseline: no `results` object");
    assert!(!tree.path().join(".keyhoundignore").exists());
}
