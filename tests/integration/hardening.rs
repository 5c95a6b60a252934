//! Issue 9's "no silent passes" and "no panics, bounded resources": inputs that once made
//! keyhound pass silently, panic, or take unbounded time or memory.

use std::path::Path;

use git2::{IndexAddOption, Oid, Repository, Signature, Time};

use crate::support::{pc_live, Tree, PC_RULE};

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

    fn write(&self, path: &str, contents: impl AsRef<[u8]>) -> &Repo {
        self.tree.write(path, contents);
        self
    }

    fn stage(&self, path: &str) {
        let mut index = self.repo.index().unwrap();
        index.add_path(Path::new(path)).unwrap();
        index.write().unwrap();
    }

    /// Commits everything in the work tree on HEAD.
    fn commit(&mut self, message: &str) -> Oid {
        let mut index = self.repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        index.write().unwrap();
        let tree_id = index.write_tree().unwrap();
        let tree = self.repo.find_tree(tree_id).unwrap();
        self.clock += 60;
        let sig = Signature::new("Ada", "ada@example.org", &Time::new(self.clock, 0)).unwrap();
        let parents: Vec<git2::Commit> = match self.repo.head() {
            Ok(h) => vec![h.peel_to_commit().unwrap()],
            Err(_) => vec![],
        };
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parent_refs)
            .unwrap()
    }
}

#[test]
fn staged_scan_judges_a_file_git_diffs_as_binary_whole() {
    // `-diff` in .gitattributes: git shows no lines for the change.
    let mut r = Repo::new();
    r.write(".gitattributes", "*.cfg -diff\n");
    r.write("app.cfg", "name = demo\n");
    r.commit("base");
    r.write("app.cfg", format!("name = demo\nkey = {}\n", pc_live(901)));
    r.stage("app.cfg");
    let run = r.tree.run(&["scan", "--staged", "--format", "json"]);
    run.assert_code(1);
    run.assert_findings(&[(PC_RULE, "app.cfg", 2, 7)]);

    // HEAD's version held a NUL byte, so git diffs the file as binary.
    let mut r = Repo::new();
    r.write("data.txt", b"header\0\n".as_slice());
    r.commit("base");
    r.write("data.txt", format!("header\nkey = {}\n", pc_live(902)));
    r.stage("data.txt");
    let run = r.tree.run(&["scan", "--pre-commit", "--format", "json"]);
    run.assert_code(1);
    run.assert_findings(&[(PC_RULE, "data.txt", 2, 7)]);
}
