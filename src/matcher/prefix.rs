//! Keyword occurrences found through a table of each keyword's first two bytes.
//!
//! An Aho-Corasick automaton over the ~1,500 keywords of the built-in rules takes milliseconds
//! to build, more than a one-file scan or a commit's staged blobs take to search. This table
//! takes microseconds: for each position it looks up the two bytes there and compares the few
//! keywords that begin with them. It finds exactly what the overlapping automaton finds (every
//! occurrence of every keyword, ASCII case ignored), so it serves the first bytes of a run and
//! the automaton, built once a run has searched enough, serves the rest.

/// The keywords, indexed by their first two bytes (lower-cased).
#[derive(Debug)]
pub(super) struct PrefixTable {
    /// `entries[offsets[k]..offsets[k + 1]]` are the keywords whose first two bytes are `k`.
    offsets: Vec<u32>,
    entries: Vec<u32>,
    /// The keywords, lower-cased.
    patterns: Vec<Box<[u8]>>,
}

impl PrefixTable {
    /// `patterns` are lower-case and at least two bytes long (rule keywords have three).
    pub(super) fn new(patterns: &[String]) -> PrefixTable {
        let key = |p: &[u8]| {
            usize::from(p[0].to_ascii_lowercase()) << 8 | usize::from(p[1].to_ascii_lowercase())
        };
        let patterns: Vec<Box<[u8]>> = patterns
            .iter()
            .map(|p| p.as_bytes().to_ascii_lowercase().into_boxed_slice())
            .collect();
        let mut offsets = vec![0u32; (1 << 16) + 1];
        for p in patterns.iter().filter(|p| p.len() >= 2) {
            offsets[key(p) + 1] += 1;
        }
        for k in 1..offsets.len() {
            offsets[k] += offsets[k - 1];
        }
        let mut next = offsets.clone();
        let mut entries = vec![0u32; patterns.iter().filter(|p| p.len() >= 2).count()];
        for (i, p) in patterns.iter().enumerate().filter(|(_, p)| p.len() >= 2) {
            let slot = &mut next[key(p)];
            entries[*slot as usize] = i as u32;
            *slot += 1;
        }
        PrefixTable {
            offsets,
            entries,
            patterns,
        }
    }

    /// Calls `found(pattern, start, end)` for every occurrence of every keyword in `blob`, in
    /// order of `start`.
    pub(super) fn for_each(&self, blob: &[u8], mut found: impl FnMut(usize, usize, usize)) {
        for (i, pair) in blob.windows(2).enumerate() {
            let k = usize::from(pair[0].to_ascii_lowercase()) << 8
                | usize::from(pair[1].to_ascii_lowercase());
            let (from, to) = (self.offsets[k] as usize, self.offsets[k + 1] as usize);
            if from == to {
                continue;
            }
            for &p in &self.entries[from..to] {
                let pattern = &self.patterns[p as usize];
                let end = i + pattern.len();
                if end <= blob.len() && blob[i..end].eq_ignore_ascii_case(pattern) {
                    found(p as usize, i, end);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, MatchKind};

    /// (pattern, start, end) of each occurrence.
    type Found = Vec<(usize, usize, usize)>;

    fn both(patterns: &[&str], text: &[u8]) -> (Found, Found) {
        let owned: Vec<String> = patterns.iter().map(|p| p.to_ascii_lowercase()).collect();
        let mut table = Vec::new();
        PrefixTable::new(&owned).for_each(text, |p, s, e| table.push((p, s, e)));
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&owned)
            .unwrap();
        let mut auto: Vec<_> = ac
            .find_overlapping_iter(text)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        table.sort_unstable();
        auto.sort_unstable();
        (table, auto)
    }

    /// Nested, overlapping, repeated and case-varied keywords: the same occurrences as the
    /// overlapping automaton.
    #[test]
    fn finds_what_the_automaton_finds() {
        let patterns = [
            "key", "apikey", "api_key", "keyz_", "yz_", "token", "tok", "oke", "ke",
        ];
        let text = b"APIKEY=1 api_key: keyz_q1 KeYz_ tokenTOKEN xyz_ ke k";
        let (table, auto) = both(&patterns, text);
        assert!(table.len() > 10);
        assert_eq!(table, auto);
        let mut seed = 7u32;
        let noise: Vec<u8> = (0..50_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                b"apiKEYz_tokeny \n"[seed as usize % 16]
            })
            .collect();
        let (table, auto) = both(&patterns, &noise);
        assert!(table.len() > 300, "{}", table.len());
        assert_eq!(table, auto);
    }

    /// Every built-in keyword, over every built-in rule's examples.
    #[test]
    fn agrees_on_the_built_in_rules() {
        let matcher = crate::matcher::Matcher::new(crate::rules::RuleSet::builtin().unwrap());
        let text: Vec<u8> = matcher
            .rules()
            .iter()
            .flat_map(|r| r.examples.iter().map(|e| e.text().as_bytes()))
            .flat_map(|t| t.iter().copied().chain(*b"\n"))
            .collect();
        let refs: Vec<&str> = matcher
            .keyword_patterns
            .iter()
            .map(String::as_str)
            .collect();
        let (table, auto) = both(&refs, &text);
        assert!(table.len() > 5_000);
        assert_eq!(table, auto);
    }
}
