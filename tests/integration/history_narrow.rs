//! Narrowing a history scan the way gitleaks' `--log-opts` does (`--since-date`,
//! `--until-date`, `--paths`), and links to each finding's commit and line (`--platform`).

use git2::{IndexAddOption, Repository, Signature, Time};

use crate::support::*;

/// 2024-01-10, 2024-01-20 and 2024-01-30, noon UTC.
const JAN_10: i64 = 1_704_888_000;
const JAN_20: i64 = JAN_10 + 10 * 86_400;
const JAN_30: i64 = JAN_10 + 20 * 86_400;

fn commit_at(repo: &Repository, clock: i64) -> String {
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

/// Three commits, ten days apart, each adding a key in its own file; the third also touches
/// the first file (which keeps its old key).
fn three_commits() -> (Tree, Repository, Vec<String>) {
    let tree = Tree::new(&[]);
    let repo = Repository::init(tree.path()).unwrap();
    tree.write("a/one.py", format!("K = \"{}\"\n", pc_live(621)));
    let c1 = commit_at(&repo, JAN_10);
    tree.write("b/two.py", format!("K = \"{}\"\n", pc_live(622)));
    let c2 = commit_at(&repo, JAN_20);
    tree.write("a/three.py", format!("K = \"{}\"\n", pc_live(623)));
    tree.write("a/one.py", format!("# edited\nK = \"{}\"\n", pc_live(621)));
    let c3 = commit_at(&repo, JAN_30);
    (tree, repo, vec![c1, c2, c3])
}

fn paths(run: &Run) -> Vec<String> {
    let mut p: Vec<String> = run
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    p.sort();
    p
}

#[test]
fn since_and_until_dates_keep_the_commits_between() {
    let (tree, _repo, _) = three_commits();
    let all = tree.run(&["history", "--format", "json"]);
    assert_eq!(paths(&all), ["a/one.py", "a/three.py", "b/two.py"]);

    // From the 20th: the second and third commits; the first file's old key, carried along by
    // the third commit's edit, is not new there.
    let run = tree.run(&["history", "--format", "json", "--since-date", "2024-01-20"]);
    assert_eq!(paths(&run), ["a/three.py", "b/two.py"], "{}", run.dump());
    assert!(run.summary().contains("from 2 commits"), "{}", run.dump());

    // Up to the 20th, a date alone including its whole day.
    let run = tree.run(&["history", "--format", "json", "--until-date", "2024-01-20"]);
    assert_eq!(paths(&run), ["a/one.py", "b/two.py"], "{}", run.dump());

    // RFC 3339, both ends.
    let run = tree.run(&[
        "history",
        "--format",
        "json",
        "--since-date",
        "2024-01-15T00:00:00Z",
        "--until-date",
        "2024-01-25T00:00:00+02:00",
    ]);
    assert_eq!(paths(&run), ["b/two.py"], "{}", run.dump());

    let run = tree.run(&["history", "--since-date", "last tuesday"]);
    run.assert_code(2);
    run.assert_stderr_contains("is not a date such as 2024-01-31");
}

#[test]
fn paths_keep_only_matching_blobs() {
    let (tree, _repo, _) = three_commits();
    let run = tree.run(&["history", "--format", "json", "--paths", "a/"]);
    assert_eq!(paths(&run), ["a/one.py", "a/three.py"], "{}", run.dump());
    let run = tree.run(&[
        "history", "--format", "json", "--paths", "three.py", "--paths", "b/**",
    ]);
    assert_eq!(paths(&run), ["a/three.py", "b/two.py"], "{}", run.dump());
}

#[test]
fn links_to_the_commit_and_line_follow_the_origin_remote() {
    let (tree, repo, commits) = three_commits();
    // No remote: no links.
    let run = tree.run(&["history", "--format", "json"]);
    assert!(run.findings()[0].get("link").is_none(), "{}", run.dump());

    repo.remote("origin", "https://ci:hunter2@github.com/acme/app.git")
        .unwrap();
    let run = tree.run(&["history", "--format", "json", "--paths", "b/"]);
    let link = format!(
        "https://github.com/acme/app/blob/{}/b/two.py#L1",
        commits[1]
    );
    let f = &run.findings()[0];
    assert_eq!(f["link"], link.as_str(), "{}", run.dump());
    assert_eq!(f["locations"][0]["link"], link.as_str());
    run.assert_nowhere("hunter2");

    // Every other format carries it too.
    let human = tree.run(&["history", "--paths", "b/"]);
    assert!(human.stdout.contains(&link), "{}", human.dump());
    let csv = tree.run(&["history", "--format", "csv", "--paths", "b/"]);
    assert!(
        csv.stdout.lines().next().unwrap().contains(",link"),
        "{}",
        csv.dump()
    );
    assert!(csv.stdout.contains(&link), "{}", csv.dump());
    let sarif = tree.run(&["history", "--format", "sarif", "--paths", "b/"]);
    assert!(sarif.stdout.contains(&link), "{}", sarif.dump());

    // A self-hosted host: --platform names it; `none` turns links off.
    repo.remote_set_url("origin", "git@code.example.com:team/app.git")
        .unwrap();
    let run = tree.run(&["history", "--format", "json", "--paths", "b/"]);
    assert!(run.findings()[0].get("link").is_none(), "{}", run.dump());
    let run = tree.run(&[
        "history",
        "--format",
        "json",
        "--paths",
        "b/",
        "--platform",
        "gitlab",
    ]);
    assert_eq!(
        run.findings()[0]["link"],
        format!(
            "https://code.example.com/team/app/-/blob/{}/b/two.py#L1",
            commits[1]
        )
        .as_str()
    );
    let run = tree.run(&[
        "history",
        "--format",
        "json",
        "--paths",
        "b/",
        "--platform",
        "bitbucket",
    ]);
    assert!(run.findings()[0]["link"]
        .as_str()
        .unwrap()
        .ends_with("/b/two.py#lines-1"));
    repo.remote_set_url("origin", "https://github.com/acme/app")
        .unwrap();
    let run = tree.run(&[
        "history",
        "--format",
        "json",
        "--paths",
        "b/",
        "--platform",
        "none",
    ]);
    assert!(run.findings()[0].get("link").is_none(), "{}", run.dump());
}
