//! Exit codes: 0 clean, 1 (or --exit-code N) with findings, 2 on any error, and an error wins
//! over findings.

use crate::support::*;

fn tree_with_key() -> Tree {
    Tree::new(&[(
        "app.env",
        &format!("POLITICAL_COMMS_API_KEY={}\n", pc_live(801)),
    )])
}

#[test]
fn clean_tree_exits_0() {
    let tree = Tree::new(&[("README.md", "# hello\n"), ("src/main.py", "print('hi')\n")]);
    tree.run(&["scan"]).assert_code(0);
    let run = tree.scan_json(&[]);
    run.assert_code(0);
    assert!(run.findings().is_empty(), "{}", run.dump());
}

#[test]
fn findings_exit_1() {
    let tree = tree_with_key();
    tree.run(&["scan"]).assert_code(1);
    tree.scan_json(&[]).assert_code(1);
}

#[test]
fn exit_code_flag_sets_the_code_for_findings_only() {
    tree_with_key()
        .run(&["scan", "--exit-code", "7"])
        .assert_code(7);
    tree_with_key()
        .scan_json(&["--exit-code", "7"])
        .assert_code(7);
    Tree::new(&[("README.md", "# hello\n")])
        .run(&["scan", "--exit-code", "7"])
        .assert_code(0);
}

#[test]
fn nonexistent_path_exits_2_and_names_it() {
    let tree = Tree::new(&[("README.md", "# hello\n")]);
    tree.run(&["scan", "no-such-dir"])
        .assert_code(2)
        .assert_stderr_contains("no-such-dir");
}

#[test]
fn bad_flag_exits_2() {
    let tree = tree_with_key();
    tree.run(&["scan", "--no-such-flag"]).assert_code(2);
    tree.run(&["scan", "--format", "yaml"]).assert_code(2);
    tree.run(&["scan", "--max-file-size", "lots"])
        .assert_code(2);
    tree.run(&["scan", "--exit-code", "-1"]).assert_code(2);
}

#[test]
fn an_error_wins_over_findings() {
    let tree = tree_with_key();
    tree.write("bad.toml", "[[rule]]\nid = \"acme-token\"\nname = \"Acme token\"\nkeywords = [\"acme_\"]\nregex = '(acme_'\n");
    tree.run(&["scan", ".", "no-such-dir"])
        .assert_code(2)
        .assert_stderr_contains("no-such-dir");
    tree.run(&["scan", "--exit-code", "7", "no-such-dir", "."])
        .assert_code(2);
    tree.run(&["scan", "--rules", "bad.toml"])
        .assert_code(2)
        .assert_stderr_contains("bad.toml");
}

#[cfg(unix)]
#[test]
fn strict_read_error_wins_over_findings() {
    let tree = tree_with_key();
    tree.symlink("..", "sub/loop");
    tree.run(&["scan", "--follow"]).assert_code(1);
    tree.run(&["scan", "--follow", "--strict"]).assert_code(2);
}
