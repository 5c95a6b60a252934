//! Reading the blobs of an inventory: streamed in pack order from `git cat-file
//! --batch-all-objects` for a whole-history scan, read through libgit2 for a narrow one (or
//! when git cannot be run), on a bounded number of threads with a bounded number in flight.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use git2::{Oid, Repository};

use super::inventory::Inventory;
use crate::source::{is_binary, SkipReason, Skipped};

/// Reads the blobs of `inv`, calling `visit(blob index, bytes)` for each one that is text and
/// within `max_size`, from up to `threads` threads; everything else is reported as skipped.
/// `make` builds one visitor per thread; the visitors are returned for merging.
pub fn read_blobs<V, F>(
    repo: &Repository,
    inv: &Inventory,
    max_size: u64,
    threads: usize,
    make: F,
) -> ReadOutcome<V>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let threads = threads.max(1);
    let dir = repo.path().to_path_buf();
    if !inv.narrow && !inv.blobs.is_empty() {
        if let Some(result) = stream_with_git(&dir, inv, max_size, threads, &make) {
            return result;
        }
    }
    let all: Vec<u32> = (0..inv.blobs.len() as u32).collect();
    read_with_libgit2(&dir, inv, &all, max_size, threads, &make)
}

/// What reading the blobs produced: each thread's visitor, what was skipped, and anything the
/// user should know (a fallback taken).
pub struct ReadOutcome<V> {
    pub visitors: Vec<V>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

/// What a thread does with each blob.
pub trait BlobVisitor: Send {
    fn blob(&mut self, index: u32, path: &str, bytes: &[u8]);
}

/// How many blobs may wait between the reader and the scanners: memory stays bounded by the
/// blobs in flight, never by the size of the repository.
const IN_FLIGHT: usize = 16;

/// Streams blob contents in pack order from `git cat-file`. Returns `None` if git cannot be
/// run, so that the caller falls back to libgit2.
fn stream_with_git<V, F>(
    dir: &Path,
    inv: &Inventory,
    max_size: u64,
    threads: usize,
    make: &F,
) -> Option<ReadOutcome<V>>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(["cat-file", "--batch-all-objects", "--batch", "--unordered"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    let mut seen = vec![false; inv.blobs.len()];
    let mut skipped = Vec::new();
    let (tx, rx) = std::sync::mpsc::sync_channel::<(u32, Vec<u8>)>(IN_FLIGHT);
    let rx = std::sync::Mutex::new(rx);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut read_error = None;
    let visitors = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = &rx;
                let recycle = recycle_tx.clone();
                scope.spawn(move || {
                    let mut visitor = make();
                    loop {
                        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((index, bytes)) = next else { break };
                        let blob = &inv.blobs[index as usize];
                        visitor.blob(index, &blob.occurrences[0].path, &bytes);
                        let _ = recycle.send(bytes);
                    }
                    visitor
                })
            })
            .collect();
        drop(recycle_tx);
        let mut reader = BufReader::with_capacity(1 << 20, stdout);
        let mut header = Vec::with_capacity(128);
        loop {
            header.clear();
            match reader.read_until(b'\n', &mut header) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    read_error = Some(e.to_string());
                    break;
                }
            }
            let Some((oid, kind, size)) = parse_header(&header) else {
                read_error = Some(format!(
                    "unexpected output from git cat-file: {}",
                    String::from_utf8_lossy(&header).trim_end()
                ));
                break;
            };
            let wanted = if kind == b"blob" {
                inv.index.get(&oid).copied()
            } else {
                None
            };
            let result = match wanted {
                Some(index) if !seen[index as usize] => {
                    seen[index as usize] = true;
                    let path = &inv.blobs[index as usize].occurrences[0].path;
                    if size > max_size {
                        skipped.push(too_large(path, size, max_size));
                        skip_bytes(&mut reader, size + 1)
                    } else {
                        let mut buf = recycle_rx.try_recv().unwrap_or_default();
                        buf.clear();
                        let read = (&mut reader)
                            .take(size)
                            .read_to_end(&mut buf)
                            .and_then(|_| skip_bytes(&mut reader, 1));
                        if read.is_ok() {
                            if is_binary(&buf) {
                                skipped.push(Skipped {
                                    path: path.to_string(),
                                    reason: SkipReason::Binary,
                                });
                            } else if tx.send((index, buf)).is_err() {
                                break;
                            }
                        }
                        read
                    }
                }
                _ => skip_bytes(&mut reader, size + 1),
            };
            if let Err(e) = result {
                read_error = Some(e.to_string());
                break;
            }
        }
        drop(tx);
        workers
            .into_iter()
            .map(|w| w.join().expect("a scanning thread panicked"))
            .collect::<Vec<V>>()
    });
    // Stopping early leaves git blocked on a full pipe: end it before waiting.
    if read_error.is_some() {
        let _ = child.kill();
    }
    let status = child.wait().ok();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let mut warnings = Vec::new();
    if let Some(e) = read_error {
        warnings.push(format!(
            "git cat-file stopped ({e}); reading the remaining blobs through libgit2"
        ));
    } else if !status.is_some_and(|s| s.success()) {
        warnings.push(format!(
            "git cat-file failed ({}); reading the remaining blobs through libgit2",
            stderr.trim()
        ));
    }
    // Blobs git did not stream (alternates it skipped, a failure half-way): read them through
    // libgit2, which names any that are missing.
    let rest: Vec<u32> = (0..inv.blobs.len() as u32)
        .filter(|&i| !seen[i as usize])
        .collect();
    let mut outcome = ReadOutcome {
        visitors,
        skipped,
        warnings,
    };
    if !rest.is_empty() {
        let more = read_with_libgit2(dir, inv, &rest, max_size, threads, make);
        outcome.visitors.extend(more.visitors);
        outcome.skipped.extend(more.skipped);
    }
    Some(outcome)
}

/// `<40 hex> <type> <size>\n` → (oid, type, size).
fn parse_header(line: &[u8]) -> Option<(Oid, &[u8], u64)> {
    let line = line.strip_suffix(b"\n")?;
    let mut parts = line.split(|&b| b == b' ');
    let oid = Oid::from_str(std::str::from_utf8(parts.next()?).ok()?).ok()?;
    let kind = parts.next()?;
    let size = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    Some((oid, kind, size))
}

fn skip_bytes(reader: &mut impl Read, n: u64) -> std::io::Result<()> {
    let copied = std::io::copy(&mut reader.take(n), &mut std::io::sink())?;
    if copied == n {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "git cat-file output ended early",
        ))
    }
}

/// Reads the given blobs through libgit2, one `Repository` per thread (it is `Send`, not
/// `Sync`).
fn read_with_libgit2<V, F>(
    dir: &Path,
    inv: &Inventory,
    which: &[u32],
    max_size: u64,
    threads: usize,
    make: &F,
) -> ReadOutcome<V>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(V, Vec<Skipped>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(which.len()).max(1))
            .map(|_| {
                let next = &next;
                scope.spawn(move || {
                    let mut visitor = make();
                    let mut skipped = Vec::new();
                    let repo = match Repository::open(dir) {
                        Ok(r) => r,
                        Err(e) => {
                            skipped.push(Skipped {
                                path: dir.display().to_string(),
                                reason: SkipReason::Unreadable(e.message().to_string()),
                            });
                            return (visitor, skipped);
                        }
                    };
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&index) = which.get(i) else { break };
                        let blob_ref = &inv.blobs[index as usize];
                        let path = &blob_ref.occurrences[0].path;
                        // The header gives the size without inflating the blob.
                        if let Some(size) = header_size(&repo, blob_ref.oid) {
                            if size > max_size {
                                skipped.push(too_large(path, size, max_size));
                                continue;
                            }
                        }
                        match repo.find_blob(blob_ref.oid) {
                            Err(e) => skipped.push(Skipped {
                                path: path.to_string(),
                                reason: SkipReason::Unreadable(format!(
                                    "missing or corrupt blob {}: {}",
                                    blob_ref.oid,
                                    e.message()
                                )),
                            }),
                            Ok(blob) if blob.size() as u64 > max_size => {
                                skipped.push(too_large(path, blob.size() as u64, max_size))
                            }
                            Ok(blob) if is_binary(blob.content()) => skipped.push(Skipped {
                                path: path.to_string(),
                                reason: SkipReason::Binary,
                            }),
                            Ok(blob) => visitor.blob(index, path, blob.content()),
                        }
                    }
                    (visitor, skipped)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a scanning thread panicked"))
            .collect()
    });
    let mut outcome = ReadOutcome {
        visitors: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    for (v, s) in results {
        outcome.visitors.push(v);
        outcome.skipped.extend(s);
    }
    outcome
}

/// An object's size as its header records it, read without inflating the object (libgit2's
/// `find_blob` inflates the whole blob, so a size check after it bounds nothing). `None` when
/// the header cannot be read: the full read then names the problem.
pub fn header_size(repo: &Repository, oid: Oid) -> Option<u64> {
    let odb = repo.odb().ok()?;
    odb.read_header(oid).ok().map(|(size, _)| size as u64)
}

/// The skip of a blob over `--max-file-size`, named by the first path it was seen at.
fn too_large(path: &str, size: u64, limit: u64) -> Skipped {
    Skipped {
        path: path.to_string(),
        reason: SkipReason::TooLarge { size, limit },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cat_file_headers() {
        let (oid, kind, size) =
            parse_header(b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 blob 0\n").unwrap();
        assert_eq!(oid.to_string(), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(kind, b"blob");
        assert_eq!(size, 0);
        assert!(parse_header(b"garbage\n").is_none());
    }
}
