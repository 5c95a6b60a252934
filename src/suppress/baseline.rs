//! The baseline file (`.keyhoundignore`): findings a team has accepted, by fingerprint.
//!
//! A fingerprint is a hash of the rule id and the secret, never the secret, so the file is safe
//! to commit. It holds no line numbers and no timestamps: an accepted key stays accepted when
//! its file is edited or the key moves to another file, a new key on the same line is still
//! reported, and two branches that regenerate it merge without conflicts (one sorted line per
//! key). Comments name the rule and the first place, for the reader only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

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
                return Err(BaselineError::Malformed {
                    file: file.to_string(),
                    line: index + 1,
                    message: format!(
                        "`{}` is not a fingerprint (32 hex digits, as `keyhound baseline` writes)",
                        clip(value)
                    ),
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

/// A bad line is quoted in the error, but never at length: it might be a pasted secret.
fn clip(value: &str) -> String {
    if value.chars().count() > 40 {
        format!("{}…", value.chars().take(12).collect::<String>())
    } else {
        value.to_string()
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

/// Writes the baseline for `findings` to `path`; returns how many entries it holds.
pub fn write(path: &Path, findings: &[Finding]) -> Result<usize, BaselineError> {
    let text = render(findings);
    let entries = text.lines().count() - 1;
    std::fs::write(path, text).map_err(|source| BaselineError::Write {
        file: path.display().to_string(),
        source,
    })?;
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
            "b:2: `0123` is not a fingerprint (32 hex digits, as `keyhound baseline` writes)"
        );
    }

    #[test]
    fn a_pasted_secret_is_not_echoed() {
        // Assembled here so that this source holds no key-shaped literal.
        let long = format!("{}_{}_{}", "pc", "live", "q8Zr3LxV1mTw6KpN".repeat(3));
        let err = Baseline::parse("b", &long).unwrap_err().to_string();
        assert!(!err.contains(&long[12..]), "{err}");
    }
}
