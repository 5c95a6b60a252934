//! The repositories of an audit: the list file, each repository's normalised identity, and
//! the shard it belongs to. The identity decides the shard, so the same repository written as
//! `git@host:org/repo` in one list and `https://host/org/repo.git` in another lands on the same
//! machine, and the order of the list does not matter.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// One repository to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// What to hand to `git clone`: the URL as listed, or a local path made absolute.
    pub source: String,
    /// Lowercased host and path without `.git` (`github.com/org/repo`), or a local repository's
    /// canonical path: equal for every spelling of the same repository.
    pub identity: String,
}

/// Why a list line is not a repository.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{file}:{line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    #[error("`{0}` is not a shard: write I/N with 0 <= I < N, e.g. 0/4")]
    Shard(String),
}

/// `--shard I/N`: this process audits the repositories whose hash modulo `count` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Everything: one shard.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn parse(text: &str) -> Result<Shard, RepoError> {
        let bad = || RepoError::Shard(text.to_string());
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether `repo` belongs to this shard.
    pub fn holds(&self, repo: &Repo) -> bool {
        shard_of(&repo.identity, self.count) == self.index
    }
}

/// The shard of an identity among `count`: the first 8 bytes of its SHA-256, modulo `count`.
/// SHA-256 rather than the standard library's hasher, whose output may change between Rust
/// releases: shards computed by different keyhound builds on different machines must agree.
pub fn shard_of(identity: &str, count: u32) -> u32 {
    let digest = Sha256::digest(identity.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
}

/// Parses a repository list: one repository per line, blank lines and `#` comments ignored.
/// Relative local paths are taken from the current directory, as `git clone` takes them.
/// The same repository listed twice (in any spelling) is audited once.
pub fn parse_list(text: &str, file: &Path) -> Result<Vec<Repo>, RepoError> {
    let mut repos: Vec<Repo> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let repo = parse_source(line).map_err(|message| RepoError::Line {
            file: file.display().to_string(),
            line: n + 1,
            message,
        })?;
        if !repos.iter().any(|r| r.identity == repo.identity) {
            repos.push(repo);
        }
    }
    Ok(repos)
}

/// One repository from a list line or a forge listing.
pub fn parse_source(text: &str) -> Result<Repo, String> {
    let text = text.trim();
    if text.starts_with('-') {
        // Would reach `git clone` as an option.
        return Err(format!("`{text}` is neither a clone URL nor a path"));
    }
    if let Some(rest) = text.strip_prefix("file://") {
        let path = local_identity(Path::new(rest));
        return Ok(Repo {
            source: text.to_string(),
            identity: path,
        });
    }
    if let Some((scheme, rest)) = text.split_once("://") {
        if !matches!(scheme, "https" | "http" | "ssh" | "git") {
            return Err(format!(
                "`{scheme}://` is not a clone URL keyhound accepts (https, http, ssh, git, file)"
            ));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = host_of(authority);
        if host.is_empty() {
            return Err(format!("`{text}` has no host"));
        }
        return Ok(Repo {
            source: text.to_string(),
            identity: remote_identity(host, path),
        });
    }
    // scp-like `[user@]host:path`, as git reads it: a colon before any slash.
    if let Some((authority, path)) = text.split_once(':') {
        if !authority.contains('/') && !authority.is_empty() && !path.is_empty() {
            return Ok(Repo {
                source: text.to_string(),
                identity: remote_identity(host_of(authority), path),
            });
        }
    }
    let path = Path::new(text);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?
            .join(path)
    };
    Ok(Repo {
        source: absolute.display().to_string(),
        identity: local_identity(&absolute),
    })
}

/// The host of `user@host:port`, lowercased, without user or port.
fn host_of(authority: &str) -> String {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.split(':').next().unwrap_or(host),
    };
    host.to_ascii_lowercase()
}

/// `host/path` with the path's leading and trailing slashes and `.git` removed.
fn remote_identity(host: String, path: &str) -> String {
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    format!("{host}/{path}")
}

/// A local repository's canonical path (symlinks and `..` resolved), without a trailing
/// `/.git` or `.git`; the lexical path when it does not exist (the clone will say why).
fn local_identity(path: &Path) -> String {
    let canonical: PathBuf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let text = canonical.display().to_string();
    let text = text.trim_end_matches('/');
    let text = text.strip_suffix("/.git").unwrap_or(text);
    let text = text.strip_suffix(".git").unwrap_or(text);
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> String {
        parse_source(text).unwrap().identity
    }

    #[test]
    fn every_spelling_of_a_remote_repository_is_one_identity() {
        let want = "github.com/acme/widgets";
        for spelling in [
            "https://github.com/acme/widgets",
            "https://github.com/acme/widgets.git",
            "https://GitHub.com/acme/widgets/",
            "https://user@github.com:443/acme/widgets.git",
            "ssh://git@github.com/acme/widgets.git",
            "ssh://git@github.com:22/acme/widgets",
            "git@github.com:acme/widgets.git",
            "git@GITHUB.COM:acme/widgets",
        ] {
            assert_eq!(id(spelling), want, "{spelling}");
        }
        assert_ne!(id("https://github.com/acme/gadgets"), want);
    }

    #[test]
    fn local_paths_are_canonical() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        let canonical = std::fs::canonicalize(&repo).unwrap().display().to_string();
        let dotted = dir.path().join("repo/../repo/");
        assert_eq!(id(&dotted.display().to_string()), canonical);
        assert_eq!(id(&repo.join(".git").display().to_string()), canonical);
        assert_eq!(id(&format!("file://{}", repo.display())), canonical);
    }

    #[test]
    fn lists_skip_comments_and_duplicates_and_name_bad_lines() {
        let list =
            "# the org\n\nhttps://h.example/a/b\n  git@h.example:a/b.git  \nssh://h.example/c/d\n";
        let repos = parse_list(list, Path::new("repos.txt")).unwrap();
        let ids: Vec<_> = repos.iter().map(|r| r.identity.as_str()).collect();
        assert_eq!(ids, ["h.example/a/b", "h.example/c/d"]);
        let err = parse_list("ok/path\n--upload-pack=x\n", Path::new("l")).unwrap_err();
        assert!(err.to_string().starts_with("l:2:"), "{err}");
        assert!(parse_list("ftp://h/a\n", Path::new("l")).is_err());
    }

    #[test]
    fn shards_partition_by_identity_not_position() {
        let repos: Vec<Repo> = (0..200)
            .map(|i| parse_source(&format!("https://h.example/org/r{i}")).unwrap())
            .collect();
        for n in [1u32, 2, 3, 7] {
            let mut seen = vec![0u32; repos.len()];
            for i in 0..n {
                let shard = Shard { index: i, count: n };
                for (k, r) in repos.iter().enumerate() {
                    if shard.holds(r) {
                        seen[k] += 1;
                    }
                }
            }
            assert!(
                seen.iter().all(|&c| c == 1),
                "every repository in exactly one of {n}"
            );
        }
        // Spelling does not move a repository.
        let a = parse_source("git@h.example:org/r5.git").unwrap();
        assert_eq!(shard_of(&a.identity, 7), shard_of(&repos[5].identity, 7));
        // Stable across builds and machines: SHA-256's first 8 bytes, big-endian (as computed
        // independently with Python's hashlib).
        assert_eq!(shard_of("github.com/acme/widgets", 1000), 538);
    }

    #[test]
    fn shard_syntax() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("x").is_err());
    }
}
