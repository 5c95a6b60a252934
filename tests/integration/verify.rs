//! Live checks against a mock provider on 127.0.0.1: verdicts, one request per unique key,
//! nothing sent without `--verify` or in a dry run, redirects not followed, timeouts. No test
//! reaches the internet: every check is pointed at the mock with `--endpoint`.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

const PC_RULE: &str = "political-comms-api-key";
const COMMUNAL_RULE: &str = "communal-api-key";

/// A Political Comms key, assembled here so that no key-shaped literal sits in the source.
fn pc_key(body: &str) -> String {
    format!("pc_{}_{body}", "live")
}

pub(crate) use crate::support::{json, Mock, Reply};

/// A Political Comms mock answering as the API documents, by key.
fn political_comms(valid: String, invalid: String, limited: String, rate_limited: String) -> Mock {
    Mock::start(move |seen, prior| {
        let key = seen.key();
        if seen.url != "/v1/organizations" || seen.method != "GET" {
            json(404, r#"{"success": false, "code": "NOT_FOUND"}"#)
        } else if key == valid {
            json(200, r#"{"data": [{"id": "org_1", "name": "Acme"}]}"#)
        } else if key == limited {
            json(
                403,
                r#"{"success": false, "error": "Permission denied", "code": "PERMISSION_DENIED", "statusCode": 403}"#,
            )
        } else if key == rate_limited && prior == 0 {
            let mut r = json(
                429,
                r#"{"success": false, "error": "Too many requests", "code": "RATE_LIMITED", "statusCode": 429}"#,
            );
            r.headers.push(("Retry-After", "1".into()));
            r
        } else if key == rate_limited {
            json(200, r#"{"data": []}"#)
        } else if key == invalid {
            json(
                401,
                r#"{"success": false, "error": "Invalid API key", "code": "INVALID_API_KEY", "statusCode": 401}"#,
            )
        } else {
            json(500, r#"{"success": false}"#)
        }
    })
}

pub(crate) fn keyhound(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("keyhound").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", cache_home(dir))
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        // Never the real user's config file (`XDG_CONFIG_HOME` must be absolute to count).
        .env("XDG_CONFIG_HOME", dir.join(".no-such-config-dir"));
    cmd
}

/// The cache directory (`XDG_CACHE_HOME`) of runs in `dir`: beside it, not in it (it would be
/// scanned), and never the user's own.
pub(crate) fn cache_home(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".cache");
    PathBuf::from(name)
}

/// A temporary tree whose verdict cache goes with it.
pub(crate) struct TestDir(TempDir);

impl TestDir {
    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(cache_home(self.0.path()));
    }
}

pub(crate) fn tree(files: &[(&str, String)]) -> TestDir {
    let dir = TestDir(tempfile::tempdir().unwrap());
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Runs a JSON scan of `dir` with `args`; returns exit code, path → (verdict, detail), stderr.
fn scan_json(dir: &Path, args: &[&str]) -> (i32, HashMap<String, (String, String)>, String) {
    let out = keyhound(dir)
        .args(["scan", ".", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    let mut verdicts = HashMap::new();
    for f in report["findings"].as_array().unwrap() {
        let detail = f["verdict_detail"].as_str().unwrap_or_default().to_string();
        let verdict = f["verdict"].as_str().unwrap().to_string();
        for loc in f["locations"].as_array().unwrap() {
            let path = loc["path"].as_str().unwrap().trim_start_matches("./");
            verdicts.insert(path.to_string(), (verdict.clone(), detail.clone()));
        }
    }
    (out.status.code().unwrap(), verdicts, stderr)
}

fn endpoint(rule: &str, mock: &Mock) -> String {
    format!("--endpoint={rule}={}", mock.url())
}

#[test]
fn political_comms_answers_become_verdicts_one_request_per_key() {
    let (valid, invalid, limited, rate_limited) = (
        pc_key("Vq8Zr3LxW1mTn6KpB2sY"),
        pc_key("Hf7kQ2zX9vB4nM8wR1tY"),
        pc_key("Gx8Lq2Vz7Ns1Pw9Kd3Rj"),
        pc_key("Zt5Wq9Xm2Lr7Kv3Np8Bs"),
    );
    let mock = political_comms(
        valid.clone(),
        invalid.clone(),
        limited.clone(),
        rate_limited.clone(),
    );
    let dir = tree(&[
        ("valid.env", format!("POLITICAL_COMMS_API_KEY={valid}\n")),
        ("again/valid.py", format!("API_KEY = \"{valid}\"\n")),
        (
            "invalid.env",
            format!("POLITICAL_COMMS_API_KEY={invalid}\n"),
        ),
        (
            "limited.env",
            format!("POLITICAL_COMMS_API_KEY={limited}\n"),
        ),
        ("limited2.env", format!("X-API-Key: {limited}\n")),
        (
            "rate.env",
            format!("POLITICAL_COMMS_API_KEY={rate_limited}\n"),
        ),
    ]);
    let (code, verdicts, stderr) = scan_json(
        dir.path(),
        &["--verify", &endpoint(PC_RULE, &mock), "--verify-timeout=2s"],
    );
    assert_eq!(code, 1, "{stderr}");
    let v = |p: &str| verdicts[p].clone();
    assert_eq!(v("valid.env"), ("valid".into(), String::new()));
    assert_eq!(v("again/valid.py"), ("valid".into(), String::new()));
    assert_eq!(v("invalid.env"), ("invalid".into(), String::new()));
    assert_eq!(v("limited.env").0, "valid");
    assert!(
        v("limited.env").1.contains("lacks permission"),
        "{verdicts:?}"
    );
    assert_eq!(v("limited2.env").0, "valid");
    assert_eq!(v("rate.env"), ("valid".into(), String::new()), "{stderr}");

    // Each unique key once; the rate-limited one once more after the wait it was asked for.
    assert_eq!(mock.count(&valid), 1);
    assert_eq!(mock.count(&invalid), 1);
    assert_eq!(mock.count(&limited), 1);
    assert_eq!(mock.count(&rate_limited), 2);
    for seen in mock.requests() {
        assert_eq!(
            (seen.method.as_str(), seen.url.as_str()),
            ("GET", "/v1/organizations")
        );
        assert_eq!(seen.header("accept"), Some("application/json"));
    }
    assert!(
        stderr.contains("live checks: 3 valid, 1 invalid, 0 unknown"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&valid[8..]),
        "a key reached stderr: {stderr}"
    );
}

#[test]
fn communal_answers_become_verdicts() {
    let keys: Vec<String> = [
        "Rt8Kw3Zq6Xn1Vm9Lb4Pd7Hc2Fs5Gj",
        "Qp2Xz7Wv4Nm9Kt3Lr8Bs1Hd6Fj5Gc",
        "K3v9Qm2Xr7Lp4Tz8Wn1Bc6Hd5Fs0Gj",
        "Wm4Zq8Xv2Nr6Kt1Lp9Bd3Hs7Fj0Gc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let answers = keys.clone();
    let mock = Mock::start(move |seen, _| {
        assert_eq!(seen.url, "/api/parent_programs");
        match answers.iter().position(|k| *k == seen.key()) {
            Some(0) => json(200, r#"{"data": [{"id": 1, "name": "Spring Drive"}]}"#),
            Some(1) => json(401, r#"{"message": "Unauthenticated."}"#),
            Some(2) => json(403, r#"{"message": "This action is unauthorized."}"#),
            Some(3) => json(
                422,
                r#"{"message": "The given data was invalid.", "errors": {"page": ["bad"]}}"#,
            ),
            _ => json(500, "{}"),
        }
    });
    let files: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("k{i}.env"), format!("COMMUNAL_API_KEY={k}\n")))
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let dir = tree(&files);
    let (_, verdicts, stderr) =
        scan_json(dir.path(), &["--verify", &endpoint(COMMUNAL_RULE, &mock)]);
    assert_eq!(verdicts["k0.env"].0, "valid", "{stderr}");
    assert_eq!(verdicts["k1.env"].0, "invalid");
    assert_eq!(verdicts["k2.env"].0, "valid");
    assert!(verdicts["k2.env"].1.contains("not allowed"));
    assert_eq!(verdicts["k3.env"].0, "valid");
    for k in &keys {
        assert_eq!(mock.count(k), 1);
    }
    for seen in mock.requests() {
        assert!(seen.header("authorization").unwrap().starts_with("Bearer "));
    }
}

#[test]
fn an_html_page_is_unknown_never_valid() {
    let key = pc_key("Yv2Kd8Qz5Wm1Xr9Tn4Lc");
    let mock = Mock::start(|_, _| Reply {
        status: 200,
        headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
        body: "<html><body>Please sign in</body></html>".into(),
    });
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let (_, verdicts, _) = scan_json(dir.path(), &["--verify", &endpoint(PC_RULE, &mock)]);
    assert_eq!(
        verdicts["a.env"],
        (
            "unknown".into(),
            "unexpected response: HTTP 200 text/html".into()
        )
    );
}

#[test]
fn a_redirect_is_not_followed_and_the_key_not_resent() {
    let key = pc_key("Ns6Rb1Xq8Vt3Km9Wz2Jh");
    let elsewhere = Mock::start(|_, _| json(200, r#"{"data": []}"#));
    let target = format!("http://localhost:{}/steal", elsewhere.port);
    let mock = Mock::start(move |_, _| Reply {
        status: 302,
        headers: vec![("Location", target.clone())],
        body: String::new(),
    });
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let (_, verdicts, _) = scan_json(dir.path(), &["--verify", &endpoint(PC_RULE, &mock)]);
    assert_eq!(verdicts["a.env"].0, "unknown");
    assert!(
        verdicts["a.env"].1.contains("redirect") && verdicts["a.env"].1.contains("not followed"),
        "{verdicts:?}"
    );
    assert_eq!(mock.count(&key), 1);
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
}

#[test]
fn a_server_that_never_answers_is_unknown_within_the_timeout() {
    let key = pc_key("Bq7Xw2Mz9Rk4Vn1Tp8Ld");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept connections and hold them open without a word, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let started = Instant::now();
    let (_, verdicts, stderr) = scan_json(
        dir.path(),
        &[
            "--verify",
            &format!("--endpoint={PC_RULE}=http://127.0.0.1:{port}"),
            "--verify-timeout=1s",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(8), "{stderr}");
    assert_eq!(verdicts["a.env"].0, "unknown");
    assert!(verdicts["a.env"].1.contains("timeout"), "{verdicts:?}");
}

#[test]
fn repeated_server_errors_are_unknown_after_one_retry() {
    let key = pc_key("Jd4Wq8Zn2Xv6Lr1Mk9Tb");
    let mock = Mock::start(|_, _| json(500, r#"{"success": false, "code": "INTERNAL"}"#));
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let (_, verdicts, _) = scan_json(dir.path(), &["--verify", &endpoint(PC_RULE, &mock)]);
    assert_eq!(
        verdicts["a.env"],
        ("unknown".into(), "server error (HTTP 500)".into())
    );
    assert_eq!(mock.count(&key), 2);
}

#[test]
fn still_rate_limited_is_unknown() {
    let key = pc_key("Tz3Kq8Wm1Xv6Nr9Lp4Bd");
    let mock = Mock::start(|_, _| {
        let mut r = json(429, r#"{"code": "RATE_LIMITED"}"#);
        r.headers.push(("Retry-After", "0".into()));
        r
    });
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let (_, verdicts, _) = scan_json(dir.path(), &["--verify", &endpoint(PC_RULE, &mock)]);
    assert_eq!(verdicts["a.env"].0, "unknown");
    assert!(verdicts["a.env"].1.contains("rate limited"), "{verdicts:?}");
    assert_eq!(mock.count(&key), 2);

    // A wait longer than the cap is not waited for.
    let mock = Mock::start(|_, _| {
        let mut r = json(429, "{}");
        r.headers.push(("Retry-After", "3600".into()));
        r
    });
    let started = Instant::now();
    let (_, verdicts, _) = scan_json(
        dir.path(),
        &["--verify", &endpoint(PC_RULE, &mock), "--max-retry-wait=2s"],
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(verdicts["a.env"].1.contains("3600s"), "{verdicts:?}");
    assert_eq!(mock.count(&key), 1);
}

#[test]
fn nothing_is_sent_without_verify() {
    let key = pc_key("Vq8Zr3LxW1mTn6KpB2sY");
    let mock = Mock::start(|_, _| json(200, r#"{"data": []}"#));
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let (code, verdicts, _) = scan_json(dir.path(), &[&endpoint(PC_RULE, &mock)]);
    assert_eq!(code, 1);
    assert_eq!(verdicts["a.env"].0, "unchecked");
    assert!(mock.requests().is_empty());
}

#[test]
fn a_dry_run_prints_requests_and_sends_nothing() {
    let key = pc_key("Vq8Zr3LxW1mTn6KpB2sY");
    let mock = Mock::start(|_, _| json(200, r#"{"data": []}"#));
    let dir = tree(&[
        ("a.env", format!("KEY={key}\n")),
        ("b.env", format!("OTHER={key}\n")),
    ]);
    let (_, verdicts, stderr) =
        scan_json(dir.path(), &["--verify-dry-run", &endpoint(PC_RULE, &mock)]);
    assert!(mock.requests().is_empty());
    assert_eq!(verdicts["a.env"].0, "unchecked");
    let line = format!(
        "would send GET {}/v1/organizations (headers: Accept, X-API-Key) [{PC_RULE} pc_live_*****]",
        mock.url()
    );
    assert_eq!(stderr.matches(&line).count(), 1, "{stderr}");
    assert!(!stderr.contains(&key), "{stderr}");
}

#[test]
fn only_valid_and_fail_on_valid() {
    let (valid, invalid) = (
        pc_key("Vq8Zr3LxW1mTn6KpB2sY"),
        pc_key("Hf7kQ2zX9vB4nM8wR1tY"),
    );
    let mock = political_comms(valid.clone(), invalid.clone(), String::new(), String::new());
    let with_invalid = tree(&[("bad.env", format!("KEY={invalid}\n"))]);
    let ep = endpoint(PC_RULE, &mock);
    let (code, _, _) = scan_json(with_invalid.path(), &["--verify", &ep, "--fail-on=valid"]);
    assert_eq!(code, 0, "a revoked key alone does not fail --fail-on valid");
    let (code, _, _) = scan_json(with_invalid.path(), &["--verify", &ep]);
    assert_eq!(code, 1, "by default any finding fails");

    let both = tree(&[
        ("bad.env", format!("KEY={invalid}\n")),
        ("good.env", format!("KEY={valid}\n")),
    ]);
    let (code, verdicts, _) = scan_json(
        both.path(),
        &["--verify", &ep, "--fail-on=valid", "--only-valid"],
    );
    assert_eq!(code, 1);
    assert_eq!(verdicts.keys().collect::<Vec<_>>(), vec!["good.env"]);

    keyhound(both.path())
        .args(["scan", ".", "--fail-on=valid"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--verify"));
}

#[test]
fn the_human_report_marks_valid_keys() {
    let (valid, invalid) = (
        pc_key("Vq8Zr3LxW1mTn6KpB2sY"),
        pc_key("Hf7kQ2zX9vB4nM8wR1tY"),
    );
    let mock = political_comms(valid.clone(), invalid.clone(), String::new(), String::new());
    let dir = tree(&[
        ("bad.env", format!("KEY={invalid}\n")),
        ("good.env", format!("KEY={valid}\n")),
    ]);
    let out = keyhound(dir.path())
        .args(["scan", ".", "--verify", &endpoint(PC_RULE, &mock)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("VALID KEY: Political Comms API key (high)"),
        "{text}"
    );
    assert!(text.contains("= note: live check: valid"), "{text}");
    assert!(text.contains("= note: live check: invalid"), "{text}");
    assert_eq!(text.matches("VALID KEY").count(), 1, "{text}");
}

#[test]
fn verify_command_reads_one_key_from_stdin() {
    let (valid, invalid) = (
        pc_key("Vq8Zr3LxW1mTn6KpB2sY"),
        pc_key("Hf7kQ2zX9vB4nM8wR1tY"),
    );
    let mock = political_comms(valid.clone(), invalid.clone(), String::new(), String::new());
    let dir = tree(&[]);
    let ep = endpoint(PC_RULE, &mock);
    keyhound(dir.path())
        .args(["verify", "--rule", PC_RULE, &ep])
        .write_stdin(format!("{valid}\n"))
        .assert()
        .code(0)
        .stdout(format!("{PC_RULE} pc_live_*****: valid\n"));
    keyhound(dir.path())
        .args(["verify", "--rule", PC_RULE, &ep])
        .write_stdin(format!("{invalid}\r\n"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains(": invalid"));
    let unknown = pc_key("Xn5Kq1Zw8Vr3Mt6Lp2Bd");
    keyhound(dir.path())
        .args(["verify", "--rule", PC_RULE, &ep])
        .write_stdin(unknown.clone())
        .assert()
        .code(2)
        .stdout(predicates::str::contains(
            ": unknown (server error (HTTP 500))",
        ));
    assert_eq!(mock.count(&valid), 1);
    assert_eq!(mock.count(&invalid), 1);

    keyhound(dir.path())
        .args(["verify", "--rule", "bearer-token"])
        .write_stdin(unknown)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("has no live check"));
    keyhound(dir.path())
        .args(["verify", "--rule", PC_RULE, &ep])
        .write_stdin("\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no key on stdin"));
    let before = mock.requests().len();
    keyhound(dir.path())
        .args(["verify", "--rule", PC_RULE, &ep, "--verify-dry-run"])
        .write_stdin(valid)
        .assert()
        .code(0)
        .stderr(predicates::str::contains("would send GET"));
    assert_eq!(mock.requests().len(), before);
}

#[test]
fn endpoints_are_https_or_loopback_and_name_a_checked_rule() {
    let dir = tree(&[("a.env", format!("KEY={}\n", pc_key("Vq8Zr3LxW1mTn6KpB2sY")))]);
    keyhound(dir.path())
        .args(["scan", ".", "--verify"])
        .arg(format!("--endpoint={PC_RULE}=http://api.example.com"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("loopback"));
    keyhound(dir.path())
        .args(["scan", ".", "--verify"])
        .arg("--endpoint=bearer-token=https://api.example.com")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no live check"));
    keyhound(dir.path())
        .args(["scan", ".", "--verify"])
        .arg("--endpoint=no-such-rule=https://api.example.com")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such rule"));
}

#[test]
fn endpoints_from_the_users_config_are_announced_even_with_quiet() {
    // Failed before: -q hid the notice of where keys are sent.
    let key = pc_key("Vq8Zr3LxW1mTn6KpB2sY");
    let mock = Mock::start(|_, _| json(200, r#"{"data": []}"#));
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let config = tree(&[(
        "mine.toml",
        format!(
            "[verify]\nendpoints = {{ \"{PC_RULE}\" = \"{}\" }}\n",
            mock.url()
        ),
    )]);
    let config = config.path().join("mine.toml");
    let (_, verdicts, stderr) = scan_json(
        dir.path(),
        &["--verify", "-q", "--config", config.to_str().unwrap()],
    );
    assert_eq!(verdicts["a.env"].0, "valid", "{stderr}");
    assert!(
        stderr.contains(&format!("live checks of `{PC_RULE}` go to {}", mock.url())),
        "{stderr}"
    );
    assert_eq!(mock.count(&key), 1);
}

#[test]
fn repository_config_cannot_turn_live_checks_on_or_move_them() {
    // Failed before: the scanned tree's own .keyhound.toml sent its key to a host of its choice
    // without --verify.
    let key = pc_key("Vq8Zr3LxW1mTn6KpB2sY");
    let mock = Mock::start(|_, _| json(200, r#"{"data": []}"#));
    let dir = tree(&[
        ("a.env", format!("KEY={key}\n")),
        (
            ".keyhound.toml",
            format!(
                "[verify]\nenabled = true\n\n[verify.endpoints]\n\"{PC_RULE}\" = \"{}\"\n",
                mock.url()
            ),
        ),
    ]);
    let (code, verdicts, stderr) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(verdicts["a.env"].0, "unchecked", "{stderr}");
    assert_eq!(mock.requests().len(), 0);
    assert!(
        stderr.contains(".keyhound.toml:2: `[verify] enabled = true` is ignored")
            && stderr.contains(&format!(
                ".keyhound.toml:5: `[verify.endpoints] {PC_RULE}` is ignored"
            )),
        "{stderr}"
    );
    // With --verify the check goes to the rule's own host (a dry run: nothing leaves).
    let out = keyhound(dir.path())
        .args(["scan", ".", "--verify-dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("would send GET https://api.politicalcomms.com/v1/organizations"),
        "{stderr}"
    );
    assert!(!stderr.contains("127.0.0.1"), "{stderr}");
}

#[test]
fn the_users_own_config_may_turn_live_checks_on_and_says_so_even_with_quiet() {
    let key = pc_key("Vq8Zr3LxW1mTn6KpB2sY");
    let mock = Mock::start(|_, _| json(200, r#"{"data": []}"#));
    let dir = tree(&[("a.env", format!("KEY={key}\n"))]);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("keyhound/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "[verify]\nenabled = true\nendpoints = {{ \"{PC_RULE}\" = \"{}\" }}\n",
            mock.url()
        ),
    )
    .unwrap();
    let out = keyhound(dir.path())
        .env("XDG_CONFIG_HOME", home.path())
        .args(["scan", ".", "--format", "json", "-q"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["verdict"], "valid", "{stderr}");
    assert_eq!(mock.count(&key), 1);
    assert!(
        stderr.contains("live checks are on (set in")
            && stderr.contains("config.toml:2")
            && stderr.contains(&format!("live checks of `{PC_RULE}` go to {}", mock.url())),
        "{stderr}"
    );
}

/// Repository config that reuses a built-in rule's id, and adds a rule with a live check, both
/// pointing at a host of the repository's choosing.
fn steering_config() -> String {
    format!(
        r#"[[rule]]
id = "{PC_RULE}"
name = "Political Comms API key"
keywords = ["pc_live_"]
regex = '''(pc_live_[A-Za-z0-9]{{20}})'''

[rule.verify]
url = "https://collector.example/v1/organizations"
headers = {{ "X-API-Key" = "{{{{ secret }}}}" }}

[[rule]]
id = "acme-key"
name = "Acme key"
keywords = ["acme_"]
regex = '''(acme_[A-Za-z0-9]{{20}})'''

[rule.verify]
url = "https://collector.example/v1/acme"
headers = {{ Authorization = "Bearer {{{{ secret }}}}" }}
"#
    )
}

#[test]
fn repository_config_cannot_replace_a_built_in_rule_or_give_a_rule_a_check() {
    // Failed before: a [[rule]] reusing a built-in id replaced it, live check included.
    let key = pc_key("Vq8Zr3LxW1mTn6KpB2sY");
    let acme = format!("acme_{}", "Wq8Zr3LxV1mTw6KpN2sY");
    let dir = tree(&[
        ("a.env", format!("KEY={key}\nACME={acme}\n")),
        (".keyhound.toml", steering_config()),
    ]);
    let out = keyhound(dir.path())
        .args(["scan", ".", "--format", "json", "--verify-dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("collector.example"), "{stderr}");
    assert!(
        stderr.contains("would send GET https://api.politicalcomms.com/v1/organizations"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(".keyhound.toml:2: rule `{PC_RULE}` is ignored"))
            && stderr.contains(".keyhound.toml:17: rule `acme-key`: `[rule.verify]` is ignored"),
        "{stderr}"
    );
    // The repository's new rule still finds its keys, unchecked.
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"acme-key") && rules.contains(&PC_RULE),
        "{report}"
    );
}

#[test]
fn a_users_rule_file_cannot_silently_replace_a_built_in_rule() {
    // Failed before: the rule file's rule replaced the built-in one without a word.
    let rule = steering_config();
    let dir = tree(&[
        ("a.env", "x = 1\n".to_string()),
        (
            "mine.toml",
            rule[..rule.find("[rule.verify]").unwrap()].to_string(),
        ),
    ]);
    keyhound(dir.path())
        .args(["scan", ".", "--rules", "mine.toml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "mine.toml:2: rule `{PC_RULE}` has the id of the built-in rule in builtin:"
        )));
}

/// A user rule whose check sends a second value captured beside the key.
const CAPTURE_RULE: &str = r#"
[provider]
name = "Acme"

[[rule]]
id = "acme-key"
name = "Acme key"
keywords = ["acme_"]
regex = '''(?P<id>AKID[0-9A-Z]{8}):(acme_[A-Za-z0-9]{20})'''
secret_group = 2

[rule.verify]
url = "https://api.acme.example/v1/keys/{{ captures.id }}"
headers = { Authorization = "Bearer {{ secret }}", "X-Key-Id" = "{{ captures.id }}" }

[[rule.verify.on]]
status = [200]
json = { active = true }
verdict = "valid"

[[rule.verify.on]]
status = [401]
verdict = "invalid"

[[rule.verify.test]]
status = 200
body = '{"active": true}'
expect = "valid"

[[rule.verify.test]]
status = 401
expect = "invalid"

[[rule.verify.test]]
status = 200
body = '{"active": "maybe"}'
expect = "unknown"
"#;

#[test]
fn a_check_can_send_a_value_captured_beside_the_key() {
    let id = format!("AKID{}", "7QX2M9KD");
    let secret = format!("acme_{}", "Wq8Zr3LxV1mTw6KpN2sY");
    let mock = Mock::start(|_, _| json(200, r#"{"active": true}"#));
    let dir = tree(&[
        ("rules/acme.toml", CAPTURE_RULE.to_string()),
        ("src/a.env", format!("ACME={id}:{secret}\n")),
    ]);
    let out = keyhound(dir.path())
        .args(["scan", "src", "--format", "json", "--no-builtin-rules"])
        .args(["--rules", "rules/acme.toml", "--verify"])
        .arg(format!("--endpoint=acme-key={}", mock.url()))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["verdict"], "valid", "{report}");
    let seen = &mock.requests()[0];
    assert_eq!(seen.url, format!("/v1/keys/{id}"));
    assert_eq!(seen.header("x-key-id"), Some(id.as_str()));
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {secret}").as_str())
    );
}

#[test]
fn rules_check_replays_recorded_answers() {
    let dir = tree(&[
        ("ok.toml", CAPTURE_RULE.to_string()),
        (
            "wrong.toml",
            CAPTURE_RULE.replace(
                "status = 401\nexpect = \"invalid\"",
                "status = 401\nexpect = \"valid\"",
            ),
        ),
    ]);
    keyhound(dir.path())
        .args(["rules", "check", "ok.toml"])
        .assert()
        .code(0)
        .stderr(predicates::str::contains("3 recorded answers): 0 failures"));
    keyhound(dir.path())
        .args(["rules", "check", "wrong.toml"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("expected valid, got invalid"))
        .stderr(predicates::str::contains(
            "needs a recorded `invalid` answer",
        ));
}

#[test]
fn a_check_whose_host_is_templated_is_refused_with_file_line_and_rule() {
    let bad = CAPTURE_RULE.replace(
        "https://api.acme.example/v1/keys/{{ captures.id }}",
        "https://{{ captures.id }}.acme.example/v1/keys",
    );
    let dir = tree(&[("bad.toml", bad)]);
    keyhound(dir.path())
        .args(["rules", "check", "bad.toml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.toml:6: rule `acme-key`"))
        .stderr(predicates::str::contains("must be literal"));
}

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn history_checks_keys_found_in_past_commits() {
    let key = pc_key("Vq8Zr3LxW1mTn6KpB2sY");
    let mock = Mock::start(|_, _| json(200, r#"{"data": []}"#));
    let dir = tree(&[("settings.env", format!("KEY={key}\n"))]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "add settings"]);
    std::fs::write(dir.path().join("settings.env"), "KEY=${KEY}\n").unwrap();
    git(dir.path(), &["commit", "-q", "-am", "move the key out"]);

    let out = keyhound(dir.path())
        .args(["history", ".", "--format", "json", "--verify"])
        .arg(endpoint(PC_RULE, &mock))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(
        report["findings"][0]["verdict"], "valid",
        "{report} {stderr}"
    );
    assert_eq!(report["findings"][0]["in_head"], false);
    assert_eq!(mock.count(&key), 1);

    // And without --verify, history sends nothing.
    keyhound(dir.path())
        .args(["history", ".", "--format", "json"])
        .arg(endpoint(PC_RULE, &mock))
        .assert()
        .code(1);
    assert_eq!(mock.count(&key), 1);
}

#[test]
fn a_server_error_with_retry_after_pauses_the_host_once_not_each_key() {
    // Sixteen keys, each answered 503 "retry after 1s", with a 1s budget: the host is paused
    // once; past the budget the answers stand, rather than every key waiting and retrying.
    let keys: Vec<String> = (0..16)
        .map(|seed| pc_key(&crate::support::body(950 + seed)))
        .collect();
    let mock = Mock::start(|_, _| {
        let mut r = json(503, r#"{"success": false}"#);
        r.headers.push(("Retry-After", "1".into()));
        r
    });
    let files: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("k{i}.env"), format!("KEY={k}\n")))
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let dir = tree(&files);
    let (_, verdicts, _) = scan_json(
        dir.path(),
        &["--verify", &endpoint(PC_RULE, &mock), "--max-retry-wait=1s"],
    );
    assert_eq!(verdicts.len(), 16, "{verdicts:?}");
    assert!(
        verdicts.values().all(|(v, _)| v == "unknown"),
        "{verdicts:?}"
    );
    let sent = mock.requests().len();
    assert!(
        sent < 2 * keys.len(),
        "{sent} requests: every key waited and retried"
    );
}
