//! Windows a rule's regexes found nothing in, remembered by content, so that the same lines
//! met again are not searched again.
//!
//! Why: a history holds each line in many versions of its file, and the lines around a common
//! keyword (`token`, `secret`, `key`) are searched in every version; on rust-lang/cargo the
//! rule screens and regexes were a sixth of a history scan. Most windows hold nothing: no
//! regex of the rule matches anywhere in them. Whether one does depends only on the rule and
//! the window's bytes (the path and the rest of the blob are looked at only once a regex
//! matched), so a window whose bytes were searched before for the same rule with nothing found
//! holds nothing now either. Windows that held a match, filtered or not, are never
//! remembered: they are searched every time, so the findings are those of a full search.
//!
//! A window is remembered by a 64-bit hash of (rule, bytes) under a key drawn at random per
//! thread, and by its length: nobody can pick two windows that collide, and the chance that
//! two do is 2^-64 per look-up.

use std::hash::{BuildHasher, Hasher};

/// Slots per thread: 16 bytes each, 1 MiB in all.
const SLOTS: usize = 1 << 16;

/// A direct-mapped table of quiet windows; a new window takes its slot's place.
#[derive(Debug, Default)]
pub(super) struct Quiet {
    hasher: foldhash::fast::RandomState,
    slots: Vec<(u64, u64)>,
    /// The matcher whose rules the slots speak of (a scratch may serve several matchers in
    /// turn, and rule indices differ between them); 0 before the first.
    matcher: u64,
}

/// A window's identity in the table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    hash: u64,
    len: u64,
}

impl Quiet {
    /// Forgets every window unless the table already speaks of matcher `id` (never 0).
    pub(super) fn serve(&mut self, id: u64) {
        if self.matcher != id {
            self.matcher = id;
            self.slots.clear();
        }
    }

    /// The identity of `window` searched by rule `rule`.
    pub(super) fn window(&self, rule: usize, window: &[u8]) -> Window {
        let mut h = self.hasher.build_hasher();
        h.write_usize(rule);
        h.write(window);
        Window {
            hash: h.finish(),
            len: window.len() as u64,
        }
    }

    /// Whether `window` was remembered as quiet.
    pub(super) fn contains(&self, window: Window) -> bool {
        self.slots
            .get(slot(window))
            .is_some_and(|&s| s == (window.hash, window.len + 1))
    }

    /// Remembers `window` as quiet.
    pub(super) fn insert(&mut self, window: Window) {
        if self.slots.is_empty() {
            self.slots = vec![(0, 0); SLOTS];
        }
        let i = slot(window);
        self.slots[i] = (window.hash, window.len + 1);
    }
}

fn slot(window: Window) -> usize {
    (window.hash as usize) & (SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_quiet_only_for_the_rule_and_bytes_it_was_remembered_with() {
        let mut quiet = Quiet::default();
        let w = quiet.window(3, b"let token = read_token();\n");
        assert!(!quiet.contains(w));
        quiet.insert(w);
        assert!(quiet.contains(quiet.window(3, b"let token = read_token();\n")));
        assert!(!quiet.contains(quiet.window(4, b"let token = read_token();\n")));
        assert!(!quiet.contains(quiet.window(3, b"let token = read_tokens();\n")));
        // An empty table holds nothing, even the all-zero window.
        let empty = Quiet::default();
        let zero = Window { hash: 0, len: 0 };
        assert!(!empty.contains(zero));
        // Serving another matcher forgets; serving the same one again does not.
        quiet.serve(1);
        quiet.insert(w);
        quiet.serve(1);
        assert!(quiet.contains(w));
        quiet.serve(2);
        assert!(!quiet.contains(w));
    }
}
