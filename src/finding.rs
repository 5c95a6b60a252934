//! Findings: matches turned into what a user acts on.
//!
//! A finding's identity is its rule and its secret, not its place: the same key in three files
//! is one finding with three locations. The secret lives in [`Secret`], whose `Debug` and
//! `Display` never show it, so it cannot reach a log or a report by accident; a report shows
//! it only by calling [`Secret::expose`], which it does only under `--show-secrets`.

pub mod fingerprint;

use std::fmt;
use std::ops::Range;

use rayon::prelude::*;

pub mod lines;

use crate::matcher::Match;
use crate::rules::live::companion::MAX_CANDIDATES;
use crate::rules::{Rule, Severity};

/// A snippet line longer than this is clipped to a window around the secret.
const SNIPPET_CONTEXT: usize = 60;

/// A secret value. Formatting it prints a redaction; [`Secret::expose`] is the one way out.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Call only to print under `--show-secrets` or to send to the
    /// provider's own host.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(*****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*****")
    }
}

/// The redacted form of a secret: the keyword it begins with (`ghp_`, `pc_live_`) is kept so
/// that a reader can tell keys apart; everything else becomes `*****`.
pub fn redact(secret: &str, keywords: &[String]) -> String {
    let prefix = keywords
        .iter()
        .filter(|k| {
            k.len() < secret.len()
                && secret.as_bytes()[..k.len()].eq_ignore_ascii_case(k.as_bytes())
        })
        .map(|k| k.len())
        .max()
        .unwrap_or(0);
    format!("{}*****", &secret[..prefix])
}

/// The redaction `--redact=N` asks for: the first `percent` % of the secret's characters (never
/// fewer than the `prefix` bytes plain redaction keeps), then `*****`; all of it at 100.
pub fn redact_percent(secret: &str, prefix: usize, percent: u8) -> String {
    let chars = secret.chars().count();
    let shown = chars * usize::from(percent.min(100)) / 100;
    if shown >= chars {
        return secret.to_string();
    }
    let cut = secret
        .char_indices()
        .nth(shown)
        .map_or(secret.len(), |(i, _)| i)
        .max(prefix.min(secret.len()));
    match secret.get(..cut) {
        Some(visible) => format!("{visible}*****"),
        None => format!("{}*****", &secret[..prefix.min(secret.len())]),
    }
}

/// Applies `--redact=N` to findings redacted the default way: their `redacted` form and every
/// secret in their snippets (whose keyword prefix is kept as before).
pub fn reveal_percent(findings: &mut [Finding], percent: u8) {
    fn prefix_of(redacted: &str) -> usize {
        redacted.strip_suffix("*****").map_or(0, str::len)
    }
    for f in findings {
        f.redacted = redact_percent(f.secret.expose(), prefix_of(&f.redacted), percent);
        for loc in &mut f.locations {
            for part in &mut loc.snippet.parts {
                if let Part::Secret {
                    value, redacted, ..
                } = part
                {
                    *redacted = redact_percent(value.expose(), prefix_of(redacted), percent);
                }
            }
        }
    }
}

/// A hash of the rule and the secret: stable across edits, moves, machines and runs, safe to
/// publish (see [`fingerprint`] for how a guessable secret is kept from guessing).
pub fn fingerprint_for(rule: &Rule, secret: &str) -> String {
    fingerprint::fingerprint(&rule.id, &rule.keywords, rule.generic, secret)
}

/// The result of a live check against the key's provider.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Verdict {
    /// No check was asked for, or the rule has none.
    #[default]
    Unchecked,
    /// The provider accepted the key; the note says how far ("lacks permission").
    Valid { note: Option<String> },
    /// The provider rejected the key.
    Invalid,
    /// No answer could be had, and why (timeout, 5xx, an HTML page, a redirect...).
    Unknown { reason: String },
}

impl Verdict {
    /// `unchecked`, `valid`, `invalid` or `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Unchecked => "unchecked",
            Verdict::Valid { .. } => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown { .. } => "unknown",
        }
    }

    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid { .. })
    }

    /// The note of a valid verdict or the reason of an unknown one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Verdict::Valid { note } => note.as_deref(),
            Verdict::Unknown { reason } => Some(reason),
            Verdict::Unchecked | Verdict::Invalid => None,
        }
    }
}

impl fmt::Display for Verdict {
    /// `valid`, `valid (lacks permission)`, `invalid`, `unknown (timeout: ...)`, `unchecked`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            Some(detail) => write!(f, "{} ({detail})", self.as_str()),
            None => f.write_str(self.as_str()),
        }
    }
}

/// The commit that introduced a key at a location (history scans only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Full hex id.
    pub id: String,
    /// Author name and email, after the repository's mailmap.
    pub author: String,
    pub email: String,
    /// Author date, RFC 3339.
    pub date: String,
    /// Author date, Unix seconds: orders locations so the first is where a key first appeared.
    pub time: i64,
}

/// One piece of a snippet line: plain text, or (part of) a secret that is redacted on output.
#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Secret {
        value: Secret,
        redacted: String,
        /// The secret this location is about (others on the line are redacted all the same).
        primary: bool,
    },
}

/// The first line of a match, split so that every secret on it can be redacted.
#[derive(Debug, Clone, Default)]
pub struct Snippet {
    pub parts: Vec<Part>,
    /// The line was longer than the window and was cut before / after.
    pub clipped_start: bool,
    pub clipped_end: bool,
}

impl Snippet {
    /// The line as printed, and the byte range of the primary secret within it.
    pub fn render(&self, show_secrets: bool) -> (String, Range<usize>) {
        let mut line = String::new();
        let mut primary = 0..0;
        if self.clipped_start {
            line.push('…');
        }
        for part in &self.parts {
            match part {
                Part::Text(t) => line.push_str(t),
                Part::Secret {
                    value,
                    redacted,
                    primary: is_primary,
                } => {
                    let start = line.len();
                    line.push_str(if show_secrets {
                        value.expose()
                    } else {
                        redacted
                    });
                    if *is_primary {
                        primary = start..line.len();
                    }
                }
            }
        }
        if self.clipped_end {
            line.push('…');
        }
        (line, primary)
    }
}

/// Where a key was found.
#[derive(Debug, Clone)]
pub struct Location {
    pub path: String,
    /// 1-based line and column (in characters) of the secret's first byte.
    pub line: usize,
    pub column: usize,
    /// 1-based line of its last byte, and the column just after it.
    pub end_line: usize,
    pub end_column: usize,
    pub snippet: Snippet,
    /// For history scans: the commit that introduced the key at this path.
    pub commit: Option<Commit>,
    /// For history scans of a repository on a known host: the web page of this line at that
    /// commit (`--platform`).
    pub link: Option<String>,
    /// How the key was decoded from the text at this place (`base64`, `percent > base64`);
    /// `None` where it was written plainly. Line and column are those of the encoded text.
    pub decoded: Option<String>,
}

/// A match with its location resolved, before matches of one key are merged.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: usize,
    pub secret: Secret,
    /// Named captures of the rule's regex (a key id beside its secret), for live checks.
    pub captures: Vec<(String, Secret)>,
    /// Companion parts of the credential found near the key (`[[rule.verify.companion]]`),
    /// nearest first.
    pub companions: Vec<(String, Secret)>,
    pub entropy: f64,
    pub location: Location,
    /// For history scans: whether the key is still in HEAD's tree.
    pub in_head: Option<bool>,
}

/// A leaked key: one rule, one secret, every place it occurs.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub provider: String,
    pub severity: Severity,
    pub description: Option<String>,
    pub secret: Secret,
    /// Named captures of the rule's regex at one place the key was found.
    pub captures: Vec<(String, Secret)>,
    /// Companion parts found near the key at its places (a few per name), for live checks.
    pub companions: Vec<(String, Secret)>,
    /// What the live check's answer says the key can do (`identity`, `scopes`...), in order.
    pub key_info: Vec<(String, String)>,
    /// The companion parts the verdict was reached with.
    pub checked_with: Vec<(String, Secret)>,
    pub redacted: String,
    pub fingerprint: String,
    pub entropy: f64,
    /// Sorted by path, line, column; the first is the one reported as the finding's place.
    pub locations: Vec<Location>,
    pub verdict: Verdict,
    /// For history scans: whether the key is still in HEAD's tree.
    pub in_head: Option<bool>,
}

impl Finding {
    pub fn primary(&self) -> &Location {
        &self.locations[0]
    }
}

/// Resolves each match in `blob` to a located hit. `matches` must be sorted by position (as
/// the matcher returns them). Line numbers are counted incrementally, once per blob.
pub fn hits_in(blob: &[u8], path: &str, matches: &[Match], rules: &[Rule]) -> Vec<Hit> {
    let mut hits = Vec::with_capacity(matches.len());
    // Everything is counted forward from the previous match, never from the line's start: a
    // one-line bundle with 50,000 keys would otherwise cost the square of its length.
    let (mut counted_to, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let mut chars_before = 0usize; // characters from `line_start` to `counted_to`
                                   // The furthest end among matches[..=i], so that a snippet finds the matches touching its
                                   // window without looking at all of them.
    let reach: Vec<usize> = matches
        .iter()
        .scan(0, |far, m| {
            *far = (*far).max(m.end);
            Some(*far)
        })
        .collect();
    for (index, m) in matches.iter().enumerate() {
        let between = &blob[counted_to..m.start];
        if let Some(last) = memchr::memrchr2(b'\n', b'\r', between) {
            line += lines::count_breaks(blob, counted_to, m.start);
            line_start = counted_to + last + 1;
            chars_before = char_count(&blob[line_start..m.start]);
        } else {
            chars_before += char_count(between);
        }
        counted_to = m.start;
        let column = chars_before + 1;
        let secret_bytes = &blob[m.start..m.end];
        let end_line = line + lines::count_breaks(blob, m.start, m.end);
        let end_column = match memchr::memrchr2(b'\n', b'\r', secret_bytes) {
            Some(i) => char_count(&blob[m.start + i + 1..m.end]) + 1,
            None => column + char_count(secret_bytes),
        };
        let secret = String::from_utf8_lossy(secret_bytes).into_owned();
        let captures = m
            .captures
            .iter()
            .map(|&(name, start, end)| {
                let value = String::from_utf8_lossy(&blob[start..end]).into_owned();
                (
                    rules[m.rule].capture_names[name].clone(),
                    Secret::new(value),
                )
            })
            .collect();
        let companions = companions_near(blob, m, &rules[m.rule]);
        hits.push(Hit {
            rule: m.rule,
            secret: Secret::new(secret),
            captures,
            companions,
            entropy: m.entropy,
            location: Location {
                path: path.to_string(),
                line,
                column,
                end_line,
                end_column,
                snippet: snippet(blob, index, line_start, matches, &reach, rules),
                commit: None,
                link: None,
                decoded: None,
            },
            in_head: None,
        });
    }
    hits
}

/// The companion parts of `m`'s credential written near it, if its rule's check names any.
fn companions_near(blob: &[u8], m: &Match, rule: &Rule) -> Vec<(String, Secret)> {
    let Some(check) = &rule.verify else {
        return Vec::new();
    };
    check
        .extras
        .companions
        .iter()
        .flat_map(|c| {
            c.find_near(blob, m.start, m.end)
                .into_iter()
                .map(|v| (c.name.clone(), Secret::new(v)))
        })
        .collect()
}

/// The redacted form of a companion part: a short prefix (`AKIA*****`) when the value is long
/// enough that four characters give nothing away, else `*****`.
pub fn redact_part(value: &str) -> String {
    match value.get(..4) {
        Some(prefix) if value.len() >= 16 => format!("{prefix}*****"),
        _ => "*****".to_string(),
    }
}

/// Characters (not bytes) in a UTF-8-ish slice: continuation bytes do not count.
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// Builds the snippet for `all[index]`: its first line, clipped around the secret when long,
/// with every secret on that line (this one and any other) kept apart for redaction. `reach[i]`
/// is the furthest end among `all[..=i]`.
fn snippet(
    blob: &[u8],
    index: usize,
    line_start: usize,
    all: &[Match],
    reach: &[usize],
    rules: &[Rule],
) -> Snippet {
    let m = &all[index];
    let line_end = lines::line_end(blob, m.start);
    let secret_end_on_line = m.end.min(line_end).max(m.start);
    let mut lo = line_start.max(m.start.saturating_sub(SNIPPET_CONTEXT));
    let mut hi = line_end
        .min(secret_end_on_line + SNIPPET_CONTEXT)
        .max(secret_end_on_line);
    while lo > line_start && lo < blob.len() && (blob[lo] & 0xC0) == 0x80 {
        lo -= 1;
    }
    while hi < line_end && (blob[hi] & 0xC0) == 0x80 {
        hi += 1;
    }
    // Merge every secret span that touches the window (overlapping spans become one).
    let mut spans: Vec<(usize, usize, bool, usize)> = Vec::new();
    // `all` is sorted by start: the matches touching the window start before `hi`, and only
    // those back to the last one whose predecessors all end before `lo` can reach into it.
    let upper = all.partition_point(|o| o.start < hi);
    let mut first = upper;
    while first > 0 && reach[first - 1] > lo {
        first -= 1;
    }
    for other in all[first..upper].iter().filter(|o| o.end > lo) {
        let (s, e) = (other.start.max(lo), other.end.min(hi));
        let is_primary = other.start == m.start && other.end == m.end;
        match spans.last_mut() {
            Some(last) if s < last.1 => {
                last.1 = last.1.max(e);
                last.2 |= is_primary;
            }
            _ => spans.push((s, e, is_primary, other.rule)),
        }
    }
    let mut parts = Vec::new();
    let mut at = lo;
    for (s, e, primary, rule) in spans {
        if s > at {
            parts.push(Part::Text(lossy(&blob[at..s])));
        }
        let value = lossy(&blob[s..e]);
        let redacted = redact(&value, &rules[rule].keywords);
        parts.push(Part::Secret {
            value: Secret::new(value),
            redacted,
            primary,
        });
        at = e;
    }
    if hi > at {
        parts.push(Part::Text(lossy(&blob[at..hi])));
    }
    Snippet {
        parts,
        clipped_start: lo > line_start,
        clipped_end: hi < line_end,
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\t', "    ")
}

/// Merges hits into findings: one per (rule, secret), with every location; where a provider
/// rule and a generic rule found the same secret, the generic finding is dropped. Sorted by
/// first location.
pub fn findings_from(hits: Vec<Hit>, rules: &[Rule]) -> Vec<Finding> {
    // One key is one finding under its most specific name: where a provider rule found a
    // secret anywhere, a generic rule's places for it become that finding's places.
    let mut specific: std::collections::HashMap<&str, usize> = Default::default();
    for h in hits.iter().filter(|h| !rules[h.rule].generic) {
        let entry = specific.entry(h.secret.expose()).or_insert(h.rule);
        *entry = (*entry).min(h.rule);
    }
    let mut by_key: std::collections::HashMap<(usize, Secret), Finding> = Default::default();
    for hit in hits.iter() {
        let rule_index = match specific.get(hit.secret.expose()) {
            Some(&r) if rules[hit.rule].generic => r,
            _ => hit.rule,
        };
        let rule = &rules[rule_index];
        let finding = by_key
            .entry((rule_index, hit.secret.clone()))
            .or_insert_with(|| Finding {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                provider: rule.provider.clone(),
                severity: rule.severity,
                description: rule.description.clone(),
                secret: hit.secret.clone(),
                captures: hit.captures.clone(),
                companions: Vec::new(),
                key_info: Vec::new(),
                checked_with: Vec::new(),
                redacted: redact(hit.secret.expose(), &rule.keywords),
                // Set below, in parallel: a guessable secret's hash is deliberately slow.
                fingerprint: String::new(),
                entropy: hit.entropy,
                locations: Vec::new(),
                verdict: Verdict::Unchecked,
                in_head: None,
            });
        finding.locations.push(hit.location.clone());
        for (name, value) in &hit.companions {
            let known = finding.companions.iter().filter(|(n, _)| n == name);
            let mut known = known.map(|(_, v)| v);
            let count = known.clone().count();
            if count < MAX_CANDIDATES && !known.any(|v| v == value) {
                finding.companions.push((name.clone(), value.clone()));
            }
        }
        if let Some(in_head) = hit.in_head {
            finding.in_head = Some(finding.in_head.unwrap_or(false) || in_head);
        }
    }
    let mut keyed: Vec<(usize, Finding)> = by_key
        .into_iter()
        .map(|((rule, _), finding)| (rule, finding))
        .collect();
    // A guessable secret's fingerprint is a deliberately slow hash: several share the cores.
    // One or none does not start rayon's threads (a tenth of a one-file scan's time).
    let fingerprint = |(rule, f): &mut (usize, Finding)| {
        f.fingerprint = fingerprint_for(&rules[*rule], f.secret.expose());
    };
    if keyed.len() > 1 {
        keyed.par_iter_mut().for_each(fingerprint);
    } else {
        keyed.iter_mut().for_each(fingerprint);
    }
    let mut findings: Vec<Finding> = keyed.into_iter().map(|(_, f)| f).collect();
    for f in &mut findings {
        // Oldest commit first (history), so the first location is where the key appeared.
        f.locations
            .sort_by(|a, b| location_order(a).cmp(&location_order(b)));
        f.locations
            .dedup_by(|b, a| location_order(a) == location_order(b));
    }
    findings.sort_by(|a, b| {
        let (la, lb) = (a.primary(), b.primary());
        (&la.path, la.line, la.column, &a.rule_id).cmp(&(&lb.path, lb.line, lb.column, &b.rule_id))
    });
    findings
}

/// Commit time and id (history), then path, line and column.
fn location_order(l: &Location) -> (i64, &str, &str, usize, usize) {
    let (time, id) = l
        .commit
        .as_ref()
        .map_or((0, ""), |c| (c.time, c.id.as_str()));
    (time, id, &l.path, l.line, l.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_itself() {
        let s = Secret::new(concat!("pc_", "live_q8Zr3LxV1mTw6KpN"));
        assert_eq!(format!("{s}"), "*****");
        assert!(!format!("{s:?}").contains("q8Zr"));
    }

    #[test]
    fn redaction_by_percent() {
        let secret = "pc_live_q8Zr3LxV1mTw6KpN"; // 24 characters
        assert_eq!(redact_percent(secret, 8, 0), "pc_live_*****");
        assert_eq!(redact_percent(secret, 8, 50), "pc_live_q8Zr*****");
        assert_eq!(redact_percent(secret, 0, 25), "pc_liv*****");
        assert_eq!(redact_percent(secret, 8, 100), secret);
        assert_eq!(redact_percent("ééééé", 0, 40), "éé*****");
    }

    #[test]
    fn redaction_keeps_only_the_keyword() {
        assert_eq!(
            redact(
                concat!("pc_", "live_q8Zr3LxV1mTw6KpN"),
                &["pc_live_".into()]
            ),
            "pc_live_*****"
        );
        assert_eq!(redact("q8Zr3LxV1mTw6KpN", &["token".into()]), "*****");
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret() {
        let fp = |rule: &str, secret: &str| fingerprint::fingerprint(rule, &[], false, secret);
        let a = fp("r1", "s");
        assert_eq!(a.len(), 32);
        assert_ne!(a, fp("r2", "s"));
        assert_ne!(a, fp("r1", "t"));
        assert_eq!(a, fp("r1", "s"));
    }
}
