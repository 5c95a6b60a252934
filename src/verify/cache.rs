//! The verdict cache: re-running an audit does not send the same key again within the TTL.
//!
//! Each entry is one file under `$XDG_CACHE_HOME/keyhound/verdicts/` (else
//! `~/.cache/keyhound/verdicts/`), named by an HMAC-SHA256 of (rule id, key, companion parts,
//! endpoint) under a random secret kept beside it (`verdicts.key`, mode 0600). So the cache
//! holds no key, and its names cannot be matched against a guessed key without that secret.
//! An entry holds the verdict, its note, the key's details, which companion parts it was
//! reached with (by position, never by value), and when. Files are written to a temporary
//! name and renamed into place, so concurrent keyhound processes never read half an entry; the
//! last writer wins. Anything unreadable is ignored with a warning and rewritten.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{Checked, Job, VerifyOptions};
use crate::finding::Verdict;

/// How long a `valid` verdict is reused unless `--verify-cache-ttl` says otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// An `invalid` verdict is reused this many times longer: a revoked key does not come back.
pub const INVALID_FACTOR: u32 = 7;

/// The entry format; an entry of another version is a miss.
const VERSION: u32 = 1;

/// Where the cache is and how long entries last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    pub dir: PathBuf,
    pub ttl: Duration,
}

impl CacheSettings {
    /// The cache in the user's cache directory, if there is one (`$XDG_CACHE_HOME`, else
    /// `$HOME/.cache`).
    pub fn default_dir() -> Option<PathBuf> {
        let home = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })?;
        Some(home.join("keyhound").join("verdicts"))
    }
}

/// An open cache: its directory and its secret.
pub struct Cache {
    dir: PathBuf,
    secret: [u8; 32],
    ttl: Duration,
}

/// One cached verdict as stored.
#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    /// Unix seconds when the verdict was reached.
    time: u64,
    /// `valid` or `invalid`.
    verdict: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    key_info: Vec<(String, String)>,
    /// Positions, in the job's companion parts, of those the verdict was reached with.
    #[serde(default)]
    checked_with: Vec<usize>,
}

impl Cache {
    /// Opens (creating) the cache directory and its secret. An error is a warning to print:
    /// the run goes on without a cache.
    pub fn open(settings: &CacheSettings) -> Result<Cache, String> {
        let dir = &settings.dir;
        create_private_dir(dir)
            .map_err(|e| format!("verdict cache {} cannot be created: {e}", dir.display()))?;
        let key_path = dir.with_extension("key");
        let secret = read_or_create_secret(&key_path)?;
        Ok(Cache {
            dir: dir.clone(),
            secret,
            ttl: settings.ttl,
        })
    }

    /// The entry name of a job: a keyed hash of what decides its verdict. `None` when the job
    /// sends nothing (no request could be built).
    pub fn name(&self, job: &Job<'_>) -> Option<String> {
        let request = job.request.as_ref().ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC accepts any key length");
        let mut field = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_le_bytes());
            mac.update(bytes);
        };
        field(job.rule.id.as_bytes());
        field(job.secret.expose().as_bytes());
        field(request.origin.url("").as_bytes());
        for (name, value) in &job.companions {
            field(name.as_bytes());
            field(value.expose().as_bytes());
        }
        let digest = mac.finalize().into_bytes();
        Some(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The verdict cached under `name`, if one is fresh at `now`. A corrupted entry is a miss
    /// and a warning.
    pub fn get(
        &self,
        name: &str,
        job: &Job<'_>,
        now: SystemTime,
    ) -> Result<Option<Checked>, String> {
        let path = self.dir.join(name);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let entry: Entry = serde_json::from_slice(&text).map_err(|e| {
            format!(
                "ignoring a corrupted verdict cache entry {} ({e})",
                path.display()
            )
        })?;
        if entry.version != VERSION {
            return Ok(None);
        }
        let (verdict, ttl) = match entry.verdict.as_str() {
            "valid" => (Verdict::Valid { note: entry.note }, self.ttl),
            "invalid" => (Verdict::Invalid, self.ttl.saturating_mul(INVALID_FACTOR)),
            other => {
                return Err(format!(
                    "ignoring a corrupted verdict cache entry {} (verdict `{other}`)",
                    path.display()
                ))
            }
        };
        let age = now
            .duration_since(UNIX_EPOCH + Duration::from_secs(entry.time))
            .ok();
        if age.is_none_or(|age| age >= ttl) {
            return Ok(None);
        }
        let mut checked_with = Vec::with_capacity(entry.checked_with.len());
        for i in entry.checked_with {
            let Some(part) = job.companions.get(i) else {
                return Ok(None);
            };
            checked_with.push(part.clone());
        }
        Ok(Some(Checked {
            verdict,
            key_info: entry.key_info,
            checked_with,
        }))
    }

    /// Stores a verdict reached at `now`; `unknown` and `unchecked` are never stored.
    pub fn put(
        &self,
        name: &str,
        job: &Job<'_>,
        checked: &Checked,
        now: SystemTime,
    ) -> Result<(), String> {
        let (verdict, note) = match &checked.verdict {
            Verdict::Valid { note } => ("valid", note.clone()),
            Verdict::Invalid => ("invalid", None),
            Verdict::Unknown { .. } | Verdict::Unchecked => return Ok(()),
        };
        let positions: Vec<usize> = checked
            .checked_with
            .iter()
            .filter_map(|part| job.companions.iter().position(|c| c == part))
            .collect();
        let entry = Entry {
            version: VERSION,
            time: now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            verdict: verdict.to_string(),
            note,
            key_info: checked.key_info.clone(),
            checked_with: positions,
        };
        let text = serde_json::to_vec(&entry).map_err(|e| e.to_string())?;
        let path = self.dir.join(name);
        write_atomically(&path, &text).map_err(|e| {
            format!(
                "cannot write the verdict cache entry {}: {e}",
                path.display()
            )
        })
    }
}

/// The 32-byte secret in `path`, created (from the OS's random source) if absent. Two
/// processes creating it at once agree: it is written under a temporary name and linked into
/// place, which fails if the other got there first, and then the other's is read.
fn read_or_create_secret(path: &Path) -> Result<[u8; 32], String> {
    let read = |path: &Path| -> Result<Option<[u8; 32]>, String> {
        match fs::read_to_string(path) {
            Ok(text) => parse_secret(text.trim()).map(Some).ok_or_else(|| {
                format!(
                    "the verdict cache secret {} is corrupted; remove it to start a new cache",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    };
    if let Some(secret) = read(path)? {
        return Ok(secret);
    }
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret)
        .map_err(|e| format!("no random source for the cache: {e}"))?;
    let text: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let temp = temp_name(path);
    write_private(&temp, format!("{text}\n").as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(secret),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read(path)?.ok_or_else(|| format!("{} vanished while it was read", path.display()))
        }
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}

fn parse_secret(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A temporary name beside `path`, unique to this process and moment.
fn temp_name(path: &Path) -> PathBuf {
    let mut nonce = [0u8; 8];
    let _ = getrandom::getrandom(&mut nonce);
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        u64::from_le_bytes(nonce)
    ))
}

/// Writes `path` whole or not at all: a temporary file renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = temp_name(path);
    let written = write_private(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Creates a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// How a run's checks came out, and what the cache had to say.
pub struct CachedRun {
    /// One per job, in job order.
    pub checked: Vec<Checked>,
    /// Jobs answered from the cache, without a request.
    pub from_cache: usize,
    /// Problems with the cache (it is then partly or wholly skipped, never fatal).
    pub warnings: Vec<String>,
}

/// Runs the jobs, answering from the cache those it holds a fresh verdict for (unless
/// `opts.cache` is off) and storing the new `valid` and `invalid` verdicts.
pub fn run(jobs: &[Job<'_>], opts: &VerifyOptions) -> CachedRun {
    let mut warnings = Vec::new();
    let cache = opts.cache.as_ref().and_then(|s| match Cache::open(s) {
        Ok(c) => Some(c),
        Err(w) => {
            warnings.push(w);
            None
        }
    });
    let now = SystemTime::now();
    let mut checked: Vec<Option<Checked>> = vec![None; jobs.len()];
    let mut names: Vec<Option<String>> = vec![None; jobs.len()];
    if let Some(cache) = &cache {
        for (i, job) in jobs.iter().enumerate() {
            let Some(name) = cache.name(job) else {
                continue;
            };
            match cache.get(&name, job, now) {
                Ok(hit) => checked[i] = hit,
                Err(w) => warnings.push(w),
            }
            names[i] = Some(name);
        }
    }
    let missing: Vec<usize> = (0..jobs.len()).filter(|&i| checked[i].is_none()).collect();
    let from_cache = jobs.len() - missing.len();
    let fresh = super::run_only(jobs, &missing, opts);
    for (&i, result) in missing.iter().zip(fresh) {
        if let (Some(cache), Some(name)) = (&cache, &names[i]) {
            if let Err(w) = cache.put(name, &jobs[i], &result, SystemTime::now()) {
                warnings.push(w);
            }
        }
        checked[i] = Some(result);
    }
    CachedRun {
        checked: checked.into_iter().map(Option::unwrap_or_default).collect(),
        from_cache,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{parse_rule_file, Rule};

    fn rule() -> Rule {
        let text = r#"
[provider]
name = "T"
[[rule]]
id = "t"
name = "t"
keywords = ["tok_"]
regex = '(tok_[a-z0-9]+)'
[rule.verify]
url = "https://api.example.com/v1/me"
headers = { "X-Key" = "{{ secret }}" }
[[rule.verify.on]]
status = [200]
json_has = "ok"
verdict = "valid"
"#;
        parse_rule_file("t.toml", text).unwrap().remove(0)
    }

    fn settings(dir: &Path, ttl: u64) -> CacheSettings {
        CacheSettings {
            dir: dir.join("keyhound").join("verdicts"),
            ttl: Duration::from_secs(ttl),
        }
    }

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn valid_lasts_the_ttl_invalid_seven_times_unknown_never() {
        let home = tempfile::tempdir().unwrap();
        let rule = rule();
        let check = rule.verify.as_ref().unwrap();
        let job = |key: &str| {
            super::super::job(
                &rule,
                check,
                &crate::finding::Secret::new(key),
                &[],
                &[],
                &Default::default(),
            )
        };
        let cache = Cache::open(&settings(home.path(), 100)).unwrap();
        let (good, bad, odd) = (job("tok_good1"), job("tok_bad1"), job("tok_odd1"));
        let name = |j: &Job<'_>| cache.name(j).unwrap();
        let valid = Checked {
            verdict: Verdict::Valid { note: None },
            key_info: vec![("identity".into(), "octocat".into())],
            checked_with: Vec::new(),
        };
        cache.put(&name(&good), &good, &valid, at(T0)).unwrap();
        cache
            .put(&name(&bad), &bad, &Verdict::Invalid.into(), at(T0))
            .unwrap();
        let unknown = Verdict::Unknown {
            reason: "timeout".into(),
        };
        cache
            .put(&name(&odd), &odd, &unknown.into(), at(T0))
            .unwrap();

        assert_eq!(
            cache.get(&name(&good), &good, at(T0 + 99)).unwrap(),
            Some(valid)
        );
        assert_eq!(cache.get(&name(&good), &good, at(T0 + 100)).unwrap(), None);
        let invalid = Some(Checked::from(Verdict::Invalid));
        assert_eq!(cache.get(&name(&bad), &bad, at(T0 + 699)).unwrap(), invalid);
        assert_eq!(cache.get(&name(&bad), &bad, at(T0 + 700)).unwrap(), None);
        assert_eq!(cache.get(&name(&odd), &odd, at(T0 + 1)).unwrap(), None);
        // A TTL of 0 reuses nothing.
        let zero = Cache::open(&settings(home.path(), 0)).unwrap();
        assert_eq!(zero.get(&name(&good), &good, at(T0)).unwrap(), None);

        // Names are keyed hashes: no key in any name or file.
        for entry in fs::read_dir(home.path().join("keyhound/verdicts")).unwrap() {
            let path = entry.unwrap().path();
            let text = fs::read_to_string(&path).unwrap();
            assert!(!text.contains("tok_") && !path.to_string_lossy().contains("tok_"));
        }
        let key = home.path().join("keyhound/verdicts.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Another secret (another user) names the same key differently.
        fs::remove_file(&key).unwrap();
        let other = Cache::open(&settings(home.path(), 100)).unwrap();
        assert_ne!(other.name(&good), cache.name(&good));
    }

    #[test]
    fn corrupted_entries_and_secrets_are_warnings() {
        let home = tempfile::tempdir().unwrap();
        let rule = rule();
        let check = rule.verify.as_ref().unwrap();
        let job = super::super::job(
            &rule,
            check,
            &crate::finding::Secret::new("tok_x1"),
            &[],
            &[],
            &Default::default(),
        );
        let cache = Cache::open(&settings(home.path(), 100)).unwrap();
        let name = cache.name(&job).unwrap();
        fs::write(
            home.path().join("keyhound/verdicts").join(&name),
            b"{not json",
        )
        .unwrap();
        let err = cache.get(&name, &job, at(T0)).unwrap_err();
        assert!(err.contains("corrupted"), "{err}");
        cache
            .put(&name, &job, &Verdict::Invalid.into(), at(T0))
            .unwrap();
        assert!(cache.get(&name, &job, at(T0)).unwrap().is_some());

        fs::write(home.path().join("keyhound/verdicts.key"), b"short").unwrap();
        let err = Cache::open(&settings(home.path(), 100)).err().unwrap();
        assert!(err.contains("corrupted"), "{err}");
    }

    #[test]
    fn concurrent_writers_share_one_secret_and_whole_entries() {
        let home = tempfile::tempdir().unwrap();
        let rule = rule();
        let check = rule.verify.as_ref().unwrap();
        let s = settings(home.path(), 1000);
        let names: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (s, rule) = (&s, &rule);
                    scope.spawn(move || {
                        let cache = Cache::open(s).unwrap();
                        let job = super::super::job(
                            rule,
                            check,
                            &crate::finding::Secret::new("tok_shared1"),
                            &[],
                            &[],
                            &Default::default(),
                        );
                        let name = cache.name(&job).unwrap();
                        let verdict = if i % 2 == 0 {
                            Verdict::Invalid.into()
                        } else {
                            Checked::from(Verdict::Valid { note: None })
                        };
                        for _ in 0..20 {
                            cache.put(&name, &job, &verdict, at(T0)).unwrap();
                            // Every read sees a whole entry, whichever writer wrote it last.
                            assert!(cache.get(&name, &job, at(T0)).unwrap().is_some());
                        }
                        name
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(names.windows(2).all(|w| w[0] == w[1]), "{names:?}");
        let leftovers: Vec<_> = fs::read_dir(home.path().join("keyhound"))
            .unwrap()
            .chain(fs::read_dir(home.path().join("keyhound/verdicts")).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
