//! Where a scan ran, for the reports' metadata: the directory scanned, and the git repository
//! it is in (its root, `origin` URL without credentials, HEAD's commit and branch).

use std::path::{Path, PathBuf};

use git2::Repository;

use super::forge;

/// The repository a scan ran in.
#[derive(Debug, Clone, Default)]
pub struct RepoScope {
    /// Its work tree's root, canonical.
    pub root: PathBuf,
    /// The `origin` remote as an https URL without credentials (or as written, credentials
    /// removed, when it is not a web host).
    pub url: Option<String>,
    pub commit: Option<String>,
    pub branch: Option<String>,
}

/// The repository containing `dir`, if any.
pub fn repository_of(dir: &Path) -> Option<RepoScope> {
    let repo = Repository::discover(dir).ok()?;
    describe(&repo, None)
}

/// What to say about `repo`; `tip` is the commit a history scan was narrowed to (default HEAD).
pub fn describe(repo: &Repository, tip: Option<git2::Oid>) -> Option<RepoScope> {
    let root = repo.workdir()?;
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let url = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string))
        .and_then(|u| forge::web_url(&u));
    let head = repo.head().ok();
    let commit = tip
        .or_else(|| head.as_ref().and_then(|h| h.target()))
        .map(|oid| oid.to_string());
    let branch = head
        .as_ref()
        .filter(|h| h.is_branch())
        .and_then(|h| h.shorthand().ok().map(str::to_string));
    Some(RepoScope {
        root,
        url,
        commit,
        branch,
    })
}
