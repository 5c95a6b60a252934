//! What `scan --pre-commit` should scan, read from how the hook was called.
//!
//! The pre-commit framework runs one entry for every stage and mode: a commit (the staged files
//! are passed), `pre-commit run --all-files` or `--files` (every tracked file, or the named
//! ones), and pre-push (the pushed range in `PRE_COMMIT_FROM_REF`/`PRE_COMMIT_TO_REF`, or, on a
//! branch's first push, only the remote's name). Scanning the index in every case let
//! `--all-files` and the first push pass with a key committed: each case needs its own source.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::source::git::Selection;
use crate::source::staged;

/// What a hook run scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookCall {
    /// Commits being pushed.
    Push(Selection),
    /// The staged blobs (keys on added lines), limited to these repository-relative paths when
    /// the framework named files.
    Staged { only: Vec<String> },
    /// The named files, whole: `--all-files`, `--files`, or files that are not all staged.
    Files,
}

/// Decides from the framework's environment and the paths it passed.
pub fn decide(paths: &[PathBuf]) -> HookCall {
    if let Some(selection) = pushed_commits(|name| std::env::var(name).ok()) {
        return HookCall::Push(selection);
    }
    if paths.is_empty() {
        return HookCall::Staged { only: Vec::new() };
    }
    match staged_cover(paths) {
        Some(only) => HookCall::Staged { only },
        None => HookCall::Files,
    }
}

/// The pushed commits, when the pre-push stage runs: the named range, or on a first push
/// (the framework then names no range) every commit of the local branch that no ref of the
/// remote has.
pub fn pushed_commits(env: impl Fn(&str) -> Option<String>) -> Option<Selection> {
    let set = |name| env(name).filter(|v| !v.is_empty());
    if let (Some(from), Some(to)) = (set("PRE_COMMIT_FROM_REF"), set("PRE_COMMIT_TO_REF")) {
        return Some(Selection::Range(format!("{from}..{to}")));
    }
    let remote = set("PRE_COMMIT_REMOTE_NAME")?;
    let tip = set("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_else(|| "HEAD".to_string());
    Some(Selection::Pushed { tip, remote })
}

/// The paths, repository-relative, if every one of them is staged: a commit's hook run.
/// `None` when any is not (the framework was asked for all files, or for named files).
fn staged_cover(paths: &[PathBuf]) -> Option<Vec<String>> {
    let repo = git2::Repository::discover(".").ok()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let staged: HashSet<String> = staged::staged_files(&repo)
        .ok()?
        .into_iter()
        .map(|f| f.path)
        .collect();
    let mut only = Vec::with_capacity(paths.len());
    for path in paths {
        let relative = repo_relative(path, &workdir)?;
        if !staged.contains(&relative) {
            return None;
        }
        only.push(relative);
    }
    Some(only)
}

/// `path` relative to the work tree, with `/` separators; `None` outside it.
fn repo_relative(path: &Path, workdir: &Path) -> Option<String> {
    // A deleted or renamed file no longer exists: resolve its directory instead.
    let absolute = match path.canonicalize() {
        Ok(p) => p,
        Err(_) => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            let dir = parent.unwrap_or(Path::new(".")).canonicalize().ok()?;
            dir.join(path.file_name()?)
        }
    };
    let relative = absolute.strip_prefix(workdir).ok()?;
    let parts: Vec<&str> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_named_range_is_scanned_as_a_range() {
        let vars = [("PRE_COMMIT_FROM_REF", "abc"), ("PRE_COMMIT_TO_REF", "def")];
        assert_eq!(
            pushed_commits(env(&vars)),
            Some(Selection::Range("abc..def".into()))
        );
    }

    #[test]
    fn a_first_push_scans_what_the_remote_lacks() {
        let vars = [
            ("PRE_COMMIT_REMOTE_NAME", "origin"),
            ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
        ];
        assert_eq!(
            pushed_commits(env(&vars)),
            Some(Selection::Pushed {
                tip: "refs/heads/main".into(),
                remote: "origin".into()
            })
        );
    }

    #[test]
    fn a_commit_is_not_a_push() {
        assert_eq!(pushed_commits(env(&[("PRE_COMMIT", "1")])), None);
    }
}
