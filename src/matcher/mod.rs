//! The matcher: from a blob's bytes to the secrets in it.
//!
//! One Aho-Corasick pass over every rule's keywords decides which rules can match; only those
//! rules run their regexes, and each candidate secret then goes through the filters in
//! [`filter`]. The matcher knows nothing about files or paths beyond the optional path bytes a
//! context condition may look at, and it allocates nothing per line: a blob is scanned whole.
//!
//! Regexes are the exception to "whole": many keywords (`token`, `secret`, `bearer`, `eyJ`)
//! occur in most source files, so running every triggered rule's regexes over every byte of
//! every such file dominated a scan. A match lies next to one of its rule's keywords (the
//! keyword is its prefix, or part of the variable or header name), so a rule's regexes run only
//! on the lines around each keyword occurrence: its own line and the one after. `rules check`
//! proves each rule's examples are found that way. A rule whose regexes can cross more than one
//! newline (a key block) runs over the whole file, as does one that says `whole_file = true`
//! because its matches sit far from its keywords.

pub mod filter;

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use rayon::prelude::*;

use crate::rules::{Rule, RuleSet};

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
}

/// All rules, compiled into one keyword automaton; shared read-only by every thread.
#[derive(Debug)]
pub struct Matcher {
    rules: RuleSet,
    /// The keyword automaton as an NFA: cheap to build, for small blobs.
    keywords: AhoCorasick,
    /// The same automaton as a DFA, built the first time a large blob is scanned: a DFA steps
    /// faster through the overlapping search (about 20% off a whole-tree scan) but costs a few
    /// milliseconds to build, more than a one-file scan takes.
    keywords_dfa: OnceLock<AhoCorasick>,
    keyword_patterns: Vec<String>,
    /// For each keyword pattern of the automaton, the rules it triggers.
    keyword_rules: Vec<Vec<usize>>,
}

impl Matcher {
    /// Builds the keyword automaton. Rule regexes are not built here: each is built the first
    /// time one of its keywords occurs (see [`Rule::regexes`]).
    pub fn new(rules: RuleSet) -> Matcher {
        let mut patterns: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (index, rule) in rules.rules().iter().enumerate() {
            for keyword in &rule.keywords {
                let lower = keyword.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == lower) {
                    Some(i) => {
                        if !keyword_rules[i].contains(&index) {
                            keyword_rules[i].push(index);
                        }
                    }
                    None => {
                        patterns.push(lower);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        let keywords = keyword_automaton(&patterns, AhoCorasickKind::ContiguousNFA);
        Matcher {
            rules,
            keywords,
            keywords_dfa: OnceLock::new(),
            keyword_patterns: patterns,
            keyword_rules,
        }
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
        out.clear();
        let rules = self.rules.rules();
        if rules.is_empty() {
            return;
        }
        scratch.triggered.clear();
        scratch.triggered.resize(rules.len(), false);
        scratch.order.clear();
        scratch.windows.resize_with(rules.len(), Vec::new);
        let automaton = if blob.len() >= DFA_BLOB {
            self.keywords_dfa
                .get_or_init(|| keyword_automaton(&self.keyword_patterns, AhoCorasickKind::DFA))
        } else {
            &self.keywords
        };
        for m in automaton.find_overlapping_iter(blob) {
            for &rule in &self.keyword_rules[m.pattern().as_usize()] {
                if !scratch.triggered[rule] {
                    scratch.triggered[rule] = true;
                    scratch.order.push(rule);
                    scratch.windows[rule].clear();
                }
                if rules[rule].windowed() {
                    add_window(blob, &mut scratch.windows[rule], m.start(), m.end());
                }
            }
        }
        if scratch.order.is_empty() {
            return;
        }
        scratch.order.sort_unstable();
        // Regexes are built on first use: build this blob's new ones side by side.
        let unbuilt = scratch
            .order
            .iter()
            .filter(|&&i| !rules[i].is_compiled())
            .count();
        if unbuilt >= 2 {
            scratch.order.par_iter().for_each(|&i| {
                let _ = rules[i].compile();
            });
        }
        for &index in &scratch.order {
            let rule = &rules[index];
            if rule.windowed() {
                for &(lo, hi) in &scratch.windows[index] {
                    scan_rule(index, rule, blob, lo, hi, path, out);
                }
            } else {
                scan_rule(index, rule, blob, 0, blob.len(), path, out);
            }
        }
        resolve_overlaps(rules, out);
    }
}

/// Blobs at least this large are searched with the keyword DFA.
const DFA_BLOB: usize = 64 * 1024;

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

/// Runs a rule's regexes over `blob[lo..hi]`, reporting positions in the whole blob.
fn scan_rule(
    index: usize,
    rule: &Rule,
    blob: &[u8],
    lo: usize,
    hi: usize,
    path: Option<&[u8]>,
    out: &mut Vec<Match>,
) {
    let group = rule.secret_group();
    let haystack = &blob[lo..hi];
    for regex in rule.regexes() {
        for caps in regex.captures_iter(haystack) {
            let Some(secret) = caps.get(group) else {
                continue;
            };
            if secret.is_empty() {
                continue;
            }
            let (start, end) = (lo + secret.start(), lo + secret.end());
            if let Some(entropy) = filter::accept(rule, blob, start, end, path) {
                let captures = rule
                    .capture_names
                    .iter()
                    .enumerate()
                    .filter_map(|(i, name)| {
                        caps.name(name).map(|c| (i, lo + c.start(), lo + c.end()))
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
