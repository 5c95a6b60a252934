//! What the reports say: the JSON fields, one finding per key, fingerprints, redaction, the
//! human report and its colours, the summary.

use crate::support::*;

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// ---- 7. JSON ----------------------------------------------------------------------------------

#[test]
fn json_finding_has_every_field() {
    let key = pc_live(701);
    let text = format!("# Political Comms\nPOLITICAL_COMMS_API_KEY={key}\n");
    let tree = Tree::new(&[(".env", &text)]);
    let run = tree.scan_json(&[]);
    let findings = run.assert_findings(&[(PC_RULE, ".env", 2, 25)]);
    let f = &findings[0];
    let ctx = run.dump();
    assert_eq!(f["rule_name"], "Political Comms API key", "{ctx}");
    assert_eq!(f["provider"], "Political Comms", "{ctx}");
    assert_eq!(f["severity"], "high", "{ctx}");
    assert_eq!(f["end_line"], 2, "{ctx}");
    assert_eq!(f["end_column"], 25 + key.len() as u64, "{ctx}");

    let secret = f["secret"].as_str().expect("secret is a string");
    assert!(
        !secret.is_empty() && secret != key,
        "secret must be redacted: {secret:?}"
    );
    assert!(
        !secret.contains(pc_body(&key)),
        "redacted secret must not hold the body: {secret:?}"
    );

    let fingerprint = f["fingerprint"].as_str().expect("fingerprint is a string");
    assert!(
        is_hex32(fingerprint),
        "fingerprint must be 32 hex digits: {fingerprint:?}"
    );
    assert!(!fingerprint.contains(pc_body(&key)) && !fingerprint.contains(&key));

    let snippet = f["snippet"].as_str().expect("snippet is a string");
    assert!(
        snippet.contains("POLITICAL_COMMS_API_KEY="),
        "snippet shows the line: {snippet:?}"
    );
    assert!(
        !snippet.contains(pc_body(&key)),
        "snippet must be redacted: {snippet:?}"
    );

    assert_eq!(f["verdict"], "unchecked", "{ctx}");

    let locations = f["locations"].as_array().expect("locations is an array");
    assert_eq!(locations.len(), 1, "{ctx}");
    let loc = &locations[0];
    assert_eq!(loc["path"], ".env", "{ctx}");
    assert_eq!(loc["line"], 2, "{ctx}");
    assert_eq!(loc["column"], 25, "{ctx}");
    assert_eq!(loc["end_line"], 2, "{ctx}");
    assert_eq!(loc["end_column"], 25 + key.len() as u64, "{ctx}");
    assert!(
        !loc["snippet"]
            .as_str()
            .unwrap_or(pc_body(&key))
            .contains(pc_body(&key)),
        "{ctx}"
    );
}

#[test]
fn same_key_in_three_files_is_one_finding_with_three_locations() {
    let key = pc_live(711);
    let env = format!("POLITICAL_COMMS_API_KEY={key}\n");
    let yaml = format!("political_comms:\n  api_key: {key}\n");
    let py = format!("import os\n\n\nKEY = \"{key}\"\n");
    let tree = Tree::new(&[
        ("a/.env", &env),
        ("b/config.yaml", &yaml),
        ("c/main.py", &py),
    ]);
    let run = tree.scan_json(&[]);
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "one key, one finding\n{}", run.dump());
    run.assert_code(1);
    let mut locations: Vec<(String, u64, u64)> = findings[0]["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
                l["column"].as_u64().unwrap(),
            )
        })
        .collect();
    locations.sort();
    let expected = [
        ("a/.env".to_string(), 1, 25),
        ("b/config.yaml".to_string(), 2, 12),
        ("c/main.py".to_string(), 4, 8),
    ];
    assert_eq!(locations, expected, "{}", run.dump());
    let (_, path, line, column) = brief(&findings[0]);
    assert!(
        expected.contains(&(path, line, column)),
        "the finding's place is one of its locations\n{}",
        run.dump()
    );
}

fn fingerprint_of(run: &Run) -> String {
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "{}", run.dump());
    findings[0]["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string()
}

#[test]
fn fingerprint_is_stable_for_a_key_and_distinct_between_keys() {
    let (key, other) = (pc_live(721), pc_live(722));
    let first = Tree::new(&[("one.env", &format!("POLITICAL_COMMS_API_KEY={key}\n"))]);
    let moved = Tree::new(&[(
        "deep/er/other.py",
        &format!("\n\nclient = Client(api_key=\"{key}\")\n"),
    )]);
    let different = Tree::new(&[("one.env", &format!("POLITICAL_COMMS_API_KEY={other}\n"))]);

    let a = fingerprint_of(&first.scan_json(&[]));
    let again = fingerprint_of(&first.scan_json(&[]));
    let elsewhere = fingerprint_of(&moved.scan_json(&[]));
    let b = fingerprint_of(&different.scan_json(&[]));
    assert!(is_hex32(&a), "{a:?}");
    assert_eq!(a, again, "same key, same run inputs");
    assert_eq!(a, elsewhere, "same key in another file, line and tree");
    assert_ne!(a, b, "different keys");
}

// ---- 9. redaction -----------------------------------------------------------------------------

/// A tree holding five secrets of three rules, two of them on one line.
fn five_secrets() -> (Tree, Vec<String>, Vec<String>) {
    let (k1, k2, k3) = (pc_live(901), pc_live(902), pc_test(903));
    let (communal, bearer) = (opaque_token(904), opaque_token(905));
    let tree = Tree::new(&[
        (".env", &format!("POLITICAL_COMMS_API_KEY={k1}\n")),
        ("pair.txt", &format!("primary={k2} backup={k3}\n")),
        (
            "communal.sh",
            &format!("curl -H \"Authorization: Bearer {communal}\" https://api.getcommunal.com/api/users\n"),
        ),
        ("other.sh", &format!("curl -H \"Authorization: Bearer {bearer}\" https://api.acme-widgets.io/v1\n")),
    ]);
    let bodies = vec![
        pc_body(&k1).to_string(),
        pc_body(&k2).to_string(),
        pc_body(&k3).to_string(),
        communal.clone(),
        bearer.clone(),
    ];
    (tree, vec![k1, k2, k3, communal, bearer], bodies)
}

#[test]
fn secrets_are_redacted_everywhere_by_default() {
    let (tree, _, bodies) = five_secrets();
    let json = tree.scan_json(&["-v"]);
    assert_eq!(json.findings().len(), 5, "{}", json.dump());
    json.assert_code(1);
    let runs = [
        json,
        tree.scan_json(&[]),
        tree.run(&["scan"]),
        tree.run(&["scan", "-v"]),
        tree.run(&["scan", "--color", "always"]),
    ];
    for run in &runs {
        run.assert_code(1);
        for body in &bodies {
            run.assert_nowhere(body);
        }
    }
}

#[test]
fn show_secrets_prints_them() {
    let (tree, secrets, _) = five_secrets();
    for run in [
        tree.scan_json(&["--show-secrets"]),
        tree.run(&["scan", "--show-secrets"]),
    ] {
        run.assert_code(1);
        for secret in &secrets {
            assert!(
                run.stdout.contains(secret.as_str()),
                "{secret:?} must be shown\n{}",
                run.dump()
            );
        }
    }
    let json = tree.scan_json(&["--show-secrets"]);
    let mut shown: Vec<String> = json
        .findings()
        .iter()
        .map(|f| f["secret"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut expected = secrets.clone();
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected, "{}", json.dump());
}

// ---- 13. the human report ---------------------------------------------------------------------

#[test]
fn human_report_shows_place_rule_severity_and_underlines_the_redacted_secret() {
    let key = pc_live(1301);
    let text = format!("# Political Comms\nPOLITICAL_COMMS_API_KEY={key}\n");
    let tree = Tree::new(&[(".env", &text)]);
    let redacted = tree.scan_json(&[]).findings()[0]["secret"]
        .as_str()
        .unwrap()
        .to_string();

    let run = tree.run(&["scan"]);
    run.assert_code(1);
    let out = &run.stdout;
    let ctx = run.dump();
    assert!(out.contains(".env:2:25"), "path:line:column\n{ctx}");
    assert!(out.contains("Political Comms API key"), "rule name\n{ctx}");
    assert!(out.contains("high"), "severity\n{ctx}");
    assert!(
        !out.contains('\u{1b}') && !run.stderr.contains('\u{1b}'),
        "no ANSI escapes when piped\n{ctx}"
    );

    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("POLITICAL_COMMS_API_KEY=") && l.contains(&redacted))
        .unwrap_or_else(|| panic!("no snippet line with {redacted:?}\n{ctx}"));
    let snippet = lines[at];
    let col = snippet[..snippet.find(&redacted).unwrap()].chars().count();
    let marks = lines[at + 1..]
        .iter()
        .find(|l| l.contains('^'))
        .unwrap_or_else(|| panic!("no ^ underline under the snippet\n{ctx}"));
    let start = marks[..marks.find('^').unwrap()].chars().count();
    let len = marks.chars().skip(start).take_while(|&c| c == '^').count();
    assert_eq!(
        (start, len),
        (col, redacted.chars().count()),
        "the underline spans the redacted secret\n{ctx}"
    );
}

#[test]
fn no_ansi_escapes_when_piped_even_without_no_color() {
    let tree = Tree::new(&[(
        ".env",
        &format!("POLITICAL_COMMS_API_KEY={}\n", pc_live(1311)),
    )]);
    let mut cmd = tree.command(&["scan"]);
    cmd.env_remove("NO_COLOR").env("TERM", "xterm-256color");
    let run = Run::of(cmd, &["scan"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("POLITICAL_COMMS_API_KEY="),
        "{}",
        run.dump()
    );
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stderr.contains('\u{1b}'),
        "{}",
        run.dump()
    );

    let mut cmd = tree.command(&["scan", "--color", "never"]);
    cmd.env("CLICOLOR_FORCE", "1").env("TERM", "xterm-256color");
    let run = Run::of(cmd, &["scan", "--color", "never"]);
    run.assert_code(1);
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stderr.contains('\u{1b}'),
        "--color never\n{}",
        run.dump()
    );
}

#[test]
fn color_always_writes_ansi_escapes() {
    let tree = Tree::new(&[(
        ".env",
        &format!("POLITICAL_COMMS_API_KEY={}\n", pc_live(1321)),
    )]);
    // NO_COLOR=1 is set by the helper: an explicit --color always wins over it.
    let run = tree.run(&["scan", "--color", "always"]);
    run.assert_code(1);
    assert!(
        run.stdout.contains("\u{1b}["),
        "ANSI escapes with --color always\n{}",
        run.dump()
    );
}

#[test]
fn summary_on_stderr_counts_files_and_findings() {
    let tree = Tree::new(&[
        (
            "a.env",
            &format!("POLITICAL_COMMS_API_KEY={}\n", pc_live(1331)),
        ),
        ("b.yaml", &format!("api_key: {}\n", pc_live(1332))),
        ("c.txt", "nothing here\n"),
    ]);
    for run in [tree.run(&["scan"]), tree.scan_json(&[])] {
        run.assert_code(1);
        let summary = run.summary().to_string();
        assert!(
            summary.contains("3 files"),
            "files scanned: {summary:?}\n{}",
            run.dump()
        );
        assert!(
            summary.contains("2 findings"),
            "findings: {summary:?}\n{}",
            run.dump()
        );
        assert!(
            !run.stdout.contains(&summary),
            "the summary goes to stderr only\n{}",
            run.dump()
        );
    }
    let clean = Tree::new(&[("c.txt", "nothing here\n")]);
    let run = clean.run(&["scan"]);
    run.assert_code(0);
    assert!(
        run.summary().contains("1 file") && run.summary().contains("0 findings"),
        "{}",
        run.dump()
    );
}

// ---- --redact=N ------------------------------------------------------------------------------

#[test]
fn redact_percent_keeps_that_share_of_the_secret_visible() {
    let key = pc_live(611); // 28 characters: half is the prefix and 6 more
    let tree = Tree::new(&[("app.py", &format!("API_KEY = \"{key}\"\n"))]);
    let half = format!("{}*****", &key[..14]);

    let run = tree.scan_json(&["--redact=50"]);
    let f = &run.findings()[0];
    assert_eq!(f["secret"], half.as_str(), "{}", run.dump());
    assert_eq!(f["snippet"], format!("API_KEY = \"{half}\"").as_str());
    run.assert_nowhere(&key);
    let run = tree.run(&["scan", "--redact=50"]);
    assert!(run.stdout.contains(&half), "{}", run.dump());
    run.assert_nowhere(&key);

    // Bare --redact, and --redact=0, are today's default: only the prefix.
    for flag in ["--redact", "--redact=0"] {
        let run = tree.scan_json(&[flag]);
        assert_eq!(
            run.findings()[0]["secret"],
            "pc_live_*****",
            "{}",
            run.dump()
        );
    }
    assert_eq!(
        tree.scan_json(&["--redact=100"]).findings()[0]["secret"],
        key.as_str()
    );
    tree.run(&["scan", "--redact=101"]).assert_code(2);
    tree.run(&["scan", "--redact=50", "--show-secrets"])
        .assert_code(2);
}
