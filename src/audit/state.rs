//! `--state FILE`: what an audit has finished, so that a killed run resumes where it stopped,
//! and each repository's refs as last scanned, so that `--incremental` scans only what was
//! added since. Written atomically (a temporary file renamed over the old one) after every
//! repository: a kill at any moment leaves the previous or the next state, never half of one.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

/// The state file.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Counts audit runs; a repository finished in the current run carries its number.
    pub run: u64,
    /// Whether the current run finished every repository it was given.
    pub complete: bool,
    /// By repository identity.
    pub repos: BTreeMap<String, RepoState>,
}

/// One repository as last audited.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RepoState {
    pub source: String,
    /// The run that last finished this repository.
    pub run: u64,
    /// Its refs and their commits when last scanned successfully: the watermarks.
    #[serde(default)]
    pub refs: BTreeMap<String, String>,
    /// The error of the last attempt, if it failed.
    #[serde(default)]
    pub error: Option<String>,
}

/// The state file on disk.
pub struct StateFile {
    path: PathBuf,
    pub state: State,
    /// Whether this run continues an unfinished one.
    pub resuming: bool,
}

const VERSION: u32 = 1;

impl StateFile {
    /// Reads `path` (a missing file is a first run) and starts a run: an unfinished run is
    /// continued, a finished one is followed by a new one.
    pub fn open(path: &Path) -> Result<StateFile> {
        let mut state = match std::fs::read(path) {
            Ok(bytes) => {
                let state: State = serde_json::from_slice(&bytes).with_context(|| {
                    format!("{}: not a keyhound audit state file", path.display())
                })?;
                if state.version != VERSION {
                    anyhow::bail!(
                        "{}: state file version {} (this keyhound writes {VERSION})",
                        path.display(),
                        state.version
                    );
                }
                state
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                version: VERSION,
                complete: true,
                ..State::default()
            },
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let resuming = !state.complete && state.run > 0;
        if !resuming {
            state.run += 1;
            state.complete = false;
        }
        let file = StateFile {
            path: path.to_path_buf(),
            state,
            resuming,
        };
        file.save()?;
        Ok(file)
    }

    /// Whether this run has finished `identity` already (a resumed run skips it).
    pub fn finished(&self, identity: &str) -> bool {
        self.state
            .repos
            .get(identity)
            .is_some_and(|r| r.run == self.state.run)
    }

    /// The refs `identity` had when last scanned successfully.
    pub fn watermarks(&self, identity: &str) -> Option<&BTreeMap<String, String>> {
        self.state
            .repos
            .get(identity)
            .map(|r| &r.refs)
            .filter(|r| !r.is_empty())
    }

    /// Records one repository as finished and saves. A failed repository keeps its old
    /// watermarks, so that the next incremental run still covers what this one missed.
    pub fn record(
        &mut self,
        identity: &str,
        source: &str,
        refs: Option<BTreeMap<String, String>>,
        error: Option<String>,
    ) -> Result<()> {
        let run = self.state.run;
        let entry = self.state.repos.entry(identity.to_string()).or_default();
        entry.source = source.to_string();
        entry.run = run;
        entry.error = error;
        if let Some(refs) = refs {
            entry.refs = refs;
        }
        self.save()
    }

    /// Marks the run complete: the next audit with this state starts a new run.
    pub fn complete(&mut self) -> Result<()> {
        self.state.complete = true;
        self.save()
    }

    fn save(&self) -> Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        serde_json::to_writer_pretty(&mut tmp, &self.state)?;
        tmp.write_all(b"\n")?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path)
            .with_context(|| format!("writing {}", self.path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_run_resumes_and_a_finished_one_starts_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut first = StateFile::open(&path).unwrap();
        assert!(!first.resuming);
        first
            .record(
                "h/a",
                "https://h/a",
                Some(BTreeMap::from([("refs/heads/main".into(), "1".into())])),
                None,
            )
            .unwrap();
        drop(first); // killed before the end
        let mut again = StateFile::open(&path).unwrap();
        assert!(again.resuming);
        assert!(again.finished("h/a"));
        assert!(!again.finished("h/b"));
        again
            .record("h/b", "https://h/b", None, Some("clone failed".into()))
            .unwrap();
        again.complete().unwrap();
        let next = StateFile::open(&path).unwrap();
        assert!(!next.resuming);
        assert!(!next.finished("h/a"));
        assert_eq!(next.watermarks("h/a").unwrap()["refs/heads/main"], "1");
        assert!(next.watermarks("h/b").is_none());
    }

    #[test]
    fn a_corrupt_state_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = StateFile::open(&path).err().unwrap();
        assert!(err.to_string().contains("not a keyhound audit state file"));
    }
}
