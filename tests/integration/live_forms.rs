//! Request forms of live checks beyond a header template, against a mock provider on
//! 127.0.0.1: HTTP Basic credentials, form and JSON bodies, and companion parts of a multi-part
//! credential found near the key (tried in turn, reported redacted).

use std::path::Path;

use serde_json::Value;

use super::verify::{json, keyhound, tree, Mock};

/// A user rule for `acme_` keys whose check is `VERIFY` (a `[rule.verify]` body).
fn acme_rule(verify: &str) -> String {
    format!(
        r#"
[provider]
name = "Acme"

[[rule]]
id = "acme-key"
name = "Acme key"
keywords = ["acme_"]
regex = '''(acme_[A-Za-z0-9]{{20}})'''

[rule.verify]
{verify}

[[rule.verify.on]]
status = [200]
json = {{ active = true }}
verdict = "valid"

[[rule.verify.on]]
status = [401]
verdict = "invalid"
"#
    )
}

fn acme_key(body: &str) -> String {
    format!("acme_{body}")
}

/// Scans `dir/src` with only the rule in `dir/rules/acme.toml`, checks pointed at `mock`;
/// returns the JSON findings and stderr.
fn scan(dir: &Path, rule_id: &str, mock: &Mock, extra: &[&str]) -> (Vec<Value>, String) {
    let out = keyhound(dir)
        .args(["scan", "src", "--format", "json", "--no-builtin-rules"])
        .args(["--rules", "rules/acme.toml", "--verify"])
        .arg(format!("--endpoint={rule_id}={}", mock.url()))
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{stderr}", String::from_utf8_lossy(&out.stdout)));
    (report["findings"].as_array().unwrap().clone(), stderr)
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
fn basic_credentials_and_a_form_body() {
    let key = acme_key("Wq8Zr3LxV1mTw6KpN2sY");
    let expected = basic("api", &key);
    let mock = Mock::start(move |seen, _| {
        if seen.header("authorization") == Some(expected.as_str()) {
            json(200, r#"{"active": true}"#)
        } else {
            json(401, r#"{"active": false}"#)
        }
    });
    let rule = acme_rule(
        r#"method = "POST"
url = "https://api.acme.example/v1/check"
basic = { username = "api", password = "{{ secret }}" }
form = { token = "{{ secret }}", note = "a&b=c" }"#,
    );
    let dir = tree(&[
        ("rules/acme.toml", rule),
        ("src/a.env", format!("ACME={key}\n")),
    ]);
    let (findings, stderr) = scan(dir.path(), "acme-key", &mock, &[]);
    assert_eq!(findings[0]["verdict"], "valid", "{stderr}");
    let seen = &mock.requests()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.body, format!("note=a%26b%3Dc&token={key}"));
    assert!(!stderr.contains(&key), "{stderr}");

    // The dry run names the Authorization header, never its value.
    let out = keyhound(dir.path())
        .args([
            "scan",
            "src",
            "--no-builtin-rules",
            "--rules",
            "rules/acme.toml",
        ])
        .arg("--verify-dry-run")
        .arg(format!("--endpoint=acme-key={}", mock.url()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(headers: Authorization, Content-Type) with a"),
        "{stderr}"
    );
    assert!(!stderr.contains("Basic "), "{stderr}");
}

#[test]
fn a_json_body() {
    let key = acme_key("Hf7kQ2zX9vB4nM8wR1tY");
    let mock = Mock::start(|seen, _| {
        let body: Value = serde_json::from_str(&seen.body).unwrap_or_default();
        if body["credentials"]["token"]
            .as_str()
            .is_some_and(|t| t.starts_with("acme_"))
            && body["version"] == 2
        {
            json(200, r#"{"active": true}"#)
        } else {
            json(401, "{}")
        }
    });
    let rule = acme_rule(
        r#"method = "POST"
url = "https://api.acme.example/v1/check"
json_body = { credentials = { token = "{{ secret }}" }, version = 2 }"#,
    );
    let dir = tree(&[
        ("rules/acme.toml", rule),
        ("src/a.env", format!("ACME={key}\n")),
    ]);
    let (findings, stderr) = scan(dir.path(), "acme-key", &mock, &[]);
    assert_eq!(findings[0]["verdict"], "valid", "{stderr}");
    let seen = &mock.requests()[0];
    assert_eq!(seen.header("content-type"), Some("application/json"));
}

#[test]
fn a_body_form_needs_post_and_basic_excludes_an_authorization_header() {
    for (verify, message) in [
        (
            r#"url = "https://api.acme.example/v1/check"
form = { token = "{{ secret }}" }"#,
            "use POST",
        ),
        (
            r#"url = "https://api.acme.example/v1/check"
headers = { Authorization = "Bearer {{ secret }}" }
basic = { username = "{{ secret }}" }"#,
            "cannot both be set",
        ),
        (
            r#"url = "https://api.acme.example/v1/check"
docs = "http://docs.acme.example/api/check"
headers = { Authorization = "Bearer {{ secret }}" }"#,
            "verify.docs `http://docs.acme.example/api/check` must be an https URL",
        ),
    ] {
        let dir = tree(&[("rules/acme.toml", acme_rule(verify))]);
        keyhound(dir.path())
            .args(["rules", "check", "rules/acme.toml"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("rule `acme-key`"))
            .stderr(predicates::str::contains(message));
    }
}

/// An Acme secret checked with the key id written near it.
const PAIR_RULE: &str = r#"
[provider]
name = "Acme"

[[rule]]
id = "acme-secret"
name = "Acme secret"
keywords = ["acme_secret"]
regex = '''acme_secret[ =:"]+([A-Za-z0-9]{24})'''

[rule.verify]
url = "https://api.acme.example/v1/whoami"
headers = { "X-Key-Id" = "{{ captures.key_id }}", Authorization = "Bearer {{ secret }}" }

[[rule.verify.companion]]
regex = '''\b(?P<key_id>AKID[0-9A-Z]{12})\b'''
within_lines = 3

[[rule.verify.on]]
status = [200]
json_has = "user"
verdict = "valid"

[[rule.verify.on]]
status = [401]
verdict = "invalid"
"#;

fn key_id(tail: &str) -> String {
    format!("AKID{tail}")
}

#[test]
fn companions_near_the_key_are_tried_in_turn_and_reported_redacted() {
    let secret = "Zt5Wq9Xm2Lr7Kv3Np8BsQ4Jd".to_string();
    let (near, right, far) = (
        key_id("7QX2M9KD4RT1"),
        key_id("3VB8N2LP6WQ5"),
        key_id("9HJ4K7ZX2MC8"),
    );
    let accepted = right.clone();
    let mock = Mock::start(move |seen, _| {
        if seen.header("x-key-id") == Some(accepted.as_str()) {
            json(200, r#"{"user": "deploy"}"#)
        } else {
            json(401, "{}")
        }
    });
    let text = format!(
        "far_id = {far}\n\n\n\n\n\nother_id = {right}\nkey_id = {near}\nacme_secret = {secret}\n"
    );
    let dir = tree(&[
        ("rules/acme.toml", PAIR_RULE.to_string()),
        ("src/creds.ini", text),
    ]);
    let (findings, stderr) = scan(dir.path(), "acme-secret", &mock, &[]);
    assert_eq!(findings[0]["verdict"], "valid", "{stderr}");
    assert_eq!(
        findings[0]["checked_with"],
        serde_json::json!({"key_id": "AKID*****"})
    );
    let ids: Vec<String> = mock
        .requests()
        .iter()
        .map(|s| s.header("x-key-id").unwrap_or_default().to_string())
        .collect();
    // Nearest first; the one six lines away is never sent.
    assert_eq!(ids, vec![near.clone(), right.clone()]);
    assert!(!stderr.contains(&right[4..]) && !stderr.contains(&secret));

    // --show-secrets shows the part in full; the human report names it.
    let (findings, _) = scan(dir.path(), "acme-secret", &mock, &["--show-secrets"]);
    assert_eq!(findings[0]["checked_with"]["key_id"], right.as_str());
    let out = keyhound(dir.path())
        .args([
            "scan",
            "src",
            "--no-builtin-rules",
            "--rules",
            "rules/acme.toml",
        ])
        .arg("--verify")
        .arg(format!("--endpoint=acme-secret={}", mock.url()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("live check: valid (checked with key_id AKID*****)"),
        "{text}"
    );
}

#[test]
fn at_most_three_companions_are_tried_and_none_found_is_unknown() {
    let secret = "Qp2Xz7Wv4Nm9Kt3Lr8Bs1Hd6".to_string();
    let mock = Mock::start(|_, _| json(401, "{}"));
    let ids: Vec<String> = [
        "7QX2M9KD4RT1",
        "3VB8N2LP6WQ5",
        "9HJ4K7ZX2MC8",
        "5TR3W8QZ1LK6",
    ]
    .iter()
    .map(|t| key_id(t))
    .collect();
    let text = format!(
        "{}\n{}\nacme_secret = {secret}\n{}\n{}\n",
        ids[0], ids[1], ids[2], ids[3]
    );
    let dir = tree(&[
        ("rules/acme.toml", PAIR_RULE.to_string()),
        ("src/creds.ini", text),
        (
            "src/alone.ini",
            "acme_secret = Wm4Zq8Xv2Nr6Kt1Lp9Bd3Hs7\n".to_string(),
        ),
    ]);
    let (findings, stderr) = scan(dir.path(), "acme-secret", &mock, &[]);
    let by_path = |p: &str| {
        findings
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(p))
            .unwrap_or_else(|| panic!("no finding in {p}: {stderr}"))
            .clone()
    };
    let creds = by_path("creds.ini");
    assert_eq!(creds["verdict"], "invalid", "{stderr}");
    assert_eq!(creds["checked_with"]["key_id"], "AKID*****");
    assert_eq!(mock.requests().len(), 3, "{:?}", mock.requests());
    let alone = by_path("alone.ini");
    assert_eq!(alone["verdict"], "unknown");
    assert!(
        alone["verdict_detail"]
            .as_str()
            .unwrap()
            .contains("`key_id`"),
        "{alone}"
    );
}

const STS_VALID: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/deploy</Arn>
    <UserId>AIDAJQABLZS4A3QDU576Q</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
</GetCallerIdentityResponse>"#;

const STS_INVALID: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
  <Message>The security token included in the request is invalid.</Message></Error>
</ErrorResponse>"#;

fn xml(status: u16, body: &str) -> super::verify::Reply {
    super::verify::Reply {
        status,
        headers: vec![("Content-Type", "text/xml".into())],
        body: body.to_string(),
    }
}

#[test]
fn aws_keys_are_checked_with_a_signed_get_caller_identity() {
    let id = super::support::aws_key_id(7);
    let other_id = super::support::aws_key_id(8);
    let secret = super::support::random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+",
        11,
        40,
    );
    let accepted = id.clone();
    let mock = Mock::start(move |seen, _| {
        let auth = seen.header("authorization").unwrap_or_default();
        let scope = format!("AWS4-HMAC-SHA256 Credential={accepted}/");
        let signed = auth.starts_with(&scope)
            && auth.contains(
                "/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, \
                 Signature=",
            )
            && seen.header("x-amz-date").is_some_and(|d| d.len() == 16);
        if seen.method == "POST"
            && seen.url == "/"
            && seen.body == "Action=GetCallerIdentity&Version=2011-06-15"
            && signed
        {
            xml(200, STS_VALID)
        } else {
            xml(403, STS_INVALID)
        }
    });
    let dir = tree(&[
        (
            "valid/credentials",
            format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
        ),
        (
            "other/credentials",
            format!(
                "[default]\naws_access_key_id = {other_id}\naws_secret_access_key = {}\n",
                secret.chars().rev().collect::<String>()
            ),
        ),
    ]);
    let out = keyhound(dir.path())
        .args(["scan", ".", "--format", "json", "--verify"])
        .arg(format!("--endpoint=aws-secret-access-key={}", mock.url()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secrets: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "aws-secret-access-key")
        .collect();
    let at = |dir: &str| {
        secrets
            .iter()
            .find(|f| f["path"].as_str().unwrap().contains(dir))
            .unwrap_or_else(|| panic!("no secret found in {dir}: {report} {stderr}"))
    };
    let valid = at("valid/");
    assert_eq!(valid["verdict"], "valid", "{report} {stderr}");
    assert_eq!(
        valid["key_info"],
        serde_json::json!({"identity": "arn:aws:iam::123456789012:user/deploy", "account": "123456789012"})
    );
    assert_eq!(
        valid["checked_with"],
        serde_json::json!({"key_id": "AKIA*****"})
    );
    assert_eq!(at("other/")["verdict"], "invalid");
    assert_eq!(mock.requests().len(), 2);
    assert!(
        !stderr.contains(&secret) && !stderr.contains(&id[4..]),
        "{stderr}"
    );
}

/// A GitHub classic token, assembled here.
/// A classic GitHub token whose last six characters are the base62 CRC32 of the rest, as
/// GitHub writes them (the rule drops a token whose checksum does not hold).
fn github_pat(seed: u64) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let random = super::support::random_from(BASE62, seed, 30);
    let mut n = crc32fast::hash(random.as_bytes());
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let check = std::str::from_utf8(&check).unwrap();
    format!("gh{}_{random}{check}", "p")
}

#[test]
fn what_a_valid_key_can_do_is_shown_in_every_format() {
    let key = github_pat(21);
    let mock = Mock::start(|seen, _| {
        assert_eq!(seen.url, "/user");
        let mut reply = json(200, r#"{"login": "octocat", "id": 1, "type": "User"}"#);
        reply.headers.push(("X-OAuth-Scopes", "repo, gist".into()));
        reply
    });
    let dir = tree(&[("a.env", format!("GH_TOKEN={key}\n"))]);
    let run = |format: &str| {
        let out = keyhound(dir.path())
            .args(["scan", ".", "--verify", "--format", format])
            .arg(format!("--endpoint=github-classic-pat={}", mock.url()))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            !stdout.contains(&key[4..]),
            "{format} shows the key: {stdout}"
        );
        stdout
    };
    let human = run("human");
    assert!(
        human.contains("= note: live check: valid — identity octocat; scopes repo, gist"),
        "{human}"
    );
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(
        json["findings"][0]["key_info"],
        serde_json::json!({"identity": "octocat", "scopes": "repo, gist"})
    );
    let line: Value = serde_json::from_str(run("jsonl").lines().next().unwrap()).unwrap();
    assert_eq!(line["key_info"]["identity"], "octocat");
    let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["keyInfo"]["scopes"],
        "repo, gist"
    );
    let csv = run("csv");
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains(",key_info,checked_with"),
        "{csv}"
    );
    assert!(
        csv.contains(",\"identity=octocat; scopes=repo, gist\","),
        "{csv}"
    );
}

#[test]
fn rules_check_proves_the_details_a_check_reads() {
    let rule = |want: &str| {
        format!(
            r#"{}
[rule.verify.detail]
identity = "user.login"
plan = {{ header = "X-Plan" }}

[[rule.verify.test]]
status = 200
headers = {{ "X-Plan" = "team" }}
body = '{{"active": true, "user": {{"login": "octocat"}}}}'
expect = "valid"
key_info = {{ identity = "{want}", plan = "team" }}

[[rule.verify.test]]
status = 401
expect = "invalid"

[[rule.verify.test]]
status = 500
expect = "unknown"
"#,
            acme_rule(
                r#"url = "https://api.acme.example/v1/me"
headers = { Authorization = "Bearer {{ secret }}" }"#
            )
        )
    };
    let dir = tree(&[
        ("ok.toml", rule("octocat")),
        ("wrong.toml", rule("someone")),
    ]);
    keyhound(dir.path())
        .args(["rules", "check", "ok.toml"])
        .assert()
        .code(0);
    keyhound(dir.path())
        .args(["rules", "check", "wrong.toml"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "expected detail identity = `someone`, got `octocat`",
        ));
}
