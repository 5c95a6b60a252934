//! Cloning a repository into the work directory with the system `git`, so that credentials,
//! credential helpers, proxies and `insteadOf` rewrites work as the user's git is configured.
//!
//! A cloned repository is untrusted: the clone is bare (nothing is checked out, so no
//! filter, attribute or hook of the repository runs), hooks are pointed at `/dev/null` anyway,
//! and git never prompts for a password (a missing credential fails the repository, it does
//! not hang the audit).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// A `git` command for untrusted repositories: no prompts, no hooks.
pub fn git(dir: Option<&Path>) -> Command {
    let mut cmd = Command::new("git");
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .args(["-c", "core.hooksPath=/dev/null"])
        .stdin(Stdio::null());
    if let Some(dir) = dir {
        cmd.arg("--git-dir").arg(dir);
    }
    cmd
}

/// Runs `cmd`, returning its stdout, or an error holding git's own message.
fn run(mut cmd: Command, what: &str) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run git: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(format!("{what}: {}", message.trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Clones `source` bare into `dest` (which must not exist); `mirror` clones every ref
/// (pull-request heads, notes) instead of branches and tags.
pub fn clone(source: &str, dest: &Path, mirror: bool) -> Result<(), String> {
    let mut cmd = git(None);
    cmd.args(["clone", "--quiet"])
        .arg(if mirror { "--mirror" } else { "--bare" })
        .arg("--")
        .arg(source)
        .arg(dest);
    run(cmd, "git clone")?;
    Ok(())
}

/// The clone's refs and the commit each reaches (tags peeled; refs to trees or blobs left out),
/// and HEAD's commit.
pub fn refs(dir: &Path) -> Result<(BTreeMap<String, String>, Option<String>), String> {
    let mut cmd = git(Some(dir));
    cmd.args([
        "for-each-ref",
        "--format=%(refname) %(objecttype) %(objectname) %(*objecttype) %(*objectname)",
    ]);
    let mut refs = BTreeMap::new();
    for line in run(cmd, "git for-each-ref")?.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let commit = match f.as_slice() {
            [name, "commit", id, ..] => Some((name, id)),
            [name, "tag", _, "commit", id] => Some((name, id)),
            _ => None,
        };
        if let Some((name, id)) = commit {
            refs.insert(name.to_string(), id.to_string());
        }
    }
    let mut head = git(Some(dir));
    head.args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
    let head = run(head, "git rev-parse HEAD")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Ok((refs, head))
}

/// The commits of `ids` that the clone has (a force-push may have dropped a recorded tip).
pub fn existing_commits(dir: &Path, ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter(|id| {
            let mut cmd = git(Some(dir));
            cmd.args(["cat-file", "-e", &format!("{id}^{{commit}}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            cmd.status().is_ok_and(|s| s.success())
        })
        .cloned()
        .collect()
}

/// Writes a commit (in the clone only, reachable from no ref) whose parents are `parents` and
/// whose tree is `tree_of`'s: one revision standing for several tips, so that "reachable from
/// the new tips and not from the old ones" is one `--since OLD --branch NEW` range.
pub fn join_commits(dir: &Path, parents: &[String], tree_of: &str) -> Result<String, String> {
    let mut cmd = git(Some(dir));
    cmd.args([
        "commit-tree",
        &format!("{tree_of}^{{tree}}"),
        "-m",
        "keyhound watermark",
    ])
    .env("GIT_AUTHOR_NAME", "keyhound")
    .env("GIT_AUTHOR_EMAIL", "keyhound@localhost")
    .env("GIT_AUTHOR_DATE", "1970-01-01T00:00:00Z")
    .env("GIT_COMMITTER_NAME", "keyhound")
    .env("GIT_COMMITTER_EMAIL", "keyhound@localhost")
    .env("GIT_COMMITTER_DATE", "1970-01-01T00:00:00Z");
    for p in parents {
        cmd.args(["-p", p]);
    }
    Ok(run(cmd, "git commit-tree")?.trim().to_string())
}

/// How many commits `git rev-list` counts for these arguments.
pub fn count_commits(dir: &Path, args: &[String]) -> Result<u64, String> {
    let mut cmd = git(Some(dir));
    cmd.args(["rev-list", "--count"]).args(args);
    run(cmd, "git rev-list")?
        .trim()
        .parse()
        .map_err(|e| format!("git rev-list --count: {e}"))
}

/// The number and total size of the blobs in the clone: what a full audit of it covers.
pub fn blob_totals(dir: &Path) -> Result<(u64, u64), String> {
    let mut cmd = git(Some(dir));
    cmd.args([
        "cat-file",
        "--batch-all-objects",
        "--batch-check=%(objecttype) %(objectsize)",
    ]);
    let (mut blobs, mut bytes) = (0u64, 0u64);
    for line in run(cmd, "git cat-file")?.lines() {
        if let Some(size) = line.strip_prefix("blob ") {
            blobs += 1;
            bytes += size.trim().parse::<u64>().unwrap_or(0);
        }
    }
    Ok((blobs, bytes))
}
