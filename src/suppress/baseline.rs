//! The baseline file (`.keyhoundignore`): findings a team has accepted, by fingerprint.
//!
//! A fingerprint is a hash of the rule id and the secret, never the secret, so the file is safe
//! to commit. It holds no line numbers and no timestamps: an accepted key stays accepted when
//! its file is edited or the key moves to another file, a new key on the same line is still
//! reported, and two branches that regenerate it merge without conflicts (one sorted line per
//! key). Comments name the rule and the first place, for the reader only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::finding::Finding;

/// The first line of every baseline keyhound writes.
pub const HEADER: &str = "# keyhound baseline: accepted findings, one fingerprint per line. \
                          Regenerate with `keyhound baseline`.";

/// Hex digits in a fingerprint.
const FINGERPRINT_LEN: usize = 32;

/// Why a baseline could not be read or written. Each names the file; a bad line names its line.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{file}: cannot read the baseline: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Malformed {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: cannot write the baseline: {source}")]
    Write {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The baseline the scanned tree chose (the default file or repository config) resolves
    /// outside the tree, through `..` or a symbolic link.
    #[error(
        "{file}: the baseline leads outside {root} (a symbolic link?): keyhound reads and writes \
         only a baseline inside the scanned tree unless you name it with --baseline"
    )]
    Outside { file: String, root: String },
}

/// One accepted fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its line in the file.
    pub line: usize,
    /// The comment after it, if any (`political-comms-api-key at app/settings.py`).
    pub note: String,
}

/// A parsed baseline file.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// How messages name the file.
    pub file: String,
    entries: BTreeMap<String, Entry>,
}

impl Baseline {
    /// Reads and parses a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            file: file.clone(),
            source,
        })?;
        Baseline::parse(&file, &text)
    }

    /// Parses baseline text: one fingerprint per line, each optionally followed by a `#`
    /// comment; blank lines and comment lines are skipped. Anything else is an error naming
    /// `file` and the line.
    pub fn parse(file: &str, text: &str) -> Result<Baseline, BaselineError> {
        let mut entries = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (value, note) = match line.split_once('#') {
                Some((value, note)) => (value.trim(), note.trim()),
                None => (line, ""),
            };
            let valid =
                value.len() == FINGERPRINT_LEN && value.bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                // The line is not quoted: a pasted secret would land in a CI log.
                return Err(BaselineError::Malformed {
                    file: file.to_string(),
                    line: index + 1,
                    message: "not a fingerprint (32 hex digits, as `keyhound baseline` writes)"
                        .into(),
                });
            }
            entries
                .entry(value.to_ascii_lowercase())
                .or_insert_with(|| Entry {
                    line: index + 1,
                    note: note.to_string(),
                });
        }
        Ok(Baseline {
            file: file.to_string(),
            entries,
        })
    }

    /// Whether the fingerprint is accepted.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.entries.contains_key(fingerprint)
    }

    /// Every entry, by fingerprint.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The baseline text for `findings`: the header, then one line per fingerprint, sorted, each
/// with a comment naming the rule and the first place.
pub fn render(findings: &[Finding]) -> String {
    let mut lines: BTreeMap<&str, String> = BTreeMap::new();
    for f in findings {
        let place: String = f
            .primary()
            .path
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        lines
            .entry(&f.fingerprint)
            .or_insert_with(|| format!("{} at {place}", f.rule_id));
    }
    let mut out = format!("{HEADER}\n");
    for (fingerprint, note) in lines {
        let _ = writeln!(out, "{fingerprint}  # {note}");
    }
    out
}

/// Where `path` really is: symlinks resolved for an existing file, else its directory resolved
/// and its name kept (a dangling symlink is then replaced, never followed).
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    if let Ok(real) = std::fs::canonicalize(path) {
        return Ok(real);
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(std::fs::canonicalize(dir)?.join(name))
}

/// `path`, resolved, if it lies inside `within` (when given): the baseline a scanned tree
/// chose may not make keyhound read or write anywhere else.
pub fn confined(path: &Path, within: Option<&Path>) -> Result<PathBuf, BaselineError> {
    let resolved = resolve(path).map_err(|source| BaselineError::Write {
        file: path.display().to_string(),
        source,
    })?;
    if let Some(root) = within {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        if !resolved.starts_with(&root) {
            return Err(BaselineError::Outside {
                file: path.display().to_string(),
                root: root.display().to_string(),
            });
        }
    }
    Ok(resolved)
}

/// Writes the baseline for `findings` to `path` (inside `within`, when given); returns how
/// many entries it holds. The file is written whole to a temporary file beside it and renamed
/// over it: a reader never sees half a baseline, and a failed write leaves the old one.
pub fn write(
    path: &Path,
    findings: &[Finding],
    within: Option<&Path>,
) -> Result<usize, BaselineError> {
    let target = confined(path, within)?;
    let text = render(findings);
    let entries = text.lines().count() - 1;
    let failed = |source: std::io::Error| BaselineError::Write {
        file: path.display().to_string(),
        source,
    };
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".keyhoundignore.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(failed)?;
    temp.write_all(text.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(failed)?;
    // A temporary file is private (0600); a baseline is meant to be committed and shared.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(failed)?;
    }
    temp.persist(&target).map_err(|e| failed(e.error))?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_comments() {
        let text = format!(
            "{HEADER}\n\n5B92C0F8C973F7C89B6D26DF80F6D52F  # pc at app.py\n# note\n0123456789abcdef0123456789abcdef\n"
        );
        let b = Baseline::parse(".keyhoundignore", &text).unwrap();
        assert_eq!(b.len(), 2);
        assert!(b.contains("5b92c0f8c973f7c89b6d26df80f6d52f"));
        let (_, entry) = b.entries().next().unwrap();
        assert_eq!(entry.line, 5);
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = Baseline::parse("b", "# ok\n0123 # short\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "b:2: not a fingerprint (32 hex digits, as `keyhound baseline` writes)"
        );
    }

    #[test]
    fn a_pasted_secret_is_not_echoed() {
        // Assembled here so that this source holds no key-shaped literal. Failed before: a line
        // of 40 characters or fewer was quoted whole, a longer one by its first 12.
        let long = format!("{}_{}_{}", "pc", "live", "q8Zr3LxV1mTw6KpN".repeat(3));
        let short = format!("API_KEY={}", "Dragon2024!x");
        for line in [&long, &short] {
            let err = Baseline::parse("b", line).unwrap_err().to_string();
            assert_eq!(
                err,
                "b:1: not a fingerprint (32 hex digits, as `keyhound baseline` writes)"
            );
        }
    }
}
