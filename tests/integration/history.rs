//! `keyhound history`, `scan --staged` / `--pre-commit`, `install-hook` and the pre-commit
//! framework's hook file, on real repositories built with git2 in temporary directories.

use std::path::Path;

use git2::{IndexAddOption, Oid, Repository, Signature, Time};
use serde_json::Value;

use crate::support::{pc_live, Run, Tree, PC_RULE};

/// A repository in a temporary tree, committed to with a fixed identity and clock.
struct Repo {
    tree: Tree,
    repo: Repository,
    clock: i64,
}

impl Repo {
    fn new() -> Repo {
        let tree = Tree::new(&[]);
        let repo = Repository::init(tree.path()).expect("git init");
        Repo {
            tree,
            repo,
            clock: 1_700_000_000,
        }
    }

    fn path(&self) -> &Path {
        self.tree.path()
    }

    fn write(&self, path: &str, contents: &str) -> &Repo {
        self.tree.write(path, contents);
        self
    }

    fn remove(&self, path: &str) -> &Repo {
        std::fs::remove_file(self.path().join(path)).expect("remove a file");
        self
    }

    /// Stages everything (additions, changes, deletions).
    fn stage_all(&self) {
        let mut index = self.repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
    }

    /// Stages exactly one path as it is in the work tree.
    fn stage(&self, path: &str) {
        let mut index = self.repo.index().unwrap();
        index.add_path(Path::new(path)).unwrap();
        index.write().unwrap();
    }

    /// Commits everything in the work tree on HEAD, as `author`.
    fn commit_as(&mut self, message: &str, author: (&str, &str)) -> Oid {
        self.stage_all();
        let mut index = self.repo.index().unwrap();
        let tree_id = index.write_tree().unwrap();
        let tree = self.repo.find_tree(tree_id).unwrap();
        self.clock += 60;
        let sig = Signature::new(author.0, author.1, &Time::new(self.clock, 0)).unwrap();
        let parents: Vec<git2::Commit> = match self.repo.head() {
            Ok(h) => vec![h.peel_to_commit().unwrap()],
            Err(_) => vec![],
        };
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parent_refs)
            .unwrap()
    }

    fn commit(&mut self, message: &str) -> Oid {
        self.commit_as(message, ("Ada Lovelace", "ada@example.org"))
    }

    /// Creates `name` at HEAD and checks it out.
    fn branch(&self, name: &str) {
        let head = self.repo.head().unwrap().peel_to_commit().unwrap();
        self.repo.branch(name, &head, false).unwrap();
        self.checkout(name);
    }

    fn checkout(&self, name: &str) {
        let refname = format!("refs/heads/{name}");
        self.repo.set_head(&refname).unwrap();
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .unwrap();
    }

    fn history(&self, extra: &[&str]) -> Run {
        let mut args = vec!["history", "--format", "json"];
        args.extend_from_slice(extra);
        self.tree.run(&args)
    }
}

fn only(findings: &[Value]) -> &Value {
    assert_eq!(findings.len(), 1, "expected one finding: {findings:#?}");
    &findings[0]
}

fn locations(f: &Value) -> Vec<(String, String)> {
    f["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_string(),
                l["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_key_added_then_removed_is_found_and_not_in_head() {
    let mut r = Repo::new();
    let key = pc_live(301);
    r.write("app.py", &format!("KEY = \"{key}\"\n"));
    let added = r.commit("add a key");
    r.write("app.py", "KEY = os.environ['KEY']\n");
    r.commit("remove it");
    let run = r.history(&[]);
    run.assert_code(1);
    let findings = run.findings();
    let f = only(&findings);
    assert_eq!(f["rule_id"], PC_RULE);
    assert_eq!(f["path"], "app.py");
    assert_eq!(f["line"], 1);
    assert_eq!(f["commit"], added.to_string());
    assert_eq!(f["author"], "Ada Lovelace");
    assert_eq!(f["email"], "ada@example.org");
    assert_eq!(f["date"], "2023-11-14T22:14:20Z");
    assert_eq!(f["in_head"], false);
    run.assert_nowhere(&key);
    assert!(run.summary().contains("from 2 commits"), "{}", run.dump());
}

#[test]
fn a_key_still_in_head_says_so() {
    let mut r = Repo::new();
    r.write("a.txt", &format!("k={}\n", pc_live(302)));
    r.commit("one");
    r.write("a.txt", &format!("k={}\nmore\n", pc_live(302)));
    r.commit("two: the key is carried along");
    let findings = r.history(&[]).findings();
    let f = only(&findings);
    assert_eq!(f["in_head"], true);
    // Carried along by the second commit, introduced by the first: one location.
    assert_eq!(f["locations"].as_array().unwrap().len(), 1);
}

#[test]
fn one_key_in_forty_commits_and_three_files_is_one_finding() {
    let mut r = Repo::new();
    let key = pc_live(303);
    r.write("a.env", &format!("KEY={key}\n"));
    let first = r.commit("c1");
    let mut body = format!("KEY={key}\n");
    let mut introduced_b = None;
    let mut introduced_c = None;
    for i in 2..=40 {
        body.push_str(&format!("line {i}\n"));
        r.write("a.env", &body);
        if i == 10 {
            r.write("b.yaml", &format!("key: {key}\n"));
        }
        if i == 20 {
            r.write("nested/c.json", &format!("{{\"key\": \"{key}\"}}\n"));
        }
        let c = r.commit(&format!("c{i}"));
        if i == 10 {
            introduced_b = Some(c);
        }
        if i == 20 {
            introduced_c = Some(c);
        }
    }
    let run = r.history(&[]);
    let findings = run.findings();
    let f = only(&findings);
    let mut locs = locations(f);
    locs.sort();
    assert_eq!(
        locs,
        vec![
            ("a.env".to_string(), first.to_string()),
            ("b.yaml".to_string(), introduced_b.unwrap().to_string()),
            (
                "nested/c.json".to_string(),
                introduced_c.unwrap().to_string()
            ),
        ],
        "{}",
        run.dump()
    );
    // The finding is reported at its first-seen commit.
    assert_eq!(f["commit"], first.to_string());
    assert!(run.summary().contains("from 40 commits"), "{}", run.dump());
}

#[test]
fn keys_only_on_a_side_branch_in_a_tag_or_in_the_stash_are_found() {
    let mut r = Repo::new();
    r.write("README.md", "hello\n");
    r.commit("base");
    let main = r.repo.head().unwrap().shorthand().unwrap().to_string();

    r.branch("side");
    r.write("side.py", &format!("k = '{}'\n", pc_live(311)));
    r.commit("on the side branch");
    r.checkout(&main);

    // A tag on a commit that no branch contains.
    r.branch("tmp");
    r.write("tagged.py", &format!("k = '{}'\n", pc_live(312)));
    let tagged = r.commit("tagged only");
    {
        let obj = r.repo.find_object(tagged, None).unwrap();
        let sig = Signature::new("T", "t@example.org", &Time::new(1_700_000_500, 0)).unwrap();
        r.repo.tag("v1", &obj, &sig, "a release", false).unwrap();
    }
    r.checkout(&main);
    r.repo
        .find_branch("tmp", git2::BranchType::Local)
        .unwrap()
        .delete()
        .unwrap();

    // The stash.
    r.write("README.md", &format!("hello\ntoken {}\n", pc_live(313)));
    let sig = Signature::new("S", "s@example.org", &Time::new(1_700_000_600, 0)).unwrap();
    r.repo.stash_save(&sig, "wip", None).unwrap();

    let run = r.history(&[]);
    let findings = run.findings();
    let mut paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["README.md", "side.py", "tagged.py"],
        "{}",
        run.dump()
    );
    // --branch limits the walk to one ref.
    let run = r.history(&["--branch", "side"]);
    let paths: Vec<String> = run
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["side.py"], "{}", run.dump());
}

#[test]
fn a_merged_key_is_attributed_to_the_branch_commit_not_the_merge() {
    let mut r = Repo::new();
    r.write("base.txt", "base\n");
    r.commit("base");
    let main = r.repo.head().unwrap().shorthand().unwrap().to_string();
    r.branch("feature");
    r.write(
        "feature.rs",
        &format!("const K: &str = \"{}\";\n", pc_live(321)),
    );
    let introduced = r.commit("feature adds a key");
    r.checkout(&main);
    r.write("other.txt", "main moves on\n");
    r.commit("main");
    // Merge feature into main.
    let ours = r.repo.head().unwrap().peel_to_commit().unwrap();
    let theirs = r.repo.find_commit(introduced).unwrap();
    let mut index = r.repo.merge_commits(&ours, &theirs, None).unwrap();
    let tree = r
        .repo
        .find_tree(index.write_tree_to(&r.repo).unwrap())
        .unwrap();
    let sig = Signature::new("M", "m@example.org", &Time::new(1_700_100_000, 0)).unwrap();
    r.repo
        .commit(Some("HEAD"), &sig, &sig, "merge", &tree, &[&ours, &theirs])
        .unwrap();
    let findings = r.history(&[]).findings();
    let f = only(&findings);
    assert_eq!(
        locations(f),
        vec![("feature.rs".to_string(), introduced.to_string())]
    );
    assert_eq!(f["in_head"], true);
}

#[test]
fn a_renamed_file_keeps_one_finding_with_both_paths() {
    let mut r = Repo::new();
    let key = pc_live(331);
    r.write("old/name.py", &format!("KEY = '{key}'\n"));
    let first = r.commit("add");
    r.remove("old/name.py")
        .write("new/name.py", &format!("KEY = '{key}'\n"));
    let renamed = r.commit("rename");
    let findings = r.history(&[]).findings();
    let f = only(&findings);
    let mut locs = locations(f);
    locs.sort();
    assert_eq!(
        locs,
        vec![
            ("new/name.py".to_string(), renamed.to_string()),
            ("old/name.py".to_string(), first.to_string())
        ]
    );
    assert_eq!(f["commit"], first.to_string());
}

#[test]
fn binary_blobs_are_skipped_and_counted() {
    let mut r = Repo::new();
    let mut bin = vec![0u8, 1, 2, 3];
    bin.extend_from_slice(pc_live(341).as_bytes());
    std::fs::write(r.path().join("blob.bin"), &bin).unwrap();
    r.write("ok.txt", "nothing here\n");
    r.commit("binary");
    let run = r.history(&["-v"]);
    run.assert_code(0);
    assert!(run.findings().is_empty());
    run.assert_stderr_contains("1 binary");
    run.assert_stderr_contains("blob.bin");
}

#[test]
fn a_key_in_a_file_deleted_later_is_found() {
    let mut r = Repo::new();
    r.write(
        "secrets/.env",
        &format!("POLITICAL_COMMS_API_KEY={}\n", pc_live(351)),
    );
    r.write("keep.txt", "x\n");
    let added = r.commit("add");
    r.remove("secrets/.env");
    r.commit("delete");
    let findings = r.history(&[]).findings();
    let f = only(&findings);
    assert_eq!(f["path"], "secrets/.env");
    assert_eq!(f["commit"], added.to_string());
    assert_eq!(f["in_head"], false);
}

#[test]
fn mailmap_names_the_author() {
    let mut r = Repo::new();
    r.write(
        ".mailmap",
        "Ada Lovelace <ada@example.org> <old@example.org>\n",
    );
    r.commit("mailmap");
    r.write("k.txt", &format!("{}\n", pc_live(352)));
    r.commit_as("key", ("ada", "old@example.org"));
    let findings = r.history(&[]).findings();
    let f = only(&findings);
    assert_eq!(f["author"], "Ada Lovelace");
    assert_eq!(f["email"], "ada@example.org");
}

#[test]
fn a_shallow_clone_is_scanned_as_far_as_it_goes_with_a_warning() {
    let mut r = Repo::new();
    r.write("old.txt", &format!("{}\n", pc_live(361)));
    r.commit("old key");
    r.remove("old.txt")
        .write("new.txt", &format!("{}\n", pc_live(362)));
    r.commit("new key");
    let clone = Tree::new(&[]);
    let url = format!("file://{}", r.path().display());
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url, "c"])
        .current_dir(clone.path())
        .status()
        .expect("git clone");
    assert!(status.success());
    let run = clone.run(&["history", "--format", "json", "c"]);
    run.assert_code(1);
    run.assert_stderr_contains("shallow clone");
    let findings = run.findings();
    assert_eq!(only(&findings)["path"], "new.txt");
}

#[test]
fn an_empty_repository_says_there_is_nothing_to_scan() {
    let r = Repo::new();
    let run = r.history(&[]);
    run.assert_code(0);
    assert!(run.findings().is_empty());
    run.assert_stderr_contains("no commits");
    assert!(
        run.summary().contains("0 blobs from 0 commits"),
        "{}",
        run.dump()
    );
}

#[test]
fn impossible_requests_exit_2_with_a_clear_message() {
    let not_a_repo = Tree::new(&[("a.txt", "x")]);
    // A temporary directory may sit inside a repository on some machines: point at / instead.
    let run = not_a_repo.run(&["history", "/"]);
    run.assert_code(2);
    run.assert_stderr_contains("not a git repository");

    let mut r = Repo::new();
    r.write("a.txt", "x\n");
    r.commit("one");
    let run = r.history(&["--since", "no-such-ref"]);
    run.assert_code(2);
    run.assert_stderr_contains("unknown revision `no-such-ref`");

    let empty = Repo::new();
    let run = empty.history(&["--since", "HEAD~1"]);
    run.assert_code(2);
}

#[test]
fn since_scans_only_what_a_branch_adds() {
    let mut r = Repo::new();
    r.write("old.py", &format!("K = '{}'\n", pc_live(371)));
    r.commit("a key already on main");
    let main = r.repo.head().unwrap().shorthand().unwrap().to_string();
    r.branch("feature");
    // Touch the file with the old key: the old key is not new.
    r.write("old.py", &format!("K = '{}'\nX = 1\n", pc_live(371)));
    r.write("new.py", &format!("K = '{}'\n", pc_live(372)));
    let added = r.commit("feature work");
    let run = r.history(&["--since", &main]);
    let findings = run.findings();
    let f = only(&findings);
    assert_eq!(f["path"], "new.py", "{}", run.dump());
    assert_eq!(f["commit"], added.to_string());
    let run = r.history(&["--range", &format!("{main}..feature")]);
    assert_eq!(only(&run.findings())["path"], "new.py");
}

#[test]
fn staged_scan_judges_the_index_not_the_work_tree() {
    let mut r = Repo::new();
    r.write("app.py", "print('hi')\n");
    r.commit("base");
    // Staged version has the key; the work tree no longer does.
    r.write(
        "app.py",
        &format!("print('hi')\nKEY = '{}'\n", pc_live(381)),
    );
    r.stage("app.py");
    r.write("app.py", "print('hi')\n");
    let run = r.tree.run(&["scan", "--staged", "--format", "json"]);
    let findings = run.findings();
    let f = only(&findings);
    assert_eq!(
        (f["path"].as_str(), f["line"].as_u64()),
        (Some("app.py"), Some(2))
    );

    // The reverse: the work tree has the key, the index does not.
    r.stage("app.py");
    r.write(
        "app.py",
        &format!("print('hi')\nKEY = '{}'\n", pc_live(382)),
    );
    let run = r.tree.run(&["scan", "--staged", "--format", "json"]);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "{}", run.dump());
}

#[test]
fn staged_scan_reports_only_added_lines_with_staged_line_numbers() {
    let mut r = Repo::new();
    r.write("conf.env", &format!("OLD={}\n", pc_live(391)));
    r.commit("an old key");
    r.write(
        "conf.env",
        &format!("# header\nOLD={}\nNEW={}\n", pc_live(391), pc_live(392)),
    );
    r.stage("conf.env");
    let run = r.tree.run(&["scan", "--staged", "--format", "json"]);
    let findings = run.findings();
    let f = only(&findings);
    assert_eq!(f["line"], 3, "{}", run.dump());
    assert_eq!(f["path"], "conf.env");
}

#[test]
fn staged_scan_works_before_the_first_commit() {
    let r = Repo::new();
    r.write("first.py", &format!("KEY = '{}'\n", pc_live(393)));
    r.stage("first.py");
    let run = r.tree.run(&["scan", "--pre-commit"]);
    run.assert_code(1);
    assert!(run.stdout.contains("first.py:1:8"), "{}", run.dump());
    run.assert_nowhere(&pc_live(393));
    // Compact: one line per key, no snippet drawing.
    assert!(!run.stdout.contains(" --> "), "{}", run.dump());
}

#[test]
fn staged_scan_outside_a_repository_is_an_error() {
    let t = Tree::new(&[("a.txt", "x")]);
    let run = t.run(&["scan", "--staged", "--format", "json"]);
    // The temporary directory is not a repository (unless the machine's /tmp is inside one).
    if Repository::discover(t.path()).is_err() {
        run.assert_code(2);
        run.assert_stderr_contains("not a git repository");
    }
}

#[test]
fn install_hook_writes_an_executable_hook_and_respects_hooks_path() {
    let r = Repo::new();
    let run = r.tree.run(&["install-hook"]);
    run.assert_code(0);
    let hook = r.path().join(".git/hooks/pre-commit");
    let text = std::fs::read_to_string(&hook).unwrap();
    assert!(text.starts_with("#!/bin/sh"));
    assert!(text.contains("scan --pre-commit"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }
    // A second install refuses to overwrite, --force replaces.
    r.tree
        .run(&["install-hook"])
        .assert_code(2)
        .assert_stderr_contains("--force");
    r.tree.run(&["install-hook", "--force"]).assert_code(0);

    // core.hooksPath is honoured (relative to the work tree).
    let r = Repo::new();
    r.repo
        .config()
        .unwrap()
        .set_str("core.hooksPath", "githooks")
        .unwrap();
    r.tree.run(&["install-hook"]).assert_code(0);
    assert!(r.path().join("githooks/pre-commit").exists());
    assert!(!r.path().join(".git/hooks/pre-commit").exists());
}

#[test]
fn the_installed_hook_blocks_a_commit_that_adds_a_key() {
    let r = Repo::new();
    r.tree.run(&["install-hook"]).assert_code(0);
    r.write("leak.py", &format!("KEY = '{}'\n", pc_live(394)));
    r.stage("leak.py");
    let hook = r.path().join(".git/hooks/pre-commit");
    let out = std::process::Command::new(&hook)
        .current_dir(r.path())
        .env("PATH", "/nonexistent") // use the absolute path the hook recorded
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("leak.py:1:8"));
}

#[test]
fn pre_commit_hooks_file_carries_every_required_field() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&path).expect(".pre-commit-hooks.yaml at the top level");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("valid YAML");
    let hooks = docs[0].as_vec().expect("a list of hooks");
    let mut ids = Vec::new();
    for hook in hooks {
        for field in ["id", "name", "entry", "language"] {
            assert!(
                hook[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field} missing in {hook:?}"
            );
        }
        // File names tell a commit (staged files) from `--all-files` (every file).
        assert_eq!(hook["pass_filenames"].as_bool(), Some(true));
        // The stage names `pre-commit`/`pre-push` are 3.2.0's.
        assert_eq!(hook["minimum_pre_commit_version"].as_str(), Some("3.2.0"));
        let stages: Vec<&str> = hook["stages"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(stages, ["pre-commit", "pre-push", "manual"]);
        assert!(hook["entry"]
            .as_str()
            .unwrap()
            .starts_with("keyhound scan --pre-commit"));
        ids.push((
            hook["id"].as_str().unwrap().to_string(),
            hook["language"].as_str().unwrap().to_string(),
        ));
    }
    assert_eq!(
        ids,
        [
            ("keyhound".to_string(), "rust".to_string()),
            ("keyhound-system".to_string(), "system".to_string())
        ]
    );
}

#[test]
fn human_history_output_shows_commit_author_date_and_path() {
    let mut r = Repo::new();
    r.write("cfg/app.yaml", &format!("api_key: {}\n", pc_live(395)));
    let c = r.commit("add");
    let run = r.tree.run(&["history"]);
    run.assert_code(1);
    let short = &c.to_string()[..12];
    assert!(run.stdout.contains("cfg/app.yaml:1:10"), "{}", run.dump());
    assert!(
        run.stdout.contains(&format!(
            "commit {short} by Ada Lovelace <ada@example.org> on 2023-11-14T22:14:20Z"
        )),
        "{}",
        run.dump()
    );
}

#[test]
fn a_missing_object_is_named_and_fails_strict() {
    let mut r = Repo::new();
    r.write("a.txt", &format!("{}\n", pc_live(396)));
    r.write("b.txt", "plain text that will go missing\n");
    r.commit("two files");
    let blob = r
        .repo
        .index()
        .unwrap()
        .get_path(Path::new("b.txt"), 0)
        .unwrap()
        .id
        .to_string();
    let loose = r
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&loose).expect("git2 writes loose objects");
    let run = r.history(&[]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("missing or corrupt blob {blob}"));
    run.assert_stderr_contains("b.txt");
    assert_eq!(only(&run.findings())["path"], "a.txt");
    r.history(&["--strict"]).assert_code(2);
}

#[test]
fn sarif_of_a_history_scan_is_valid_and_names_the_commit() {
    let mut r = Repo::new();
    r.write("svc/config.py", &format!("KEY = '{}'\n", pc_live(397)));
    let added = r.commit("add");
    r.write("svc/config.py", "KEY = None\n");
    r.commit("remove");
    let run = r.tree.run(&["history", "--format", "sarif"]);
    run.assert_code(1);
    let log: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    crate::reports::assert_valid_sarif(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], PC_RULE);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "svc/config.py"
    );
    assert_eq!(result["properties"]["commit"], added.to_string());
    run.assert_nowhere(&pc_live(397));
}

#[test]
fn the_pre_commit_hook_never_runs_live_checks() {
    let r = Repo::new();
    r.write("leak.py", &format!("KEY = '{}'\n", pc_live(398)));
    r.stage("leak.py");
    // A port nothing listens on: a check, if one were sent, would come back `unknown`.
    let run = r.tree.run(&[
        "scan",
        "--pre-commit",
        "--verify",
        "--endpoint",
        "political-comms-api-key=http://127.0.0.1:9",
    ]);
    run.assert_code(1);
    assert!(
        !run.stdout.contains("unknown") && !run.stderr.contains("live check"),
        "{}",
        run.dump()
    );
}

/// Runs git in `dir`, asserting it succeeds.
fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// (path, commit) of every finding's locations, sorted.
fn all_locations(findings: &[Value]) -> Vec<(String, String)> {
    let mut all: Vec<_> = findings.iter().flat_map(locations).collect();
    all.sort();
    all
}

#[test]
fn keys_in_two_packs_and_in_loose_objects_are_all_found() {
    let mut r = Repo::new();
    r.write("one/a.txt", &format!("{}\n", pc_live(601)));
    let first = r.commit("packed first");
    git(r.path(), &["repack", "-q", "-d"]);
    r.write("two/b.txt", &format!("{}\n", pc_live(602)));
    let second = r.commit("packed second");
    // Without -a: a second pack beside the first, holding only what was loose.
    git(r.path(), &["repack", "-q", "-d"]);
    r.remove("one/a.txt")
        .write("three/c.txt", &format!("{}\n", pc_live(603)));
    let third = r.commit("still loose");
    let packs = std::fs::read_dir(r.path().join(".git/objects/pack"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pack")
        })
        .count();
    assert_eq!(packs, 2);
    let run = r.history(&[]);
    run.assert_code(1);
    assert_eq!(
        all_locations(&run.findings()),
        vec![
            ("one/a.txt".to_string(), first.to_string()),
            ("three/c.txt".to_string(), third.to_string()),
            ("two/b.txt".to_string(), second.to_string()),
        ]
    );
}

#[test]
fn a_clone_sharing_objects_through_alternates_is_scanned_whole() {
    let mut r = Repo::new();
    r.write("shared.txt", &format!("{}\n", pc_live(611)));
    let shared = r.commit("in the origin's objects");
    git(r.path(), &["repack", "-q", "-a", "-d"]);
    let clone = Tree::new(&[]);
    git(
        clone.path(),
        &[
            "clone",
            "-q",
            "--shared",
            &r.path().display().to_string(),
            "c",
        ],
    );
    let c = clone.path().join("c");
    assert!(c.join(".git/objects/info/alternates").is_file());
    std::fs::write(c.join("own.txt"), format!("{}\n", pc_live(612))).unwrap();
    git(&c, &["add", "own.txt"]);
    git(
        &c,
        &[
            "-c",
            "user.name=A",
            "-c",
            "user.email=a@example.org",
            "commit",
            "-q",
            "-m",
            "own",
        ],
    );
    let run = clone.run(&["history", "--format", "json", "c"]);
    run.assert_code(1);
    let found = all_locations(&run.findings());
    assert_eq!(found.len(), 2, "{}", run.dump());
    assert_eq!(found[1], ("shared.txt".to_string(), shared.to_string()));
    assert_eq!(found[0].0, "own.txt");
}

/// Keys in every version of a file that git stores as deltas (the oldest versions against
/// the newest) are found in each version, plain and base64-encoded: what the scan of a
/// delta carries over from its base's scan (keyword occurrences, encoded segments, quiet
/// lines) must find what a scan of the whole version finds, so each key is attributed to the
/// commit that wrote it, even where that version is a delta.
#[test]
fn keys_in_versions_stored_as_deltas_keep_their_commits() {
    use base64::Engine;
    let encode = |text: String| base64::engine::general_purpose::STANDARD.encode(text);
    let mut r = Repo::new();
    let filler = |version: usize| -> String {
        (0..300)
            .map(|i| format!("setting_{i} = value {i} of version {}\n", i % 7 + version))
            .collect()
    };
    let plain = pc_live(621);
    let encoded = encode(format!("POLITICAL_COMMS_KEY={}", pc_live(622)));
    let later = encode(format!("POLITICAL_COMMS_KEY={}", pc_live(623)));
    let mut text = format!("plain: {plain}\n{}token: {encoded}\n", filler(0));
    r.write("config.yaml", &text);
    let first = r.commit("version 0");
    let mut third = first;
    for version in 1..6 {
        text.push_str(&format!("added_in_{version} = {}\n", version * 11));
        if version == 3 {
            text.push_str(&format!("later: {later}\n"));
        }
        r.write("config.yaml", &text);
        let commit = r.commit(&format!("version {version}"));
        if version == 3 {
            third = commit;
        }
    }
    git(
        r.path(),
        &[
            "repack",
            "-q",
            "-a",
            "-d",
            "-f",
            "--window=10",
            "--depth=10",
        ],
    );
    let run = r.history(&[]);
    run.assert_code(1);
    let mut found: Vec<(String, String)> = run
        .findings()
        .iter()
        .map(|f| {
            let decoded = f["locations"][0]["decoded"].as_str().unwrap_or("plain");
            (
                decoded.to_string(),
                f["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        ("base64".to_string(), first.to_string()),
        ("base64".to_string(), third.to_string()),
        ("plain".to_string(), first.to_string()),
    ];
    expected.sort();
    assert_eq!(found, expected, "{}", run.dump());
}
