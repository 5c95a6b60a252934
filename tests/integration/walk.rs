//! Which files are read: ignore files, dotfiles, `.git`, explicit paths, binary and large files,
//! stdin, and symbolic links.

use predicates::prelude::*;

use crate::support::*;

/// The set of paths that hold findings.
fn paths_with_findings(run: &Run) -> Vec<String> {
    let mut paths: Vec<String> = run
        .findings()
        .iter()
        .flat_map(|f| f["locations"].as_array().cloned().unwrap_or_default())
        .map(|l| l["path"].as_str().unwrap_or("<no path>").to_string())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

// ---- 4. ignore files, dotfiles, .git, explicit paths ------------------------------------------

#[test]
fn gitignored_file_is_skipped_and_no_ignore_reports_it() {
    let (kept, ignored) = (pc_live(401), pc_live(402));
    let tree = Tree::new(&[
        (".gitignore", "secrets.env\nbuild/\n"),
        ("app.env", &format!("POLITICAL_COMMS_API_KEY={kept}\n")),
        (
            "secrets.env",
            &format!("POLITICAL_COMMS_API_KEY={ignored}\n"),
        ),
        ("build/bundle.js", &format!("var k=\"{ignored}\";\n")),
    ]);
    let run = tree.scan_json(&[]);
    assert_eq!(
        paths_with_findings(&run),
        ["app.env"],
        "ignored files must not be reported\n{}",
        run.dump()
    );
    run.assert_code(1);

    let run = tree.scan_json(&["--no-ignore"]);
    assert_eq!(
        paths_with_findings(&run),
        ["app.env", "build/bundle.js", "secrets.env"],
        "--no-ignore scans ignored files\n{}",
        run.dump()
    );
}

#[test]
fn dotfiles_and_dot_directories_are_scanned() {
    let keys: Vec<String> = (411..415).map(pc_live).collect();
    let tree = Tree::new(&[
        (".env", &format!("POLITICAL_COMMS_API_KEY={}\n", keys[0])),
        (
            ".npmrc",
            &format!(
                "registry=https://registry.npmjs.org/\npolitical_comms_key={}\n",
                keys[1]
            ),
        ),
        (
            ".aws/credentials",
            &format!(
                "[default]\nregion = us-east-1\npolitical_comms = {}\n",
                keys[2]
            ),
        ),
        (
            ".github/workflows/deploy.yml",
            &format!("env:\n  POLITICAL_COMMS_API_KEY: {}\n", keys[3]),
        ),
    ]);
    let run = tree.scan_json(&[]);
    assert_eq!(
        paths_with_findings(&run),
        [
            ".aws/credentials",
            ".env",
            ".github/workflows/deploy.yml",
            ".npmrc"
        ],
        "{}",
        run.dump()
    );
    run.assert_code(1);
}

#[test]
fn git_directory_is_never_scanned() {
    let (in_git, in_nested_git, control) = (pc_live(421), pc_live(422), pc_live(423));
    let tree = Tree::new(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (
            ".git/config",
            &format!("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://deploy:{in_git}@git.acme-widgets.io/app.git\n"),
        ),
        (".git/info/exclude", "# nothing\n"),
        ("vendor/lib/.git/config", &format!("[remote \"origin\"]\n\turl = https://ci:{in_nested_git}@git.acme-widgets.io/lib.git\n")),
        ("app.py", &format!("PC_KEY = \"{control}\"\n")),
    ]);
    let run = tree.scan_json(&[]);
    assert_eq!(
        paths_with_findings(&run),
        ["app.py"],
        ".git must not be scanned\n{}",
        run.dump()
    );
    run.assert_nowhere(".git/config");
    let run = tree.scan_json(&["--no-ignore"]);
    assert_eq!(
        paths_with_findings(&run),
        ["app.py"],
        "not even with --no-ignore\n{}",
        run.dump()
    );
}

#[test]
fn file_named_on_the_command_line_is_scanned_even_when_ignored() {
    let (a, b) = (pc_live(431), pc_live(432));
    let tree = Tree::new(&[
        (".gitignore", "secrets.env\nbuild/\n"),
        ("secrets.env", &format!("POLITICAL_COMMS_API_KEY={a}\n")),
        ("build/bundle.js", &format!("var k=\"{b}\";\n")),
    ]);
    tree.scan_json(&[]).assert_findings(&[]);
    tree.scan_json(&["secrets.env", "build/bundle.js"])
        .assert_findings(&[
            (PC_RULE, "secrets.env", 1, 25),
            (PC_RULE, "build/bundle.js", 1, 8),
        ]);
}

// ---- 5. binary and large files ----------------------------------------------------------------

/// PNG-like bytes with a NUL early on and a key inside: scanned, it would be a finding.
fn binary_with_key(key: &str) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00".to_vec();
    bytes.extend_from_slice(format!("tEXtComment\x00X-API-Key: {key}\n").as_bytes());
    bytes.extend_from_slice(&[0xA5u8; 512]);
    bytes
}

#[test]
fn binary_file_is_skipped_and_counted() {
    let tree = Tree::new(&[("notes.txt", "nothing to see\n")]);
    tree.write("assets/logo.png", binary_with_key(&pc_live(501)));
    tree.write("assets/icon.png", binary_with_key(&pc_live(504)));
    let run = tree.scan_json(&[]);
    run.assert_findings(&[]);
    let summary = run.summary();
    assert!(
        predicates::str::is_match(r"\b2\b[^;,]*binary")
            .unwrap()
            .eval(summary),
        "the summary counts the 2 binary files: {summary:?}\n{}",
        run.dump()
    );
    assert!(
        predicates::str::is_match(r"scanned 1 file\b")
            .unwrap()
            .eval(summary),
        "{summary:?}\n{}",
        run.dump()
    );
}

#[test]
fn verbose_names_each_skipped_file() {
    let tree = Tree::new(&[
        ("notes.txt", "nothing to see\n"),
        ("big.log", &"GET /health 200\n".repeat(512)),
    ]);
    tree.write("assets/logo.png", binary_with_key(&pc_live(502)));
    tree.write("assets/font.woff", b"wOFF\x00\x01\x00\x00\x00\x00");
    let run = tree.scan_json(&["-v", "--max-file-size", "4K"]);
    run.assert_findings(&[]);
    run.assert_stderr_contains("assets/logo.png")
        .assert_stderr_contains("assets/font.woff")
        .assert_stderr_contains("big.log");
}

#[test]
fn nul_byte_after_the_first_8_kib_does_not_make_a_file_binary() {
    let key = pc_live(503);
    let mut bytes = format!("POLITICAL_COMMS_API_KEY={key}\n").into_bytes();
    bytes.extend("x = 1\n".repeat(2000).as_bytes()); // 12,000 bytes of text
    bytes.extend_from_slice(b"\x00trailer\n");
    let tree = Tree::new(&[]);
    tree.write("data.cfg", bytes);
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "data.cfg", 1, 25)]);
}

#[test]
fn file_over_max_file_size_is_skipped_and_counted() {
    let (key, other) = (pc_live(511), pc_live(512));
    let padding = "# padding line to make the file large\n".repeat(100); // ~3.8 KiB
    let tree = Tree::new(&[
        (
            "big.env",
            &format!("POLITICAL_COMMS_API_KEY={key}\n{padding}"),
        ),
        ("also/big.yaml", &format!("api_key: {other}\n{padding}")),
        ("small.txt", "hello\n"),
    ]);

    let run = tree.scan_json(&["--max-file-size", "1K"]);
    run.assert_findings(&[]);
    let summary = run.summary();
    assert!(
        predicates::str::is_match(r"\b2\b[^;,]*too large")
            .unwrap()
            .eval(summary),
        "the summary counts the 2 large files: {summary:?}\n{}",
        run.dump()
    );
    assert!(
        predicates::str::is_match(r"scanned 1 file\b")
            .unwrap()
            .eval(summary),
        "{summary:?}\n{}",
        run.dump()
    );

    let run = tree.scan_json(&["--max-file-size", "1K", "-v"]);
    run.assert_code(0)
        .assert_stderr_contains("big.env")
        .assert_stderr_contains("also/big.yaml");

    // Under a larger limit the same files are scanned.
    tree.scan_json(&["--max-file-size", "1M"])
        .assert_findings(&[
            (PC_RULE, "big.env", 1, 25),
            (PC_RULE, "also/big.yaml", 1, 10),
        ]);
}

// ---- 6. stdin ---------------------------------------------------------------------------------

#[test]
fn stdin_is_scanned_as_stdin() {
    let key = pc_live(601);
    let input = format!("# pasted from the dashboard\nX-API-Key: {key}\n");
    let tree = Tree::new(&[]);
    let run = tree.run_with_stdin(&["scan", "--format", "json", "-"], input);
    run.assert_findings(&[(PC_RULE, "<stdin>", 2, 12)]);
}

// ---- 12. symbolic links -----------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn symlink_loop_with_follow_is_reported_not_followed() {
    let tree = Tree::new(&[("a/notes.txt", "nothing to see\n")]);
    tree.symlink("..", "a/loop");
    let run = tree.scan_json(&["--follow"]);
    run.assert_findings(&[]);
    run.assert_stderr_contains("warning")
        .assert_stderr_contains("a/loop");
    let summary = run.summary();
    assert!(
        predicates::str::is_match(r"scanned 1 file\b")
            .unwrap()
            .eval(summary),
        "{summary:?}\n{}",
        run.dump()
    );

    tree.scan_json(&["--follow", "--strict"]).assert_code(2);
}

#[cfg(unix)]
#[test]
fn dangling_symlink_with_follow_is_a_warning() {
    let tree = Tree::new(&[("notes.txt", "nothing to see\n")]);
    tree.symlink("does-not-exist.txt", "gone.txt");
    let run = tree.scan_json(&["--follow"]);
    run.assert_findings(&[]);
    run.assert_stderr_contains("warning")
        .assert_stderr_contains("gone.txt");
    tree.scan_json(&["--follow", "--strict"]).assert_code(2);
}
