//! The working tree: a parallel walk with the `ignore` crate, plus stdin.
//!
//! `.gitignore`, `.ignore` and `.git/info/exclude` are respected (also outside a git
//! repository, so a checkout behaves the same with or without its `.git`). Hidden files are
//! scanned, since `.env`, `.npmrc` and `.aws/credentials` are where keys live, but `.git` itself
//! never is: history is the `history` command's job. A path named on the command line is always
//! scanned. Each walker thread reads files into one reused buffer.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::globs::{Base, PathGlobs};
use super::{is_binary, Blob, SkipReason, Skipped, Visitor};

/// A buffer that grew past this for a large file is shrunk back afterwards.
const KEEP_BUFFER: usize = 4 << 20;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Scan files that ignore rules would skip.
    pub no_ignore: bool,
    /// Files larger than this are skipped and counted.
    pub max_file_size: u64,
    /// Follow symbolic links (loops are detected and reported, never followed forever).
    pub follow_links: bool,
    /// Walker threads; 0 picks the number of CPUs.
    pub threads: usize,
    /// Paths never walked (a named file or directory is still scanned); relative to `base`.
    pub exclude: PathGlobs,
    /// What `exclude` is relative to.
    pub base: Base,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            no_ignore: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            follow_links: false,
            threads: 0,
            exclude: PathGlobs::default(),
            base: Base::default(),
        }
    }
}

/// Large enough for minified bundles, where front-end keys leak.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 << 20;

/// Walks `roots` in parallel, giving each thread a visitor made by `make`; returns the visitors
/// once the walk is done, so the caller can merge what each one gathered.
pub fn walk<V, F>(roots: &[PathBuf], opts: &WalkOptions, make: F) -> Vec<V>
where
    V: Visitor,
    F: Fn() -> V + Sync,
{
    let Some((first, rest)) = roots.split_first() else {
        return Vec::new();
    };
    let mut builder = WalkBuilder::new(first);
    for root in rest {
        builder.add(root);
    }
    let (exclude, base) = (opts.exclude.clone(), opts.base.clone());
    builder
        .standard_filters(!opts.no_ignore)
        .hidden(false)
        .require_git(false)
        .follow_links(opts.follow_links)
        .threads(opts.threads)
        .filter_entry(move |entry| {
            entry.depth() == 0 || (entry.file_name() != ".git" && !excluded(entry, &exclude, &base))
        });
    let done: Mutex<Vec<V>> = Mutex::new(Vec::new());
    // Files named one by one (a pre-commit hook's call) leave nothing to walk: the parallel
    // walker's threads, and an idle one's 1 ms sleeps waiting for work, were a tenth of a
    // one-file scan. They are read in order on this thread instead, through the same filters.
    if roots.iter().all(|r| r.is_file()) {
        let mut thread = ThreadState {
            visitor: Some(make()),
            buf: Vec::new(),
            done: &done,
        };
        for entry in builder.build() {
            thread.visit(entry, opts);
        }
        drop(thread);
        return done.into_inner().unwrap_or_else(|e| e.into_inner());
    }
    builder.build_parallel().run(|| {
        let mut thread = ThreadState {
            visitor: Some(make()),
            buf: Vec::new(),
            done: &done,
        };
        Box::new(move |entry| {
            thread.visit(entry, opts);
            WalkState::Continue
        })
    });
    done.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Whether `exclude` covers a walked entry (a directory is skipped with everything in it).
fn excluded(entry: &ignore::DirEntry, exclude: &PathGlobs, base: &Base) -> bool {
    if exclude.is_empty() {
        return false;
    }
    let path = entry.path().to_string_lossy();
    let Some(rel) = base.relative(&path) else {
        return false;
    };
    if entry.file_type().is_some_and(|t| t.is_dir()) {
        exclude.matches_dir(&rel)
    } else {
        exclude.matches(&rel)
    }
}

/// Reads all of stdin (up to `limit` bytes) and hands it to `visitor` as one blob named
/// `<stdin>`. Running out of memory is an error for the caller, not a skip: the user piped in
/// the input to be scanned, and it was not.
pub fn read_stdin<V: Visitor>(visitor: &mut V, limit: u64) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let path = "<stdin>";
    let read = std::io::stdin()
        .lock()
        .take(limit.saturating_add(1))
        .read_to_end(&mut buf);
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::OutOfMemory => return Err(e),
        Err(e) => visitor.skipped(Skipped {
            path: path.into(),
            reason: SkipReason::Unreadable(e.to_string()),
        }),
        Ok(_) if buf.len() as u64 > limit => visitor.skipped(Skipped {
            path: path.into(),
            reason: SkipReason::TooLarge {
                size: buf.len() as u64,
                limit,
            },
        }),
        Ok(_) if is_binary(&buf) => visitor.skipped(Skipped {
            path: path.into(),
            reason: SkipReason::Binary,
        }),
        Ok(_) => visitor.blob(Blob { path, bytes: &buf }),
    }
    Ok(())
}

/// One walker thread: its visitor and its read buffer. On drop (the thread's walk is over) the
/// visitor is handed back to the caller.
struct ThreadState<'a, V> {
    visitor: Option<V>,
    buf: Vec<u8>,
    done: &'a Mutex<Vec<V>>,
}

impl<V: Visitor> ThreadState<'_, V> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>, opts: &WalkOptions) {
        let Some(visitor) = self.visitor.as_mut() else {
            return;
        };
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = error_path(&err).map_or_else(|| "<walk>".to_string(), display_path);
                visitor.skipped(Skipped {
                    path,
                    reason: SkipReason::WalkError(err.to_string()),
                });
                return;
            }
        };
        let is_file = match entry.file_type() {
            Some(t) if t.is_file() => true,
            // Whatever is named on the command line and is not a directory is read: a symlink
            // (followed), a FIFO, `/dev/stdin`, a process substitution. Met in the walk, only
            // regular files are (symlinks with --follow, reported as what they point to).
            _ if entry.depth() == 0 => !entry.path().is_dir(),
            _ => false,
        };
        if !is_file {
            return;
        }
        let path = display_path(entry.path());
        match read_file(entry.path(), opts.max_file_size, &mut self.buf) {
            Ok(()) if is_binary(&self.buf) => visitor.skipped(Skipped {
                path,
                reason: SkipReason::Binary,
            }),
            Ok(()) => visitor.blob(Blob {
                path: &path,
                bytes: &self.buf,
            }),
            Err(reason) => visitor.skipped(Skipped { path, reason }),
        }
        if self.buf.capacity() > KEEP_BUFFER {
            self.buf = Vec::new();
        }
    }
}

impl<V> Drop for ThreadState<'_, V> {
    fn drop(&mut self) {
        if let Some(v) = self.visitor.take() {
            self.done.lock().unwrap_or_else(|e| e.into_inner()).push(v);
        }
    }
}

/// Reads a whole file into `buf` unless it is over `limit`.
fn read_file(path: &Path, limit: u64, buf: &mut Vec<u8>) -> Result<(), SkipReason> {
    buf.clear();
    let unreadable = |e: std::io::Error| SkipReason::Unreadable(e.to_string());
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > limit {
        return Err(SkipReason::TooLarge { size, limit });
    }
    buf.reserve(size as usize + 1);
    // Read at most limit + 1 bytes: a file that grows while we read it (or a FIFO, whose size
    // says nothing) is still bounded.
    (&mut file)
        .take(limit.saturating_add(1))
        .read_to_end(buf)
        .map_err(unreadable)?;
    if buf.len() as u64 > limit {
        return Err(SkipReason::TooLarge {
            size: buf.len() as u64,
            limit,
        });
    }
    Ok(())
}

/// The path as a user typed it, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => s.into_owned(),
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}
