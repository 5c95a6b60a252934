//! What keyhound says when something is wrong or skipped: every message once, naming what the
//! user can act on.

use crate::support::*;

#[test]
fn an_os_error_is_said_once() {
    let tree = Tree::new(&[("a.py", "x = 1\n")]);
    for args in [
        &["scan", "--rules", "missing.toml"][..],
        &["scan", "--config", "missing.toml"][..],
    ] {
        let run = tree.run(args);
        run.assert_code(2);
        let line = run.stderr.lines().next().unwrap_or_default();
        assert!(line.contains("missing.toml: cannot read"), "{}", run.dump());
        assert_eq!(
            line.matches("No such file or directory").count(),
            1,
            "{}",
            run.dump()
        );
    }
}

#[test]
fn verbose_output_does_not_point_at_verbose() {
    let key = pc_live(681);
    let tree = Tree::new(&[
        ("app.py", &format!("K = \"{key}\"  # keyhound:allow\n")),
        ("blob.bin", "\0\0binary"),
    ]);
    let run = tree.scan_json(&[]);
    assert!(run.summary().ends_with("; -v names them"), "{}", run.dump());
    let run = tree.scan_json(&["-v"]);
    assert!(
        run.stderr.contains("keyhound: skipped blob.bin"),
        "{}",
        run.dump()
    );
    assert!(!run.stderr.contains("-v names them"), "{}", run.dump());
}

#[test]
fn history_of_a_missing_path_says_it_does_not_exist() {
    let tree = Tree::new(&[]);
    let run = tree.run(&["history", "does/not/exist"]);
    run.assert_code(2);
    run.assert_stderr_contains("keyhound: error: does/not/exist: no such file or directory");
    assert!(
        !run.stderr.contains("not a git repository"),
        "{}",
        run.dump()
    );
}

#[test]
fn a_config_error_names_keyhound_config_when_it_chose_the_file() {
    let tree = Tree::new(&[("a.py", "x = 1\n"), ("team.toml", "bogus = 1\n")]);
    let mut cmd = tree.command(&["scan"]);
    cmd.env("KEYHOUND_CONFIG", "team.toml");
    let run = Run::of(cmd, &["scan (KEYHOUND_CONFIG=team.toml)"]);
    run.assert_code(2);
    run.assert_stderr_contains("team.toml:1: unknown key `bogus`");
    run.assert_stderr_contains("(the config file KEYHOUND_CONFIG names)");

    let mut cmd = tree.command(&["scan"]);
    cmd.env("KEYHOUND_CONFIG", "gone.toml");
    let run = Run::of(cmd, &["scan (KEYHOUND_CONFIG=gone.toml)"]);
    run.assert_code(2);
    run.assert_stderr_contains("gone.toml: cannot read the config file");
    run.assert_stderr_contains("KEYHOUND_CONFIG");

    // Named by --config, the flag is what the user typed: no mention of the variable.
    let run = tree.run(&["scan", "--config", "team.toml"]);
    run.assert_code(2);
    assert!(!run.stderr.contains("KEYHOUND_CONFIG"), "{}", run.dump());
}
