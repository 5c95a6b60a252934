//! Archives and compressed files: build outputs (`.jar`, `.whl`, `.tar.gz`), backups and
//! office documents hold keys as much as source files do. Each member is handed on as a blob
//! named `archive.zip!dir/file` (nested: `a.tar.gz!b.zip!c/.env`); nothing is unpacked to disk.
//!
//! Everything here is untrusted input built to hurt: a small file may expand to terabytes, hold
//! a million members, or contain itself. So every archive gets a byte budget (a total, and a
//! ratio to its compressed size) that counts every byte decompressed, kept or skipped; members
//! are counted; nesting is bounded. Going over any limit ends that archive (or member) with a
//! counted skip, never an error or an unbounded allocation.

use std::cell::Cell;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

use super::{Blob, SkipReason, Skipped, Visitor};

/// The limits against archive bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// How many archives deep members are opened (`a.zip!b.zip!c` is two).
    pub max_depth: usize,
    /// Bytes decompressed per top-level archive, nested archives included.
    pub max_total: u64,
    /// Decompressed bytes per compressed byte, once past `ratio_floor`.
    pub max_ratio: u64,
    pub ratio_floor: u64,
    /// Members per archive.
    pub max_members: usize,
    /// A member larger than this is skipped (`--max-file-size`).
    pub max_member: u64,
}

/// `--max-archive-depth`'s default.
pub const DEFAULT_MAX_DEPTH: usize = 3;

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_total: 256 << 20,
            max_ratio: 100,
            ratio_floor: 1 << 20,
            max_members: 10_000,
            max_member: super::fs::DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// The containers and compressed streams recognised, by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
    Zip,
    Tar,
}

/// What `bytes` is, by its magic number (never by its name: a `.jar` is a zip, a `.tgz` a
/// gzip, and a renamed file is still what it is).
pub fn kind(bytes: &[u8]) -> Option<Kind> {
    match bytes {
        [0x1F, 0x8B, 0x08, ..] => Some(Kind::Gzip),
        [b'B', b'Z', b'h', b'1'..=b'9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, ..] => {
            Some(Kind::Bzip2)
        }
        [0xFD, b'7', b'z', b'X', b'Z', 0x00, ..] => Some(Kind::Xz),
        [0x28, 0xB5, 0x2F, 0xFD, ..] => Some(Kind::Zstd),
        [b'P', b'K', 0x03, 0x04, ..] | [b'P', b'K', 0x05, 0x06, ..] => Some(Kind::Zip),
        _ if is_tar(bytes) => Some(Kind::Tar),
        _ => None,
    }
}

/// A POSIX or GNU tar header: `ustar\0` or `ustar  \0` at offset 257.
fn is_tar(bytes: &[u8]) -> bool {
    matches!(bytes.get(257..265), Some(m) if m == b"ustar\x0000" || m == b"ustar  \0")
}

/// Hands every member of the archive `bytes` (named `path`) to `visitor`, opening nested
/// archives up to the depth limit; what is not scanned goes to `visitor.skipped`.
pub fn walk<V: Visitor + ?Sized>(
    path: &str,
    bytes: &[u8],
    limits: &ArchiveLimits,
    visitor: &mut V,
) {
    let by_ratio = (bytes.len() as u64)
        .saturating_mul(limits.max_ratio)
        .max(limits.ratio_floor);
    let mut walker = Walker {
        limits,
        budget: limits.max_total.min(by_ratio),
        used: Rc::default(),
        visitor,
    };
    walker.open(path, bytes, 1);
}

/// Why reading stopped: the budget ran out, or the data was bad.
enum Stop {
    Budget,
    Bad(String),
}

struct Walker<'a, V: ?Sized> {
    limits: &'a ArchiveLimits,
    /// Bytes this top-level archive may expand to, and how many it has (shared with the
    /// readers that count as they decompress).
    budget: u64,
    used: Rc<Cell<u64>>,
    visitor: &'a mut V,
}

impl<V: Visitor + ?Sized> Walker<'_, V> {
    fn left(&self) -> u64 {
        self.budget.saturating_sub(self.used.get())
    }

    fn spend(&self, n: u64) {
        self.used.set(self.used.get() + n);
    }

    /// `reader`, counted against the budget.
    fn counted<R: Read>(&self, inner: R) -> Counted<R> {
        Counted {
            inner,
            budget: self.budget,
            used: Rc::clone(&self.used),
        }
    }

    fn skip(&mut self, path: &str, reason: String) {
        self.visitor.skipped(Skipped {
            path: path.to_string(),
            reason: SkipReason::Archive(reason),
        });
    }

    fn over_budget(&mut self, path: &str) {
        let reason = format!(
            "expands past {} bytes (limits: {} MiB per archive, {}:1 beyond {} MiB)",
            self.budget,
            self.limits.max_total >> 20,
            self.limits.max_ratio,
            self.limits.ratio_floor >> 20
        );
        self.skip(path, reason);
    }

    /// Opens the archive `bytes` found at `path`, `depth` archives deep.
    fn open(&mut self, path: &str, bytes: &[u8], depth: usize) {
        let Some(kind) = kind(bytes) else {
            self.visitor.blob(Blob { path, bytes });
            return;
        };
        if depth > self.limits.max_depth {
            let reason = format!(
                "an archive nested deeper than --max-archive-depth {}",
                self.limits.max_depth
            );
            self.skip(path, reason);
            return;
        }
        let outcome = match kind {
            Kind::Zip => self.zip(path, bytes, depth),
            Kind::Tar => {
                let reader = self.counted(Cursor::new(bytes));
                self.tar(path, reader, depth)
            }
            Kind::Gzip => self.stream(path, flate2::read::MultiGzDecoder::new(bytes), depth),
            Kind::Bzip2 => self.stream(path, bzip2::read::MultiBzDecoder::new(bytes), depth),
            Kind::Zstd => match ruzstd::decoding::StreamingDecoder::new(bytes) {
                Ok(decoder) => self.stream(path, decoder, depth),
                Err(e) => Err(Stop::Bad(e.to_string())),
            },
            Kind::Xz => self.xz(path, bytes, depth),
        };
        match outcome {
            Ok(()) => {}
            Err(Stop::Budget) => self.over_budget(path),
            Err(Stop::Bad(e)) => self.skip(path, format!("a corrupt or unsupported archive: {e}")),
        }
    }

    /// A compressed stream: a compressed tar's members, or the one file it holds (named after
    /// the archive without its suffix: `notes.txt.gz!notes.txt`).
    fn stream<R: Read>(&mut self, path: &str, reader: R, depth: usize) -> Result<(), Stop> {
        let mut reader = self.counted(reader);
        let mut head = Vec::with_capacity(512);
        read_up_to(&mut reader, &mut head, 512)?;
        if is_tar(&head) || (head.len() == 512 && kind(&head) == Some(Kind::Tar)) {
            return self.tar(path, Cursor::new(head).chain(reader), depth);
        }
        let mut body = head;
        let limit = self.limits.max_member;
        read_up_to(&mut reader, &mut body, limit.saturating_add(1) as usize)?;
        let inner = format!("{path}!{}", stem(path));
        if body.len() as u64 > limit {
            self.visitor.skipped(Skipped {
                path: inner,
                reason: SkipReason::TooLarge {
                    size: body.len() as u64,
                    limit,
                },
            });
            return Ok(());
        }
        // A stream inside a stream (`x.gz.gz`) is the same archive, not a level deeper.
        self.open(
            &inner,
            &body,
            depth + usize::from(kind(&body) == Some(Kind::Zip)),
        );
        Ok(())
    }

    fn xz(&mut self, path: &str, bytes: &[u8], depth: usize) -> Result<(), Stop> {
        // lzma-rs decodes xz into a writer, not a reader: cap the writer instead.
        let cap = self
            .left()
            .min(self.limits.max_member.max(self.limits.ratio_floor));
        let mut out = Capped {
            buf: Vec::new(),
            cap,
        };
        let result = lzma_rs::xz_decompress(&mut io::BufReader::new(bytes), &mut out);
        self.spend(out.buf.len() as u64);
        match result {
            Ok(()) => {}
            Err(_) if out.buf.len() as u64 >= cap => return Err(Stop::Budget),
            Err(e) => return Err(Stop::Bad(e.to_string())),
        }
        let body = out.buf;
        if is_tar(&body) {
            return self.tar(path, Cursor::new(&body[..]), depth);
        }
        let inner = format!("{path}!{}", stem(path));
        self.open(
            &inner,
            &body,
            depth + usize::from(kind(&body) == Some(Kind::Zip)),
        );
        Ok(())
    }

    fn tar<R: Read>(&mut self, path: &str, reader: R, depth: usize) -> Result<(), Stop> {
        let mut archive = tar::Archive::new(reader);
        let entries = archive.entries().map_err(bad)?;
        let mut members = 0usize;
        let mut buf = Vec::new();
        for entry in entries {
            let mut entry = entry.map_err(|e| stop_of(&e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            members += 1;
            if members > self.limits.max_members {
                self.too_many(path);
                return Ok(());
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let member = format!("{path}!{name}");
            let size = entry.size();
            if size > self.limits.max_member {
                self.visitor.skipped(Skipped {
                    path: member,
                    reason: SkipReason::TooLarge {
                        size,
                        limit: self.limits.max_member,
                    },
                });
                continue;
            }
            if size > self.left() {
                return Err(Stop::Budget);
            }
            buf.clear();
            // The reader counts these bytes as it decompresses them.
            read_up_to(&mut entry, &mut buf, size as usize)?;
            self.open(&member, &buf, depth + 1);
        }
        Ok(())
    }

    fn zip(&mut self, path: &str, bytes: &[u8], depth: usize) -> Result<(), Stop> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
        let mut buf = Vec::new();
        let mut members = 0usize;
        for i in 0..archive.len() {
            let name = match archive.name_for_index(i) {
                Some(Ok(n)) => n.into_owned(),
                _ => "?".to_string(),
            };
            let member = format!("{path}!{name}");
            let mut file = match archive.by_index(i) {
                Ok(file) => file,
                Err(e) => {
                    self.skip(&member, format!("cannot read the member: {e}"));
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            members += 1;
            if members > self.limits.max_members {
                drop(file);
                self.too_many(path);
                return Ok(());
            }
            // The declared size is a claim, not a limit: reading is capped either way.
            let limit = self.limits.max_member;
            let left = self.left();
            buf.clear();
            let cap = limit.min(left).saturating_add(1) as usize;
            let read = read_up_to(&mut file, &mut buf, cap);
            drop(file);
            self.spend(buf.len() as u64);
            match read {
                Ok(()) => {}
                Err(Stop::Bad(e)) => {
                    self.skip(&member, format!("cannot read the member: {e}"));
                    continue;
                }
                Err(Stop::Budget) => return Err(Stop::Budget),
            }
            if buf.len() as u64 > limit {
                self.visitor.skipped(Skipped {
                    path: member,
                    reason: SkipReason::TooLarge {
                        size: buf.len() as u64,
                        limit,
                    },
                });
                continue;
            }
            if buf.len() as u64 > left {
                return Err(Stop::Budget);
            }
            self.open(&member, &buf, depth + 1);
        }
        Ok(())
    }

    fn too_many(&mut self, path: &str) {
        let reason = format!(
            "holds more than {} members; the rest were not scanned",
            self.limits.max_members
        );
        self.skip(path, reason);
    }
}

fn bad(e: impl std::fmt::Display) -> Stop {
    Stop::Bad(e.to_string())
}

/// The budget running out shows up as an I/O error of ours inside the decoder's error.
fn stop_of(e: &io::Error) -> Stop {
    if e.kind() == io::ErrorKind::FileTooLarge || e.to_string().contains(BUDGET) {
        Stop::Budget
    } else {
        Stop::Bad(e.to_string())
    }
}

const BUDGET: &str = "archive byte budget exhausted";

/// Reads until `limit` bytes are in `buf` (beyond what it held) or the input ends.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut Vec<u8>, limit: usize) -> Result<(), Stop> {
    let start = buf.len();
    reader
        .take(limit as u64)
        .read_to_end(buf)
        .map(|_| ())
        .map_err(|e| {
            buf.truncate(start.max(buf.len()));
            stop_of(&e)
        })
}

/// A decompressor's output, counted against the budget: past it, reads fail.
struct Counted<R> {
    inner: R,
    budget: u64,
    used: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.saturating_sub(self.used.get());
        if left == 0 {
            // One byte more would be over: is there one?
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(io::ErrorKind::FileTooLarge, BUDGET)),
            };
        }
        let n = out.len().min(left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut out[..n])?;
        self.used.set(self.used.get() + n as u64);
        Ok(n)
    }
}

/// A writer that refuses bytes past its cap.
struct Capped {
    buf: Vec<u8>,
    cap: u64,
}

impl io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = (self.cap - self.buf.len() as u64) as usize;
        if room == 0 && !data.is_empty() {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, BUDGET));
        }
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The name a compressed file's content goes by: its file name without the compression
/// suffix (`logs/app.log.gz` → `app.log`; `.tgz` → `.tar`).
fn stem(path: &str) -> String {
    let name = path.rsplit(['/', '!']).next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    for (suffix, replace) in [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".txz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".bz2", ""),
        (".xz", ""),
        (".zst", ""),
    ] {
        if lower.ends_with(suffix) && name.len() > suffix.len() {
            return format!("{}{replace}", &name[..name.len() - suffix.len()]);
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[derive(Default)]
    struct Collect {
        blobs: Vec<(String, Vec<u8>)>,
        skipped: Vec<Skipped>,
    }

    impl Visitor for Collect {
        fn blob(&mut self, blob: Blob<'_>) {
            self.blobs
                .push((blob.path.to_string(), blob.bytes.to_vec()));
        }
        fn skipped(&mut self, skipped: Skipped) {
            self.skipped.push(skipped);
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_member_is_named_after_the_file() {
        let mut c = Collect::default();
        walk(
            "d/notes.txt.gz",
            &gzip(b"hello"),
            &ArchiveLimits::default(),
            &mut c,
        );
        assert_eq!(
            c.blobs,
            vec![("d/notes.txt.gz!notes.txt".into(), b"hello".to_vec())]
        );
        assert!(c.skipped.is_empty());
    }

    #[test]
    fn corrupt_archive_is_a_counted_skip() {
        let mut c = Collect::default();
        let mut bytes = gzip(b"hello world, hello world");
        bytes.truncate(12);
        walk("x.gz", &bytes, &ArchiveLimits::default(), &mut c);
        assert_eq!(c.skipped.len(), 1, "{:?}", c.skipped);
        assert_eq!(c.skipped[0].reason.kind(), "archive");
    }

    #[test]
    fn a_hundred_thousand_members_stop_at_the_member_limit() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for i in 0..100_000 {
            zip.start_file(format!("m{i}"), options).unwrap();
            zip.write_all(b"x").unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        let mut c = Collect::default();
        walk("many.zip", &bytes, &ArchiveLimits::default(), &mut c);
        assert_eq!(c.blobs.len(), 10_000);
        assert_eq!(c.skipped.len(), 1);
        assert_eq!(c.skipped[0].path, "many.zip");
        assert!(c.skipped[0]
            .reason
            .to_string()
            .contains("more than 10000 members"));
    }

    #[test]
    fn a_tar_bomb_stops_at_the_budget() {
        // A tar whose one member claims (and holds) 8 MiB, under a 1 MiB budget.
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(8 << 20);
        header.set_cksum();
        tar.append_data(&mut header, "big", io::repeat(0).take(8 << 20))
            .unwrap();
        let bytes = gzip(&tar.into_inner().unwrap());
        let limits = ArchiveLimits {
            max_total: 1 << 20,
            ..ArchiveLimits::default()
        };
        let mut c = Collect::default();
        walk("t.tar.gz", &bytes, &limits, &mut c);
        assert!(c.blobs.is_empty());
        assert_eq!(c.skipped.len(), 1, "{:?}", c.skipped);
        assert!(c.skipped[0].reason.to_string().contains("expands past"));
    }

    #[test]
    fn stems() {
        assert_eq!(stem("a/b.tgz"), "b.tar");
        assert_eq!(stem("x.zip!y/app.log.GZ"), "app.log");
        assert_eq!(stem("plain"), "plain");
    }
}
