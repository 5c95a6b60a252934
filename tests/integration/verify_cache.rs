//! The persistent verdict cache, against a mock provider on 127.0.0.1: a second run within the
//! TTL sends nothing, `--verify-cache-ttl 0s` and `--no-verify-cache` ask again, a corrupted
//! entry is a warning, and concurrent runs share the cache. Every run's cache sits beside its
//! temporary tree (`XDG_CACHE_HOME`), never in the user's.

use std::path::Path;

use serde_json::Value;

use super::verify::{cache_home, json, keyhound, tree, Mock};

const PC_RULE: &str = "political-comms-api-key";

fn pc_key(body: &str) -> String {
    format!("pc_{}_{body}", "live")
}

/// A JSON scan of `dir` with checks sent to `mock`: (findings, stderr).
fn scan(dir: &Path, mock: &Mock, extra: &[&str]) -> (Vec<Value>, String) {
    let out = keyhound(dir)
        .args(["scan", ".", "--format", "json", "--verify"])
        .arg(format!("--endpoint={PC_RULE}={}", mock.url()))
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    (report["findings"].as_array().unwrap().clone(), stderr)
}

fn answering(valid: String) -> Mock {
    Mock::start(move |seen, _| {
        if seen.header("x-api-key") == Some(valid.as_str()) {
            json(200, r#"{"data": [{"id": "org_1"}]}"#)
        } else {
            json(401, r#"{"success": false, "code": "INVALID_API_KEY"}"#)
        }
    })
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let verdicts = cache_home(dir).join("keyhound").join("verdicts");
    std::fs::read_dir(verdicts)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

#[test]
fn a_second_run_within_the_ttl_sends_nothing() {
    let (valid, invalid) = (
        pc_key("Vq8Zr3LxW1mTn6KpB2sY"),
        pc_key("Hf7kQ2zX9vB4nM8wR1tY"),
    );
    let mock = answering(valid.clone());
    let dir = tree(&[
        ("a.env", format!("KEY={valid}\n")),
        ("b.env", format!("KEY={invalid}\n")),
    ]);
    let (first, _) = scan(dir.path(), &mock, &[]);
    assert_eq!(mock.requests().len(), 2);
    let (second, stderr) = scan(dir.path(), &mock, &[]);
    assert_eq!(mock.requests().len(), 2, "the cache was not used: {stderr}");
    let verdicts = |r: &[Value]| -> Vec<String> {
        r.iter()
            .map(|f| f["verdict"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(verdicts(&first), verdicts(&second));
    assert_eq!(verdicts(&second), vec!["valid", "invalid"]);
    assert!(stderr.contains("; 2 from the verdict cache"), "{stderr}");
    // The cache holds no key.
    for path in entries(dir.path()) {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(&valid[8..]) && !text.contains(&invalid[8..]),
            "{text}"
        );
    }
}

#[test]
fn a_ttl_of_zero_or_no_cache_asks_again() {
    let valid = pc_key("Gx8Lq2Vz7Ns1Pw9Kd3Rj");
    let mock = answering(valid.clone());
    let dir = tree(&[("a.env", format!("KEY={valid}\n"))]);
    scan(dir.path(), &mock, &[]);
    scan(dir.path(), &mock, &["--verify-cache-ttl=0s"]);
    assert_eq!(mock.requests().len(), 2);
    scan(dir.path(), &mock, &["--no-verify-cache"]);
    assert_eq!(mock.requests().len(), 3);

    let fresh = tree(&[("a.env", format!("KEY={valid}\n"))]);
    scan(fresh.path(), &mock, &["--no-verify-cache"]);
    assert!(
        !cache_home(fresh.path()).exists(),
        "--no-verify-cache wrote a cache"
    );
}

#[test]
fn a_corrupted_cache_is_a_warning_not_a_failure() {
    let valid = pc_key("Zt5Wq9Xm2Lr7Kv3Np8Bs");
    let mock = answering(valid.clone());
    let dir = tree(&[("a.env", format!("KEY={valid}\n"))]);
    scan(dir.path(), &mock, &[]);
    for path in entries(dir.path()) {
        std::fs::write(path, b"\x00garbage{").unwrap();
    }
    let (findings, stderr) = scan(dir.path(), &mock, &[]);
    assert_eq!(findings[0]["verdict"], "valid", "{stderr}");
    assert!(
        stderr.contains("warning: ignoring a corrupted verdict cache entry"),
        "{stderr}"
    );
    assert_eq!(mock.requests().len(), 2);
    // Rewritten: the next run uses it again.
    scan(dir.path(), &mock, &[]);
    assert_eq!(mock.requests().len(), 2);

    let key = cache_home(dir.path()).join("keyhound").join("verdicts.key");
    std::fs::write(key, "not a secret\n").unwrap();
    let (findings, stderr) = scan(dir.path(), &mock, &[]);
    assert_eq!(findings[0]["verdict"], "valid");
    assert!(stderr.contains("verdict cache secret"), "{stderr}");
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn concurrent_runs_share_the_cache() {
    let keys: Vec<String> = [
        "Rt8Kw3Zq6Xn1Vm9Lb4Pd",
        "Qp2Xz7Wv4Nm9Kt3Lr8Bs",
        "Wm4Zq8Xv2Nr6Kt1Lp9Bd",
    ]
    .iter()
    .map(|b| pc_key(b))
    .collect();
    let mock = answering(keys[0].clone());
    let files: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("k{i}.env"), format!("KEY={k}\n")))
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let dir = tree(&files);
    let url = mock.url();
    let outputs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|_| {
                let (path, url) = (dir.path(), &url);
                scope.spawn(move || {
                    keyhound(path)
                        .args(["scan", ".", "--format", "json", "--verify"])
                        .arg(format!("--endpoint={PC_RULE}={url}"))
                        .output()
                        .unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for out in outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
    }
    let sent = mock.requests().len();
    assert!((3..=9).contains(&sent), "{sent}");
    let (findings, stderr) = scan(dir.path(), &mock, &[]);
    assert_eq!(mock.requests().len(), sent, "{stderr}");
    assert_eq!(findings.len(), 3);
    assert!(stderr.contains("; 3 from the verdict cache"), "{stderr}");
}

#[test]
fn the_summary_counts_each_verdict_and_each_unknown_cause() {
    let keys: Vec<String> = [
        "Vq8Zr3LxW1mTn6KpB2sY",
        "Hf7kQ2zX9vB4nM8wR1tY",
        "Gx8Lq2Vz7Ns1Pw9Kd3Rj",
        "Zt5Wq9Xm2Lr7Kv3Np8Bs",
        "Jd4Wq8Zn2Xv6Lr1Mk9Tb",
    ]
    .iter()
    .map(|b| pc_key(b))
    .collect();
    let answers = keys.clone();
    let mock = Mock::start(move |seen, _| {
        match answers
            .iter()
            .position(|k| Some(k.as_str()) == seen.header("x-api-key"))
        {
            Some(0) => json(200, r#"{"data": []}"#),
            Some(1) => json(401, r#"{"success": false, "code": "INVALID_API_KEY"}"#),
            Some(2) => super::verify::Reply {
                status: 200,
                headers: vec![("Content-Type", "text/html".into())],
                body: "<html>Sign in</html>".into(),
            },
            // A rate limit would pause the whole host and make the other answers racy: the
            // causes' wording is covered by verify::causes's unit test.
            _ => json(500, r#"{"success": false}"#),
        }
    });
    let files: Vec<(String, String)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (format!("k{i}.env"), format!("KEY={k}\n")))
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let dir = tree(&files);
    let (_, stderr) = scan(dir.path(), &mock, &["--no-verify-cache"]);
    assert!(
        stderr.contains(
            "live checks: 1 valid, 1 invalid, 3 unknown (2 server error, 1 unexpected answer)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_ttl_in_days_is_accepted_and_a_timeout_in_days_is_not() {
    let valid = pc_key("Tz4Wn8Qb2Lx6Vk1Rm9Hs");
    let mock = answering(valid.clone());
    let dir = tree(&[("a.env", format!("KEY={valid}\n"))]);
    scan(dir.path(), &mock, &["--verify-cache-ttl=7d"]);
    let (_, stderr) = scan(dir.path(), &mock, &["--verify-cache-ttl=7d"]);
    assert_eq!(mock.requests().len(), 1, "the cache was not used: {stderr}");
    assert!(stderr.contains("; 1 from the verdict cache"), "{stderr}");

    // A TTL is capped at a year, and a timeout or a wait still at a day.
    for args in [
        ["--verify-cache-ttl", "366d"],
        ["--verify-timeout", "2d"],
        ["--max-retry-wait", "7d"],
    ] {
        let out = keyhound(dir.path())
            .args(["scan", ".", "--verify"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("more than the longest allowed"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(mock.requests().len(), 1);
}
