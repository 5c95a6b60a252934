//! The human report: one rustc-style snippet per finding, rendered by `annotate-snippets`.

use std::io::{self, Write};

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};

use super::escape::escape_controls as esc;
use super::{detail, HookStage, ReportOptions};
use crate::finding::{Finding, Location, Verdict};
use crate::rules::Severity;

/// How many other locations of a key are listed under its snippet before "and N more".
const MORE_LOCATIONS: usize = 5;

/// Writes every finding as a snippet, separated by blank lines.
pub fn write(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    for finding in findings {
        writeln!(out, "{}\n", render(finding, opts.show_secrets, opts.color))?;
    }
    Ok(())
}

/// The git-hook form: one line per location, then how to proceed.
pub fn write_compact(
    findings: &[Finding],
    opts: &ReportOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "keyhound: {}",
        match opts.hook_stage {
            HookStage::Commit => "this commit adds leaked keys:",
            HookStage::Files => "these files hold leaked keys:",
            HookStage::Push => "the commits being pushed add leaked keys:",
        }
    )?;
    for f in findings {
        let secret = if opts.show_secrets {
            f.secret.expose()
        } else {
            &f.redacted
        };
        let verdict = match &f.verdict {
            Verdict::Unchecked => String::new(),
            Verdict::Valid { .. } => format!(" -- VALID KEY, live check: {}", f.verdict),
            other => format!(" -- live check: {other}"),
        };
        for l in &f.locations {
            let commit = match &l.commit {
                Some(c) => format!("commit {} ", c.id.get(..12).unwrap_or(&c.id)),
                None => String::new(),
            };
            writeln!(
                out,
                "  {commit}{}:{}:{}: {} ({}): {secret}{verdict}",
                esc(&l.path),
                l.line,
                l.column,
                f.rule_name,
                f.severity
            )?;
        }
    }
    let remove = match opts.hook_stage {
        HookStage::Commit => {
            "Remove each key from the staged files (and rotate it if it was ever pushed)."
        }
        HookStage::Files => {
            "Remove each key from these files, and rotate it if it was ever committed."
        }
        HookStage::Push => {
            "The keys are in the history being pushed: deleting them in a new commit is not \
             enough. Rewrite each commit named above (`git rebase -i <commit>^`, mark it `edit`, \
             remove the key, `git commit --amend`, `git rebase --continue`; for many commits \
             `git filter-repo --replace-text`), then push again. Rotate every key listed: \
             anyone who fetched these commits may have it."
        }
    };
    writeln!(
        out,
        "{remove} A false positive? Add `keyhound:allow` in a comment on its line."
    )
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Critical | Severity::High => Level::ERROR,
        Severity::Medium => Level::WARNING,
        Severity::Low | Severity::Info => Level::NOTE,
    }
}

/// Renders one finding; the line shown is its first location's.
pub fn render(finding: &Finding, show_secrets: bool, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let loc = finding.primary();
    let (raw, span) = loc.snippet.render(show_secrets);
    // The file's line is shown with its control characters escaped; the span moves with it.
    let line = esc(&raw).into_owned();
    let span = esc(&raw[..span.start]).len()..esc(&raw[..span.end]).len();
    // A key its provider accepts is an incident whatever the rule's severity: say so first.
    let valid = matches!(finding.verdict, Verdict::Valid { .. });
    let title = if valid {
        format!("VALID KEY: {} ({})", finding.rule_name, finding.severity)
    } else {
        format!("{} ({})", finding.rule_name, finding.severity)
    };
    let label = if loc.end_line > loc.line {
        format!("leaked key (lines {}-{})", loc.line, loc.end_line)
    } else {
        "leaked key".to_string()
    };
    let mut notes = Vec::new();
    if let Some(how) = &loc.decoded {
        notes.push(format!("decoded: {how}"));
    }
    if finding.verdict != Verdict::Unchecked {
        let mut note = format!("live check: {}", finding.verdict);
        let info = detail::text(&detail::key_info(finding), " ");
        if !info.is_empty() {
            note.push_str(&format!(" — {info}"));
        }
        let parts = detail::text(&detail::checked_with(finding, show_secrets), " ");
        if !parts.is_empty() {
            note.push_str(&format!(" (checked with {parts})"));
        }
        notes.push(note);
    }
    notes.push(format!("fingerprint: {}", finding.fingerprint));
    match finding.in_head {
        Some(true) => notes.push("still in HEAD".to_string()),
        Some(false) => {
            notes.push("no longer in HEAD, but still in the history of every clone".to_string())
        }
        None => {}
    }
    if finding.locations.len() > 1 {
        let others: Vec<String> = finding.locations[1..]
            .iter()
            .take(MORE_LOCATIONS)
            .map(|l| match &l.commit {
                Some(c) => format!(
                    "{}:{}:{} ({})",
                    esc(&l.path),
                    l.line,
                    l.column,
                    &c.id[..c.id.len().min(12)]
                ),
                None => format!("{}:{}:{}", esc(&l.path), l.line, l.column),
            })
            .collect();
        let more = finding.locations.len() - 1 - others.len();
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        notes.push(format!("also at: {}{tail}", others.join(", ")));
    }
    let snippet = Snippet::source(line.as_str())
        .line_start(loc.line)
        .annotation(AnnotationKind::Primary.span(span).label(label));
    let level = if valid {
        Level::ERROR
    } else {
        level(finding.severity)
    };
    let mut group = level
        .primary_title(title)
        .id(finding.rule_id.as_str())
        .element(snippet);
    for note in &notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    with_origin(&renderer.render(&[group]), loc, color)
}

/// Inserts the `--> path:line:column` line under the title. annotate-snippets would compute the
/// column from the displayed line, which is clipped and redacted; ours is the file's own.
fn with_origin(rendered: &str, loc: &Location, color: bool) -> String {
    let gutter = loc.line.to_string().len();
    let arrow = if color {
        "\x1b[1m\x1b[94m-->\x1b[0m"
    } else {
        "-->"
    };
    let mut origin = format!(
        "{:gutter$}{arrow} {}:{}:{}",
        "",
        esc(&loc.path),
        loc.line,
        loc.column
    );
    if let Some(c) = &loc.commit {
        let bar = if color {
            "\x1b[1m\x1b[94m|\x1b[0m"
        } else {
            "|"
        };
        let short = &c.id[..c.id.len().min(12)];
        origin.push_str(&format!(
            "\n{:gutter$} {bar} commit {short} by {} <{}> on {}",
            "",
            esc(&c.author),
            esc(&c.email),
            c.date
        ));
        if let Some(link) = &loc.link {
            origin.push_str(&format!("\n{:gutter$} {bar} {link}", ""));
        }
    }
    match rendered.split_once('\n') {
        Some((title, rest)) => format!("{title}\n{origin}\n{rest}"),
        None => format!("{rendered}\n{origin}"),
    }
}
