//! Report formats: every format on one fixture tree (snapshots), SARIF against the official
//! schema (a directory scan, and history findings built through the library), JSON Lines
//! against the JSON report, and secrets redacted in every format unless `--show-secrets`.
//!
//! The tree is `fixtures/reports/tree`, scanned with the rules in `fixtures/reports/rules.toml`
//! only. Its files hold `{{PLACEHOLDERS}}`; the keys are generated here and written into a copy
//! of the tree in a temporary directory, so no key-shaped literal is ever committed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use keyhound::finding::{fingerprint, Commit, Finding, Location, Part, Secret, Snippet, Verdict};
use keyhound::report::Format;
use keyhound::report::{self, ReportOptions};
use keyhound::rules::Severity;
use serde_json::Value;

const FORMATS: [&str; 7] = ["human", "json", "jsonl", "sarif", "junit", "github", "csv"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports")
}

/// `len` characters from `alphabet`, the same for the same seed (xorshift64*).
fn generated(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let n = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33;
            alphabet[(n % alphabet.len() as u64) as usize] as char
        })
        .collect()
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The fixture's keys: each placeholder, its value, and the part of it that must never be
/// printed without `--show-secrets` (everything after the keyword).
struct Keys {
    values: Vec<(&'static str, String, String)>,
}

impl Keys {
    fn new() -> Keys {
        let mut values = Vec::new();
        for (i, (placeholder, prefix)) in [
            ("API_KEY", "htc_live_"),
            ("ROOT_KEY", "htc_root_"),
            ("SANDBOX_KEY", "htc_test_"),
            ("READ_TOKEN", "htc_read_"),
        ]
        .into_iter()
        .enumerate()
        {
            let body = generated(i as u64 + 1, 24, ALNUM);
            values.push((placeholder, format!("{prefix}{body}"), body));
        }
        let lines: Vec<String> = (0..4)
            .map(|i| generated(100 + i, 64, BASE64))
            .chain([format!("{}==", generated(200, 18, BASE64))])
            .collect();
        let body = lines.join("\n");
        values.push(("SIGNING_KEY_BODY", body.clone(), lines[0].clone()));
        Keys { values }
    }

    fn value(&self, placeholder: &str) -> &str {
        &self.values.iter().find(|v| v.0 == placeholder).unwrap().1
    }

    /// What must not appear in a redacted report.
    fn bodies(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|v| v.2.as_str())
    }
}

/// A copy of the fixture tree with the keys filled in.
fn tree(keys: &Keys) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path, keys: &Keys) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target, keys);
            } else {
                let mut text = std::fs::read_to_string(entry.path()).unwrap();
                for (placeholder, value, _) in &keys.values {
                    text = text.replace(&format!("{{{{{placeholder}}}}}"), value);
                }
                assert!(
                    !text.contains("{{"),
                    "unfilled placeholder in {:?}",
                    entry.path()
                );
                std::fs::write(target, text).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixtures().join("tree"), dir.path(), keys);
    dir
}

/// Runs `keyhound scan` in `dir` with the fixture rules only, and `args`.
fn scan(dir: &Path, args: &[&str]) -> Output {
    let rules = fixtures().join("rules.toml");
    Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(dir)
        .args(["scan", "--color", "never", "--no-builtin-rules", "--rules"])
        .arg(&rules)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Snapshots exit code, stdout and stderr of one format on the fixture tree; the timing and
/// keyhound's version are filtered.
fn snapshot(format: &str) {
    let keys = Keys::new();
    let dir = tree(&keys);
    let output = scan(dir.path(), &["--format", format]);
    let shown = format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    let version = regex::escape(env!("CARGO_PKG_VERSION"));
    let fixtures = regex::escape(&fixtures().display().to_string());
    insta::with_settings!({
        filters => vec![
            (r"in \d+\.\d+s", "in [TIME]"),
            (&*format!(r#""(version|semanticVersion)":( ?)"{version}""#), r#""$1":$2"[VERSION]""#),
            (r#""(started|finished)":( ?)"[^"]+""#, r#""$1":$2"[TIME]""#),
            (r#""root":( ?)"[^"]+""#, r#""root":$1"[ROOT]""#),
            (&*fixtures, "[FIXTURES]"),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(format!("report_{format}"), shown);
    });
}

#[test]
fn snapshot_human() {
    snapshot("human");
}

#[test]
fn snapshot_json() {
    snapshot("json");
}

#[test]
fn snapshot_jsonl() {
    snapshot("jsonl");
}

#[test]
fn snapshot_sarif() {
    snapshot("sarif");
}

#[test]
fn snapshot_junit() {
    snapshot("junit");
}

#[test]
fn snapshot_github() {
    snapshot("github");
}

#[test]
fn snapshot_csv() {
    snapshot("csv");
}

#[test]
fn junit_and_csv_of_a_clean_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "nothing to see\n").unwrap();
    let junit = scan(dir.path(), &["--format", "junit"]);
    assert_eq!(junit.status.code(), Some(0));
    let xml = stdout(&junit);
    assert!(xml.contains(r#"<testsuite name="keyhound" tests="1" failures="0""#));
    assert!(xml.contains(r#"<testcase classname="keyhound" name="no leaked keys"/>"#));
    let csv = scan(dir.path(), &["--format", "csv"]);
    assert_eq!(stdout(&csv).lines().count(), 1, "the header row only");
    assert_eq!(stdout(&scan(dir.path(), &["--format", "github"])), "");
    // JSON Lines: no finding lines, only the scan's metadata record.
    let jsonl = stdout(&scan(dir.path(), &["--format", "jsonl"]));
    assert_eq!(jsonl.lines().count(), 1, "{jsonl}");
    let record: Value = serde_json::from_str(&jsonl).unwrap();
    assert_eq!(record["record"], "scan");
    assert_eq!(record["counts"]["findings"], 0);
}

/// The official SARIF 2.1.0 schema (OASIS), vendored in `tests/schemas/` so that a clone
/// tests itself with nothing beside it.
fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the SARIF 2.1.0 schema at {}: {e}",
            path.display()
        )
    });
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

pub(crate) fn assert_valid_sarif(log: &Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} (at {})", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid SARIF:\n{}\n{log:#}",
        errors.join("\n")
    );
}

#[test]
fn the_schema_check_rejects_invalid_sarif() {
    let validator = sarif_validator();
    let bad = serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "keyhound" } },
            "results": [{ "message": { "text": "x" }, "level": "fatal" }]
        }]
    });
    assert!(!validator.is_valid(&bad), "a level SARIF lacks must fail");
    let bad_region = serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "keyhound" } },
            "results": [{ "message": { "text": "x" }, "locations": [{ "physicalLocation": {
                "artifactLocation": { "uri": "a" }, "region": { "startLine": 0 } } }] }]
        }]
    });
    assert!(!validator.is_valid(&bad_region), "line 0 must fail");
}

#[test]
fn sarif_of_a_directory_scan_is_valid() {
    let keys = Keys::new();
    let dir = tree(&keys);
    let output = scan(dir.path(), &["--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_sarif(&log);

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(rules.len(), 5, "each rule that fired, once");
    assert_eq!(results.len(), 6, "one result per location of a key");
    for result in results {
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], result["ruleId"]);
        assert!(result["properties"]["security-severity"].is_string());
        assert_eq!(
            result["properties"]["tags"],
            serde_json::json!(["security", "secret"])
        );
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(uri["uriBaseId"], "%SRCROOT%");
    }
    let fingerprints: std::collections::HashSet<&str> = results
        .iter()
        .map(|r| r["partialFingerprints"]["keyhound/v1"].as_str().unwrap())
        .collect();
    assert_eq!(
        fingerprints.len(),
        6,
        "every place of a key is its own alert"
    );
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"deploy/prod%20env"), "{uris:?}");
    assert!(uris.contains(&"notes/old%2C%20keys.txt"), "{uris:?}");
    for rule in rules {
        assert!(rule["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Rotate the key"));
    }
}

/// A key first committed in one file and copied to another, as a history scan reports it.
fn history_findings() -> Vec<Finding> {
    let value = format!("htc_live_{}", generated(7, 24, ALNUM));
    let snippet = |before: &str| Snippet {
        parts: vec![
            Part::Text(before.to_string()),
            Part::Secret {
                value: Secret::new(value.clone()),
                redacted: "htc_live_*****".to_string(),
                primary: true,
            },
            Part::Text("\"".to_string()),
        ],
        clipped_start: false,
        clipped_end: false,
    };
    let commit = |id: &str, author: &str, date: &str| Commit {
        id: id.repeat(40 / id.len()),
        author: author.to_string(),
        email: format!("{}@example.com", author.to_lowercase().replace(' ', ".")),
        date: date.to_string(),
        time: 0,
    };
    vec![Finding {
        rule_id: "htc-api-key".to_string(),
        rule_name: "Hound Test Cloud API key".to_string(),
        provider: "Hound Test Cloud".to_string(),
        severity: Severity::High,
        description: Some("A Hound Test Cloud API key.".to_string()),
        secret: Secret::new(value.clone()),
        captures: Vec::new(),
        companions: Vec::new(),
        key_info: Vec::new(),
        checked_with: Vec::new(),
        redacted: "htc_live_*****".to_string(),
        fingerprint: fingerprint::fingerprint("htc-api-key", &["htc_live_".into()], false, &value),
        entropy: 4.5,
        locations: vec![
            Location {
                path: "config/old settings.py".to_string(),
                line: 3,
                column: 12,
                end_line: 3,
                end_column: 45,
                snippet: snippet("API_KEY = \""),
                commit: Some(commit("3f2a", "Ada Lovelace", "2024-03-01T12:00:00+01:00")),
                link: None,
                decoded: None,
            },
            Location {
                path: "src/client.py".to_string(),
                line: 10,
                column: 9,
                end_line: 10,
                end_column: 42,
                snippet: snippet("key = \""),
                commit: Some(commit("9c1d", "Grace Hopper", "2024-05-17T08:30:00Z")),
                link: None,
                decoded: None,
            },
        ],
        verdict: Verdict::Unknown {
            reason: "timeout".to_string(),
        },
        in_head: Some(false),
    }]
}

fn write(format: Format, findings: &[Finding], show_secrets: bool) -> String {
    let mut out = Vec::new();
    let opts = ReportOptions {
        show_secrets,
        color: false,
        compact: false,
        hook_stage: Default::default(),
    };
    report::write(format, findings, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn sarif_of_history_findings_is_valid_and_names_the_commits() {
    let findings = history_findings();
    let log: Value = serde_json::from_str(&write(Format::Sarif, &findings, false)).unwrap();
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let properties = &results[0]["properties"];
    assert_eq!(properties["commit"], "3f2a".repeat(10));
    assert_eq!(properties["author"], "Ada Lovelace");
    assert_eq!(properties["email"], "ada.lovelace@example.com");
    assert_eq!(properties["date"], "2024-03-01T12:00:00+01:00");
    assert_eq!(properties["inHead"], false);
    assert_eq!(properties["verdict"], "unknown");
    assert_eq!(properties["verdictDetail"], "timeout");
    assert_eq!(results[1]["properties"]["author"], "Grace Hopper");
    assert!(results[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("introduced in commit 3f2a3f2a3f2a by Ada Lovelace"));
}

#[test]
fn every_format_carries_the_commits_of_history_findings() {
    let findings = history_findings();
    let body = &findings[0].secret.expose()["htc_live_".len()..];
    for format in [
        Format::Human,
        Format::Json,
        Format::Jsonl,
        Format::Sarif,
        Format::Junit,
        Format::Github,
        Format::Csv,
    ] {
        let text = write(format, &findings, false);
        assert!(!text.contains(body), "{format:?} shows the secret:\n{text}");
        assert!(write(format, &findings, true).contains(body), "{format:?}");
        if format != Format::Human {
            assert!(text.contains("3f2a3f2a3f2a"), "{format:?} names no commit");
            assert!(text.contains("Grace Hopper"), "{format:?} names no author");
        }
    }
    let csv = write(Format::Csv, &findings, false);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][column("path")], "config/old settings.py");
    assert_eq!(&rows[1][column("email")], "grace.hopper@example.com");
    assert_eq!(&rows[1][column("in_head")], "false");
}

#[test]
fn json_lines_group_back_into_the_json_report() {
    let keys = Keys::new();
    let dir = tree(&keys);
    let json: Value =
        serde_json::from_slice(&scan(dir.path(), &["--format", "json"]).stdout).unwrap();
    let jsonl = stdout(&scan(dir.path(), &["--format", "jsonl"]));

    // Group the lines by fingerprint, in order of first appearance.
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    let mut lines: Vec<&str> = jsonl.lines().collect();
    // The last line is the scan's metadata, as in the JSON report.
    let meta: Value = serde_json::from_str(lines.pop().unwrap()).unwrap();
    assert_eq!(meta["record"], "scan");
    assert_eq!(meta["schema_version"], json["schema_version"]);
    assert_eq!(meta["counts"], json["scan"]["counts"]);
    for line in lines {
        let object: Value = serde_json::from_str(line).expect("each line is one JSON object");
        let fp = object["fingerprint"].as_str().unwrap().to_string();
        match groups.iter_mut().find(|g| g.0 == fp) {
            Some(group) => group.1.push(object),
            None => groups.push((fp, vec![object])),
        }
    }
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(groups.len(), findings.len());
    let location_fields = [
        "path",
        "line",
        "end_line",
        "column",
        "end_column",
        "snippet",
    ];
    for (finding, (fp, lines)) in findings.iter().zip(&groups) {
        assert_eq!(finding["fingerprint"], fp.as_str());
        // Every line holds the finding's own fields...
        let finding_fields: BTreeMap<&String, &Value> = finding
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "locations" && !location_fields.contains(&k.as_str()))
            .collect();
        for line in lines {
            for (k, v) in &finding_fields {
                assert_eq!(&line[k.as_str()], *v, "field {k}");
            }
        }
        // ...and the lines, in order, are the finding's locations.
        let locations = finding["locations"].as_array().unwrap();
        assert_eq!(lines.len(), locations.len());
        for (line, location) in lines.iter().zip(locations) {
            for (k, v) in location.as_object().unwrap() {
                assert_eq!(&line[k.as_str()], v, "location field {k}");
            }
        }
        // The first line is the finding's own place.
        for k in location_fields {
            assert_eq!(lines[0][k], finding[k]);
        }
    }
}

#[test]
fn no_format_shows_a_secret_without_show_secrets() {
    let keys = Keys::new();
    let dir = tree(&keys);
    for format in FORMATS {
        let output = scan(dir.path(), &["--format", format]);
        assert_eq!(output.status.code(), Some(1), "{format}");
        let all = format!("{}{}", stdout(&output), stderr(&output));
        for body in keys.bodies() {
            assert!(!all.contains(body), "{format} shows a secret:\n{all}");
        }

        let shown = stdout(&scan(dir.path(), &["--format", format, "--show-secrets"]));
        assert!(
            shown.contains(keys.value("API_KEY")),
            "{format} with --show-secrets does not show the key:\n{shown}"
        );
    }
}

#[test]
fn output_file_gets_the_report_and_stderr_the_summary() {
    let keys = Keys::new();
    let dir = tree(&keys);
    let output = scan(
        dir.path(),
        &["--format", "sarif", "--output", "keyhound.sarif"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "", "nothing on stdout");
    assert!(
        stderr(&output).contains("5 findings"),
        "{}",
        stderr(&output)
    );
    let written = std::fs::read_to_string(dir.path().join("keyhound.sarif")).unwrap();
    let log: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 6);

    // A human report written to a file is never coloured.
    let human = dir.path().join("report.txt");
    let output = Command::cargo_bin("keyhound")
        .unwrap()
        .current_dir(dir.path())
        .args(["scan", "--color", "always", "--no-builtin-rules", "--rules"])
        .arg(fixtures().join("rules.toml"))
        .args(["app", "-o", "report.txt"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(&human).unwrap();
    assert!(text.contains("htc-api-key"), "{text}");
    assert!(!text.contains('\x1b'), "no colour in a file:\n{text}");
}

#[test]
fn an_output_file_that_cannot_be_created_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = scan(dir.path(), &["--output", "no/such/dir/report.sarif"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot create no/such/dir/report.sarif"),
        "{}",
        stderr(&output)
    );
}
