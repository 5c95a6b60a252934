//! Path globs as a config file writes them, and the directory they are relative to.
//!
//! `.keyhound.toml` names paths (`exclude_paths`, allowlist `paths`) relative to one base: the
//! repository root, or the scanned directory outside git. Sources report paths differently
//! (the walker as the user typed the root, `./src/a.py` or `/abs/repo/src/a.py`; git
//! repository-relative), so [`Base`] turns each into the base-relative form before a glob
//! sees it. That way one glob means the same file whatever directory keyhound runs in.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A glob that does not parse, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("glob `{glob}`: {message}")]
pub struct GlobError {
    pub glob: String,
    pub message: String,
}

/// Compiled path globs, with gitignore-like conveniences:
///
/// - `*` and `?` stay within one path component; `**` spans directories;
/// - a glob without a `/` matches at any depth (`*.min.js`, `node_modules`);
/// - a leading `/` anchors at the base (it is otherwise implied);
/// - a glob that matches a directory covers everything below it (`vendor`, `vendor/`,
///   `vendor/**` all exclude the whole tree, and the walker never descends into it).
#[derive(Debug, Clone, Default)]
pub struct PathGlobs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl PathGlobs {
    /// Compiles `patterns` as written.
    pub fn new(patterns: &[String]) -> Result<PathGlobs, GlobError> {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            if is_blank_glob(pattern) {
                return Err(GlobError {
                    glob: pattern.clone(),
                    message: "an empty glob matches every path".into(),
                });
            }
            for form in normalized(pattern) {
                let glob = GlobBuilder::new(&form)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| GlobError {
                        glob: pattern.clone(),
                        message: e.kind().to_string(),
                    })?;
                builder.add(glob);
            }
        }
        let set = builder.build().map_err(|e| GlobError {
            glob: patterns.join(", "),
            message: e.to_string(),
        })?;
        Ok(PathGlobs {
            patterns: patterns.to_vec(),
            set,
        })
    }

    /// The globs as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether a file at `rel` (base-relative, `/`-separated) is covered: the glob matches it
    /// or one of its directories.
    pub fn matches(&self, rel: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        if self.set.is_match(rel) {
            return true;
        }
        rel.match_indices('/')
            .any(|(i, _)| i > 0 && self.set.is_match(&rel[..i]))
    }

    /// Whether a directory at `rel` is covered as a whole.
    pub fn matches_dir(&self, rel: &str) -> bool {
        !self.is_empty() && self.set.is_match(rel)
    }
}

/// Whether a pattern is empty once its anchors and slashes are gone (`""`, `"/"`, `"./"`): it
/// would cover every path, which no one means to write.
pub fn is_blank_glob(pattern: &str) -> bool {
    let p = pattern.trim().trim_start_matches('/');
    let p = p.strip_prefix("./").unwrap_or(p);
    matches!(p.trim_end_matches('/'), "" | ".")
}

/// The glob forms one written pattern stands for.
fn normalized(pattern: &str) -> Vec<String> {
    let mut p = pattern.trim();
    let anchored = p.starts_with('/');
    p = p.trim_start_matches('/');
    let p = p.strip_prefix("./").unwrap_or(p);
    let p = p.trim_end_matches('/');
    let glob = if anchored || p.contains('/') || p.starts_with("**") {
        p.to_string()
    } else {
        format!("**/{p}")
    };
    let mut forms = vec![glob.clone()];
    // `dir/**` also names `dir` itself, so the walker can skip the directory whole.
    if let Some(dir) = glob.strip_suffix("/**") {
        if !dir.is_empty() {
            forms.push(dir.to_string());
        }
    }
    forms
}

/// How the paths a source reports relate to the base directory globs are relative to.
#[derive(Debug, Clone, Default)]
pub enum Base {
    /// The paths are relative to the base already (git history, the index).
    #[default]
    Relative,
    /// The paths are as the walker reports them: relative to `cwd`, or absolute.
    Dir {
        /// The base directory, canonical.
        root: PathBuf,
        /// The same directory as it was named, made absolute (it may differ from `root` by a
        /// symlink, and absolute paths from the walker use this form).
        named: PathBuf,
        /// The current directory, canonical, that relative paths start from.
        cwd: PathBuf,
    },
}

impl Base {
    /// A base directory for paths reported relative to the current directory or absolute.
    pub fn dir(root: &Path) -> Base {
        let cwd = std::env::current_dir().unwrap_or_default();
        let named = normalize(&cwd.join(root));
        let root = std::fs::canonicalize(&named).unwrap_or_else(|_| named.clone());
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        Base::Dir { root, named, cwd }
    }

    /// `path` relative to the base, `/`-separated; `None` if it lies outside the base.
    pub fn relative<'p>(&self, path: &'p str) -> Option<Cow<'p, str>> {
        match self {
            Base::Relative => Some(Cow::Borrowed(path.strip_prefix("./").unwrap_or(path))),
            Base::Dir { root, named, cwd } => {
                let p = Path::new(path);
                let absolute = if p.is_absolute() {
                    normalize(p)
                } else {
                    normalize(&cwd.join(p))
                };
                let rel = absolute
                    .strip_prefix(root)
                    .or_else(|_| absolute.strip_prefix(named))
                    .ok()?;
                let mut out = String::new();
                for part in rel.components() {
                    if !out.is_empty() {
                        out.push('/');
                    }
                    out.push_str(&part.as_os_str().to_string_lossy());
                }
                Some(Cow::Owned(out))
            }
        }
    }
}

/// Resolves `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str]) -> PathGlobs {
        PathGlobs::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn gitignore_like_matching() {
        let g = globs(&["vendor/**", "*.min.js", "/docs/*.md", "fixtures"]);
        assert!(g.matches("vendor/a/b.js"));
        assert!(g.matches_dir("vendor"));
        assert!(g.matches("web/app.min.js"));
        assert!(g.matches("app.min.js"));
        assert!(g.matches("docs/a.md"));
        assert!(
            !g.matches("docs/sub/a.md"),
            "`*` stays within one directory"
        );
        assert!(!g.matches("src/docs/a.md"), "a `/` anchors at the base");
        assert!(
            g.matches("tests/fixtures/keys.env"),
            "a directory covers what is below it"
        );
        assert!(!g.matches("src/vendor.rs"));
    }

    #[test]
    fn bad_glob_is_named() {
        let err = PathGlobs::new(&["src/[a".to_string()]).unwrap_err();
        assert!(err.to_string().contains("src/[a"), "{err}");
    }

    #[test]
    fn paths_relative_to_base() {
        let base = Base::Dir {
            root: PathBuf::from("/repo"),
            named: PathBuf::from("/link/repo"),
            cwd: PathBuf::from("/repo/sub"),
        };
        assert_eq!(base.relative("a.py").as_deref(), Some("sub/a.py"));
        assert_eq!(base.relative("./x/../b.py").as_deref(), Some("sub/b.py"));
        assert_eq!(base.relative("../c.py").as_deref(), Some("c.py"));
        assert_eq!(
            base.relative("/link/repo/d/e.py").as_deref(),
            Some("d/e.py")
        );
        assert_eq!(base.relative("/elsewhere/f.py"), None);
        assert_eq!(Base::Relative.relative("g/h.py").as_deref(), Some("g/h.py"));
    }
}
