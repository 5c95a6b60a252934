//! What reports say about the scan (JSON and JSON Lines metadata, SARIF provenance), the GitLab
//! Secret Detection report, and the GitHub job summary.

use std::path::Path;

use git2::{IndexAddOption, Repository, Signature, Time};
use serde_json::Value;

use crate::reports::assert_valid_sarif;
use crate::support::*;

/// A repository with an `origin` on GitHub, a branch `main`, and one committed key in a
/// subdirectory. Returns the tree, the key and the commit id.
fn repo_with_key() -> (Tree, String, String) {
    let key = pc_live(651);
    let tree = Tree::new(&[("app/settings.py", &format!("API_KEY = \"{key}\"\n"))]);
    let repo = Repository::init(tree.path()).unwrap();
    repo.remote("origin", "git@github.com:acme/app.git")
        .unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let t = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::new(
        "Ada Lovelace",
        "ada@example.org",
        &Time::new(1_700_000_000, 0),
    )
    .unwrap();
    let commit = repo
        .commit(Some("refs/heads/main"), &sig, &sig, "add", &t, &[])
        .unwrap();
    repo.set_head("refs/heads/main").unwrap();
    (tree, key, commit.to_string())
}

#[test]
fn json_carries_schema_version_and_the_scans_metadata() {
    let (tree, _, commit) = repo_with_key();
    let run = tree.run(&["scan", "--format", "json"]);
    run.assert_code(1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["schema_version"], 2);
    let scan = &report["scan"];
    assert_eq!(scan["tool"]["name"], "keyhound");
    assert_eq!(scan["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(scan["command"], "scan");
    assert_eq!(scan["args"], serde_json::json!(["--format", "json"]));
    let root = std::fs::canonicalize(tree.path()).unwrap();
    assert_eq!(scan["root"], root.display().to_string().as_str());
    for field in ["started", "finished"] {
        let t = scan[field].as_str().unwrap();
        assert!(t.len() == 20 && t.ends_with('Z'), "{field}: {t}");
    }
    assert_eq!(scan["counts"]["findings"], 1);
    assert_eq!(scan["counts"]["files"], 1);
    assert_eq!(scan["repository"]["url"], "https://github.com/acme/app");
    assert_eq!(scan["repository"]["commit"], commit.as_str());
    assert_eq!(scan["repository"]["branch"], "main");
    assert_eq!(report["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn sarif_names_the_repository_and_roots_paths_at_it() {
    let (tree, _, commit) = repo_with_key();
    // Run from a subdirectory: the path is still relative to the repository's root.
    let run = tree.run(&["scan", "--format", "sarif"]);
    let mut cmd = tree.command(&["scan", ".", "--format", "sarif"]);
    cmd.current_dir(tree.path().join("app"));
    let sub = Run::of(cmd, &["scan", ".", "--format", "sarif"]);
    for run in [&run, &sub] {
        let log: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_valid_sarif(&log);
        let r = &log["runs"][0];
        assert_eq!(
            r["tool"]["driver"]["informationUri"],
            env!("CARGO_PKG_REPOSITORY")
        );
        assert!(r["tool"]["driver"]["rules"][0]["helpUri"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")));
        let vcs = &r["versionControlProvenance"][0];
        assert_eq!(vcs["repositoryUri"], "https://github.com/acme/app");
        assert_eq!(vcs["revisionId"], commit.as_str());
        assert_eq!(vcs["branch"], "main");
        let location = &r["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(location["uri"], "app/settings.py", "{}", run.dump());
        assert_eq!(location["uriBaseId"], "%SRCROOT%");
        let root = r["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            root.starts_with("file:///") && root.ends_with('/'),
            "{root}"
        );
    }
}

/// GitLab's published Secret Detection report schema, vendored in `tests/schemas/`.
fn assert_valid_gitlab(report: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas/gitlab-secret-detection-report-format-15.2.4.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the GitLab schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} (at {})", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid GitLab report:\n{}\n{report:#}",
        errors.join("\n")
    );
}

#[test]
fn the_validator_rejects_a_report_gitlab_would_refuse() {
    let bad = serde_json::json!({"version": "15.2.4", "vulnerabilities": []});
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas/gitlab-secret-detection-report-format-15.2.4.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        !jsonschema::is_valid(&schema, &bad),
        "a report without `scan`"
    );
}

#[test]
fn gitlab_report_is_valid_in_and_out_of_a_repository() {
    let (tree, key, commit) = repo_with_key();
    let run = tree.run(&["scan", "--format", "gitlab"]);
    run.assert_code(1);
    run.assert_nowhere(pc_body(&key));
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_gitlab(&report);
    let v = &report["vulnerabilities"][0];
    assert_eq!(v["location"]["file"], "app/settings.py");
    assert_eq!(v["location"]["start_line"], 1);
    assert_eq!(v["location"]["commit"]["sha"], commit.as_str());
    assert_eq!(v["severity"], "High");
    assert_eq!(v["identifiers"][0]["value"], PC_RULE);
    assert_eq!(report["scan"]["type"], "secret_detection");

    // History: each location names the commit that introduced the key.
    let run = tree.run(&["history", "--format", "gitlab"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_gitlab(&report);
    assert_eq!(
        report["vulnerabilities"][0]["location"]["commit"]["author"],
        "Ada Lovelace <ada@example.org>"
    );

    // Outside git, and with nothing found.
    let plain = Tree::new(&[("k.env", &format!("KEY={}\n", pc_live(652)))]);
    let report: Value =
        serde_json::from_str(&plain.run(&["scan", "--format", "gitlab"]).stdout).unwrap();
    assert_valid_gitlab(&report);
    assert_eq!(
        report["vulnerabilities"][0]["location"]["commit"]["sha"],
        "0000000"
    );
    let clean = Tree::new(&[("README.md", "nothing\n")]);
    let run = clean.run(&["scan", "--format", "gitlab"]);
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_gitlab(&report);
    assert_eq!(report["vulnerabilities"], serde_json::json!([]));
}

#[test]
fn github_format_writes_a_job_summary_when_asked() {
    let (tree, key, _) = repo_with_key();
    let summary = tree.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let mut cmd = tree.command(&["scan", "app", "--format", "github"]);
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    let run = Run::of(cmd, &["scan", "app", "--format", "github"]);
    run.assert_code(1);
    assert!(
        run.stdout.starts_with("::error file=app/settings.py"),
        "{}",
        run.dump()
    );
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n## keyhound\n"),
        "appended: {text}"
    );
    assert!(text.contains("**1 leaked key** in 1 place."), "{text}");
    assert!(text.contains("| Severity | Rule | Location | Commit | Secret | Fingerprint |"));
    assert!(
        text.contains(&format!(
            "| high | Political Comms API key (`{PC_RULE}`) | `app/settings.py:1` |"
        )),
        "{text}"
    );
    assert!(!text.contains(pc_body(&key)), "never the secret: {text}");

    // Without the variable, nothing but the annotations.
    let run = tree.run(&["scan", "app", "--format", "github"]);
    run.assert_code(1);
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), text);
}
