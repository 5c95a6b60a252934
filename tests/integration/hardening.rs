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

/// The loose object file of `oid` (every object these tests write is loose).
fn loose_object(r: &Repo, oid: Oid) -> std::path::PathBuf {
    let hex = oid.to_string();
    r.repo
        .path()
        .join("objects")
        .join(&hex[..2])
        .join(&hex[2..])
}

#[test]
fn history_scans_around_a_missing_commit_and_names_it() {
    let mut r = Repo::new();
    r.write("a.env", format!("KEY={}\n", pc_live(911)));
    r.commit("one");
    r.write("b.env", format!("KEY={}\n", pc_live(912)));
    let lost = r.commit("two");
    r.write("c.env", format!("KEY={}\n", pc_live(913)));
    r.commit("three");
    std::fs::remove_file(loose_object(&r, lost)).expect("remove a commit object");

    let run = r.tree.run(&["history", "--format", "json"]);
    let mut paths: Vec<String> = run
        .findings()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["a.env", "b.env", "c.env"], "{}", run.dump());
    run.assert_code(1);
    run.assert_stderr_contains(&lost.to_string()[..12]);
    assert!(run.summary().contains("1 unreadable"), "{}", run.dump());
    assert!(!run.stderr.contains("no commits"), "{}", run.dump());
    r.tree
        .run(&["history", "--format", "json", "--strict", "-q"])
        .assert_code(2);
}

#[test]
fn history_names_a_branch_whose_tip_cannot_be_read() {
    let mut r = Repo::new();
    r.write("a.env", format!("KEY={}\n", pc_live(914)));
    let base = r.commit("one");
    r.repo
        .branch("side", &r.repo.find_commit(base).unwrap(), false)
        .unwrap();
    r.repo.set_head("refs/heads/side").unwrap();
    r.write("side.env", format!("KEY={}\n", pc_live(915)));
    let tip = r.commit("side work");
    let object = loose_object(&r, tip);
    std::fs::remove_file(&object).unwrap();
    std::fs::write(&object, b"not a zlib stream").unwrap();
    // HEAD stays on the readable commit.
    r.repo.set_head_detached(base).unwrap();

    let run = r.tree.run(&["history", "--format", "json"]);
    run.assert_stderr_contains("refs/heads/side");
    assert_eq!(run.findings().len(), 1, "{}", run.dump());
    r.tree
        .run(&["history", "--format", "json", "--strict"])
        .assert_code(2);
}

#[test]
fn history_walks_a_tree_nested_thirty_thousand_deep() {
    let mut r = Repo::new();
    r.write("top.env", format!("KEY={}\n", pc_live(916)));
    r.commit("top");
    // Build `d/d/d/.../deep.txt`, 30,000 directories deep, straight into the object store.
    let blob = r.repo.blob(b"nothing to see\n").unwrap();
    let mut builder = r.repo.treebuilder(None).unwrap();
    builder.insert("deep.txt", blob, 0o100644).unwrap();
    let mut tree = builder.write().unwrap();
    for _ in 0..30_000 {
        let mut builder = r.repo.treebuilder(None).unwrap();
        builder.insert("d", tree, 0o040000).unwrap();
        tree = builder.write().unwrap();
    }
    let head = r.repo.head().unwrap().peel_to_commit().unwrap();
    let mut root = r.repo.treebuilder(Some(&head.tree().unwrap())).unwrap();
    root.insert("d", tree, 0o040000).unwrap();
    let root = r.repo.find_tree(root.write().unwrap()).unwrap();
    let sig = Signature::new("Ada", "ada@example.org", &Time::new(1_800_000_000, 0)).unwrap();
    r.repo
        .commit(Some("HEAD"), &sig, &sig, "deep", &root, &[&head])
        .unwrap();

    let run = r.tree.run(&["history", "--format", "json"]);
    run.assert_findings(&[(PC_RULE, "top.env", 1, 5)]);
    assert!(run.summary().contains("2 blobs"), "{}", run.dump());
}

#[cfg(unix)]
/// `keyhound ARGS` under a 250 MB address-space limit, in the repository.
fn run_with_memory_limit(r: &Repo, args: &[&str]) -> crate::support::Run {
    let exe = assert_cmd::cargo::cargo_bin("keyhound");
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.current_dir(r.tree.path())
        .arg("-c")
        .arg("ulimit -v 250000 && exec \"$0\" \"$@\"")
        .arg(exe)
        .args(args)
        .timeout(std::time::Duration::from_secs(60));
    crate::support::Run::of(cmd, args)
}

#[cfg(unix)]
/// A 400 MB blob of zeros (a few hundred KB in the object store), written in pieces.
fn huge_blob(r: &Repo) -> Oid {
    use std::io::Write;
    let mut writer = r.repo.blob_writer(None).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..400 {
        writer.write_all(&chunk).unwrap();
    }
    writer.commit().unwrap()
}

#[cfg(unix)]
#[test]
fn blobs_read_through_libgit2_are_sized_before_they_are_inflated() {
    let mut r = Repo::new();
    r.write("small.txt", "hello\n");
    r.commit("one");
    let big = huge_blob(&r);
    let head = r.repo.head().unwrap().peel_to_commit().unwrap();
    let mut root = r.repo.treebuilder(Some(&head.tree().unwrap())).unwrap();
    root.insert("big.bin", big, 0o100644).unwrap();
    let root = r.repo.find_tree(root.write().unwrap()).unwrap();
    let sig = Signature::new("Ada", "ada@example.org", &Time::new(1_800_000_000, 0)).unwrap();
    r.repo
        .commit(Some("HEAD"), &sig, &sig, "big", &root, &[&head])
        .unwrap();

    // `--since` reads its few blobs through libgit2.
    let run = run_with_memory_limit(
        &r,
        &[
            "history",
            "--since",
            "HEAD~1",
            "-j",
            "1",
            "--max-file-size",
            "1M",
            "--strict",
        ],
    );
    run.assert_code(0);
    assert!(run.summary().contains("1 too large"), "{}", run.dump());

    // The staged blob, likewise.
    let mut index = r.repo.index().unwrap();
    let mut entry = index.get_path(Path::new("small.txt"), 0).unwrap();
    entry.path = b"staged.bin".to_vec();
    entry.id = big;
    entry.file_size = 0;
    index.add(&entry).unwrap();
    index.write().unwrap();
    let run = run_with_memory_limit(
        &r,
        &[
            "scan",
            "--staged",
            "-j",
            "1",
            "--max-file-size",
            "1M",
            "--strict",
        ],
    );
    run.assert_code(0);
    assert!(run.summary().contains("1 too large"), "{}", run.dump());
}

#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_is_scanned() {
    let t = Tree::new(&[]);
    let fifo = t.path().join("keys.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let key = pc_live(921);
    // The writer blocks until keyhound opens the FIFO.
    let mut writer = std::process::Command::new("sh")
        .arg("-c")
        .arg("printf 'KEY=%s\\n' \"$1\" > \"$2\"")
        .arg("sh")
        .arg(&key)
        .arg(&fifo)
        .spawn()
        .unwrap();
    let run = t.scan_json(&["keys.fifo"]);
    // If keyhound never opened it, the writer is still waiting: release it.
    let _ = writer.kill();
    let _ = writer.wait();
    run.assert_findings(&[(PC_RULE, "keys.fifo", 1, 5)]);
}

#[cfg(unix)]
#[test]
fn dev_stdin_named_on_the_command_line_is_scanned() {
    let t = Tree::new(&[]);
    let run = t.run_with_stdin(
        &["scan", "--format", "json", "/dev/stdin"],
        format!("KEY={}\n", pc_live(922)),
    );
    run.assert_findings(&[(PC_RULE, "/dev/stdin", 1, 5)]);
}

#[test]
fn stdin_honours_max_file_size() {
    let t = Tree::new(&[]);
    let input = format!("KEY={}\n{}", pc_live(923), "x".repeat(4096));
    let run = t.run_with_stdin(&["scan", "-", "--max-file-size", "1K"], input.clone());
    run.assert_code(0);
    assert!(run.summary().contains("1 too large"), "{}", run.dump());
    // Within the limit, the same input is scanned.
    t.run_with_stdin(&["scan", "-"], input).assert_code(1);
}

#[cfg(unix)]
#[test]
fn running_out_of_memory_reading_stdin_is_an_error() {
    let t = Tree::new(&[]);
    let exe = assert_cmd::cargo::cargo_bin("keyhound");
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.current_dir(t.path())
        .arg("-c")
        .arg("ulimit -v 250000 && head -c 400000000 /dev/zero | \"$0\" scan - --max-file-size 1G")
        .arg(exe)
        .timeout(std::time::Duration::from_secs(60));
    let run = crate::support::Run::of(cmd, &["scan", "-", "--max-file-size", "1G"]);
    run.assert_code(2);
    run.assert_stderr_contains("reading stdin");
}

#[test]
fn threads_beyond_four_per_cpu_are_clamped_with_a_warning() {
    let t = Tree::new(&[("a.env", &format!("KEY={}\n", pc_live(931)))]);
    let run = t.run(&["scan", "-j", "100000", "--format", "json"]);
    run.assert_findings(&[(PC_RULE, "a.env", 1, 5)]);
    run.assert_stderr_contains("-j 100000 is more than 4 threads per CPU");
}

#[test]
fn durations_that_would_overflow_are_errors_not_panics() {
    let t = Tree::new(&[
        ("a.env", &format!("KEY={}\n", pc_live(932))),
        ("my.toml", "[verify]\ntimeout = 1e300\n"),
        (
            "mine2.toml",
            "[verify]\nconnect_timeout = \"9999999999999999999m\"\n",
        ),
    ]);
    let run = t.run(&["scan", "--config", "my.toml"]);
    run.assert_code(2);
    run.assert_stderr_contains("my.toml:2");
    let run = t.run(&["scan", "--config", "mine2.toml"]);
    run.assert_code(2);
    run.assert_stderr_contains("mine2.toml:2");
    for flag in ["--max-retry-wait", "--verify-timeout", "--connect-timeout"] {
        let run = t.run(&["scan", flag, "1e19"]);
        run.assert_code(2);
        run.assert_stderr_contains("longest allowed");
    }
}

#[cfg(unix)]
#[test]
fn paths_with_control_characters_are_shown_escaped() {
    let t = Tree::new(&[]);
    let key = format!("KEY={}\n", pc_live(933));
    t.write("a\n::error file=x::owned.env", &key);
    t.write("b\u{1b}[2J.env", &key);
    for format in ["human", "github", "junit", "csv"] {
        let run = t.run(&["scan", "--format", format]);
        run.assert_code(1);
        for line in run.stdout.lines().chain(run.stderr.lines()) {
            assert!(!line.starts_with("::error file=x"), "{}", run.dump());
        }
        assert!(!run.stdout.contains('\u{1b}'), "{}", run.dump());
    }
    let run = t.run(&["scan"]);
    assert!(
        run.stdout.contains("a\\n::error file=x::owned.env"),
        "{}",
        run.dump()
    );
    assert!(run.stdout.contains("b\\u{1b}[2J.env"), "{}", run.dump());
}

#[cfg(target_os = "linux")]
#[test]
fn a_stderr_that_cannot_be_written_does_not_panic() {
    let t = Tree::new(&[("a.env", &format!("KEY={}\n", pc_live(934)))]);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
        .current_dir(t.path())
        .args(["scan", "-v"])
        .stdout(std::process::Stdio::null())
        .stderr(full)
        .status()
        .expect("run keyhound");
    assert_eq!(
        out.code(),
        Some(1),
        "findings exit 1 even when stderr is full"
    );
    // A verdict printed to a closed stdout, and an error to a full stderr: still exit 2.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
        .current_dir(t.path())
        .args(["scan", "no-such-path"])
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(out.code(), Some(2));
}

#[test]
fn fifty_thousand_keys_in_one_file_are_all_reported() {
    // Quadratic in the number of keys, this took minutes; linear, a moment. Only the count is
    // asserted, never the time.
    const KEYS: u64 = 50_000;
    let mut lines = String::new();
    for seed in 0..KEYS {
        lines.push_str(&format!("K{seed}={}\n", pc_live(100_000 + seed)));
    }
    let mut bundle = String::new();
    for seed in 0..KEYS / 5 {
        bundle.push_str(&format!("k{seed}=\"{}\";", pc_live(300_000 + seed)));
    }
    let t = Tree::new(&[("keys.env", &lines), ("bundle.min.js", &bundle)]);
    let run = t.run(&["scan", "--format", "jsonl"]);
    run.assert_code(1);
    // One JSON line per key, then the scan's own record.
    let findings = run
        .stdout
        .lines()
        .filter(|l| !l.starts_with(r#"{"record":"scan""#))
        .count() as u64;
    assert_eq!(findings, KEYS + KEYS / 5, "one JSON line per key");
}

#[test]
fn a_cr_only_file_has_real_line_numbers_and_markers_cover_their_own_line() {
    let text = format!(
        "# settings\rFIRST={}\rSECOND={} # keyhound:allow\rTHIRD={}\r",
        pc_live(941),
        pc_live(942),
        pc_live(943)
    );
    let t = Tree::new(&[("mac.env", &text)]);
    let run = t.scan_json(&[]);
    run.assert_findings(&[(PC_RULE, "mac.env", 2, 7), (PC_RULE, "mac.env", 4, 7)]);
    assert!(
        run.summary().contains("1 suppressed (1 inline)"),
        "{}",
        run.dump()
    );
}

#[test]
fn on_a_minified_line_a_marker_covers_only_the_key_beside_it() {
    let filler = "x=1;".repeat(1000);
    let text = format!(
        "var a=\"{}\";/* keyhound:allow */{filler}var b=\"{}\";",
        pc_live(944),
        pc_live(945)
    );
    // ASCII: the column is the byte offset + 1.
    let column = text.find(&pc_live(945)).unwrap() as u64 + 1;
    let t = Tree::new(&[("app.min.js", &text)]);
    let run = t.scan_json(&[]);
    run.assert_findings(&[(PC_RULE, "app.min.js", 1, column)]);
}
