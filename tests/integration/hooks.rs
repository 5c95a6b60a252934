//! Git hooks as users run them: `scan --pre-commit` under every stage and mode of the
//! pre-commit framework, and the framework itself where it is installed. A hook that passes
//! silently with a key in the repository is the worst failure a secret scanner has.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{pc_live, tool_available, Run, Tree};

/// A repository driven through the `git` command line, as a user's hook sees it.
struct GitRepo {
    tree: Tree,
}

impl GitRepo {
    fn new() -> GitRepo {
        let repo = GitRepo {
            tree: Tree::new(&[]),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.tree.path()
    }

    fn write(&self, path: &str, contents: &str) -> &GitRepo {
        self.tree.write(path, contents);
        self
    }

    /// Runs git with a fixed identity and no user or system config; panics on failure.
    fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Git's hooks (a pre-push hook the framework installed) find the binary under test first.
    fn git_output(&self, args: &[&str]) -> Output {
        Command::new("git")
            .current_dir(self.path())
            .env("PATH", path_with_keyhound())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.org")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.org")
            .args(args)
            .output()
            .expect("git runs")
    }

    fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// `keyhound ARGS...` in the repository with extra environment variables.
    fn keyhound(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.tree.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::of(cmd, args)
    }
}

/// PATH with the directory of the keyhound binary under test first.
fn path_with_keyhound() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_keyhound"));
    format!(
        "{}:{}",
        bin.parent().expect("the binary's directory").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn git_available() -> bool {
    Command::new("git").arg("--version").output().is_ok()
}

#[test]
fn named_files_that_are_not_all_staged_are_scanned_whole() {
    // `pre-commit run --all-files` passes every tracked file while the index is clean.
    let r = GitRepo::new();
    r.write("app.py", &format!("KEY = '{}'\n", pc_live(601)))
        .write("README", "hello\n");
    r.commit_all("add");
    let run = r.keyhound(&["scan", "--pre-commit", "app.py", "README"], &[]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("these files hold leaked keys"),
        "{}",
        run.dump()
    );
    assert!(run.stdout.contains("app.py:1:8"), "{}", run.dump());
}

#[test]
fn named_files_that_are_all_staged_are_judged_by_their_added_lines() {
    let r = GitRepo::new();
    r.write("old.py", &format!("KEY = '{}'\n", pc_live(602)));
    r.commit_all("an old key, the history scan's business");
    r.write("old.py", &format!("KEY = '{}'\nX = 1\n", pc_live(602)))
        .write("new.py", "Y = 2\n");
    r.git(&["add", "old.py", "new.py"]);
    // Both are staged: only added lines count, and the old key is not on one.
    r.keyhound(&["scan", "--pre-commit", "old.py", "new.py"], &[])
        .assert_code(0);
    // A staged file among the names, with a key on an added line, is found.
    r.write("new.py", &format!("Y = '{}'\n", pc_live(603)));
    r.git(&["add", "new.py"]);
    let run = r.keyhound(&["scan", "--pre-commit", "new.py"], &[]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("this commit adds leaked keys"),
        "{}",
        run.dump()
    );
}

#[test]
fn a_first_push_scans_every_pushed_commit_and_names_it() {
    let r = GitRepo::new();
    r.write("a.txt", "nothing\n");
    r.commit_all("first");
    r.write("cfg.py", &format!("KEY = '{}'\n", pc_live(604)));
    let leaking = r.commit_all("leak");
    r.write("cfg.py", "KEY = None\n");
    r.commit_all("remove it again: still in history");
    // The index is clean: scanning it would pass.
    let env = [
        ("PRE_COMMIT", "1"),
        ("PRE_COMMIT_REMOTE_NAME", "origin"),
        ("PRE_COMMIT_REMOTE_URL", "/nowhere"),
        ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
        ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main"),
    ];
    let run = r.keyhound(&["scan", "--pre-commit", "a.txt"], &env);
    run.assert_code(1);
    assert!(
        run.stdout
            .contains(&format!("commit {} cfg.py:1:8", &leaking[..12])),
        "{}",
        run.dump()
    );
    assert!(run.stdout.contains("git rebase -i"), "{}", run.dump());
    assert!(!run.stdout.contains("staged files"), "{}", run.dump());
}

#[test]
fn a_push_skips_commits_the_remote_already_has() {
    let r = GitRepo::new();
    r.write("cfg.py", &format!("KEY = '{}'\n", pc_live(605)));
    let old = r.commit_all("an old leak, already on the remote");
    r.git(&["update-ref", "refs/remotes/origin/main", &old]);
    r.write("cfg.py", "KEY = None\n");
    r.commit_all("clean");
    let env = [
        ("PRE_COMMIT_REMOTE_NAME", "origin"),
        ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
    ];
    r.keyhound(&["scan", "--pre-commit"], &env).assert_code(0);
}

#[test]
fn a_shallow_clone_says_how_to_fetch_what_is_missing() {
    if !git_available() {
        eprintln!("skipped: no git binary");
        return;
    }
    let origin = GitRepo::new();
    origin.write("a.txt", "one\n");
    origin.commit_all("one");
    origin.write("a.txt", "two\n");
    origin.commit_all("two");
    let clone = Tree::new(&[]);
    let url = format!("file://{}", origin.path().display());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url, "c"])
        .current_dir(clone.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = clone.run(&["history", "c", "--since", "origin/develop"]);
    run.assert_code(2);
    run.assert_stderr_contains("shallow");
    run.assert_stderr_contains("git fetch --unshallow");
}

/// The pre-commit framework itself, with keyhound's own `.pre-commit-hooks.yaml` served from a
/// local repository and the `keyhound-system` hook (the test binary on PATH).
mod framework {
    use super::*;

    /// A repository whose `.pre-commit-config.yaml` uses keyhound's hook file, plus the home
    /// the framework caches hook repositories in.
    struct Setup {
        repo: GitRepo,
        _hooks: GitRepo,
        home: Tree,
    }

    fn setup() -> Option<Setup> {
        if !git_available() || !tool_available("pre-commit", "pip install pre-commit") {
            return None;
        }
        let hooks = GitRepo::new();
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
        hooks.write(
            ".pre-commit-hooks.yaml",
            &std::fs::read_to_string(file).unwrap(),
        );
        let rev = hooks.commit_all("hooks");
        let repo = GitRepo::new();
        repo.write(
            ".pre-commit-config.yaml",
            &format!(
                "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keyhound-system\n",
                hooks.path().display()
            ),
        );
        Some(Setup {
            repo,
            _hooks: hooks,
            home: Tree::new(&[]),
        })
    }

    impl Setup {
        fn pre_commit(&self, args: &[&str]) -> Output {
            let mut cmd = Command::new("pre-commit");
            cmd.current_dir(self.repo.path())
                .args(args)
                .env("PATH", path_with_keyhound())
                .env("PRE_COMMIT_HOME", self.home.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_AUTHOR_NAME", "Ada Lovelace")
                .env("GIT_AUTHOR_EMAIL", "ada@example.org")
                .env("GIT_COMMITTER_NAME", "Ada Lovelace")
                .env("GIT_COMMITTER_EMAIL", "ada@example.org")
                .env("NO_COLOR", "1");
            for (var, _) in std::env::vars_os() {
                if var.to_string_lossy().starts_with("KEYHOUND") {
                    cmd.env_remove(var);
                }
            }
            cmd.output().expect("pre-commit runs")
        }
    }

    fn text(out: &Output) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    #[test]
    fn a_commit_that_adds_a_key_fails() {
        let Some(s) = setup() else { return };
        s.repo
            .write("leak.py", &format!("KEY = '{}'\n", pc_live(611)));
        s.repo.git(&["add", "-A"]);
        let out = s.pre_commit(&["run"]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("leak.py:1:8"), "{}", text(&out));
    }

    #[test]
    fn all_files_and_the_manual_stage_scan_committed_files() {
        let Some(s) = setup() else { return };
        s.repo
            .write("leak.py", &format!("KEY = '{}'\n", pc_live(612)));
        s.repo.commit_all("a key already committed");
        for args in [
            &["run", "--all-files"][..],
            &["run", "--all-files", "--hook-stage", "manual"][..],
        ] {
            let out = s.pre_commit(args);
            assert!(!out.status.success(), "{args:?} passed: {}", text(&out));
            assert!(text(&out).contains("leak.py:1:8"), "{}", text(&out));
        }
    }

    #[test]
    fn the_first_push_of_a_new_repository_is_blocked() {
        let Some(s) = setup() else { return };
        let remote = Tree::new(&[]);
        let init = Command::new("git")
            .args(["init", "-q", "--bare"])
            .current_dir(remote.path())
            .output()
            .unwrap();
        assert!(init.status.success());
        s.repo
            .write("leak.py", &format!("KEY = '{}'\n", pc_live(613)));
        let leaking = s.repo.commit_all("leak");
        s.repo.write("leak.py", "KEY = None\n");
        s.repo.commit_all("gone from the tree, not from history");
        let remote_path = remote.path().display().to_string();
        s.repo.git(&["remote", "add", "origin", &remote_path]);
        let install = s.pre_commit(&["install", "--hook-type", "pre-push"]);
        assert!(install.status.success(), "{}", text(&install));
        let push = s.repo.git_output(&["push", "-q", "origin", "main"]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&push.stdout),
            String::from_utf8_lossy(&push.stderr)
        );
        assert!(!push.status.success(), "the push went through: {said}");
        assert!(said.contains(&leaking[..12]), "{said}");
        assert!(said.contains("git rebase -i"), "{said}");
    }
}
