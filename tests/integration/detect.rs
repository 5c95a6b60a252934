//! What is found and what is not: Political Comms keys in the places they leak, Communal keys by
//! their context, and the look-alikes that must never be reported.

use crate::support::*;

/// Scans a one-file tree and expects exactly one Political Comms finding for `key`, at the place
/// `locate` computes, holding exactly `key` (checked with --show-secrets).
fn expect_pc_key(path: &str, contents: &str, key: &str) {
    let tree = Tree::new(&[(path, contents)]);
    let run = tree.scan_json(&["--show-secrets"]);
    let (line, column) = locate(contents, key);
    let findings = run.assert_findings(&[(PC_RULE, path, line, column)]);
    assert_eq!(
        findings[0]["secret"],
        key,
        "the secret's extent\n{}",
        run.dump()
    );
    assert_eq!(findings[0]["end_line"], line, "{}", run.dump());
    assert_eq!(
        findings[0]["end_column"],
        column + key.len() as u64,
        "{}",
        run.dump()
    );
}

// ---- 1. Political Comms keys, in every place they leak -----------------------------------------

#[test]
fn pc_key_in_x_api_key_header() {
    let key = pc_live(101);
    let text = format!(
        "GET https://api.politicalcomms.com/v1/organizations\nAccept: application/json\nX-API-Key: {key}\n"
    );
    expect_pc_key("requests/organizations.http", &text, &key);
}

#[test]
fn pc_key_in_curl_header() {
    let key = pc_live(102);
    let text = format!(
        "#!/bin/sh\nset -eu\ncurl -sS -H \"X-API-Key: {key}\" https://api.politicalcomms.com/v1/organizations\n"
    );
    expect_pc_key("scripts/orgs.sh", &text, &key);
}

#[test]
fn pc_key_in_dotenv() {
    let key = pc_live(103);
    let text = format!("# Political Comms\nPC_BASE_URL=https://api.politicalcomms.com\nPOLITICAL_COMMS_API_KEY={key}\n");
    expect_pc_key(".env", &text, &key);
}

#[test]
fn pc_key_in_python_client() {
    let key = pc_live(104);
    let text = format!(
        "from politicalcomms import PoliticalCommsClient\n\n\ndef client():\n    return PoliticalCommsClient(api_key=\"{key}\")\n"
    );
    expect_pc_key("app/clients.py", &text, &key);
}

#[test]
fn pc_test_key_in_yaml() {
    let key = pc_test(105);
    let text = format!(
        "services:\n  political_comms:\n    base_url: https://api.politicalcomms.com\n    api_key: {key}\n"
    );
    expect_pc_key("config/settings.yaml", &text, &key);
}

#[test]
fn pc_key_in_json() {
    let key = pc_live(106);
    let text = format!("{{\n  \"politicalComms\": {{\n    \"region\": \"us\",\n    \"apiKey\": \"{key}\"\n  }}\n}}\n");
    expect_pc_key("config/app.json", &text, &key);
}

#[test]
fn pc_key_in_terraform() {
    let key = pc_live(107);
    let text = format!(
        "variable \"pc_key\" {{\n  type      = string\n  sensitive = true\n  default   = \"{key}\"\n}}\n"
    );
    expect_pc_key("infra/variables.tf", &text, &key);
}

#[test]
fn pc_key_in_dockerfile_env() {
    let key = pc_live(108);
    let text = format!("FROM python:3.12-slim\nWORKDIR /srv\nENV POLITICAL_COMMS_API_KEY={key}\nCMD [\"python\", \"-m\", \"app\"]\n");
    expect_pc_key("Dockerfile", &text, &key);
}

#[test]
fn pc_key_in_markdown() {
    let key = pc_live(109);
    let text = format!(
        "# Setup\n\nEvery request needs a key.\n\nUse `{key}` in the `X-API-Key` header.\n"
    );
    expect_pc_key("docs/SETUP.md", &text, &key);
}

// ---- 2. Communal keys: recognised by their context --------------------------------------------

#[test]
fn bearer_next_to_communal_host_is_a_communal_key() {
    let tok = opaque_token(201);
    let text = format!(
        "#!/bin/sh\ncurl -s https://api.getcommunal.com/api/parent_programs \\\n  -H \"Accept: application/json\" \\\n  -H \"Authorization: Bearer {tok}\"\n"
    );
    let tree = Tree::new(&[("scripts/programs.sh", &text)]);
    let (line, column) = locate(&text, &tok);
    let run = tree.scan_json(&["--show-secrets"]);
    let findings = run.assert_findings(&[(COMMUNAL_RULE, "scripts/programs.sh", line, column)]);
    assert_eq!(findings[0]["secret"], tok.as_str(), "{}", run.dump());
    assert_eq!(findings[0]["provider"], "Communal", "{}", run.dump());
}

#[test]
fn bearer_in_python_session_with_communal_base_url_is_a_communal_key() {
    let tok = opaque_token(202);
    let text = format!(
        "import requests\n\nBASE_URL = \"https://api.getcommunal.com/api\"\nsession = requests.Session()\nsession.headers.update({{\"Authorization\": \"Bearer {tok}\"}})\n"
    );
    let tree = Tree::new(&[("sync/programs.py", &text)]);
    let (line, column) = locate(&text, &tok);
    tree.scan_json(&[])
        .assert_findings(&[(COMMUNAL_RULE, "sync/programs.py", line, column)]);
}

/// "Near" works both ways: the host a few lines below the header counts; twenty lines away it
/// does not, and the token is a generic Bearer token.
#[test]
fn communal_context_counts_when_near_in_either_direction_only() {
    let (near, far) = (opaque_token(206), opaque_token(207));
    let below = format!(
        "const headers = {{\n  Authorization: \"Bearer {near}\",\n}};\n\nfetch(\"https://api.getcommunal.com/api/users\", {{ headers }});\n"
    );
    let distant = format!(
        "fetch(\"https://api.getcommunal.com/api/users\");\n{}const other = {{ Authorization: \"Bearer {far}\" }};\n",
        "// unrelated code\n".repeat(20)
    );
    let tree = Tree::new(&[("below.js", &below), ("distant.js", &distant)]);
    let (nl, nc) = locate(&below, &near);
    let (fl, fc) = locate(&distant, &far);
    tree.scan_json(&[]).assert_findings(&[
        (COMMUNAL_RULE, "below.js", nl, nc),
        (BEARER_RULE, "distant.js", fl, fc),
    ]);
}

#[test]
fn bearer_without_communal_context_is_a_generic_bearer_token() {
    let tok = opaque_token(203);
    let text = format!(
        "#!/bin/sh\ncurl -s -H \"Authorization: Bearer {tok}\" https://api.acme-widgets.io/v1/items\n"
    );
    let tree = Tree::new(&[("scripts/items.sh", &text)]);
    let (line, column) = locate(&text, &tok);
    let run = tree.scan_json(&[]);
    let findings = run.assert_findings(&[(BEARER_RULE, "scripts/items.sh", line, column)]);
    assert_eq!(findings[0]["severity"], "medium", "{}", run.dump());
}

/// One key is one finding, under its most specific name, with every place it occurs: the copy
/// that has no Communal context nearby is still a location of the Communal finding.
#[test]
fn same_token_with_and_without_context_is_one_communal_finding_with_both_locations() {
    let tok = opaque_token(204);
    let communal =
        format!("curl -H \"Authorization: Bearer {tok}\" https://api.getcommunal.com/api/users\n");
    let plain = format!(
        "# smoke test\ncurl -H \"Authorization: Bearer {tok}\" http://localhost:8080/health\n"
    );
    let tree = Tree::new(&[("a_programs.sh", &communal), ("b_health.sh", &plain)]);
    let run = tree.scan_json(&[]);
    let findings = run.findings();
    assert_eq!(
        findings.len(),
        1,
        "one key must be one finding\n{}",
        run.dump()
    );
    assert_eq!(findings[0]["rule_id"], COMMUNAL_RULE, "{}", run.dump());
    let mut paths: Vec<&str> = findings[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["a_programs.sh", "b_health.sh"],
        "every location of the key\n{}",
        run.dump()
    );
    run.assert_code(1);
}

#[test]
fn communal_key_assigned_then_used_in_header_is_one_finding_at_the_assignment() {
    let tok = opaque_token(205);
    let text = format!(
        "// Communal Platform client\nconst COMMUNAL_API_KEY = '{tok}';\nconst BASE = 'https://api.getcommunal.com/api';\n\nexport async function programs() {{\n  return fetch(`${{BASE}}/parent_programs`, {{\n    headers: {{ Authorization: `Bearer ${{COMMUNAL_API_KEY}}` }},\n  }});\n}}\n"
    );
    let tree = Tree::new(&[("src/communalClient.js", &text)]);
    let (line, column) = locate(&text, &tok);
    assert_eq!(line, 2);
    let run = tree.scan_json(&["--show-secrets"]);
    let findings = run.assert_findings(&[(COMMUNAL_RULE, "src/communalClient.js", line, column)]);
    assert_eq!(findings[0]["secret"], tok.as_str(), "{}", run.dump());
    assert_eq!(
        findings[0]["locations"].as_array().map(Vec::len),
        Some(1),
        "{}",
        run.dump()
    );
}

// ---- 3. Look-alikes that are not keys ---------------------------------------------------------
//
// Each tree also holds one real key (the control), so that a scanner that found nothing at all
// would fail these tests too.

fn control() -> (String, String) {
    let key = pc_live(300);
    (key.clone(), format!("import os\n\nPC_KEY = \"{key}\"\n"))
}

fn expect_only_control(files: &[(&str, &str)]) {
    let (key, text) = control();
    let mut all = files.to_vec();
    all.push(("control/settings.py", &text));
    let tree = Tree::new(&all);
    let (line, column) = locate(&text, &key);
    tree.scan_json(&[])
        .assert_findings(&[(PC_RULE, "control/settings.py", line, column)]);
}

#[test]
fn political_comms_documentation_example_is_not_reported() {
    let doc_key = format!("pc_live_{}{}", "1234567890", "abcdef");
    let readme =
        format!("## Authentication\n\nSend your key in a header:\n\n    X-API-Key: {doc_key}\n");
    let curl = format!(
        "curl -H \"X-API-Key: {doc_key}\" https://api.politicalcomms.com/v1/organizations\n"
    );
    let env = format!("POLITICAL_COMMS_API_KEY={doc_key}\n");
    expect_only_control(&[
        ("README.md", &readme),
        ("docs/curl.sh", &curl),
        ("deploy/.env", &env),
    ]);
}

#[test]
fn placeholders_are_not_reported() {
    let your_key = format!(
        "POLITICAL_COMMS_API_KEY=pc_live_{}_{}_{}\n",
        "YOUR", "API_KEY", "HERE"
    );
    let xs = format!("political_comms:\n  api_key: pc_live_{}\n", "x".repeat(20));
    let communal = format!(
        "curl -H \"Authorization: Bearer {}\" https://api.getcommunal.com/api/parent_programs\n",
        "YOUR_API_KEY"
    );
    let angle = format!(
        "curl -H \"Authorization: Bearer {}\" https://api.acme-widgets.io/v1/items\n",
        "<token>"
    );
    let angle_communal = format!(
        "curl -H \"Authorization: Bearer {}\" https://api.getcommunal.com/api/users\n",
        "<token>"
    );
    expect_only_control(&[
        ("a.env", &your_key),
        ("b.yaml", &xs),
        ("c.sh", &communal),
        ("d.sh", &angle),
        ("e.sh", &angle_communal),
    ]);
}

#[test]
fn references_to_secrets_kept_elsewhere_are_not_reported() {
    let compose = "services:\n  app:\n    environment:\n      POLITICAL_COMMS_API_KEY: ${POLITICAL_COMMS_API_KEY}\n";
    let js = "// https://api.getcommunal.com/api\nconst communalToken = process.env.COMMUNAL_API_TOKEN_VALUE;\nconst headers = { Authorization: `Bearer ${COMMUNAL_API_KEY}` };\n";
    let workflow = "jobs:\n  sync:\n    steps:\n      - run: ./sync.sh\n        env:\n          COMMUNAL_API_KEY: ${{ secrets.COMMUNAL_API_KEY }}\n          POLITICAL_COMMS_API_KEY: ${{ secrets.POLITICAL_COMMS_API_KEY }}\n";
    let python = "import os\n\ncommunal_api_key = os.environ[\"COMMUNAL_API_KEY\"]\nheaders = {\"X-API-Key\": os.environ[\"POLITICAL_COMMS_API_KEY\"]}\n";
    let shell = "curl -H \"Authorization: Bearer ${COMMUNAL_API_KEY}\" https://api.getcommunal.com/api/users\n";
    expect_only_control(&[
        ("docker-compose.yml", compose),
        ("web/communal.js", js),
        (".github/workflows/sync.yml", workflow),
        ("sync.py", python),
        ("sync.sh", shell),
    ])
}

#[test]
fn identifier_sharing_the_key_prefix_is_not_reported() {
    let text = format!(
        "const SIGNATURE_HEADER = \"pc_live_{}_{}\";\nexport {{ SIGNATURE_HEADER }};\n",
        "webhook", "signature"
    );
    expect_only_control(&[("src/webhooks.ts", &text)]);
}

#[test]
fn aws_documentation_key_is_not_reported() {
    let doc_key = concat!("AKIA", "IOSFODNN7", "EXAMPLE");
    let real = aws_key_id(310);
    let docs = format!("[default]\naws_access_key_id = {doc_key}\n");
    let creds = format!("[prod]\nregion = us-east-1\naws_access_key_id = {real}\n");
    let tree = Tree::new(&[("docs/aws.ini", &docs), ("deploy/credentials.ini", &creds)]);
    let (line, column) = locate(&creds, &real);
    tree.scan_json(&[]).assert_findings(&[(
        "aws-access-key-id",
        "deploy/credentials.ini",
        line,
        column,
    )]);
}
