//! The baseline file (`.keyhoundignore`): findings a team has accepted, by fingerprint.
//!
//! A fingerprint is a hash of the rule id and the secret, never the secret, so the file is safe
//! to commit. It holds no line numbers and no timestamps: an accepted key stays accepted when
//! its file is edited or the key moves to another file, a new key on the same line is still
//! reported, and two branches that regenerate it merge without conflicts (one sorted line per
//! key). Comments name the rule and the first place, for the reader only.
//!
//! Two more kinds of entry carry what other scanners' baselines know (see [`super::import`]):
//! `sha1:<40 hex>`, a detect-secrets `hashed_secret` (the SHA-1 of a secret, compared with each
//! finding's secret at scan time), and `at:[COMMIT:]PATH:LINE`, a gitleaks fingerprint's place
//! (it suppresses a key at that line of that path, in that commit if one is given). A place is
//! weaker than a fingerprint (an edit moves it; a new key on that line is hidden), which is why
//! keyhound itself never writes one except when importing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use std::collections::HashSet;

use sha1::{Digest as _, Sha1};

use crate::finding::{Finding, Location};
use crate::source::globs::Base;

/// The first line of every baseline keyhound writes.
pub const HEADER: &str = "# keyhound baseline: accepted findings, one fingerprint per line. \
                          Regenerate with `keyhound baseline`.";

/// Hex digits in a fingerprint.
const FINGERPRINT_LEN: usize = 32;

/// Hex digits in a SHA-1 (detect-secrets' `hashed_secret`).
const SHA1_LEN: usize = 40;

/// What an entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// keyhound's fingerprint of the rule and the secret.
    Fingerprint(String),
    /// The lower-case hex SHA-1 of the secret, whatever the rule.
    Sha1(String),
    /// A place: a path relative to the base directory, a 1-based line, and optionally the
    /// commit (full or abbreviated hex id) that must have introduced the key there.
    Place {
        commit: Option<String>,
        path: String,
        line: usize,
    },
}

impl Key {
    /// Parses one entry's text (`5b92...`, `sha1:...`, `at:...`).
    pub fn parse(value: &str) -> Result<Key, String> {
        if let Some(hash) = value.strip_prefix("sha1:") {
            return if is_hex(hash, SHA1_LEN) {
                Ok(Key::Sha1(hash.to_ascii_lowercase()))
            } else {
                Err("a `sha1:` entry is not a SHA-1 (40 hex digits)".to_string())
            };
        }
        if let Some(place) = value.strip_prefix("at:") {
            return parse_place(place).ok_or_else(|| {
                "an `at:` entry is not a place (`at:PATH:LINE` or `at:COMMIT:PATH:LINE`)"
                    .to_string()
            });
        }
        if is_hex(value, FINGERPRINT_LEN) {
            Ok(Key::Fingerprint(value.to_ascii_lowercase()))
        } else {
            // The line is not quoted: a pasted secret would land in a CI log.
            Err("not a fingerprint (32 hex digits, as `keyhound baseline` writes)".to_string())
        }
    }

    /// The entry as written in the file.
    pub fn text(&self) -> String {
        match self {
            Key::Fingerprint(fp) => fp.clone(),
            Key::Sha1(hash) => format!("sha1:{hash}"),
            Key::Place { commit, path, line } => match commit {
                Some(c) => format!("at:{c}:{path}:{line}"),
                None => format!("at:{path}:{line}"),
            },
        }
    }
}

/// `[COMMIT:]PATH:LINE`: the line is the last field; a leading field of 7 to 64 hex digits
/// followed by a path is the commit (as gitleaks writes it).
fn parse_place(text: &str) -> Option<Key> {
    let (rest, line) = text.rsplit_once(':')?;
    let line: usize = line.parse().ok().filter(|n| *n > 0)?;
    let (commit, path) = match rest.split_once(':') {
        Some((c, p)) if (7..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (Some(c.to_ascii_lowercase()), p)
        }
        _ => (None, rest),
    };
    let path = path.strip_prefix("./").unwrap_or(path);
    if path.is_empty() {
        return None;
    }
    Some(Key::Place {
        commit,
        path: path.to_string(),
        line,
    })
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

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

/// One accepted entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
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
            let (value, note) = split_comment(line);
            let key = Key::parse(value).map_err(|message| BaselineError::Malformed {
                file: file.to_string(),
                line: index + 1,
                message,
            })?;
            entries.entry(key.text()).or_insert_with(|| Entry {
                key,
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

    /// Whether any entry is a SHA-1 of a secret (only then is a finding's SHA-1 worth computing).
    pub fn has_sha1(&self) -> bool {
        self.entries.keys().any(|k| k.starts_with("sha1:"))
    }

    /// The `sha1:` entry for this SHA-1 (lower-case hex), by its text.
    pub fn sha1_entry(&self, sha1: &str) -> Option<String> {
        let text = format!("sha1:{sha1}");
        self.entries.contains_key(&text).then_some(text)
    }

    /// Every place entry, with its text.
    pub fn places(&self) -> impl Iterator<Item = (&str, &Key)> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e.key, Key::Place { .. }))
            .map(|(k, e)| (k.as_str(), &e.key))
    }

    /// Every entry, by its text (a fingerprint, `sha1:...` or `at:...`).
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

/// The entry that accepts `f` wherever it is (its fingerprint, or the SHA-1 of its secret), by
/// its text.
pub fn whole_match(baseline: &Baseline, f: &Finding) -> Option<String> {
    if baseline.contains(&f.fingerprint) {
        return Some(f.fingerprint.clone());
    }
    if baseline.has_sha1() {
        let digest = Sha1::digest(f.secret.expose().as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        return baseline.sha1_entry(&hex);
    }
    None
}

/// Splits `locations` into those a place entry accepts and the rest; the texts of the entries
/// that accepted one go into `matched`. A place with a commit accepts only a location that
/// commit introduced (history scans); one without accepts the line in any commit or file.
pub fn split_places(
    baseline: &Baseline,
    base: &Base,
    matched: &mut HashSet<String>,
    locations: &[Location],
) -> (Vec<Location>, Vec<Location>) {
    let places: Vec<(&str, &Key)> = baseline.places().collect();
    let (mut accepted, mut kept) = (Vec::new(), Vec::new());
    if places.is_empty() {
        return (accepted, locations.to_vec());
    }
    for l in locations {
        let rel = base.relative(&l.path);
        let hit = places.iter().find(|(_, key)| match key {
            Key::Place { commit, path, line } => {
                *line == l.line
                    && rel.as_deref() == Some(path.as_str())
                    && match (commit, &l.commit) {
                        (None, _) => true,
                        (Some(c), Some(lc)) => lc.id.to_ascii_lowercase().starts_with(c.as_str()),
                        (Some(_), None) => false,
                    }
            }
            _ => false,
        });
        match hit {
            Some((text, _)) => {
                matched.insert(text.to_string());
                accepted.push(l.clone());
            }
            None => kept.push(l.clone()),
        }
    }
    (accepted, kept)
}

/// An entry and its comment. A place may hold a `#` (it is a path), so its comment starts at a
/// `#` after white space; other entries hold none.
fn split_comment(line: &str) -> (&str, &str) {
    let at = if line.starts_with("at:") {
        line.char_indices()
            .find(|&(i, c)| c == '#' && line[..i].ends_with(char::is_whitespace))
            .map(|(i, _)| i)
    } else {
        line.find('#')
    };
    match at {
        Some(i) => (line[..i].trim(), line[i + 1..].trim()),
        None => (line, ""),
    }
}

/// The baseline text for `findings`: the header, then one line per fingerprint, sorted, each
/// with a comment naming the rule and the first place.
pub fn render(findings: &[Finding]) -> String {
    let mut lines: BTreeMap<String, String> = BTreeMap::new();
    for f in findings {
        let place = printable(&f.primary().path);
        lines
            .entry(f.fingerprint.clone())
            .or_insert_with(|| format!("{} at {place}", f.rule_id));
    }
    render_lines(&lines)
}

/// The baseline text for entries given as text and comment: the header, then one sorted line
/// per entry.
pub fn render_lines(lines: &BTreeMap<String, String>) -> String {
    let mut out = format!("{HEADER}\n");
    for (entry, note) in lines {
        if note.is_empty() {
            let _ = writeln!(out, "{entry}");
        } else {
            let _ = writeln!(out, "{entry}  # {}", printable(note));
        }
    }
    out
}

/// A path or note on one line: control characters (a newline in a file name) become `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
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
    fn sha1_and_place_entries() {
        let text = "sha1:DA39A3EE5E6B4B0D3255BFEF95601890AFD80709  # detect-secrets\n\
                    at:src/a#b.py:12  # gitleaks: generic-api-key\n\
                    at:0123456789abcdef0123456789abcdef01234567:dir:x/c.go:3\n";
        let b = Baseline::parse("b", text).unwrap();
        assert_eq!(b.len(), 3);
        assert!(b.has_sha1());
        assert!(b
            .sha1_entry("da39a3ee5e6b4b0d3255bfef95601890afd80709")
            .is_some());
        let places: Vec<&Key> = b.places().map(|(_, k)| k).collect();
        assert!(places.contains(&&Key::Place {
            commit: None,
            path: "src/a#b.py".into(),
            line: 12
        }));
        assert!(places.contains(&&Key::Place {
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            path: "dir:x/c.go".into(),
            line: 3
        }));
        for bad in ["sha1:abc", "at:file.py", "at:file.py:x", "at::4"] {
            assert!(Baseline::parse("b", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rendered_entries_read_back() {
        let mut lines = BTreeMap::new();
        for text in [
            "at:a b/c#d.py:7",
            "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ] {
            lines.insert(text.to_string(), "note".to_string());
        }
        let b = Baseline::parse("b", &render_lines(&lines)).unwrap();
        let read: Vec<&str> = b.entries().map(|(k, _)| k).collect();
        assert_eq!(
            read,
            [
                "at:a b/c#d.py:7",
                "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"
            ]
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
