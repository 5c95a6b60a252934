//! `--format csv`: a header row, then one row per location of a key, quoted by the `csv`
//! crate (RFC 4180). Paths and names have their control characters escaped: a quoted newline is
//! valid CSV, but the line after it would be read raw by a CI log. The commit columns are empty
//! outside history scans, as is `in_head`; `key_info` and `checked_with`
//! (`name=value; name=value`) are empty unless a live check filled them; `decoded` says how a
//! key was decoded (`base64`), empty where it was written plainly.

use std::io::{self, Write};

use super::escape::escape_controls as esc;
use super::{detail, ReportOptions};
use crate::finding::Finding;

const HEADER: [&str; 21] = [
    "rule_id",
    "rule_name",
    "provider",
    "severity",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "secret",
    "fingerprint",
    "verdict",
    "commit",
    "author",
    "email",
    "date",
    "in_head",
    "link",
    "key_info",
    "checked_with",
    "decoded",
];

/// Writes the header row and one row per location; only the header when there are none.
pub fn write(findings: &[Finding], opts: &ReportOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut csv = ::csv::Writer::from_writer(out);
    csv.write_record(HEADER)?;
    for f in findings {
        let secret = if opts.show_secrets {
            f.secret.expose()
        } else {
            &f.redacted
        };
        let in_head = match f.in_head {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        };
        let key_info = detail::text(&detail::key_info(f), "=");
        let checked_with = detail::text(&detail::checked_with(f, opts.show_secrets), "=");
        for loc in &f.locations {
            let commit = loc.commit.as_ref();
            csv.write_record([
                f.rule_id.as_str(),
                &f.rule_name,
                &f.provider,
                f.severity.as_str(),
                &esc(&loc.path),
                &loc.line.to_string(),
                &loc.column.to_string(),
                &loc.end_line.to_string(),
                &loc.end_column.to_string(),
                secret,
                &f.fingerprint,
                f.verdict.as_str(),
                commit.map_or("", |c| c.id.as_str()),
                &commit.map_or("".into(), |c| esc(&c.author)),
                &commit.map_or("".into(), |c| esc(&c.email)),
                commit.map_or("", |c| c.date.as_str()),
                in_head,
                loc.link.as_deref().unwrap_or_default(),
                &key_info,
                &checked_with,
                loc.decoded.as_deref().unwrap_or(""),
            ])?;
        }
    }
    csv.flush()
}
