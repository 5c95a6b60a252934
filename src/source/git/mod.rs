//! Git history: every blob reachable from the selected commits, scanned once, and where it
//! was first seen.
//!
//! What things cost (see DESIGN.md): attributing blobs by diffing each commit against its
//! parent is ten times slower than everything else together, so attribution is a walk of each
//! commit's tree that skips every tree already seen: a blob first met inside a new tree is
//! first seen in that commit, at that path. Reading objects one at a time through libgit2
//! (SHA-1 checked, parsed objects cached, one thread) costs several times what reading them in
//! parallel, in pack order, costs, so the object database is read in-process with gitoxide on
//! every `-j` thread: for a whole-history scan every tree is decoded once into a compact graph
//! that the walk runs over, and blobs are inflated in pack order and handed to the scanners
//! directly. libgit2 keeps refs and commit order, the tree walk of a narrowed scan
//! (`--since`, `--range`, dates), attribution, and reads whatever gitoxide cannot, naming what
//! is missing or corrupt. Whether a key was *introduced* at a path (rather than carried along)
//! is decided afterwards, only for blobs that hold a finding.
//!
//! The repository is untrusted: gitoxide opens it isolated (no global or system
//! configuration, nothing executed), and neither library runs hooks or filters.
//!
//! The parts: `select` resolves what the user asked for into commits, `inventory` walks
//! their trees into the blobs to scan (over the `graph` of every tree, decoded while the
//! commits are listed), `packs` splits each pack by kind and decodes one kind at a time,
//! `odb` is the gitoxide reader both the walk and `read` use,
//! `read` reads those blobs (a whole history by one `sweep` over each pack, then gitoxide
//! object by object, libgit2 for the rest), and `attribution` says which commit introduced a
//! key and whether HEAD still has it.

mod attribution;
mod graph;
mod inventory;
mod odb;
mod packs;
mod read;
mod resident;
mod select;
mod sweep;

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

pub use attribution::{introductions, Attribution, Commit, Introduction};
pub use inventory::{inventory, inventory_in, inventory_on, BlobRef, Inventory, Occurrence};
pub use read::{header_size, read_blobs, BlobVisitor, ReadOutcome};
pub use select::{DateWindow, Selection};

/// Why a history scan could not start. Each names what the user asked for.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a git repository (or any parent up to the root)")]
    NotARepository { path: String },
    #[error("unknown revision `{rev}`: {message}")]
    UnknownRevision { rev: String, message: String },
    #[error("{context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
}

fn git_err(context: impl Into<String>) -> impl FnOnce(git2::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Git { context, source }
}

/// Opens the repository containing `path`.
pub fn open(path: &Path) -> Result<Repository, GitError> {
    configure_libgit2();
    Repository::discover(path).map_err(|_| GitError::NotARepository {
        path: path.display().to_string(),
    })
}

/// libgit2's process-wide settings for reading a history once.
///
/// Memory: libgit2 keeps up to 256 MiB of parsed objects and maps pack files in windows of up
/// to 8 GiB in all: on a large history that, not the blobs in flight, would set the peak
/// memory. Each commit and tree is read once here, so a small cache loses nothing (at 16 MiB,
/// the commits the revwalk had cached were a seventh of cargo's peak); mapped windows beyond
/// the limit are unmapped and mapped again when needed.
///
/// Time: libgit2 hashes every object it reads to check its id, which was a quarter of the
/// commit walk (252 → 182 ms on cargo); gitoxide, which reads the trees and blobs, never
/// checks, and a scan reads whatever bytes an object holds either way.
fn configure_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: these set process-wide libgit2 options; they are called once, before this
        // process opens any repository.
        unsafe {
            let _ = git2::opts::set_cache_max_size(4 << 20);
            let _ = git2::opts::set_mwindow_size(8 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(16 << 20);
            git2::opts::strict_hash_verification(false);
        }
    });
}

/// The first 12 hex digits of an object id.
pub fn short(oid: Oid) -> String {
    let mut s = oid.to_string();
    s.truncate(12);
    s
}

/// The directory a repository's paths are relative to (its work tree, or the git dir when
/// bare).
pub fn root(repo: &Repository) -> PathBuf {
    repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf()
}
