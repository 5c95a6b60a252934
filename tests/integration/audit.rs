//! `keyhound audit` and `keyhound merge`: many repositories, cloned with the system git,
//! sharded, resumed, scanned incrementally, and merged into one report.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::support::{pc_live, Run, Tree};

/// `git ARGS` in `dir` with a fixed identity and no user or system config.
pub(crate) fn git(dir: &Path, args: &[&str]) {
    let out = StdCommand::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository at `root/name` with one commit per entry of `commits` (files to write).
pub(crate) fn repo(root: &Path, name: &str, commits: &[&[(&str, String)]]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q"]);
    for (i, files) in commits.iter().enumerate() {
        for (path, text) in *files {
            let full = dir.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        git(&dir, &["add", "-A"]);
        git(
            &dir,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("commit {i}"),
            ],
        );
    }
    dir
}

/// The JSON records of an audit output.
pub(crate) fn records(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub(crate) fn of_type<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

/// (repository identity, path, fingerprint) of every finding record.
pub(crate) fn finding_set(records: &[Value]) -> BTreeSet<(String, String, String)> {
    of_type(records, "finding")
        .iter()
        .map(|r| {
            (
                r["identity"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn audit_scans_every_listed_repository_records_failures_and_merges_keys() {
    let tree = Tree::new(&[]);
    let root = tree.path();
    let shared = pc_live(1501);
    let own = pc_live(1502);
    let a = repo(
        root,
        "a",
        &[
            &[("app.env", format!("KEY={shared}\n"))],
            &[("app.env", "KEY=${KEY}\n".into())],
        ],
    );
    let b = repo(
        root,
        "b",
        &[&[("conf/b.env", format!("KEY={shared}\nOTHER={own}\n"))]],
    );
    let c = repo(root, "c", &[&[("README.md", "nothing here\n".into())]]);
    let list = format!(
        "# three repositories, one missing\n{}\nfile://{}\n{}\n\n{}/missing\n",
        a.display(),
        b.display(),
        c.display(),
        root.display()
    );
    tree.write("repos.txt", list);
    let run = tree.run(&[
        "audit",
        "--repos",
        "repos.txt",
        "-o",
        "out.jsonl",
        "--workdir",
        "work",
    ]);
    run.assert_code(2)
        .assert_nowhere(&shared)
        .assert_nowhere(&own);
    assert!(run.stderr.contains("missing"), "{}", run.dump());
    let recs = records(&read(&root.join("out.jsonl")));
    let repos = of_type(&recs, "repository");
    assert_eq!(repos.len(), 4, "one record per repository: {recs:#?}");
    let failed: Vec<_> = repos.iter().filter(|r| !r["error"].is_null()).collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]["identity"]
        .as_str()
        .unwrap()
        .ends_with("/missing"));
    for r in repos.iter().filter(|r| r["error"].is_null()) {
        assert_eq!(r["head"].as_str().unwrap().len(), 40, "{r}");
        assert!(r["refs"]["refs/heads/main"].is_string(), "{r}");
        assert!(r["blobs"].as_u64().unwrap() >= 1);
        assert!(r["commits"].as_u64().unwrap() >= 1);
    }
    let found = of_type(&recs, "finding");
    assert_eq!(found.len(), 3, "{found:#?}");
    for f in &found {
        assert_eq!(f["commit"].as_str().unwrap().len(), 40);
        assert!(f["repository"].is_string() && f["rule_id"].is_string());
    }
    // Clones are deleted after their scan.
    assert_eq!(std::fs::read_dir(root.join("work")).unwrap().count(), 0);

    // One key in two repositories is one finding with two repository locations.
    let merged = tree.run(&["merge", "out.jsonl", "--format", "json"]);
    merged.assert_code(2).assert_nowhere(&shared);
    let report: Value = serde_json::from_str(&merged.stdout).unwrap();
    let findings: Vec<Value> = report["findings"].as_array().unwrap().clone();
    assert_eq!(findings.len(), 2, "{}", merged.dump());
    let shared_paths: BTreeSet<String> = findings
        .iter()
        .find(|f| f["locations"].as_array().unwrap().len() == 2)
        .expect("the shared key")["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect();
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap().display().to_string();
    assert_eq!(
        shared_paths,
        BTreeSet::from([
            format!("{}/app.env", canonical(&a)),
            format!("{}/conf/b.env", canonical(&b))
        ])
    );
    // Any format keyhound writes; exit 1 without a failed repository.
    let ok = tree.run(&["audit", "--repos", "repos.txt", "-o", "out.jsonl"]);
    ok.assert_code(2);
    tree.write("ok.txt", format!("{}\n{}\n", a.display(), c.display()));
    tree.run(&[
        "audit",
        "--repos",
        "ok.txt",
        "-o",
        "ok.jsonl",
        "--keep-clones",
        "--workdir",
        "kept",
    ])
    .assert_code(1);
    assert_eq!(
        std::fs::read_dir(root.join("kept")).unwrap().count(),
        2,
        "--keep-clones"
    );
    let sarif = tree.run(&["merge", "ok.jsonl", "--format", "sarif"]);
    sarif.assert_code(1);
    let log: Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 1);
    tree.write("clean.txt", format!("{}\n", c.display()));
    tree.run(&["audit", "--repos", "clean.txt", "-o", "clean.jsonl"])
        .assert_code(0);
    tree.run(&["merge", "clean.jsonl", "--format", "csv"])
        .assert_code(0);
}

#[test]
fn a_bad_list_line_is_named_and_nothing_runs() {
    let tree = Tree::new(&[("repos.txt", "ok/path\n--upload-pack=touch pwned\n")]);
    let run = tree.run(&["audit", "--repos", "repos.txt"]);
    run.assert_code(2).assert_stderr_contains("repos.txt:2:");
    assert!(!tree.path().join("pwned").exists());
}

#[test]
fn state_resumes_a_run_and_incremental_scans_only_new_commits() {
    let tree = Tree::new(&[]);
    let root = tree.path();
    let first = pc_live(1511);
    let second = pc_live(1512);
    let a = repo(root, "a", &[&[("one.env", format!("KEY={first}\n"))]]);
    let b = repo(root, "b", &[&[("x.txt", "clean\n".into())]]);
    tree.write("repos.txt", format!("{}\n{}\n", a.display(), b.display()));
    let audit = |out: &str, extra: &[&str]| -> Run {
        let mut args = vec![
            "audit",
            "--repos",
            "repos.txt",
            "--state",
            "state.json",
            "-o",
            out,
        ];
        args.extend_from_slice(extra);
        tree.run(&args)
    };
    audit("1.jsonl", &[]).assert_code(1);
    let one = records(&read(&root.join("1.jsonl")));
    assert_eq!(of_type(&one, "finding").len(), 1);
    let state: Value = serde_json::from_str(&read(&root.join("state.json"))).unwrap();
    assert_eq!(state["complete"], true);

    // A new commit adds a second key (and a branch): the incremental audit reports only it.
    std::fs::write(a.join("two.env"), format!("KEY={second}\n")).unwrap();
    git(&a, &["add", "-A"]);
    git(&a, &["commit", "-q", "-m", "second key"]);
    git(&a, &["branch", "feature"]);
    audit("2.jsonl", &["--incremental"]).assert_code(1);
    let two = records(&read(&root.join("2.jsonl")));
    let found = of_type(&two, "finding");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["path"], "two.env");
    let recs = of_type(&two, "repository");
    let rec_a = recs
        .iter()
        .find(|r| r["repository"].as_str().unwrap().ends_with("/a"))
        .unwrap();
    assert_eq!(rec_a["scan"], "incremental");
    assert_eq!(rec_a["commits"], 1);
    let rec_b = recs
        .iter()
        .find(|r| r["repository"].as_str().unwrap().ends_with("/b"))
        .unwrap();
    assert_eq!(rec_b["scan"], "unchanged");
    assert_eq!(rec_b["commits"], 0);

    // Nothing new: nothing scanned, nothing found.
    audit("3.jsonl", &["--incremental"]).assert_code(0);
    let three = records(&read(&root.join("3.jsonl")));
    assert!(of_type(&three, "finding").is_empty());
    assert!(of_type(&three, "repository")
        .iter()
        .all(|r| r["scan"] == "unchanged"));

    // Without --incremental, everything again.
    audit("4.jsonl", &[]).assert_code(1);
    assert_eq!(
        of_type(&records(&read(&root.join("4.jsonl"))), "finding").len(),
        2
    );

    // An unfinished run resumes: the finished repository is skipped, the output appended to.
    let mut state: Value = serde_json::from_str(&read(&root.join("state.json"))).unwrap();
    state["complete"] = Value::Bool(false);
    let done = state["repos"]
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.ends_with("/b"))
        .unwrap()
        .clone();
    state["repos"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| *k == done);
    std::fs::write(root.join("state.json"), state.to_string()).unwrap();
    let kept: String = read(&root.join("4.jsonl"))
        .lines()
        .filter(|l| l.contains(&format!("\"identity\":\"{done}\"")))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(root.join("5.jsonl"), kept).unwrap();
    let resumed = audit("5.jsonl", &[]);
    resumed
        .assert_code(1)
        .assert_stderr_contains("1 finished already");
    let five = records(&read(&root.join("5.jsonl")));
    assert_eq!(
        finding_set(&five),
        finding_set(&records(&read(&root.join("4.jsonl"))))
    );
    assert_eq!(of_type(&five, "repository").len(), 2);
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/audit")
        .join(name)
}

fn yaml_docs(name: &str) -> Vec<yaml_rust2::Yaml> {
    yaml_rust2::YamlLoader::load_from_str(&read(&example(name))).expect("valid YAML")
}

#[test]
fn the_kubernetes_example_is_an_indexed_job_whose_shards_match_its_completions() {
    let docs = yaml_docs("kubernetes-audit-job.yaml");
    let job = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("Job"))
        .expect("a Job");
    assert_eq!(job["apiVersion"].as_str(), Some("batch/v1"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_i64().expect("completions");
    assert_eq!(spec["parallelism"].as_i64(), Some(n));
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let container = &pod["containers"][0];
    let script = container["args"][0].as_str().expect("the audit command");
    assert!(script.contains("keyhound audit"), "{script}");
    assert!(
        script.contains(&format!("--shard \"$JOB_COMPLETION_INDEX/{n}\"")),
        "the shard count must equal completions ({n}): {script}"
    );
    // Results go to a volume the merge job reads.
    let claim = docs
        .iter()
        .find(|d| d["kind"].as_str() == Some("PersistentVolumeClaim"))
        .expect("a volume for the results");
    let claim_name = claim["metadata"]["name"].as_str().unwrap();
    let merge = &yaml_docs("kubernetes-merge-job.yaml")[0];
    assert_eq!(merge["apiVersion"].as_str(), Some("batch/v1"));
    assert_eq!(merge["kind"].as_str(), Some("Job"));
    let merge_spec = &merge["spec"]["template"]["spec"];
    assert_eq!(
        merge_spec["volumes"][0]["persistentVolumeClaim"]["claimName"].as_str(),
        Some(claim_name)
    );
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"].as_str(),
        Some(claim_name)
    );
    let merge_script = merge_spec["containers"][0]["args"][0].as_str().unwrap();
    assert!(
        merge_script.contains("keyhound merge /results/shard-*.jsonl"),
        "{merge_script}"
    );
    // Every flag the examples use is one keyhound takes.
    let tree = Tree::new(&[]);
    for help in [["audit", "--help"], ["merge", "--help"]] {
        let run = tree.run(&help);
        run.assert_code(0);
        let flags: Vec<&str> = if help[0] == "audit" {
            vec![
                "--github-org",
                "--shard",
                "--state",
                "--output",
                "--workdir",
                "--parallel-repos",
            ]
        } else {
            vec!["--format", "--output"]
        };
        for flag in flags {
            assert!(run.stdout.contains(flag), "{flag}");
        }
    }
}

#[test]
fn the_github_actions_example_is_a_valid_workflow_with_a_matrix_and_a_merge_job() {
    let path = example("github-actions-audit.yml");
    let docs = yaml_docs("github-actions-audit.yml");
    let jobs = &docs[0]["jobs"];
    let shards = jobs["audit"]["strategy"]["matrix"]["shard"]
        .as_vec()
        .expect("a matrix");
    let n = jobs["audit"]["env"]["SHARDS"].as_i64().unwrap();
    assert_eq!(shards.len() as i64, n);
    for (i, s) in shards.iter().enumerate() {
        assert_eq!(s.as_i64(), Some(i as i64));
    }
    assert_eq!(jobs["merge"]["needs"].as_str(), Some("audit"));
    let text = read(&path);
    assert!(text.contains("--shard \"${{ matrix.shard }}/${SHARDS}\""));
    assert!(text.contains("upload-sarif"));
    if !crate::support::tool_available("check-jsonschema", "pip install check-jsonschema") {
        return;
    }
    let out = StdCommand::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Merged findings as fingerprint → the set of their location paths.
fn merged_set(tree: &Tree, files: &[&str]) -> BTreeSet<(String, Vec<String>)> {
    let mut args = vec!["merge", "--format", "json"];
    args.extend_from_slice(files);
    let run = tree.run(&args);
    run.assert_code(1);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let findings: Vec<Value> = report["findings"].as_array().unwrap().clone();
    findings
        .iter()
        .map(|f| {
            let mut paths: Vec<String> = f["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    format!(
                        "{}@{}",
                        l["path"].as_str().unwrap(),
                        l["commit"].as_str().unwrap()
                    )
                })
                .collect();
            paths.sort();
            (f["fingerprint"].as_str().unwrap().to_string(), paths)
        })
        .collect()
}

#[test]
fn forty_repositories_give_the_same_findings_in_one_shard_in_four_and_after_a_resume() {
    let tree = Tree::new(&[]);
    let root = tree.path().join("repos");
    let shared = pc_live(1600);
    let mut list = String::new();
    for i in 0..40u64 {
        let mut commits: Vec<Vec<(&str, String)>> =
            vec![vec![("README.md", format!("repo {i}\n"))]];
        if i % 8 == 0 {
            commits.push(vec![("deploy/prod.env", format!("KEY={shared}\n"))]);
        }
        if i % 3 == 0 {
            commits.push(vec![(
                "src/settings.py",
                format!("API_KEY = \"{}\"\n", pc_live(1700 + i)),
            )]);
            commits.push(vec![("src/settings.py", "API_KEY = env()\n".to_string())]);
        }
        let slices: Vec<&[(&str, String)]> = commits.iter().map(Vec::as_slice).collect();
        let dir = repo(&root, &format!("r{i:02}"), &slices);
        list.push_str(&format!("{}\n", dir.display()));
    }
    tree.write("repos.txt", &list);

    tree.run(&[
        "audit",
        "--repos",
        "repos.txt",
        "-o",
        "all.jsonl",
        "--parallel-repos",
        "4",
    ])
    .assert_code(1);
    let all = records(&read(&tree.path().join("all.jsonl")));
    assert_eq!(of_type(&all, "repository").len(), 40);
    let one = merged_set(&tree, &["all.jsonl"]);
    // 14 own keys (i % 3 == 0) and the shared one, in 5 repositories.
    assert_eq!(one.len(), 15);
    assert!(one.iter().any(|(_, paths)| paths.len() == 5));

    // Four shards as four processes at once.
    let exe = assert_cmd::cargo::cargo_bin("keyhound");
    let children: Vec<_> = (0..4)
        .map(|i| {
            StdCommand::new(&exe)
                .current_dir(tree.path())
                .args([
                    "audit",
                    "--repos",
                    "repos.txt",
                    "--parallel-repos",
                    "1",
                    "--quiet",
                ])
                .arg(format!("--shard={i}/4"))
                .arg(format!("--output=shard-{i}.jsonl"))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        let code = child.wait().unwrap().code();
        assert!(matches!(code, Some(0 | 1)), "{code:?}");
    }
    let mut identities = Vec::new();
    for i in 0..4 {
        let recs = records(&read(&tree.path().join(format!("shard-{i}.jsonl"))));
        let ids: Vec<String> = of_type(&recs, "repository")
            .iter()
            .map(|r| r["identity"].as_str().unwrap().to_string())
            .collect();
        assert!(
            !ids.is_empty() && ids.len() < 40,
            "shard {i} holds {} repositories",
            ids.len()
        );
        identities.extend(ids);
    }
    identities.sort();
    let before = identities.len();
    identities.dedup();
    assert_eq!(
        (before, identities.len()),
        (40, 40),
        "every repository in exactly one shard"
    );
    let four = merged_set(
        &tree,
        &[
            "shard-0.jsonl",
            "shard-1.jsonl",
            "shard-2.jsonl",
            "shard-3.jsonl",
        ],
    );
    assert_eq!(four, one);

    // A run killed halfway: its state holds 20 repositories finished (and the output their
    // records). Run again with the same state: the rest is audited, the result is the same.
    let half: String = list.lines().take(20).map(|l| format!("{l}\n")).collect();
    tree.write("half.txt", &half);
    tree.run(&[
        "audit",
        "--repos",
        "half.txt",
        "--state",
        "state.json",
        "-o",
        "resumed.jsonl",
    ])
    .assert_code(1);
    let mut state: Value = serde_json::from_str(&read(&tree.path().join("state.json"))).unwrap();
    assert_eq!(state["repos"].as_object().unwrap().len(), 20);
    state["complete"] = Value::Bool(false);
    std::fs::write(tree.path().join("state.json"), state.to_string()).unwrap();
    let resumed = tree.run(&[
        "audit",
        "--repos",
        "repos.txt",
        "--state",
        "state.json",
        "-o",
        "resumed.jsonl",
    ]);
    resumed
        .assert_code(1)
        .assert_stderr_contains("auditing 20 of 40 repositories");
    let recs = records(&read(&tree.path().join("resumed.jsonl")));
    assert_eq!(of_type(&recs, "repository").len(), 40);
    assert_eq!(merged_set(&tree, &["resumed.jsonl"]), one);
}

/// A forge API on 127.0.0.1 (the tests' one mock server): answers each request with
/// `handler(path and query, how many earlier requests had that path)` and records what it was
/// asked.
struct Forge {
    url: String,
    seen: Log,
    _mock: crate::support::Mock,
}

type Answer = (u16, Vec<(String, String)>, String);
/// Each request's path and query, and its headers (names lowercased).
type Log = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

impl Forge {
    fn start(handler: impl Fn(&str, usize) -> Answer + Send + 'static) -> Forge {
        let seen: Log = Default::default();
        let log = seen.clone();
        let mock = crate::support::Mock::start_with(move |request, earlier| {
            let url = request.url.clone();
            let headers = request
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect();
            log.lock().unwrap().push((url.clone(), headers));
            let prior = earlier.iter().filter(|s| s.url == url).count();
            let (status, headers, body) = handler(&url, prior);
            crate::support::Reply {
                status,
                // The mock's header names are static; a test's few answers can spare them.
                headers: headers
                    .into_iter()
                    .map(|(n, v)| (&*Box::leak(n.into_boxed_str()), v))
                    .collect(),
                body,
            }
        });
        Forge {
            url: mock.url(),
            seen,
            _mock: mock,
        }
    }
}

#[test]
fn a_github_organisation_is_listed_page_by_page_without_archived_repositories_or_forks() {
    let tree = Tree::new(&[]);
    let root = tree.path();
    let key = pc_live(1801);
    let live = repo(root, "live", &[&[("a.env", format!("KEY={key}\n"))]]);
    let other = repo(root, "other", &[&[("b.txt", "clean\n".into())]]);
    let url = |p: &Path| format!("file://{}", p.display());
    let page1 = format!(
        r#"[{{"clone_url":"{}","archived":false,"fork":false}},{{"clone_url":"https://127.0.0.1:1/acme/old.git","archived":true,"fork":false}}]"#,
        url(&live)
    );
    let page2 = format!(
        r#"[{{"clone_url":"{}","archived":false,"fork":false}},{{"clone_url":"https://127.0.0.1:1/acme/fork.git","archived":false,"fork":true}}]"#,
        url(&other)
    );
    let origin = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let own = origin.clone();
    let forge = Forge::start(move |path, prior| {
        let base = "/orgs/acme/repos?type=all&per_page=100";
        if path == base {
            // Rate limited once: wait as asked, then the first page.
            if prior == 0 {
                return (429, vec![("Retry-After".into(), "1".into())], "{}".into());
            }
            let next = format!("<{}{base}&page=2>; rel=\"next\"", own.get().unwrap());
            return (200, vec![("Link".into(), next)], page1.clone());
        }
        if path == format!("{base}&page=2") {
            return (200, vec![], page2.clone());
        }
        (404, vec![], r#"{"message":"Not Found"}"#.into())
    });
    origin.set(forge.url.clone()).unwrap();
    let run = Run::of(
        {
            let mut cmd = tree.command(&["audit", "--github-org", "acme", "--api-url", &forge.url]);
            cmd.env("GITHUB_TOKEN", "test-token");
            cmd
        },
        &["audit"],
    );
    run.assert_code(1).assert_nowhere("test-token");
    let recs = records(&run.stdout);
    let mut audited: Vec<&str> = of_type(&recs, "repository")
        .iter()
        .map(|r| r["repository"].as_str().unwrap())
        .collect();
    audited.sort();
    assert_eq!(
        audited,
        [url(&live), url(&other)],
        "archived and fork left out"
    );
    assert_eq!(of_type(&recs, "finding").len(), 1);
    let seen = forge.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "rate-limited once, then two pages: {seen:?}");
    for (_, headers) in &seen {
        assert!(headers.contains(&("authorization".into(), "Bearer test-token".into())));
    }

    // --include-archived --include-forks list them too (their clones fail: recorded, exit 2).
    let run = Run::of(
        tree.command(&[
            "audit",
            "--github-org",
            "acme",
            "--api-url",
            &forge.url,
            "--include-archived",
            "--include-forks",
        ]),
        &["audit"],
    );
    run.assert_code(2);
    assert_eq!(of_type(&records(&run.stdout), "repository").len(), 4);

    // An API on plain http elsewhere than loopback is refused before any request.
    tree.run(&[
        "audit",
        "--github-org",
        "acme",
        "--api-url",
        "http://api.example.com",
    ])
    .assert_code(2)
    .assert_stderr_contains("plain http only to loopback");
}

#[test]
fn a_gitlab_group_is_listed_with_x_next_page() {
    let tree = Tree::new(&[]);
    let root = tree.path();
    let one = repo(root, "one", &[&[("x.txt", "clean\n".into())]]);
    let two = repo(root, "two", &[&[("y.txt", "clean\n".into())]]);
    let url = |p: &Path| format!("file://{}", p.display());
    let (u1, u2) = (url(&one), url(&two));
    let forge = Forge::start(move |path, _| {
        let base = "/api/v4/groups/acme%2Fplatform/projects?include_subgroups=true&per_page=100&order_by=id&sort=asc&archived=false";
        match path.strip_prefix(base) {
            Some("&page=1") => (
                200,
                vec![("x-next-page".into(), "2".into())],
                format!(
                    r#"[{{"http_url_to_repo":"{u1}","archived":false}},{{"http_url_to_repo":"https://127.0.0.1:1/f.git","archived":false,"forked_from_project":{{"id":1}}}}]"#
                ),
            ),
            Some("&page=2") => (
                200,
                vec![("x-next-page".into(), "".into())],
                format!(r#"[{{"http_url_to_repo":"{u2}","archived":false}}]"#),
            ),
            _ => (404, vec![], r#"{"message":"404 Group Not Found"}"#.into()),
        }
    });
    let mut cmd = tree.command(&[
        "audit",
        "--gitlab-group",
        "acme/platform",
        "--api-url",
        &forge.url,
    ]);
    cmd.env("GITLAB_TOKEN", "gl-token");
    let run = Run::of(cmd, &["audit"]);
    run.assert_code(0);
    let recs = records(&run.stdout);
    assert_eq!(of_type(&recs, "repository").len(), 2, "{}", run.dump());
    let seen = forge.seen.lock().unwrap().clone();
    assert!(seen
        .iter()
        .all(|(_, h)| h.contains(&("private-token".into(), "gl-token".into()))));
    // A group that does not exist: the API's message, exit 2.
    tree.run(&["audit", "--gitlab-group", "nope", "--api-url", &forge.url])
        .assert_code(2)
        .assert_stderr_contains("404");
}
