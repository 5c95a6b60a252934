//! Importing the baselines of the scanners teams migrate from, so that switching to keyhound
//! does not bring back every finding they had already accepted.
//!
//! - gitleaks' `.gitleaksignore` lists fingerprints `COMMIT:PATH:RULE:LINE` (history scans) or
//!   `PATH:RULE:LINE` (directory scans). They hold no trace of the secret, so each becomes a
//!   place entry (`at:[COMMIT:]PATH:LINE`): a key at that line of that path is accepted. The
//!   gitleaks rule id names no keyhound rule, so it is kept only in the comment.
//! - detect-secrets' `.secrets.baseline` (JSON) lists, per file, each secret's `hashed_secret`:
//!   the SHA-1 of the secret, already public in that file. Each becomes a `sha1:` entry, which
//!   accepts a finding whose secret has that SHA-1, wherever it is. A key keyhound delimits
//!   differently from detect-secrets has another SHA-1 and is reported: the import never
//!   hides more than it was told to.
//!
//! What cannot be imported is returned with the reason, never dropped silently.

use std::path::Path;

use super::baseline::Key;

/// One entry to write into keyhound's baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub key: Key,
    /// The baseline comment: where it came from.
    pub note: String,
}

/// An entry that could not be imported, and why (never holding a secret: neither format has
/// one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotImported {
    /// `FILE:LINE` for gitleaks, `FILE: results["PATH"][N]` for detect-secrets.
    pub place: String,
    pub reason: String,
}

/// What one file gave.
#[derive(Debug, Default)]
pub struct Import {
    pub entries: Vec<Imported>,
    pub rejected: Vec<NotImported>,
}

/// A file that cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: cannot read it: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not a detect-secrets baseline: {message}")]
    NotDetectSecrets { file: String, message: String },
}

fn read(path: &Path) -> Result<(String, String), ImportError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((file, text)),
        Err(source) => Err(ImportError::Read { file, source }),
    }
}

/// Reads a `.gitleaksignore`.
pub fn gitleaks(path: &Path) -> Result<Import, ImportError> {
    let (file, text) = read(path)?;
    Ok(parse_gitleaks(&file, &text))
}

/// Parses `.gitleaksignore` text: blank lines and `#` comments are skipped, every other line
/// must be a fingerprint.
pub fn parse_gitleaks(file: &str, text: &str) -> Import {
    let mut out = Import::default();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match gitleaks_fingerprint(line) {
            Some((key, rule)) => out.entries.push(Imported {
                key,
                note: format!("gitleaks {rule}, from {file}"),
            }),
            None => out.rejected.push(NotImported {
                place: format!("{file}:{}", index + 1),
                reason: "not a gitleaks fingerprint (COMMIT:PATH:RULE:LINE or PATH:RULE:LINE)"
                    .to_string(),
            }),
        }
    }
    out
}

/// `[COMMIT:]PATH:RULE:LINE` → the place entry and the gitleaks rule id.
fn gitleaks_fingerprint(line: &str) -> Option<(Key, &str)> {
    let (rest, line_no) = line.rsplit_once(':')?;
    let (place, rule) = rest.rsplit_once(':')?;
    if rule.is_empty() || rule.contains(char::is_whitespace) {
        return None;
    }
    let key = Key::parse(&format!("at:{place}:{line_no}")).ok()?;
    Some((key, rule))
}

/// Reads a detect-secrets `.secrets.baseline`.
pub fn detect_secrets(path: &Path) -> Result<Import, ImportError> {
    let (file, text) = read(path)?;
    parse_detect_secrets(&file, &text)
}

/// Parses a detect-secrets baseline: `results` maps each file to its secrets, each with
/// `hashed_secret`, `line_number` and `type`.
pub fn parse_detect_secrets(file: &str, text: &str) -> Result<Import, ImportError> {
    let bad = |message: String| ImportError::NotDetectSecrets {
        file: file.to_string(),
        message,
    };
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let results = json
        .get("results")
        .and_then(|r| r.as_object())
        .ok_or_else(|| bad("no `results` object".to_string()))?;
    let mut out = Import::default();
    for (path, secrets) in results {
        let Some(secrets) = secrets.as_array() else {
            out.rejected.push(NotImported {
                place: format!("{file}: results[{path:?}]"),
                reason: "not a list of secrets".to_string(),
            });
            continue;
        };
        for (n, secret) in secrets.iter().enumerate() {
            let kind = secret
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or("secret");
            let line = secret.get("line_number").and_then(|l| l.as_u64());
            let at = match line {
                Some(line) => format!("{path}:{line}"),
                None => path.clone(),
            };
            let hash = secret.get("hashed_secret").and_then(|h| h.as_str());
            match hash.map(|h| Key::parse(&format!("sha1:{h}"))) {
                Some(Ok(key)) => out.entries.push(Imported {
                    key,
                    note: format!("detect-secrets {kind} at {at}"),
                }),
                other => out.rejected.push(NotImported {
                    place: format!("{file}: results[{path:?}][{n}]"),
                    reason: match other {
                        None => format!("{kind} at {at} has no hashed_secret"),
                        _ => format!("{kind} at {at}: hashed_secret is not a SHA-1"),
                    },
                }),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitleaks_fingerprints() {
        let text = "# accepted\n\
                    0123456789abcdef0123456789abcdef01234567:app/settings.py:generic-api-key:12\n\
                    config/dev.env:aws-access-token:3\n\
                    \n\
                    just a note\n\
                    app.py:rule:notanumber\n";
        let import = parse_gitleaks(".gitleaksignore", text);
        let keys: Vec<String> = import.entries.iter().map(|e| e.key.text()).collect();
        assert_eq!(
            keys,
            [
                "at:0123456789abcdef0123456789abcdef01234567:app/settings.py:12",
                "at:config/dev.env:3"
            ]
        );
        assert_eq!(
            import.entries[1].note,
            "gitleaks aws-access-token, from .gitleaksignore"
        );
        let places: Vec<&str> = import.rejected.iter().map(|r| r.place.as_str()).collect();
        assert_eq!(places, [".gitleaksignore:5", ".gitleaksignore:6"]);
    }

    #[test]
    fn detect_secrets_results() {
        let text = r#"{
          "version": "1.5.0",
          "results": {
            "app/settings.py": [
              {"type": "Secret Keyword", "filename": "app/settings.py",
               "hashed_secret": "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "is_verified": false,
               "line_number": 12},
              {"type": "Base64 High Entropy String", "filename": "app/settings.py",
               "line_number": 14},
              {"type": "Hex High Entropy String", "hashed_secret": "xyz", "line_number": 15}
            ]
          }
        }"#;
        let import = parse_detect_secrets(".secrets.baseline", text).unwrap();
        assert_eq!(import.entries.len(), 1);
        assert_eq!(
            import.entries[0].key.text(),
            "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            import.entries[0].note,
            "detect-secrets Secret Keyword at app/settings.py:12"
        );
        assert_eq!(import.rejected.len(), 2);
        assert!(import.rejected[0].reason.contains("no hashed_secret"));
        assert!(import.rejected[1].reason.contains("not a SHA-1"));
    }

    #[test]
    fn not_a_detect_secrets_baseline() {
        let err = parse_detect_secrets("x.json", "[1, 2]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.json: not a detect-secrets baseline: no `results` object"
        );
        assert!(parse_detect_secrets("x.json", "{").is_err());
    }
}
