//! The matcher: from a blob's bytes to the secrets in it.
//!
//! One Aho-Corasick pass over every rule's keywords decides which rules can match; only those
//! rules run their regexes, and each candidate secret then goes through the filters in
//! [`filter`]. The matcher knows nothing about files or paths beyond the optional path bytes a
//! context condition may look at, and it allocates nothing per line: a blob is scanned whole.

pub mod filter;

use aho_corasick::{AhoCorasick, MatchKind};

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
}

/// All rules, compiled into one keyword automaton; shared read-only by every thread.
#[derive(Debug)]
pub struct Matcher {
    rules: RuleSet,
    keywords: AhoCorasick,
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
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("keywords are literal strings of at least 3 bytes");
        Matcher {
            rules,
            keywords,
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
        let mut remaining = rules.len();
        for m in self.keywords.find_overlapping_iter(blob) {
            for &rule in &self.keyword_rules[m.pattern().as_usize()] {
                if !scratch.triggered[rule] {
                    scratch.triggered[rule] = true;
                    scratch.order.push(rule);
                    remaining -= 1;
                }
            }
            if remaining == 0 {
                break;
            }
        }
        if scratch.order.is_empty() {
            return;
        }
        scratch.order.sort_unstable();
        for &index in &scratch.order {
            scan_rule(index, &rules[index], blob, path, out);
        }
        resolve_overlaps(rules, out);
    }
}

fn scan_rule(index: usize, rule: &Rule, blob: &[u8], path: Option<&[u8]>, out: &mut Vec<Match>) {
    let group = rule.secret_group();
    for regex in rule.regexes() {
        for caps in regex.captures_iter(blob) {
            let Some(secret) = caps.get(group) else {
                continue;
            };
            if secret.is_empty() {
                continue;
            }
            if let Some(entropy) = filter::accept(rule, blob, secret.start(), secret.end(), path) {
                let captures = rule
                    .capture_names
                    .iter()
                    .enumerate()
                    .filter_map(|(i, name)| caps.name(name).map(|c| (i, c.start(), c.end())))
                    .collect();
                out.push(Match {
                    rule: index,
                    start: secret.start(),
                    end: secret.end(),
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
