//! Helpers shared by every integration test: temporary trees, running the binary in a clean
//! environment, parsing its JSON, and token-shaped strings assembled at run time (so that these
//! sources hold no literal key that would trip a scanner, keyhound included).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

/// The rule ids the tests rely on.
pub const PC_RULE: &str = "political-comms-api-key";
pub const COMMUNAL_RULE: &str = "communal-api-key";
pub const BEARER_RULE: &str = "bearer-token";

/// No single run of the binary may take longer than this: a hang is a failure, not a stuck suite.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// A temporary directory tree, removed when dropped, and a config directory of its own for
/// the user's config file (`XDG_CONFIG_HOME`), outside the tree.
pub struct Tree {
    dir: TempDir,
    user_config: TempDir,
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.cache_home());
    }
}

impl Tree {
    /// A tree holding these text files (parent directories are created).
    pub fn new(files: &[(&str, &str)]) -> Tree {
        let tree = Tree {
            dir: tempfile::tempdir().expect("create a temporary directory"),
            user_config: tempfile::tempdir().expect("create a temporary directory"),
        };
        for (path, contents) in files {
            tree.write(path, contents);
        }
        tree
    }

    /// Writes (or overwrites) one file, creating its parent directories.
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) -> &Tree {
        let full = self.dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&full, contents).unwrap_or_else(|e| panic!("write {}: {e}", full.display()));
        self
    }

    /// Creates a symbolic link at `link` pointing to `target` (taken literally).
    #[cfg(unix)]
    pub fn symlink(&self, target: &str, link: &str) -> &Tree {
        let full = self.dir.path().join(link);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::os::unix::fs::symlink(target, &full).expect("create a symlink");
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the user's own config file (`$XDG_CONFIG_HOME/keyhound/config.toml`); returns
    /// its path.
    pub fn user_config(&self, contents: &str) -> std::path::PathBuf {
        let path = self.user_config.path().join("keyhound/config.toml");
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the config dir");
        std::fs::write(&path, contents).expect("write the user config");
        path
    }

    /// `keyhound ARGS...` run inside the tree, with a clean, colourless environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("keyhound").expect("the keyhound binary is built");
        cmd.current_dir(self.path()).args(args).timeout(RUN_TIMEOUT);
        for var in [
            "CI",
            "GITHUB_ACTIONS",
            "GITHUB_STEP_SUMMARY",
            "CLICOLOR",
            "CLICOLOR_FORCE",
            "FORCE_COLOR",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        for (var, _) in std::env::vars_os() {
            let name = var.to_string_lossy();
            // A test run from inside a git hook must not look like one to the binary.
            if name.starts_with("KEYHOUND") || name.starts_with("PRE_COMMIT") {
                cmd.env_remove(var);
            }
        }
        cmd.env("NO_COLOR", "1");
        // Never the real user's config: each tree has its own (empty unless a test writes it).
        cmd.env("XDG_CONFIG_HOME", self.user_config.path());
        // Live checks cache their verdicts: beside the tree (not in it, where it would be
        // scanned), never in the user's own cache.
        cmd.env("XDG_CACHE_HOME", self.cache_home());
        cmd
    }

    /// Where runs in this tree keep their verdict cache.
    pub fn cache_home(&self) -> std::path::PathBuf {
        let mut name = self.path().as_os_str().to_owned();
        name.push(".cache");
        std::path::PathBuf::from(name)
    }

    /// Runs `keyhound ARGS...` in the tree and captures what it did.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command(args), args)
    }

    /// Runs `keyhound ARGS...` with `input` on stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: impl Into<Vec<u8>>) -> Run {
        let mut cmd = self.command(args);
        cmd.write_stdin(input);
        Run::of(cmd, args)
    }

    /// `keyhound scan --format json EXTRA...` in the tree.
    pub fn scan_json(&self, extra: &[&str]) -> Run {
        let mut args = vec!["scan", "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

/// What one run of the binary did.
pub struct Run {
    pub args: String,
    /// `None` if the process was killed (a signal or the timeout).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(mut cmd: Command, args: &[&str]) -> Run {
        let out = cmd.output().expect("run keyhound");
        Run {
            args: args.join(" "),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// stdout and stderr, for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "`keyhound {}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code (a killed process fails too).
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that `text` occurs in stderr.
    pub fn assert_stderr_contains(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text),
            "stderr should contain {text:?}\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that stderr matches `pattern` (a regex).
    pub fn assert_stderr_matches(&self, pattern: &str) -> &Run {
        let re = predicate::str::is_match(pattern).expect("a valid regex");
        assert!(
            re.eval(&self.stderr),
            "stderr should match /{pattern}/\n{}",
            self.dump()
        );
        self
    }

    /// Asserts that `text` occurs in neither stdout nor stderr.
    pub fn assert_nowhere(&self, text: &str) -> &Run {
        assert!(
            !self.stdout.contains(text) && !self.stderr.contains(text),
            "{text:?} must not be printed\n{}",
            self.dump()
        );
        self
    }

    /// stdout parsed as the JSON report's `findings` array.
    pub fn findings(&self) -> Vec<Value> {
        let value: Value = serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.dump()));
        match value.get("findings") {
            Some(Value::Array(items)) => items.clone(),
            _ => panic!("expected a JSON report with findings\n{}", self.dump()),
        }
    }

    /// Asserts that the findings are exactly these `(rule_id, path, line, column)`, in any
    /// order, and that the exit code agrees (1 with findings, 0 without).
    pub fn assert_findings(&self, expected: &[(&str, &str, u64, u64)]) -> Vec<Value> {
        let findings = self.findings();
        let mut actual: Vec<(String, String, u64, u64)> = findings.iter().map(brief).collect();
        let mut wanted: Vec<(String, String, u64, u64)> = expected
            .iter()
            .map(|(r, p, l, c)| (r.to_string(), p.to_string(), *l, *c))
            .collect();
        actual.sort();
        wanted.sort();
        assert_eq!(
            actual,
            wanted,
            "findings (rule_id, path, line, column) differ\n{}",
            self.dump()
        );
        self.assert_code(if expected.is_empty() { 0 } else { 1 });
        findings
    }

    /// The last line of stderr that starts the summary (`keyhound: scanned ...`).
    pub fn summary(&self) -> &str {
        self.stderr
            .lines()
            .rev()
            .find(|l| l.contains("scanned"))
            .unwrap_or_else(|| panic!("no summary line on stderr\n{}", self.dump()))
    }
}

/// `(rule_id, path, line, column)` of a JSON finding.
pub fn brief(f: &Value) -> (String, String, u64, u64) {
    (
        f["rule_id"].as_str().unwrap_or("<no rule_id>").to_string(),
        f["path"].as_str().unwrap_or("<no path>").to_string(),
        f["line"].as_u64().unwrap_or(0),
        f["column"].as_u64().unwrap_or(0),
    )
}

/// 1-based line and column (in characters) of the first occurrence of `needle` in `text`.
pub fn locate(text: &str, needle: &str) -> (u64, u64) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line as u64, column as u64)
}

/// A deterministic, random-looking string of `len` characters from `alphabet`: mixed case and
/// digits (when the alphabet has them), no repeated or consecutive runs, no word that marks a
/// placeholder or names a key. Different seeds give different strings.
pub fn random_from(alphabet: &[u8], seed: u64, len: usize) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    loop {
        let s: String = (0..len)
            .map(|_| alphabet[(next() >> 11) as usize % alphabet.len()] as char)
            .collect();
        if looks_random(&s, alphabet) {
            return s;
        }
    }
}

fn looks_random(s: &str, alphabet: &[u8]) -> bool {
    let b = s.as_bytes();
    let has = |f: fn(&u8) -> bool| !alphabet.iter().any(f) || b.iter().any(f);
    if !(has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit)) {
        return false;
    }
    let runs = b
        .windows(2)
        .any(|w| w[0] == w[1] || w[1] == w[0].wrapping_add(1) || w[1] == w[0].wrapping_sub(1));
    let lower = s.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "exa", "test", "sampl", "fake", "dumm", "xx", "your", "here", "key", "tok", "secret",
        "bear", "comm", "live", "pc", "akia", "asia", "abia", "acca", "a3t", "npm", "gh", "hf",
        "sk", "rk", "sg", "aiza", "gl", "xo", "shp", "aa", "env", "var",
    ];
    !runs && !WORDS.iter().any(|w| lower.contains(w))
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A random-looking 20-character key body.
pub fn body(seed: u64) -> String {
    random_from(ALNUM, seed, 20)
}

/// A Political Comms live key: `pc_live_` + a 20-character body.
pub fn pc_live(seed: u64) -> String {
    format!("{}_{}_{}", "pc", "live", body(seed))
}

/// A Political Comms test-mode key: `pc_test_` + a 20-character body.
pub fn pc_test(seed: u64) -> String {
    format!("{}_{}_{}", "pc", "test", body(seed))
}

/// An opaque 30-character Bearer token (a Communal key has no published format).
pub fn opaque_token(seed: u64) -> String {
    random_from(ALNUM, seed, 30)
}

/// A well-formed AWS access key id: `AKIA` + 16 base32 characters that encode a 12-digit
/// account number (a first character of O, P, 6 or 7 would encode a larger one).
pub fn aws_key_id(seed: u64) -> String {
    let mut body = random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", seed, 16);
    if matches!(body.as_bytes()[0], b'O' | b'P' | b'6' | b'7') {
        body.replace_range(0..1, "Q");
    }
    format!("{}{}", "AK", format_args!("IA{body}"))
}

/// The part of a Political Comms key after its `pc_live_` / `pc_test_` prefix.
pub fn pc_body(key: &str) -> &str {
    &key["pc_live_".len()..]
}

/// Whether an outside tool a test drives is on PATH. Where it is not, the test is skipped with a
/// message, unless `tests/run.sh` (README's test command, and CI) asked for every tool with
/// `KEYHOUND_TEST_REQUIRE_TOOLS=1`: then a missing tool fails the test instead.
pub fn tool_available(tool: &str, install_hint: &str) -> bool {
    let found = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var_os("KEYHOUND_TEST_REQUIRE_TOOLS").is_some() {
            panic!("`{tool}` is required by tests/run.sh but is not on PATH ({install_hint})");
        }
        eprintln!("skipped: `{tool}` is not installed ({install_hint}); tests/run.sh installs it");
    }
    found
}

/// What the mock received.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The key the request carried, however the provider takes it.
    pub(crate) fn key(&self) -> String {
        self.header("x-api-key")
            .or_else(|| {
                self.header("authorization")
                    .map(|v| v.trim_start_matches("Bearer "))
            })
            .unwrap_or_default()
            .to_string()
    }
}

/// What the mock answers.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

pub(crate) fn json(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type", "application/json".into())],
        body: body.to_string(),
    }
}

/// The one mock server of the tests: a provider (or a forge API) on 127.0.0.1 that answers
/// with `handler(request, how many earlier requests carried the same key)` and records every
/// request.
pub(crate) struct Mock {
    pub(crate) port: u16,
    log: Arc<Mutex<Vec<Seen>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl Mock {
    pub(crate) fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + 'static) -> Mock {
        Mock::start_with(move |seen, earlier| {
            let prior = earlier.iter().filter(|s| s.key() == seen.key()).count();
            handler(seen, prior)
        })
    }

    /// A mock answering with `handler(request, every earlier request)`.
    pub(crate) fn start_with(handler: impl Fn(&Seen, &[Seen]) -> Reply + Send + 'static) -> Mock {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let log: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let thread = {
            let (server, log) = (Arc::clone(&server), Arc::clone(&log));
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let mut body = String::new();
                    let _ = std::io::Read::read_to_string(request.as_reader(), &mut body);
                    let seen = Seen {
                        body,
                        method: request.method().to_string(),
                        url: request.url().to_string(),
                        headers: request
                            .headers()
                            .iter()
                            .map(|h| (h.field.to_string(), h.value.to_string()))
                            .collect(),
                    };
                    let earlier = {
                        let mut log = log.lock().unwrap();
                        let earlier = log.clone();
                        log.push(seen.clone());
                        earlier
                    };
                    let reply = handler(&seen, &earlier);
                    let mut response = tiny_http::Response::from_data(reply.body.into_bytes())
                        .with_status_code(reply.status);
                    for (name, value) in reply.headers {
                        response.add_header(
                            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                                .unwrap(),
                        );
                    }
                    let _ = request.respond(response);
                }
            })
        };
        Mock {
            port,
            log,
            server,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn requests(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    pub(crate) fn count(&self, key: &str) -> usize {
        self.requests().iter().filter(|s| s.key() == key).count()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
