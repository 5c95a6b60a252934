//! The built-in rules, parsed and validated when keyhound is built.
//!
//! `build.rs` runs [`embed`] on every `rules/*.toml` (a bad file fails the build, naming the
//! file, the line and the rule) and writes the result with [`encode`]; the binary reads it back
//! with [`decode`]. Start-up then parses no TOML and no regex syntax: parsing 190 rule files
//! cost more than scanning a small file, and the cost grew with every rule added.
//!
//! This file depends on nothing in the crate but `spec.rs`: `build.rs` includes both.

use serde::{Deserialize, Serialize};

use super::spec::{ExampleSpec, ProviderSpec, RuleFileSpec, RuleSpec, VerifyTestSpec};

/// One rule file, pre-parsed.
#[derive(Debug, Serialize, Deserialize)]
pub struct EmbeddedFile {
    /// The file's name under `rules/`.
    pub name: String,
    pub provider: Option<ProviderSpec>,
    pub rules: Vec<EmbeddedRule>,
}

/// One rule, as its file says, with what loading it would otherwise have to work out.
#[derive(Debug, Serialize, Deserialize)]
pub struct EmbeddedRule {
    pub spec: RuleSpec,
    /// The line of its `id`.
    pub line: usize,
    /// The capture groups of each of its regexes, in order.
    pub groups: Vec<Groups>,
}

/// A regex's capture groups: how many (the secret group must be one of them) and the names of
/// the named ones (a live check may use them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Groups {
    pub count: usize,
    pub names: Vec<String>,
    /// The most newlines a match can hold between its ends ([`interior_newlines`]); `None`
    /// for no bound. Decides whether the rule searches its keywords' lines or whole files.
    pub newlines: Option<u32>,
    /// The regex with its long bounded repeats made unbounded ([`screen_pattern`]), when it
    /// has any.
    pub screen: Option<String>,
}

/// Parses a regex (without building it) to validate its syntax, count its capture groups and
/// list its named ones. Unicode is off, as when the regex is built.
pub fn capture_groups(pattern: &str) -> Result<Groups, String> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| format!("regex does not parse:\n{e}"))?;
    let mut names = Vec::new();
    group_names(&hir, &mut names);
    Ok(Groups {
        count: hir.properties().explicit_captures_len(),
        names,
        newlines: interior_newlines(&hir),
        screen: screen_pattern(pattern),
    })
}

/// Repeats whose upper bound exceeds their lower bound by more than this are relaxed in a
/// screen: below it the states saved do not pay for a second regex.
const RELAX_SPAN: u32 = 2;

/// A *screen* for a rule regex: the regex with every repeat `{m,n}` whose span exceeds
/// [`RELAX_SPAN`] written `{m,}`; `None` when there is no such repeat (or the pattern does not
/// parse: validation says why).
///
/// Why: a long bounded repeat (`[A-Za-z0-9]{16,1024}`) compiles to a state per repetition, and
/// those were most of the cost of building a rule's regexes (which a one-file scan pays for
/// every rule its file triggers) and of the lazy DFAs' memory. The screen matches everything
/// the regex matches (and more) and is small; the matcher builds and runs the regex itself
/// only where the screen matches, which real code rarely does, so results are the regex's.
/// The rewrite is made in the pattern's own text (from the syntax tree's spans), so the
/// screen is as short to parse as the regex.
pub fn screen_pattern(pattern: &str) -> Option<String> {
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .ok()?;
    let mut edits = Vec::new();
    long_repeats(&ast, &mut edits);
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = pattern.to_string();
    for (start, end, text) in edits {
        out.replace_range(start..end, &text);
    }
    Some(out)
}

/// The byte range and replacement text of every long bounded repeat's operator in `ast`.
fn long_repeats(ast: &regex_syntax::ast::Ast, edits: &mut Vec<(usize, usize, String)>) {
    use regex_syntax::ast::{Ast, RepetitionKind, RepetitionRange};
    match ast {
        Ast::Repetition(rep) => {
            if let RepetitionKind::Range(RepetitionRange::Bounded(min, max)) = rep.op.kind {
                if max.saturating_sub(min) > RELAX_SPAN {
                    let lazy = if rep.greedy { "" } else { "?" };
                    let span = rep.op.span;
                    edits.push((
                        span.start.offset,
                        span.end.offset,
                        format!("{{{min},}}{lazy}"),
                    ));
                }
            }
            long_repeats(&rep.ast, edits);
        }
        Ast::Group(group) => long_repeats(&group.ast, edits),
        Ast::Alternation(alt) => alt.asts.iter().for_each(|a| long_repeats(a, edits)),
        Ast::Concat(cat) => cat.asts.iter().for_each(|a| long_repeats(a, edits)),
        _ => {}
    }
}

/// The newlines a match can hold away from its first and last byte. Most rules bound their
/// match with a one-byte class such as `(?:^|[^A-Za-z0-9])` or `(?:["'\s,;]|$)`, which can be a
/// newline; a window keeps the newlines that bound its lines, so such an edge newline still lies
/// inside it, and counting it made those rules search whole files instead of windows.
pub(crate) fn interior_newlines(hir: &regex_syntax::hir::Hir) -> Option<u32> {
    use regex_syntax::hir::HirKind;
    let at_most_one_byte =
        |h: &regex_syntax::hir::Hir| h.properties().maximum_len().is_some_and(|n| n <= 1);
    match hir.kind() {
        HirKind::Capture(cap) => interior_newlines(&cap.sub),
        HirKind::Alternation(subs) => subs
            .iter()
            .try_fold(0u32, |acc, h| Some(acc.max(interior_newlines(h)?))),
        HirKind::Concat(subs) => {
            let mut inner = &subs[..];
            if let Some((first, rest)) = inner.split_first() {
                if at_most_one_byte(first) {
                    inner = rest;
                }
            }
            if let Some((last, rest)) = inner.split_last() {
                if at_most_one_byte(last) {
                    inner = rest;
                }
            }
            inner
                .iter()
                .try_fold(0u32, |acc, h| Some(acc.saturating_add(max_newlines(h)?)))
        }
        _ => max_newlines(hir),
    }
}

pub(crate) fn max_newlines(hir: &regex_syntax::hir::Hir) -> Option<u32> {
    use regex_syntax::hir::{Class, HirKind};
    match hir.kind() {
        HirKind::Literal(lit) => Some(lit.0.iter().filter(|&&b| b == b'\n').count() as u32),
        HirKind::Class(Class::Bytes(c)) => Some(u32::from(
            c.ranges()
                .iter()
                .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        )),
        HirKind::Class(Class::Unicode(c)) => Some(u32::from(
            c.ranges()
                .iter()
                .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        )),
        HirKind::Capture(cap) => max_newlines(&cap.sub),
        HirKind::Repetition(rep) => match max_newlines(&rep.sub)? {
            0 => Some(0),
            n => rep.max.map(|m| m.saturating_mul(n)),
        },
        HirKind::Concat(subs) => subs
            .iter()
            .try_fold(0u32, |acc, h| Some(acc.saturating_add(max_newlines(h)?))),
        HirKind::Alternation(subs) => subs
            .iter()
            .try_fold(0u32, |acc, h| Some(acc.max(max_newlines(h)?))),
        HirKind::Empty | HirKind::Look(_) => Some(0),
    }
}

pub(crate) fn group_names(hir: &regex_syntax::hir::Hir, out: &mut Vec<String>) {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(cap) => {
            if let Some(name) = &cap.name {
                out.push(name.to_string());
            }
            group_names(&cap.sub, out);
        }
        HirKind::Repetition(rep) => group_names(&rep.sub, out),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().for_each(|h| group_names(h, out))
        }
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
    }
}

/// Parses one rule file and validates what is costly to validate (regex and allowlist syntax);
/// the cheap checks run again when the rule is loaded. An error reads `name:line: message`.
pub fn embed(name: &str, text: &str) -> Result<EmbeddedFile, String> {
    let spec: RuleFileSpec = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        format!("{name}:{line}: {}", e.message().trim())
    })?;
    let mut rules: Vec<EmbeddedRule> = Vec::with_capacity(spec.rules.len());
    for rs in spec.rules {
        let line = line_of(text, rs.id.span().start);
        let fail =
            |message: String| format!("{name}:{line}: rule `{}`: {message}", rs.id.get_ref());
        if let Some(first) = rules
            .iter()
            .find(|r| r.spec.id.get_ref() == rs.id.get_ref())
        {
            return Err(fail(format!("already defined at line {}", first.line)));
        }
        let groups = rs
            .regex
            .as_slice()
            .iter()
            .map(|p| capture_groups(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        for allow in &rs.allow.regexes {
            capture_groups(allow).map_err(|e| fail(format!("allow regex `{allow}`: {e}")))?;
        }
        rules.push(EmbeddedRule {
            spec: rs,
            line,
            groups,
        });
    }
    Ok(EmbeddedFile {
        name: name.to_string(),
        provider: spec.provider,
        rules,
    })
}

/// The compact binary form of the embedded files.
pub fn encode(files: &[EmbeddedFile]) -> Vec<u8> {
    postcard::to_allocvec(files).expect("rule specs serialize to memory")
}

/// What only `rules check` reads of a rule: its examples and its live check's recorded
/// answers. They are three fifths of the rules' bytes, and decoding them was a fifth of a
/// one-file scan, so they are embedded apart and a scan never decodes them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct EmbeddedExamples {
    pub examples: Vec<ExampleSpec>,
    pub negative_examples: Vec<String>,
    pub tests: Vec<VerifyTestSpec>,
}

/// Takes every rule's examples and recorded answers out of `files`, in file and rule order.
pub fn split_examples(files: &mut [EmbeddedFile]) -> Vec<EmbeddedExamples> {
    let mut out = Vec::new();
    for rule in files.iter_mut().flat_map(|f| f.rules.iter_mut()) {
        let spec = &mut rule.spec;
        out.push(EmbeddedExamples {
            examples: std::mem::take(&mut spec.examples),
            negative_examples: std::mem::take(&mut spec.negative_examples),
            tests: spec
                .verify
                .as_mut()
                .map(|v| std::mem::take(&mut v.get_mut().tests))
                .unwrap_or_default(),
        });
    }
    out
}

/// Puts back into a rule what [`split_examples`] took out of it.
pub fn restore_examples(spec: &mut RuleSpec, taken: EmbeddedExamples) {
    spec.examples = taken.examples;
    spec.negative_examples = taken.negative_examples;
    if let Some(v) = spec.verify.as_mut() {
        v.get_mut().tests = taken.tests;
    }
}

/// Writes what [`split_examples`] took, for [`decode_examples`].
pub fn encode_examples(examples: &[EmbeddedExamples]) -> Vec<u8> {
    postcard::to_allocvec(examples).expect("rule examples serialize to memory")
}

/// Reads back what [`encode_examples`] wrote.
pub fn decode_examples(bytes: &[u8]) -> Result<Vec<EmbeddedExamples>, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// Reads back what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<Vec<EmbeddedFile>, postcard::Error> {
    postcard::from_bytes(bytes)
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
