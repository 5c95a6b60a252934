//! Sources: where the bytes come from. A source yields [`Blob`]s and reports what it could not
//! or would not read as [`Skipped`]; it knows nothing about matching.

pub mod archive;
pub mod forge;
pub mod fs;
pub mod git;
pub mod globs;
pub mod scope;
pub mod staged;
pub mod text;

use std::fmt;

/// The bytes of one file (or of stdin) and the path they are reported under.
#[derive(Debug, Clone, Copy)]
pub struct Blob<'a> {
    pub path: &'a str,
    pub bytes: &'a [u8],
}

/// Why a file was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Larger than `--max-file-size`.
    TooLarge { size: u64, limit: u64 },
    /// It could not be read (permissions, vanished, I/O error).
    Unreadable(String),
    /// The walk itself failed here (a symlink loop, an unreadable directory).
    WalkError(String),
    /// An archive (or member) over a limit against bombs, corrupt, or encrypted.
    Archive(String),
}

impl SkipReason {
    /// Errors are warned about even without `-v` and make `--strict` fail; deliberate skips
    /// (binary, too large) are only counted.
    pub fn is_error(&self) -> bool {
        matches!(self, SkipReason::Unreadable(_) | SkipReason::WalkError(_))
    }

    /// A short name for summaries: `binary`, `too large`, `unreadable`, `walk error`.
    pub fn kind(&self) -> &'static str {
        match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge { .. } => "too large",
            SkipReason::Unreadable(_) => "unreadable",
            SkipReason::WalkError(_) => "walk error",
            SkipReason::Archive(_) => "archive",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary file"),
            SkipReason::TooLarge { size, limit } => {
                write!(
                    f,
                    "{size} bytes is over the --max-file-size limit of {limit} bytes"
                )
            }
            SkipReason::Unreadable(e) => write!(f, "cannot read: {e}"),
            SkipReason::WalkError(e) => f.write_str(e),
            SkipReason::Archive(e) => write!(f, "archive: {e}"),
        }
    }
}

/// A file the source passed over, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: String,
    pub reason: SkipReason,
}

/// What a source hands its blobs to. Each scanning thread has its own visitor, so a visitor
/// keeps per-thread state (matcher scratch, results) without locks.
pub trait Visitor: Send {
    fn blob(&mut self, blob: Blob<'_>);
    fn skipped(&mut self, skipped: Skipped);
}

/// The file is binary if a NUL byte occurs in its first 8 KiB (as git and ripgrep decide),
/// unless it is UTF-16 text or an archive: the scan transcodes the one and opens the other.
pub fn is_binary(bytes: &[u8]) -> bool {
    has_nul(bytes) && archive::kind(bytes).is_none() && text::utf16(bytes).is_none()
}

/// A NUL byte in the first 8 KiB: what "binary" meant before UTF-16 and archives were read.
pub fn has_nul(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some()
}
