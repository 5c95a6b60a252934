//! Attribution, decided after scanning and only for blobs that hold a finding: which commit
//! introduced a key at a path (rather than carried it along from a parent), whether the tip
//! still has it, and who made each commit.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use git2::{ObjectType, Oid, Repository, Tree};

use super::inventory::Inventory;
use super::read::header_size;

/// A commit as attribution describes it: the source's own type, which the findings copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Full hex id.
    pub id: String,
    /// Author name and email, after the repository's mailmap.
    pub author: String,
    pub email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// Author date, Unix seconds.
    pub time: i64,
}

/// One place where a key found in a scanned blob was introduced.
#[derive(Debug, Clone)]
pub struct Introduction {
    /// Index into the `keys` given to [`introductions`].
    pub key: usize,
    /// The path the blob had in that commit.
    pub path: String,
    pub commit: Commit,
    /// Whether some blob holding the key is in the tree of HEAD (or the selected tip).
    pub in_head: bool,
}

/// Places keys found in blobs at the commits and paths that introduced them: for each
/// `(blob index into inventory.blobs, key)` in order, one [`Introduction`] per place the blob
/// was first seen at where no parent already had the key at that path.
pub fn introductions(
    repo: &Repository,
    inventory: &Inventory,
    keys: &[(u32, &str)],
) -> Vec<Introduction> {
    let mut attribution = Attribution::new(repo, inventory.head);
    // Which scanned blobs hold each secret: answers "did the parent already have it?" without
    // reading anything again.
    let mut holders: HashMap<&str, HashSet<Oid>> = HashMap::new();
    for (blob, secret) in keys {
        holders
            .entry(secret)
            .or_default()
            .insert(inventory.blobs[*blob as usize].oid);
    }
    let mut out = Vec::new();
    for (key, (blob, secret)) in keys.iter().enumerate() {
        let blob = &inventory.blobs[*blob as usize];
        let held = holders.get(secret);
        let has_secret = |oid: Oid| {
            inventory
                .index
                .contains_key(&oid)
                .then(|| held.is_some_and(|h| h.contains(&oid)))
        };
        let in_head = held.is_some_and(|h| h.iter().any(|oid| attribution.in_head(*oid)));
        for occurrence in &blob.occurrences {
            let commit = inventory.commits[occurrence.commit as usize];
            if !attribution.introduced(commit, &occurrence.path, secret, &has_secret) {
                continue;
            }
            out.push(Introduction {
                key,
                path: occurrence.path.to_string(),
                commit: attribution.commit(commit),
                in_head,
            });
        }
    }
    out
}

/// The largest blob attribution reads that the scan did not: the default `--max-file-size`.
const ATTRIBUTION_READ_LIMIT: u64 = crate::source::fs::DEFAULT_MAX_FILE_SIZE;

/// Decides, for blobs that hold a finding, where each key was introduced, and describes the
/// commits involved. Built once per scan, after scanning.
pub struct Attribution<'r> {
    repo: &'r Repository,
    mailmap: Option<git2::Mailmap>,
    commits: HashMap<Oid, Commit>,
    head_blobs: HashSet<Oid>,
}

impl<'r> Attribution<'r> {
    pub fn new(repo: &'r Repository, head: Option<Oid>) -> Attribution<'r> {
        let mut head_blobs = HashSet::new();
        if let Some(tree) = head
            .and_then(|h| repo.find_commit(h).ok())
            .and_then(|c| c.tree().ok())
        {
            collect_blobs(repo, tree, &mut head_blobs);
        }
        Attribution {
            repo,
            mailmap: repo.mailmap().ok(),
            commits: HashMap::new(),
            head_blobs,
        }
    }

    /// Whether the blob is in the tree of HEAD (or the selected tip).
    pub fn in_head(&self, blob: Oid) -> bool {
        self.head_blobs.contains(&blob)
    }

    /// Whether `secret` was introduced at `path` by `commit`: true unless one of the commit's
    /// parents already had it at the same path. `has_secret` answers for a blob id; it reads
    /// the blob only when the scan did not.
    pub fn introduced(
        &self,
        commit: Oid,
        path: &str,
        secret: &str,
        has_secret: &dyn Fn(Oid) -> Option<bool>,
    ) -> bool {
        let Ok(commit) = self.repo.find_commit(commit) else {
            return true;
        };
        for parent in commit.parents() {
            let Ok(entry) = parent.tree().and_then(|t| t.get_path(Path::new(path))) else {
                continue;
            };
            let had = has_secret(entry.id()).unwrap_or_else(|| {
                // A parent's blob the scan did not read (outside a narrow selection): sized
                // from its header first, since reading inflates it whole. Too large to read is
                // "not had": the key is reported, never hidden.
                if header_size(self.repo, entry.id()).is_none_or(|n| n > ATTRIBUTION_READ_LIMIT) {
                    return false;
                }
                self.repo
                    .find_blob(entry.id())
                    .map(|b| memchr::memmem::find(b.content(), secret.as_bytes()).is_some())
                    .unwrap_or(false)
            });
            if had {
                return false;
            }
        }
        true
    }

    /// The commit's id, author (mailmap applied) and date.
    pub fn commit(&mut self, oid: Oid) -> Commit {
        if let Some(c) = self.commits.get(&oid) {
            return c.clone();
        }
        let info = match self.repo.find_commit(oid) {
            Ok(commit) => {
                let author = match &self.mailmap {
                    Some(m) => commit
                        .author_with_mailmap(m)
                        .unwrap_or_else(|_| commit.author().to_owned()),
                    None => commit.author().to_owned(),
                };
                let when = author.when();
                Commit {
                    id: oid.to_string(),
                    author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                    email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
                    date: rfc3339(when.seconds(), when.offset_minutes()),
                    time: when.seconds(),
                }
            }
            Err(_) => Commit {
                id: oid.to_string(),
                author: String::new(),
                email: String::new(),
                date: String::new(),
                time: 0,
            },
        };
        self.commits.insert(oid, info.clone());
        info
    }
}

/// Every blob in `tree`, with an explicit stack (see [`TreeWalker::visit`]); a subtree met
/// twice is read once.
fn collect_blobs(repo: &Repository, tree: Tree<'_>, out: &mut HashSet<Oid>) {
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut stack = vec![tree];
    while let Some(tree) = stack.pop() {
        for entry in tree.iter() {
            match entry.kind() {
                Some(ObjectType::Blob) => {
                    out.insert(entry.id());
                }
                Some(ObjectType::Tree) if seen.insert(entry.id()) => {
                    if let Ok(sub) = repo.find_tree(entry.id()) {
                        stack.push(sub);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Unix seconds and a UTC offset in minutes as RFC 3339.
fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let offset =
        time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_with_offset() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(3600, 60), "1970-01-01T02:00:00+01:00");
    }
}
