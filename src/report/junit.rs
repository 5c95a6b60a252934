//! `--format junit`: JUnit XML, as GitLab, Jenkins and most CI test reports read it. Each
//! finding is one failing test case (classname `keyhound.<rule id>`, name `<path>:<line>` of
//! its first location) whose failure text lists every location; a clean scan is one passing
//! test case, so a report always shows that the check ran.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::escape::escape_controls as esc;
use super::{ReportOptions, REMEDIATION};
use crate::finding::Finding;

/// Writes the findings as one `<testsuites>` document.
pub fn write(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let tests = findings.len().max(1);
    let failures = findings.len();
    let mut xml = String::new();
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"keyhound\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    let _ = writeln!(
        xml,
        "  <testsuite name=\"keyhound\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">"
    );
    if findings.is_empty() {
        xml.push_str("    <testcase classname=\"keyhound\" name=\"no leaked keys\"/>\n");
    }
    for f in findings {
        test_case(&mut xml, f, opts.show_secrets);
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    out.write_all(xml.as_bytes())
}

fn test_case(xml: &mut String, f: &Finding, show: bool) {
    let primary = f.primary();
    let secret = if show { f.secret.expose() } else { &f.redacted };
    let title = format!("{} ({}): {secret}", f.rule_name, f.severity);
    let _ = writeln!(
        xml,
        "    <testcase classname=\"keyhound.{}\" name=\"{}:{}\" file=\"{}\">",
        attr(&f.rule_id),
        attr(&primary.path),
        primary.line,
        attr(&primary.path),
    );
    let _ = write!(
        xml,
        "      <failure type=\"{}\" message=\"{}\">",
        attr(&f.rule_id),
        attr(&title)
    );

    let mut body = format!("{title}\nprovider: {}\n", f.provider);
    let _ = writeln!(body, "fingerprint: {}", f.fingerprint);
    let _ = write!(body, "verdict: {}", f.verdict.as_str());
    if let Some(detail) = f.verdict.detail() {
        let _ = write!(body, " ({detail})");
    }
    body.push('\n');
    if let Some(in_head) = f.in_head {
        let _ = writeln!(body, "in HEAD: {}", if in_head { "yes" } else { "no" });
    }
    body.push_str("locations:\n");
    for loc in &f.locations {
        // Written as text, one location a line: a newline in a path must not start a line
        // of its own in the log (see `escape`).
        let _ = write!(body, "  {}:{}:{}", esc(&loc.path), loc.line, loc.column);
        if let Some(c) = &loc.commit {
            let _ = write!(
                body,
                " (commit {} by {} <{}> on {})",
                c.id,
                esc(&c.author),
                esc(&c.email),
                c.date
            );
        }
        let _ = writeln!(body, "\n    {}", loc.snippet.render(show).0);
    }
    if let Some(description) = &f.description {
        let _ = writeln!(body, "\n{description}");
    }
    let _ = writeln!(body, "\n{REMEDIATION}");

    xml.push_str(&text(&body));
    xml.push_str("</failure>\n    </testcase>\n");
}

/// XML character data: markup characters escaped, characters XML 1.0 forbids replaced.
fn text(s: &str) -> String {
    escape(s, false)
}

/// An attribute value: as [`text`], plus quotes and whitespace that parsers would normalize.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut escaped = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' if attribute => escaped.push_str("&quot;"),
            '\n' if attribute => escaped.push_str("&#10;"),
            '\t' if attribute => escaped.push_str("&#9;"),
            '\r' => escaped.push_str("&#13;"),
            '\t' | '\n' => escaped.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => escaped.push('\u{fffd}'),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(text("a<b & c>\"d\""), "a&lt;b &amp; c&gt;\"d\"");
        assert_eq!(attr("a\"b\nc\td"), "a&quot;b&#10;c&#9;d");
        assert_eq!(text("x\u{1}y\r\n"), "x\u{fffd}y&#13;\n");
    }
}
