//! `keyhound audit`: list → shard → clone → `keyhound history` → records, a bounded number
//! of repositories at a time. A repository that fails is recorded with its error and the
//! audit goes on; the exit code says so at the end (2 if any failed, else 1 if any finding).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use sha2::{Digest, Sha256};

use crate::audit::clone;
use crate::audit::forge;
use crate::audit::record::{FindingRecord, RepoRecord};
use crate::audit::repos::{self, Repo, Shard};
use crate::audit::state::StateFile;
use crate::cli::AuditArgs;
use crate::config::Output;

/// How the child `keyhound history` is to scan: the flags that carry over from `audit`.
struct ScanOptions {
    exe: PathBuf,
    args: Vec<String>,
    incremental: bool,
    mirror: bool,
    keep_clones: bool,
}

/// What the audit has written so far, under one lock: output, state, counts.
struct Sink<'a> {
    out: Box<dyn Write + Send + 'a>,
    state: Option<StateFile>,
    failed: usize,
    findings: u64,
    done: usize,
}

pub(super) fn audit(args: &AuditArgs, output: Output) -> Result<ExitCode> {
    let started = Instant::now();
    let shard = match &args.shard {
        Some(text) => Shard::parse(text)?,
        None => Shard::ALL,
    };
    let listed = list_repositories(args)?;
    let total = listed.len();
    let repos: Vec<Repo> = listed.into_iter().filter(|r| shard.holds(r)).collect();

    let mut state = args.state.as_deref().map(StateFile::open).transpose()?;
    let resuming = state.as_ref().is_some_and(|s| s.resuming);
    let todo: Vec<Repo> = repos
        .iter()
        .filter(|r| !state.as_ref().is_some_and(|s| s.finished(&r.identity)))
        .cloned()
        .collect();
    let skipped = repos.len() - todo.len();

    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .append(resuming)
                .truncate(!resuming)
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Box::new(BufWriter::new(file))
        }
        None => Box::new(BufWriter::new(io::stdout())),
    };

    let temp;
    let workdir: PathBuf = match &args.workdir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the work directory {}", dir.display()))?;
            // The scan runs inside the clone: a relative path would not reach it from there.
            std::path::absolute(dir)
                .with_context(|| format!("resolving the work directory {}", dir.display()))?
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("keyhound-audit-")
                .tempdir()
                .context("creating a temporary work directory")?;
            temp.path().to_path_buf()
        }
    };
    let options = scan_options(args)?;
    if !output.quiet {
        eprintln!(
            "keyhound: auditing {} of {} {} (shard {}/{}){}",
            todo.len(),
            total,
            if total == 1 {
                "repository"
            } else {
                "repositories"
            },
            shard.index,
            shard.count,
            if skipped > 0 {
                format!("; {skipped} finished already by the run being resumed")
            } else {
                String::new()
            }
        );
    }

    let sink = Mutex::new(Sink {
        out,
        state: state.take(),
        failed: 0,
        findings: 0,
        done: 0,
    });
    let next = AtomicUsize::new(0);
    let workers = (args.parallel_repos as usize).min(todo.len()).max(1);
    let fatal: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                if fatal.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(repo) = todo.get(i) else { return };
                let watermarks = sink
                    .lock()
                    .ok()
                    .and_then(|s| {
                        s.state
                            .as_ref()
                            .and_then(|st| st.watermarks(&repo.identity).cloned())
                    })
                    .filter(|_| options.incremental);
                let outcome = audit_one(repo, &workdir, &options, watermarks.as_ref());
                let written = sink
                    .lock()
                    .map_err(|_| anyhow::anyhow!("a worker panicked"))
                    .and_then(|mut s| s.write(repo, outcome, output));
                if let Err(e) = written {
                    if let Ok(mut f) = fatal.lock() {
                        f.get_or_insert(e);
                    }
                    return;
                }
            });
        }
    });
    if let Some(e) = fatal.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut sink = sink
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
    match sink.out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the audit")?,
    }
    if let Some(state) = &mut sink.state {
        state.complete()?;
    }
    if !output.quiet {
        eprintln!(
            "keyhound: audited {} {} in {:.1}s: {} failed, {} {}",
            sink.done,
            if sink.done == 1 {
                "repository"
            } else {
                "repositories"
            },
            started.elapsed().as_secs_f64(),
            sink.failed,
            sink.findings,
            if sink.findings == 1 {
                "finding"
            } else {
                "findings"
            },
        );
    }
    Ok(if sink.failed > 0 {
        ExitCode::from(2)
    } else if sink.findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

impl Sink<'_> {
    /// Writes one repository's records, then records it in the state: a kill between the two
    /// makes the resumed run audit it again, and `merge` keeps one copy.
    fn write(&mut self, repo: &Repo, outcome: Outcome, output: Output) -> Result<()> {
        let Outcome {
            findings,
            record,
            refs,
        } = outcome;
        let mut buf = Vec::new();
        for f in &findings {
            serde_json::to_writer(&mut buf, f)?;
            buf.push(b'\n');
        }
        serde_json::to_writer(&mut buf, &record)?;
        buf.push(b'\n');
        match self.out.write_all(&buf).and_then(|()| self.out.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            other => other.context("writing the audit")?,
        }
        self.done += 1;
        self.findings += record.findings;
        if let Some(error) = &record.error {
            self.failed += 1;
            if !output.quiet {
                eprintln!("keyhound: {}: {error}", repo.source);
            }
        } else if output.verbosity >= 1 {
            eprintln!(
                "keyhound: {}: {} commits, {} {}",
                repo.source,
                record.commits,
                record.findings,
                if record.findings == 1 {
                    "finding"
                } else {
                    "findings"
                }
            );
        }
        if let Some(state) = &mut self.state {
            state.record(&repo.identity, &repo.source, refs, record.error.clone())?;
        }
        Ok(())
    }
}

/// The repositories to audit, from the list file or the forge.
fn list_repositories(args: &AuditArgs) -> Result<Vec<Repo>> {
    if let Some(path) = &args.repos {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the repository list {}", path.display()))?;
        return Ok(repos::parse_list(&text, path)?);
    }
    let filter = forge::Filter {
        archived: args.include_archived,
        forks: args.include_forks,
    };
    let urls = if let Some(org) = &args.github_org {
        forge::github(org, args.api_url.as_deref(), filter)?
    } else if let Some(group) = &args.gitlab_group {
        forge::gitlab(group, args.api_url.as_deref(), filter)?
    } else {
        bail!("give --repos FILE, --github-org ORG or --gitlab-group GROUP");
    };
    let mut repos: Vec<Repo> = Vec::new();
    for url in urls {
        let repo = repos::parse_source(&url).map_err(|e| {
            anyhow::anyhow!("the API listed a repository keyhound cannot clone: {e}")
        })?;
        if !repos.iter().any(|r| r.identity == repo.identity) {
            repos.push(repo);
        }
    }
    Ok(repos)
}

/// The child's flags: rules, config and limits as given to `audit`, paths made absolute
/// (the child runs inside the clone).
fn scan_options(args: &AuditArgs) -> Result<ScanOptions> {
    let absolute = |p: &Path| -> Result<String> {
        Ok(std::path::absolute(p)
            .with_context(|| format!("resolving {}", p.display()))?
            .display()
            .to_string())
    };
    let mut a = Vec::new();
    for p in &args.rules.rule_paths {
        a.push("--rules".to_string());
        a.push(absolute(p)?);
    }
    if args.rules.no_builtin_rules {
        a.push("--no-builtin-rules".into());
    }
    for (flag, values) in [
        ("--only-rules", &args.rules.only_rules),
        ("--enable-rule", &args.rules.enable_rule),
        ("--disable-rule", &args.rules.disable_rule),
    ] {
        for v in values {
            a.push(format!("{flag}={v}"));
        }
    }
    if let Some(config) = &args.config.config {
        a.push("--config".into());
        a.push(absolute(config)?);
    }
    if let Some(size) = args.max_file_size {
        a.push(format!("--max-file-size={size}"));
    }
    if let Some(j) = args.threads {
        a.push(format!("--threads={j}"));
    }
    if args.show_secrets {
        a.push("--show-secrets".into());
    }
    Ok(ScanOptions {
        exe: std::env::current_exe().context("finding keyhound's own path")?,
        args: a,
        incremental: args.incremental,
        mirror: args.mirror,
        keep_clones: args.keep_clones,
    })
}

/// One repository's records, and its refs to record as watermarks (`None` when it failed).
struct Outcome {
    findings: Vec<FindingRecord>,
    record: RepoRecord,
    refs: Option<BTreeMap<String, String>>,
}

/// The clone's directory: readable, and unique per identity.
fn clone_dir(workdir: &Path, repo: &Repo) -> PathBuf {
    let digest = Sha256::digest(repo.identity.as_bytes());
    let tag: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    let name: String = repo
        .identity
        .rsplit('/')
        .next()
        .unwrap_or("repo")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    workdir.join(format!("{name}-{tag}.git"))
}

fn audit_one(
    repo: &Repo,
    workdir: &Path,
    options: &ScanOptions,
    watermarks: Option<&BTreeMap<String, String>>,
) -> Outcome {
    let started = Instant::now();
    let mut record = RepoRecord {
        kind: "repository".into(),
        repository: repo.source.clone(),
        identity: repo.identity.clone(),
        scan: "full".into(),
        ..RepoRecord::default()
    };
    let dir = clone_dir(workdir, repo);
    let result = scan_clone(repo, &dir, options, watermarks, &mut record);
    if !options.keep_clones || result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    record.duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(findings) => {
            let refs = Some(record.refs.clone());
            Outcome {
                findings,
                record,
                refs,
            }
        }
        Err(error) => {
            record.error = Some(error);
            Outcome {
                findings: Vec::new(),
                record,
                refs: None,
            }
        }
    }
}

fn scan_clone(
    repo: &Repo,
    dir: &Path,
    options: &ScanOptions,
    watermarks: Option<&BTreeMap<String, String>>,
    record: &mut RepoRecord,
) -> Result<Vec<FindingRecord>, String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("removing the old clone {}: {e}", dir.display()))?;
    }
    clone::clone(&repo.source, dir, options.mirror)?;
    let (refs, head) = clone::refs(dir)?;
    record.refs = refs;
    record.head = head;
    let (blobs, bytes) = clone::blob_totals(dir)?;
    record.blobs = blobs;
    record.bytes = bytes;
    let tips: BTreeSet<String> = record.refs.values().cloned().collect();
    if tips.is_empty() {
        // An empty repository: nothing to scan, and nothing missed.
        record.scan = "full".into();
        return Ok(Vec::new());
    }
    let mut range: Vec<String> = Vec::new();
    if let Some(old) = watermarks {
        let old: BTreeSet<String> = old.values().cloned().collect();
        let old = clone::existing_commits(dir, &old.into_iter().collect::<Vec<_>>());
        if tips.iter().all(|t| old.contains(t)) {
            record.scan = "unchanged".into();
            return Ok(Vec::new());
        }
        if !old.is_empty() {
            let tips: Vec<String> = tips.iter().cloned().collect();
            let head = record.head.clone().unwrap_or_else(|| tips[0].clone());
            let base = clone::join_commits(dir, &old, &old[0])?;
            let tip = clone::join_commits(dir, &tips, &head)?;
            record.scan = "incremental".into();
            // The joining commit itself is not one of the repository's.
            record.commits =
                clone::count_commits(dir, &[tip.clone(), format!("^{base}")])?.saturating_sub(1);
            range = vec![format!("--since={base}"), format!("--branch={tip}")];
        }
    }
    if range.is_empty() {
        record.commits = clone::count_commits(dir, &["--all".to_string()])?;
    }
    let out = Command::new(&options.exe)
        .arg("history")
        .arg(dir)
        .args(["--format=jsonl", "--no-baseline", "--color=never"])
        .args(&range)
        .args(&options.args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running keyhound history: {e}"))?;
    match out.status.code() {
        Some(0 | 1) => {}
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let message: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
            return Err(format!(
                "keyhound history failed ({}): {}",
                out.status,
                if message.is_empty() {
                    stderr.trim().to_string()
                } else {
                    message.join("; ")
                }
            ));
        }
    }
    let mut findings = Vec::new();
    let mut keys = BTreeSet::new();
    for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let row: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line)
            .map_err(|e| format!("reading keyhound history's output: {e}"))?;
        // The last line describes the scan itself, not a key.
        if row.get("record").and_then(|v| v.as_str()) == Some("scan") {
            continue;
        }
        if let Some(fp) = row.get("fingerprint").and_then(|v| v.as_str()) {
            keys.insert(fp.to_string());
        }
        findings.push(FindingRecord {
            kind: "finding".into(),
            repository: repo.source.clone(),
            identity: repo.identity.clone(),
            row,
        });
    }
    record.findings = keys.len() as u64;
    Ok(findings)
}
