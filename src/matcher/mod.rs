//! The matcher: from a blob's bytes to the secrets in it.
//!
//! One Aho-Corasick pass over every rule's keywords (with the `vectorscan` cargo feature, a
//! Vectorscan pass once a run has searched 1 MiB: `vectorscan.rs`) decides which rules can
//! match; only those rules run their regexes, and each candidate secret then goes through the
//! filters in [`filter`]. The matcher knows nothing about files or paths beyond the optional
//! path bytes a context condition may look at, and it allocates nothing per line: a blob is
//! scanned whole.
//!
//! Regexes are the exception to "whole": many keywords (`token`, `secret`, `bearer`, `eyJ`)
//! occur in most source files, so running every triggered rule's regexes over every byte of
//! every such file dominated a scan. A match lies next to one of its rule's keywords (the
//! keyword is its prefix, or part of the variable or header name), so a rule's regexes run only
//! on the lines around each keyword occurrence: its own line and the one after. `rules check`
//! proves each rule's examples are found that way. A rule whose regexes can cross more than one
//! newline (a key block) runs over the whole file, as does one that says `whole_file = true`
//! because its matches sit far from its keywords.
//!
//! The same lines recur across a history's versions of a file: a window in which a rule's
//! regexes found nothing is remembered by content and not searched again (`quiet.rs`), and a
//! blob stored as a delta carries its base's keyword occurrences over where it copies it
//! (`reuse.rs`).

pub mod filter;
mod prefix;
mod quiet;
mod reuse;
#[cfg(feature = "vectorscan")]
mod vectorscan;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::delta::Origin;
use crate::rules::{Rule, RuleSet};
use reuse::Occurrence;

/// One secret found in a blob: which rule, where the secret's bytes are, and its entropy.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the rule in [`Matcher::rules`].
    pub rule: usize,
    /// Byte range of the secret within the blob.
    pub start: usize,
    pub end: usize,
    /// Shannon entropy of the secret's body, bits per byte.
    pub entropy: f64,
    /// Named groups that took part in the match, as (index into [`Rule::capture_names`],
    /// start, end). Empty (and unallocated) for the many rules without named groups.
    pub captures: Vec<(usize, usize, usize)>,
}

/// Per-thread working memory, reused across blobs so that scanning allocates nothing per blob.
#[derive(Debug, Default)]
pub struct Scratch {
    triggered: Vec<bool>,
    order: Vec<usize>,
    /// For each rule: the merged line windows around its keyword occurrences.
    windows: Vec<Vec<(usize, usize)>>,
    /// Vectorscan's scratch space, allocated at the first blob the database searches.
    #[cfg(feature = "vectorscan")]
    vectorscan: vectorscan::KeywordScratch,
    /// The keyword occurrences Vectorscan reports, as (end, pattern).
    #[cfg(feature = "vectorscan")]
    occurrences: Vec<(usize, usize)>,
    /// The occurrences of the blob being scanned, of its base, those a region search found,
    /// and the regions.
    now: Vec<Occurrence>,
    base: Vec<Occurrence>,
    found: Vec<Occurrence>,
    regions: Vec<(usize, usize)>,
    /// Windows a rule found nothing in (see [`quiet`]), remembered in a history, whose
    /// versions share most lines. Elsewhere (`None`) hashing every window costs more than the
    /// rare repeated line saves (5 % of a scan of cargo's tree).
    quiet: Option<quiet::Quiet>,
}

impl Scratch {
    /// Working memory that remembers the windows a rule found nothing in, for scanning many
    /// versions of the same files (a history).
    pub fn remembering_quiet_windows() -> Scratch {
        Scratch {
            quiet: Some(quiet::Quiet::default()),
            ..Scratch::default()
        }
    }
}

/// All rules, compiled into one keyword automaton; shared read-only by every thread.
#[derive(Debug)]
pub struct Matcher {
    rules: RuleSet,
    /// The keywords by their first two bytes: built in microseconds, for the first blobs of a
    /// run (see [`prefix`]).
    keywords: prefix::PrefixTable,
    /// The keyword automaton as a DFA, which steps through the overlapping search several
    /// times faster than the table but costs milliseconds to build, more than a one-file scan
    /// takes. Built once the table has searched [`DFA_AFTER`] bytes (or at the first blob that
    /// large), so a small scan never pays for it and a large one searches nearly everything
    /// with it.
    keywords_dfa: OnceLock<AhoCorasick>,
    /// With the `vectorscan` feature, the same keywords as one Vectorscan database, which
    /// takes the DFA's place: built at the same point, and `None` if Vectorscan could not
    /// compile them (the DFA is used then).
    #[cfg(feature = "vectorscan")]
    keywords_vs: OnceLock<Option<vectorscan::Keywords>>,
    /// Bytes searched with the table so far.
    table_bytes: AtomicUsize,
    keyword_patterns: Vec<String>,
    /// For each keyword pattern of the automaton, the rules it triggers (none for a long
    /// keyword's first bytes, unless they are a keyword too).
    keyword_rules: Vec<Vec<usize>>,
    /// How far from an edit an occurrence the edit touches can start: the longest searched
    /// keyword's length less one.
    margin: usize,
    /// The keywords longer than [`SHORT_KEYWORD`]: only their first bytes are searched for
    /// (as a pattern of the automaton, in `prefix_longs`), and they are checked in full where
    /// those occur. An occurrence's pattern `keyword_patterns.len() + i` is `longs[i]`.
    longs: Vec<Long>,
    /// For each pattern of the automaton, the long keywords it begins.
    prefix_longs: Vec<Vec<usize>>,
    /// The keyword occurrences of the last blobs scanned with an [`Origin`], for the deltas
    /// made from them (see [`reuse`]).
    kept: Mutex<reuse::Kept>,
    /// This matcher's number in the process, never 0: what a scratch's quiet windows belong to.
    id: u64,
}

/// The last number given to a matcher.
static MATCHERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Matcher {
    /// Builds the keyword automaton. Rule regexes are not built here: each is built the first
    /// time one of its keywords occurs (see [`Rule::regexes`]).
    pub fn new(rules: RuleSet) -> Matcher {
        // The automaton's patterns, each once, with the rules each triggers. A keyword longer
        // than SHORT_KEYWORD is searched for as its first bytes (a pattern that triggers no
        // rule of its own unless it is a keyword too), and checked in full where those occur.
        let mut searched = Patterns::default();
        let mut longs = Patterns::default();
        let mut long_prefixes: Vec<(usize, usize)> = Vec::new();
        for (index, rule) in rules.rules().iter().enumerate() {
            for keyword in &rule.keywords {
                let lower = keyword.to_ascii_lowercase();
                let triggers = if lower.len() <= SHORT_KEYWORD {
                    let i = searched.intern(&lower);
                    &mut searched.rules[i]
                } else {
                    let new = !longs.index.contains_key(&lower);
                    let long = longs.intern(&lower);
                    if new {
                        let mut cut = SHORT_KEYWORD;
                        while !lower.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        long_prefixes.push((searched.intern(&lower[..cut]), long));
                    }
                    &mut longs.rules[long]
                };
                if !triggers.contains(&index) {
                    triggers.push(index);
                }
            }
        }
        let longs: Vec<Long> = longs
            .patterns
            .into_iter()
            .zip(longs.rules)
            .map(|(keyword, rules)| Long {
                keyword: keyword.into_bytes().into_boxed_slice(),
                rules,
            })
            .collect();
        let Patterns {
            patterns: searched,
            rules: searched_rules,
            ..
        } = searched;
        let mut prefix_longs: Vec<Vec<usize>> = vec![Vec::new(); searched.len()];
        for (prefix, long) in long_prefixes {
            prefix_longs[prefix].push(long);
        }
        let keywords = prefix::PrefixTable::new(&searched);
        let longest = searched.iter().map(String::len).max().unwrap_or(0);
        Matcher {
            id: MATCHERS.fetch_add(1, Ordering::Relaxed) + 1,
            margin: longest.saturating_sub(1),
            longs,
            prefix_longs,
            kept: Mutex::default(),
            rules,
            keywords,
            keywords_dfa: OnceLock::new(),
            #[cfg(feature = "vectorscan")]
            keywords_vs: OnceLock::new(),
            table_bytes: AtomicUsize::new(0),
            keyword_patterns: searched,
            keyword_rules: searched_rules,
        }
    }

    /// The distinct patterns the keyword automaton searches for, lower-cased, in rule order:
    /// each keyword, or for a keyword longer than [`SHORT_KEYWORD`] bytes its first bytes.
    pub fn keywords(&self) -> &[String] {
        &self.keyword_patterns
    }

    /// The rules, indexed as [`Match::rule`] indexes them.
    pub fn rules(&self) -> &[Rule] {
        self.rules.rules()
    }

    /// Finds every secret in `blob`, replacing the contents of `out`, ordered by position.
    /// `path` is only consulted by context conditions (a context word in the path counts).
    pub fn scan(
        &self,
        blob: &[u8],
        path: Option<&[u8]>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
    ) {
        self.scan_from(blob, path, scratch, out, None);
    }

    /// [`Matcher::scan`], for a blob with an [`Origin`]: its keyword occurrences are kept
    /// (for the blobs made from it) and, when it was made from a blob scanned recently (by
    /// any thread), carried over from that one where it copies it (see [`reuse`]). The matches
    /// are those [`Matcher::scan`] finds.
    pub fn scan_from(
        &self,
        blob: &[u8],
        path: Option<&[u8]>,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
        origin: Option<Origin<'_>>,
    ) {
        out.clear();
        let rules = self.rules.rules();
        if rules.is_empty() {
            return;
        }
        scratch.triggered.clear();
        scratch.triggered.resize(rules.len(), false);
        scratch.order.clear();
        scratch.windows.resize_with(rules.len(), Vec::new);
        let mut now = std::mem::take(&mut scratch.now);
        now.clear();
        match origin {
            Some(origin) => self.reuse_keywords(blob, scratch, origin, &mut now),
            None => self.collect_keywords(blob, scratch, &mut now),
        }
        // In order of end, as the Aho-Corasick search reports them (the prefix table reports
        // them by start): windows merge as they come.
        now.sort_unstable();
        if let (Some(origin), Ok(mut kept)) = (origin, self.kept.lock()) {
            kept.keep(origin.key, &now);
        }
        if self.long_occurrences(blob, &mut now) {
            now.sort_unstable();
        }
        for o in &now {
            self.keyword_occurrence(blob, scratch, o.pattern, o.start, o.end);
        }
        scratch.now = now;
        if scratch.order.is_empty() {
            return;
        }
        scratch.order.sort_unstable();
        if let Some(quiet) = &mut scratch.quiet {
            quiet.serve(self.id);
        }
        for &index in &scratch.order {
            let rule = &rules[index];
            if rule.windowed() {
                for &(lo, hi) in &scratch.windows[index] {
                    let Some(quiet) = &mut scratch.quiet else {
                        scan_rule(index, rule, blob, lo, hi, path, out);
                        continue;
                    };
                    let window = quiet.window(index, &blob[lo..hi]);
                    if quiet.contains(window) {
                        continue;
                    }
                    if !scan_rule(index, rule, blob, lo, hi, path, out) {
                        quiet.insert(window);
                    }
                }
            } else {
                scan_rule(index, rule, blob, 0, blob.len(), path, out);
            }
        }
        resolve_overlaps(rules, out);
    }
}

/// What a blob's keyword pass searches with; every kind finds the same occurrences.
enum KeywordPass<'a> {
    /// The prefix table, for the first bytes of a run.
    Table,
    AhoCorasick(&'a AhoCorasick),
    #[cfg(feature = "vectorscan")]
    Vectorscan(&'a vectorscan::Keywords),
}

impl Matcher {
    /// The keyword occurrences of a blob with an origin, into `out` (in no particular order):
    /// carried over from its base where it copies it, searched for elsewhere.
    fn reuse_keywords(
        &self,
        blob: &[u8],
        scratch: &mut Scratch,
        origin: Origin<'_>,
        out: &mut Vec<Occurrence>,
    ) {
        let mut base = std::mem::take(&mut scratch.base);
        let copies = origin.base.and_then(|(key, copies)| {
            let kept = self.kept.lock().ok()?;
            kept.get(key, &mut base).then_some(copies)
        });
        match copies {
            Some(copies) => {
                reuse::carry(&base, copies, out);
                let mut regions = std::mem::take(&mut scratch.regions);
                reuse::regions(copies, blob.len(), self.margin, &mut regions);
                let mut found = std::mem::take(&mut scratch.found);
                for &(lo, hi) in &regions {
                    found.clear();
                    self.collect_keywords(&blob[lo..hi], scratch, &mut found);
                    for o in &found {
                        let (start, end) = (o.start + lo, o.end + lo);
                        if !reuse::inside_a_copy(copies, start, end) {
                            out.push(Occurrence {
                                end,
                                start,
                                pattern: o.pattern,
                            });
                        }
                    }
                }
                scratch.found = found;
                scratch.regions = regions;
            }
            None => self.collect_keywords(blob, scratch, out),
        }
        scratch.base = base;
    }

    /// Every keyword occurrence in `haystack`, appended to `out` in no particular order.
    fn collect_keywords(&self, haystack: &[u8], scratch: &mut Scratch, out: &mut Vec<Occurrence>) {
        let mut push = |pattern, start, end| {
            out.push(Occurrence {
                end,
                start,
                pattern,
            })
        };
        match self.keyword_pass(haystack.len()) {
            KeywordPass::Table => self.keywords.for_each(haystack, push),
            KeywordPass::AhoCorasick(automaton) => {
                for m in automaton.find_overlapping_iter(haystack) {
                    push(m.pattern().as_usize(), m.start(), m.end());
                }
            }
            #[cfg(feature = "vectorscan")]
            KeywordPass::Vectorscan(keywords) => {
                let mut occurrences = std::mem::take(&mut scratch.occurrences);
                if keywords
                    .find(haystack, &mut scratch.vectorscan, &mut occurrences)
                    .is_some()
                {
                    for &(end, pattern) in &occurrences {
                        push(pattern, end - keywords.pattern_len(pattern), end);
                    }
                } else {
                    for m in self.keyword_dfa().find_overlapping_iter(haystack) {
                        push(m.pattern().as_usize(), m.start(), m.end());
                    }
                }
                scratch.occurrences = occurrences;
            }
        }
        #[cfg(not(feature = "vectorscan"))]
        let _ = scratch;
    }

    /// What to search a blob of `len` bytes with: the prefix table, then the DFA (or, with the
    /// `vectorscan` feature, the Vectorscan database) once it pays for itself. Threads that
    /// cross the threshold while it is being built wait for it; the others keep searching with
    /// the table.
    fn keyword_pass(&self, len: usize) -> KeywordPass<'_> {
        #[cfg(feature = "vectorscan")]
        if let Some(keywords) = self.keywords_vs.get() {
            return match keywords {
                Some(keywords) => KeywordPass::Vectorscan(keywords),
                None => KeywordPass::AhoCorasick(self.keyword_dfa()),
            };
        }
        #[cfg(not(feature = "vectorscan"))]
        if let Some(dfa) = self.keywords_dfa.get() {
            return KeywordPass::AhoCorasick(dfa);
        }
        let searched = self.table_bytes.fetch_add(len, Ordering::Relaxed) + len;
        if len < DFA_AFTER && searched < DFA_AFTER {
            return KeywordPass::Table;
        }
        #[cfg(feature = "vectorscan")]
        if let Some(keywords) = self
            .keywords_vs
            .get_or_init(|| vectorscan::Keywords::new(&self.keyword_patterns).ok())
        {
            return KeywordPass::Vectorscan(keywords);
        }
        KeywordPass::AhoCorasick(self.keyword_dfa())
    }

    /// Adds to `occurrences` the long keywords found in full where their first bytes occur;
    /// whether there were any.
    fn long_occurrences(&self, blob: &[u8], occurrences: &mut Vec<Occurrence>) -> bool {
        if self.longs.is_empty() {
            return false;
        }
        let searched = occurrences.len();
        for i in 0..searched {
            let o = occurrences[i];
            for &long in &self.prefix_longs[o.pattern] {
                let keyword = &self.longs[long].keyword;
                let end = o.start + keyword.len();
                if blob
                    .get(o.start..end)
                    .is_some_and(|b| b.eq_ignore_ascii_case(keyword))
                {
                    occurrences.push(Occurrence {
                        end,
                        start: o.start,
                        pattern: self.keyword_patterns.len() + long,
                    });
                }
            }
        }
        occurrences.len() > searched
    }

    /// The keyword DFA, built at its first use.
    fn keyword_dfa(&self) -> &AhoCorasick {
        self.keywords_dfa
            .get_or_init(|| keyword_automaton(&self.keyword_patterns, AhoCorasickKind::DFA))
    }

    /// Triggers the rules of keyword `pattern`, found at `start..end`, and opens their windows
    /// around it.
    #[inline]
    fn keyword_occurrence(
        &self,
        blob: &[u8],
        scratch: &mut Scratch,
        pattern: usize,
        start: usize,
        end: usize,
    ) {
        let rules = self.rules.rules();
        let triggers = match self.keyword_rules.get(pattern) {
            Some(triggers) => triggers,
            None => &self.longs[pattern - self.keyword_rules.len()].rules,
        };
        for &rule in triggers {
            if !scratch.triggered[rule] {
                scratch.triggered[rule] = true;
                scratch.order.push(rule);
                scratch.windows[rule].clear();
            }
            if rules[rule].windowed() {
                add_window(blob, &mut scratch.windows[rule], start, end);
            }
        }
    }
}

/// Keywords longer than this are searched for as their first this many bytes, and checked in
/// full where those occur. Almost every keyword is shorter (56 of the built-in rules' 1,235
/// are longer, and cut to 16 bytes they leave 1,229 distinct patterns). The longest searched
/// pattern sets how far around each of a delta's edits the keyword pass searches (see
/// [`reuse`]): with [`reuse`]'s join gap, 16 bytes here (and a 32-byte gap there) took 4-8 %
/// less CPU time on cargo's history than 32 (and 256); an OpenSSH key's armour (88 bytes and
/// more) would have widened every region to its length.
const SHORT_KEYWORD: usize = 16;

/// Keywords as [`Matcher::new`] gathers them (the automaton's patterns, and the long
/// keywords): each once, with the rules it triggers.
#[derive(Default)]
struct Patterns {
    patterns: Vec<String>,
    rules: Vec<Vec<usize>>,
    index: HashMap<String, usize>,
}

impl Patterns {
    /// The index of `pattern`, added (triggering no rule yet) if it is new.
    fn intern(&mut self, pattern: &str) -> usize {
        if let Some(&i) = self.index.get(pattern) {
            return i;
        }
        self.index.insert(pattern.to_string(), self.patterns.len());
        self.patterns.push(pattern.to_string());
        self.rules.push(Vec::new());
        self.patterns.len() - 1
    }
}

/// A keyword longer than [`SHORT_KEYWORD`], lower-cased, and the rules it triggers.
#[derive(Debug)]
struct Long {
    keyword: Box<[u8]>,
    rules: Vec<usize>,
}

/// How many bytes the prefix table searches before the DFA is built: about what the table
/// searches in the time the DFA takes to build, so a run spends at most about twice the least
/// it could.
const DFA_AFTER: usize = 1 << 20;

fn keyword_automaton(patterns: &[String], kind: AhoCorasickKind) -> AhoCorasick {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(kind))
        .build(patterns)
        .expect("keywords are literal strings of at least 3 bytes")
}

/// The lines around a keyword occurrence that a rule's regexes run in: from the newline that
/// ends the line before the keyword's line to the end of the line after it (each window keeps
/// its bounding newlines, so `^`, `$` and boundaries see what they would see in the whole
/// blob). Windows arrive in order of the keyword's end and merge as they come; a line is
/// searched for its bounds at most once however many keywords it holds, so a 50 MB one-line
/// file costs one pass, not one per keyword.
fn add_window(blob: &[u8], windows: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if let Some(&(lo, hi)) = windows.last() {
        if start >= lo && end <= hi {
            return;
        }
    }
    let floor = windows.last().map_or(0, |w| w.1.min(start));
    let lo = match memchr::memrchr(b'\n', &blob[floor..start]) {
        Some(i) => floor + i,
        None => floor,
    };
    let mut hi = end;
    for _ in 0..2 {
        match memchr::memchr(b'\n', &blob[hi..]) {
            Some(i) => hi = hi + i + 1,
            None => {
                hi = blob.len();
                break;
            }
        }
    }
    match windows.last_mut() {
        Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
        _ => windows.push((lo, hi)),
    }
}

/// Runs a rule's regexes over `blob[lo..hi]`, reporting positions in the whole blob; whether
/// any regex matched there (kept or filtered out).
fn scan_rule(
    index: usize,
    rule: &Rule,
    blob: &[u8],
    lo: usize,
    hi: usize,
    path: Option<&[u8]>,
    out: &mut Vec<Match>,
) -> bool {
    let mut matched = false;
    let group = rule.secret_group();
    let max_len = rule.max_secret_len.unwrap_or(usize::MAX);
    let haystack = &blob[lo..hi];
    for regex in rule.candidate_regexes(haystack) {
        for caps in regex.captures_iter(haystack) {
            matched = true;
            let Some(secret) = caps.get_group(group) else {
                continue;
            };
            if secret.is_empty() || secret.len() > max_len {
                continue;
            }
            let (start, end) = (lo + secret.start, lo + secret.end);
            if let Some(entropy) = filter::accept(rule, blob, start, end, path) {
                let captures = rule
                    .capture_names
                    .iter()
                    .enumerate()
                    .filter_map(|(i, name)| {
                        caps.get_group_by_name(name)
                            .map(|c| (i, lo + c.start, lo + c.end))
                    })
                    .collect();
                out.push(Match {
                    rule: index,
                    start,
                    end,
                    entropy,
                    captures,
                });
            }
        }
    }
    matched
}

/// One key is one match under its most specific name: a generic rule's match that overlaps a
/// provider rule's match is dropped, and the same rule matching the same span twice (through
/// two of its patterns) counts once.
fn resolve_overlaps(rules: &[Rule], out: &mut Vec<Match>) {
    out.sort_by_key(|m| (m.start, m.end, m.rule));
    out.dedup_by(|b, a| a.rule == b.rule && a.start == b.start && a.end == b.end);
    let has_generic = out.iter().any(|m| rules[m.rule].generic);
    let has_specific = out.iter().any(|m| !rules[m.rule].generic);
    if !(has_generic && has_specific) {
        return;
    }
    let specific: Vec<(usize, usize)> = out
        .iter()
        .filter(|m| !rules[m.rule].generic)
        .map(|m| (m.start, m.end))
        .collect();
    out.retain(|m| {
        !rules[m.rule].generic || !specific.iter().any(|&(s, e)| m.start < e && s < m.end)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    fn matcher(toml: &str) -> Matcher {
        Matcher::new(RuleSet::from_rules(
            parse_rule_file("t.toml", toml).unwrap(),
        ))
    }

    fn secrets(matcher: &Matcher, blob: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        matcher.scan(blob, None, &mut Scratch::default(), &mut out);
        out.iter()
            .map(|m| String::from_utf8_lossy(&blob[m.start..m.end]).into_owned())
            .collect()
    }

    /// Keyword occurrences carried over from a delta's base are those a search of the whole
    /// blob finds, and so are the matches: random copies and inserts over a text dense with
    /// built-in keywords and keys, so that edits fall on, beside and across keywords; each
    /// round's result is the next round's base, so reuse also runs down a chain.
    #[test]
    fn occurrences_reused_from_a_delta_base_are_those_of_a_whole_search() {
        use crate::delta::testing::{random_delta, Rng};
        use crate::delta::Origin;
        let matcher = Matcher::new(RuleSet::builtin().unwrap());
        let text: Vec<u8> = matcher
            .rules()
            .iter()
            .flat_map(|r| r.examples.iter().map(|e| e.text().to_string()))
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes();
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut scratch = Scratch::remembering_quiet_windows();
        let mut base = text.clone();
        let mut matches = Vec::new();
        let origin = Origin { key: 0, base: None };
        matcher.scan_from(&base, None, &mut scratch, &mut matches, Some(origin));
        let mut reused_some = 0;
        for round in 1..=24u128 {
            // Inserted: a few bytes of keyword-dense text, case flipped at random.
            let (target, copies) = random_delta(&base, text.len(), 3000, &mut rng, |rng, out| {
                let start = rng.below(text.len());
                let len = (1 + rng.below(40)).min(text.len() - start);
                out.extend(
                    text[start..start + len]
                        .iter()
                        .map(|&b| match rng.below(4) {
                            0 => b.to_ascii_uppercase(),
                            _ => b,
                        }),
                );
            });
            let origin = Origin {
                key: round,
                base: Some((round - 1, &copies)),
            };
            matcher.scan_from(&target, None, &mut scratch, &mut matches, Some(origin));
            let mut whole = Vec::new();
            matcher.collect_keywords(&target, &mut Scratch::default(), &mut whole);
            whole.sort_unstable();
            let mut kept = Vec::new();
            assert!(matcher.kept.lock().unwrap().get(round, &mut kept));
            assert_eq!(kept, whole, "round {round}");
            let mut plain = Vec::new();
            matcher.scan(&target, None, &mut Scratch::default(), &mut plain);
            assert_eq!(matches, plain, "round {round}");
            reused_some += usize::from(!copies.is_empty() && !matches.is_empty());
            base = target;
        }
        assert!(reused_some > 20);
    }

    /// A long keyword is searched for as its first bytes and checked in full: split by a
    /// seam far past those bytes, in a delta whose base held its two halves apart, it is
    /// found, and its rule (which has no other keyword) finds the key, as in a scan of the
    /// whole blob.
    #[test]
    fn a_long_keyword_across_a_seam_past_its_first_bytes_is_found() {
        use crate::delta::{Copy, Origin};
        let long = "-----BEGIN EXAMPLE SERVICE TOKEN OF SOME LENGTH-----";
        assert!(long.len() > SHORT_KEYWORD + 10);
        let matcher = matcher(&format!(
            "[[rule]]\nid = \"long\"\nname = \"long\"\nkeywords = [\"{long}\"]\n\
             regex = '''{long}\\n([a-z0-9]{{12}})'''\n"
        ));
        let example = format!("a = 1\n{long}\nq7w3x9z2r4t6\nb = 2\n");
        let split = example.find(long).unwrap() + SHORT_KEYWORD + 10;
        // The base holds the example with a line pushed into the keyword; the delta takes it
        // out again.
        let base = format!("{}\n--------\n{}", &example[..split], &example[split..]);
        let copies = [
            Copy {
                target: 0,
                base: 0,
                len: split,
            },
            Copy {
                target: split,
                base: split + 10,
                len: example.len() - split,
            },
        ];
        let mut scratch = Scratch::default();
        let mut matches = Vec::new();
        let first = Origin { key: 1, base: None };
        matcher.scan_from(
            base.as_bytes(),
            None,
            &mut scratch,
            &mut matches,
            Some(first),
        );
        assert!(matches.is_empty());
        let second = Origin {
            key: 2,
            base: Some((1, &copies)),
        };
        let target = example.as_bytes();
        matcher.scan_from(target, None, &mut scratch, &mut matches, Some(second));
        let found: Vec<&[u8]> = matches.iter().map(|m| &target[m.start..m.end]).collect();
        assert_eq!(found, [b"q7w3x9z2r4t6"]);
        let mut kept = Vec::new();
        assert!(matcher.kept.lock().unwrap().get(2, &mut kept));
        let mut whole = Vec::new();
        matcher.collect_keywords(target, &mut Scratch::default(), &mut whole);
        whole.sort_unstable();
        assert_eq!(kept, whole);
    }

    /// Windows are remembered only when they held nothing: every built-in example's key is
    /// found again when the same text is scanned again with the same scratch.
    #[test]
    fn a_key_is_found_again_in_lines_met_before() {
        let matcher = Matcher::new(RuleSet::builtin().unwrap());
        let mut scratch = Scratch::remembering_quiet_windows();
        let (mut first, mut again) = (Vec::new(), Vec::new());
        let mut found = 0;
        for rule in matcher.rules() {
            for example in &rule.examples {
                let text = example.text().as_bytes();
                matcher.scan(text, None, &mut scratch, &mut first);
                matcher.scan(text, None, &mut scratch, &mut again);
                assert_eq!(first, again, "{}", rule.id);
                found += usize::from(!first.is_empty());
            }
        }
        assert!(found > 400, "{found}");
    }

    /// A scratch serving two matchers in turn does not take one's quiet windows for the
    /// other's: rule 0 of the first finds nothing in a line where rule 0 of the second
    /// finds a key.
    #[test]
    fn quiet_windows_belong_to_their_matcher() {
        let rule = |regex: &str| {
            matcher(&format!(
                "[[rule]]\nid = \"pk\"\nname = \"pk\"\nkeywords = [\"pk_\"]\nregex = '''{regex}'''\n"
            ))
        };
        let digits = rule(r"\b(pk_[0-9]{8,})\b");
        let mixed = rule(r"\b(pk_[a-z0-9]{8,})\b");
        let blob = b"a = pk_q7w3x9z2r\n";
        let mut scratch = Scratch::remembering_quiet_windows();
        let mut out = Vec::new();
        digits.scan(blob, None, &mut scratch, &mut out);
        assert!(out.is_empty());
        mixed.scan(blob, None, &mut scratch, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn max_secret_len_drops_longer_secrets() {
        let m = matcher(
            "[[rule]]\nid = \"pk\"\nname = \"pk\"\nkeywords = [\"pk_\"]\n\
             regex = '''\\b(pk_[a-z0-9]{4,})\\b'''\nmax_secret_len = 12\n",
        );
        let blob = b"a = pk_q7w3x9z2r\nb = pk_q7w3x9z2m4n8b6v1\n";
        assert_eq!(secrets(&m, blob), ["pk_q7w3x9z2r"]);
    }

    /// The private-key regexes say `{64,}` and their rules `max_secret_len`: a key block longer
    /// than the 12,000 characters the regex used to allow is still not reported.
    #[test]
    fn private_key_length_limit_is_kept() {
        let rules = RuleSet::builtin().unwrap();
        let rule = rules.get("private-key-rsa").unwrap().clone();
        let m = Matcher::new(RuleSet::from_rules(vec![rule]));
        let block = |len: usize| {
            let body: String = (0..len)
                .map(|i| {
                    let c = b"Zx9Qk3Lm7Pw2Rt5Yb8Nc4Vd6Hf1Gj0Ks"[(i * 7 + i / 5) % 32] as char;
                    if i % 64 == 63 {
                        '\n'
                    } else {
                        c
                    }
                })
                .collect();
            format!(
                "-----BEGIN RSA {k}-----\n{body}\n-----END RSA {k}-----\n",
                k = "PRIVATE KEY"
            )
        };
        assert_eq!(secrets(&m, block(3000).as_bytes()).len(), 1);
        assert_eq!(secrets(&m, block(11990).as_bytes()).len(), 1);
        assert!(secrets(&m, block(12100).as_bytes()).is_empty());
    }

    /// Large scans switch the keyword pass to a DFA: it must find what the prefix table finds.
    #[test]
    fn keyword_dfa_and_table_find_the_same() {
        let toml = "[[rule]]\nid = \"a\"\nname = \"a\"\nkeywords = [\"key\", \"apikey\"]\n\
                    regex = '''(?i)apikey=([a-z0-9]{8,})'''\n\
                    [[rule]]\nid = \"b\"\nname = \"b\"\nkeywords = [\"keyz_\", \"yz_\"]\n\
                    regex = '''\\b(keyz_[a-z0-9]{8,})'''\n";
        let text = b"x APIKEY=abcd1234efgh\n y = keyz_q1w2e3r4t5\n";
        let small = matcher(toml);
        let table = secrets(&small, text);
        assert!(small.keywords_dfa.get().is_none());
        let mut big = vec![b'.'; DFA_AFTER];
        big.push(b'\n');
        big.extend_from_slice(text);
        let large = matcher(toml);
        let dfa = secrets(&large, &big);
        #[cfg(not(feature = "vectorscan"))]
        assert!(large.keywords_dfa.get().is_some());
        #[cfg(feature = "vectorscan")]
        assert!(matches!(large.keywords_vs.get(), Some(Some(_))));
        assert_eq!(table, ["abcd1234efgh", "keyz_q1w2e3r4t5"]);
        assert_eq!(dfa, table);
    }

    /// The Vectorscan keyword pass against the Aho-Corasick one: the same (pattern, start, end)
    /// occurrences, the same triggered rules and windows, the same findings.
    #[cfg(feature = "vectorscan")]
    mod vectorscan {
        use super::*;
        use crate::matcher::vectorscan::{KeywordScratch, Keywords};

        type Occurrence = (usize, usize, usize);

        fn aho_corasick(patterns: &[String], text: &[u8]) -> Vec<Occurrence> {
            let automaton = keyword_automaton(patterns, AhoCorasickKind::ContiguousNFA);
            let mut found: Vec<Occurrence> = automaton
                .find_overlapping_iter(text)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            found.sort_unstable();
            found
        }

        fn vectorscan(
            keywords: &Keywords,
            scratch: &mut KeywordScratch,
            text: &[u8],
        ) -> Vec<Occurrence> {
            let mut out = Vec::new();
            keywords.find(text, scratch, &mut out).expect("scan");
            let mut found: Vec<Occurrence> = out
                .iter()
                .map(|&(end, p)| (p, end - keywords.pattern_len(p), end))
                .collect();
            found.sort_unstable();
            found
        }

        /// Deterministic texts made of keyword pieces in varied case, so keywords overlap,
        /// nest and repeat.
        fn generated_texts(pieces: &[&str], count: usize, len: usize) -> Vec<Vec<u8>> {
            let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state
            };
            (0..count)
                .map(|_| {
                    let mut text = Vec::new();
                    while text.len() < len {
                        let piece = pieces[next() as usize % pieces.len()].as_bytes();
                        let flips = next();
                        text.extend(piece.iter().enumerate().map(|(i, &b)| {
                            if flips >> (i % 64) & 1 == 1 {
                                b.to_ascii_uppercase()
                            } else {
                                b.to_ascii_lowercase()
                            }
                        }));
                    }
                    text
                })
                .collect()
        }

        #[test]
        fn same_occurrences_on_overlapping_nested_and_case_varied_keywords() {
            let patterns: Vec<String> = ["key", "apikey", "api_key", "keyz_", "yz_", "eyz", "k.y"]
                .iter()
                .map(|p| p.to_string())
                .collect();
            let keywords = Keywords::new(&patterns).expect("compiles");
            let mut scratch = KeywordScratch::default();
            let pieces = [
                "key", "API_KEY", "apikey", "keyz_", "ke", "y", "z_", "api", "_", "k.y", "kxy",
                "\n", " ", "=", "\u{e9}", "\0",
            ];
            let texts = generated_texts(&pieces, 200, 600);
            let mut total = 0;
            for text in &texts {
                let expected = aho_corasick(&patterns, text);
                total += expected.len();
                assert_eq!(vectorscan(&keywords, &mut scratch, text), expected);
            }
            assert!(total > 10_000, "{total} occurrences");
            let fixed = b"APIKEY api_key ApI_kEy keyz_keyz_ KEYKEYKEY kkey k.y kXy yz_yz_";
            let expected = aho_corasick(&patterns, fixed);
            assert_eq!(vectorscan(&keywords, &mut scratch, fixed), expected);
            assert!(vectorscan(&keywords, &mut scratch, b"").is_empty());
        }

        fn builtin_examples(rules: &[Rule]) -> Vec<String> {
            rules
                .iter()
                .flat_map(|r| {
                    r.examples
                        .iter()
                        .map(|e| e.text().to_string())
                        .chain(r.negative_examples.iter().cloned())
                })
                .collect()
        }

        #[test]
        fn same_occurrences_for_builtin_keywords_on_rule_examples() {
            let matcher = Matcher::new(RuleSet::builtin().unwrap());
            let patterns = &matcher.keyword_patterns;
            let keywords = Keywords::new(patterns).expect("built-in keywords compile");
            let mut scratch = KeywordScratch::default();
            let examples = builtin_examples(matcher.rules());
            let mut total = 0;
            for text in &examples {
                let expected = aho_corasick(patterns, text.as_bytes());
                total += expected.len();
                assert_eq!(
                    vectorscan(&keywords, &mut scratch, text.as_bytes()),
                    expected,
                    "{text:?}"
                );
            }
            let all = examples.join("\n");
            let expected = aho_corasick(patterns, all.as_bytes());
            assert_eq!(
                vectorscan(&keywords, &mut scratch, all.as_bytes()),
                expected
            );
            assert!(total > examples.len(), "{total} occurrences");
        }

        /// Triggered rules and windows from each pass, then the findings of a whole scan.
        #[test]
        fn same_windows_and_findings_for_builtin_rules() {
            let matcher = Matcher::new(RuleSet::builtin().unwrap());
            let examples = builtin_examples(matcher.rules());
            let mut blob = examples.join("\n").into_bytes();
            while blob.len() < DFA_AFTER {
                blob.extend_from_slice(b"\n");
                blob.extend_from_slice(examples.join("\n").as_bytes());
            }
            let keywords = Keywords::new(&matcher.keyword_patterns).unwrap();
            let pass = |vectorscan: bool| {
                let rules = matcher.rules();
                let mut scratch = Scratch::default();
                scratch.triggered.resize(rules.len(), false);
                scratch.windows.resize_with(rules.len(), Vec::new);
                if vectorscan {
                    let mut out = Vec::new();
                    keywords
                        .find(&blob, &mut scratch.vectorscan, &mut out)
                        .unwrap();
                    for &(end, p) in &out {
                        matcher.keyword_occurrence(
                            &blob,
                            &mut scratch,
                            p,
                            end - keywords.pattern_len(p),
                            end,
                        );
                    }
                } else {
                    matcher.keywords.for_each(&blob, |p, start, end| {
                        matcher.keyword_occurrence(&blob, &mut scratch, p, start, end)
                    });
                }
                scratch.order.sort_unstable();
                scratch
                    .order
                    .iter()
                    .map(|&r| (r, scratch.windows[r].clone()))
                    .collect::<Vec<_>>()
            };
            let with_ac = pass(false);
            assert!(with_ac.len() > matcher.rules().len() / 2);
            assert_eq!(pass(true), with_ac);

            // A whole scan: the first blob is searched with the prefix table, the second (over the
            // threshold) with Vectorscan.
            let small = examples.join("\n");
            let mut scratch = Scratch::default();
            let mut nfa = Vec::new();
            matcher.scan(small.as_bytes(), None, &mut scratch, &mut nfa);
            assert!(matcher.keywords_vs.get().is_none());
            let mut big = small.clone().into_bytes();
            big.resize(big.len() + DFA_AFTER, b' ');
            let mut vs = Vec::new();
            matcher.scan(&big, None, &mut scratch, &mut vs);
            assert!(matches!(matcher.keywords_vs.get(), Some(Some(_))));
            assert!(matcher.keywords_dfa.get().is_none());
            assert!(!nfa.is_empty());
            assert_eq!(vs, nfa);
            // The same scratch with another matcher: its Vectorscan scratch is reallocated.
            let other = Matcher::new(RuleSet::builtin().unwrap());
            let mut again = Vec::new();
            other.scan(&big, None, &mut scratch, &mut again);
            assert_eq!(again, nfa);
            matcher.scan(&big, None, &mut scratch, &mut again);
            assert_eq!(again, nfa);
        }

        /// A keyword Vectorscan cannot compile (here an empty one, which matches the empty
        /// buffer) leaves the Aho-Corasick DFA in charge instead of panicking; a NUL byte is
        /// escaped, not an error.
        #[test]
        fn compile_error_falls_back_to_aho_corasick() {
            let patterns = vec![String::new(), "key".to_string()];
            assert!(Keywords::new(&patterns).is_err());
            assert!(Keywords::new(&[]).is_err());
            let nul = vec!["ab\0c".to_string()];
            let keywords = Keywords::new(&nul).expect("a NUL byte is escaped");
            let text = b"xAB\0Cab\0c";
            let found = vectorscan(&keywords, &mut KeywordScratch::default(), text);
            assert_eq!(found, aho_corasick(&nul, text));
            assert_eq!(found.len(), 2);
            let mut m = matcher(
                "[[rule]]\nid = \"a\"\nname = \"a\"\nkeywords = [\"apikey\"]\n\
                 regex = '''(?i)apikey=([a-z0-9]{8,})'''\n",
            );
            m.keyword_patterns.push(String::new());
            m.keyword_rules.push(Vec::new());
            m.prefix_longs.push(Vec::new());
            let mut big = vec![b'.'; DFA_AFTER];
            big.extend_from_slice(b"\nx APIKEY=abcd1234efgh\n");
            assert_eq!(secrets(&m, &big), ["abcd1234efgh"]);
            assert!(matches!(m.keywords_vs.get(), Some(None)));
            assert!(m.keywords_dfa.get().is_some());
        }
    }
}
