//! Where a repository is hosted, so that a history finding can link to its commit and line on
//! GitHub, GitLab or Bitbucket. The web address comes from the `origin` remote (or is named
//! with `--platform`); credentials in a remote URL are never copied into a link.

use git2::Repository;

/// A code host whose web pages link to a file at a commit and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    Github,
    Gitlab,
    Bitbucket,
    /// No links, even when the remote looks like a known host.
    None,
}

/// A repository's web home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forge {
    pub platform: Platform,
    /// `https://github.com/owner/repo`, without a trailing `/` or `.git`.
    pub web: String,
}

impl Forge {
    /// The forge of `repo`'s `origin` remote: `platform` if given, else guessed from the host
    /// name (`github`, `gitlab`, `bitbucket` in it). `None` without an origin, or when the
    /// platform is neither given nor recognisable.
    pub fn detect(repo: &Repository, platform: Option<Platform>) -> Option<Forge> {
        if platform == Some(Platform::None) {
            return None;
        }
        let remote = repo.find_remote("origin").ok()?;
        let web = web_url(remote.url().ok()?)?;
        let host = web
            .split('/')
            .nth(2)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let platform = platform.or(if host.contains("github") {
            Some(Platform::Github)
        } else if host.contains("gitlab") {
            Some(Platform::Gitlab)
        } else if host.contains("bitbucket") {
            Some(Platform::Bitbucket)
        } else {
            None
        })?;
        Some(Forge { platform, web })
    }

    /// The page of `path` at `commit`, at `line`.
    pub fn line_url(&self, commit: &str, path: &str, line: usize) -> String {
        let (web, path) = (&self.web, crate::url_path::encode(path));
        match self.platform {
            Platform::Github => format!("{web}/blob/{commit}/{path}#L{line}"),
            Platform::Gitlab => format!("{web}/-/blob/{commit}/{path}#L{line}"),
            Platform::Bitbucket => format!("{web}/src/{commit}/{path}#lines-{line}"),
            Platform::None => String::new(),
        }
    }

    /// The page of `commit`.
    pub fn commit_url(&self, commit: &str) -> String {
        let web = &self.web;
        match self.platform {
            Platform::Github => format!("{web}/commit/{commit}"),
            Platform::Gitlab => format!("{web}/-/commit/{commit}"),
            Platform::Bitbucket => format!("{web}/commits/{commit}"),
            Platform::None => String::new(),
        }
    }
}

/// `git@github.com:owner/repo.git`, `ssh://git@host:22/owner/repo`,
/// `https://user:token@host/owner/repo.git` → `https://host/owner/repo`. Userinfo and ports of
/// ssh remotes are dropped; anything else (a local path, `file://`) has no web page.
pub fn web_url(remote: &str) -> Option<String> {
    let remote = remote.trim();
    let (host, path) = if let Some(rest) = remote
        .strip_prefix("https://")
        .or_else(|| remote.strip_prefix("http://"))
    {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        (host.to_string(), path)
    } else if let Some(rest) = remote.strip_prefix("ssh://") {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        let host = host.split(':').next()?;
        (host.to_string(), path)
    } else if let Some((user_host, path)) = remote.split_once(':') {
        // scp-like `git@host:owner/repo`; a Windows path (`C:\...`) or a URL scheme is not.
        if user_host.contains('/') || path.starts_with("//") || user_host.len() < 2 {
            return None;
        }
        let host = user_host.rsplit('@').next()?;
        (host.to_string(), path)
    } else {
        return None;
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if host.is_empty() || path.is_empty() {
        return None;
    }
    Some(format!("https://{host}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_become_web_urls_without_credentials() {
        for (remote, web) in [
            ("git@github.com:acme/app.git", "https://github.com/acme/app"),
            ("https://github.com/acme/app", "https://github.com/acme/app"),
            (
                "https://x-access-token:secret@github.com/acme/app.git",
                "https://github.com/acme/app",
            ),
            (
                "ssh://git@gitlab.example.com:2222/group/sub/app.git",
                "https://gitlab.example.com/group/sub/app",
            ),
            (
                "https://bitbucket.org/team/app.git/",
                "https://bitbucket.org/team/app",
            ),
        ] {
            assert_eq!(web_url(remote).as_deref(), Some(web), "{remote}");
        }
        for local in [
            "/srv/git/app.git",
            "file:///srv/app",
            "../app",
            r"C:\repos\app",
        ] {
            assert_eq!(web_url(local), None, "{local}");
        }
    }

    #[test]
    fn links_per_platform() {
        let forge = |platform, web: &str| Forge {
            platform,
            web: web.to_string(),
        };
        let c = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            forge(Platform::Github, "https://github.com/a/b").line_url(c, "dir/my file.py", 3),
            format!("https://github.com/a/b/blob/{c}/dir/my%20file.py#L3")
        );
        assert_eq!(
            forge(Platform::Gitlab, "https://gitlab.com/a/b").line_url(c, "x.py", 3),
            format!("https://gitlab.com/a/b/-/blob/{c}/x.py#L3")
        );
        assert_eq!(
            forge(Platform::Bitbucket, "https://bitbucket.org/a/b").line_url(c, "x.py", 3),
            format!("https://bitbucket.org/a/b/src/{c}/x.py#lines-3")
        );
        assert_eq!(
            forge(Platform::Gitlab, "https://gitlab.com/a/b").commit_url(c),
            format!("https://gitlab.com/a/b/-/commit/{c}")
        );
    }
}
