//! What a valid key can do, read from its check's own answer: `[rule.verify.detail]` names a
//! field (`identity`, `scopes`, `account`...) and where the answer carries it (a JSON dotted
//! path, an XML element, a header). No extra request is ever made for it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::JsonPath;
use crate::rules::spec::DetailSpec;

/// The longest detail value kept: a provider's answer is not a place for a novel.
const MAX_VALUE: usize = 200;

/// Field names shown first, in this order; the rest follow by name.
const FIRST: &[&str] = &["identity", "account", "scopes"];

/// Where a detail is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Header(String),
    Json(JsonPath),
    Xml(String),
    /// A plain string: a JSON path if the body is JSON, else an XML element name.
    Either(JsonPath, String),
}

/// One `name = source` of `[rule.verify.detail]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailField {
    pub name: String,
    pub source: Source,
}

impl DetailField {
    /// The field's value in an answer, if it is there: cleaned of control characters and cut
    /// to a sane length. A JSON list is joined with `, `.
    pub fn read(
        &self,
        headers: &[(String, String)],
        json: Option<&Value>,
        body: &[u8],
    ) -> Option<String> {
        let raw = match &self.source {
            Source::Header(name) => headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone()),
            Source::Json(path) => json.and_then(|doc| path.lookup(doc)).and_then(json_text),
            Source::Xml(name) => xml_text(body, name),
            Source::Either(path, name) => match json {
                Some(doc) => path.lookup(doc).and_then(json_text),
                None => xml_text(body, name),
            },
        }?;
        let clean: String = raw
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let clean = clean.trim();
        if clean.is_empty() {
            return None;
        }
        Some(match clean.char_indices().nth(MAX_VALUE) {
            Some((at, _)) => format!("{}…", &clean[..at]),
            None => clean.to_string(),
        })
    }
}

fn json_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_text).collect();
            Some(parts.join(", "))
        }
        Value::Null | Value::Object(_) => None,
    }
}

/// The text of the first XML element named `name` (its local name: any namespace prefix is
/// ignored), with the five predefined entities decoded. Enough for the flat answers of AWS
/// query APIs; not a general XML parser.
pub fn xml_text(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let tag_end = rest.find('>')?;
        let tag = &rest[..tag_end];
        if tag.starts_with(['/', '?', '!']) || tag.ends_with('/') {
            continue;
        }
        let qname = tag.split(|c: char| c.is_whitespace()).next().unwrap_or("");
        let local = qname.rsplit(':').next().unwrap_or(qname);
        if local != name {
            continue;
        }
        let content = &rest[tag_end + 1..];
        let end = content.find("</")?;
        let inner = &content[..end];
        if inner.contains('<') {
            // An element with children has no text of its own.
            return None;
        }
        return Some(
            inner
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
    }
    None
}

/// Compiles `[rule.verify.detail]`.
pub fn compile(spec: BTreeMap<String, DetailSpec>) -> Result<Vec<DetailField>, String> {
    let mut fields = Vec::with_capacity(spec.len());
    for (name, source) in spec {
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(format!(
                "verify.detail: `{name}` must be lower-case letters, digits and `_`"
            ));
        }
        let what = format!("verify.detail.{name}");
        let source = match source {
            DetailSpec::Path(p) => Source::Either(
                JsonPath::parse(&p).map_err(|e| format!("{what}: {e}"))?,
                xml_name(&p, &what)?,
            ),
            DetailSpec::From(from) => match (from.header, from.json, from.xml) {
                (Some(h), None, None) if !h.trim().is_empty() => Source::Header(h),
                (None, Some(j), None) => {
                    Source::Json(JsonPath::parse(&j).map_err(|e| format!("{what}: {e}"))?)
                }
                (None, None, Some(x)) => Source::Xml(xml_name(&x, &what)?),
                _ => {
                    return Err(format!(
                        "{what}: give exactly one of `header`, `json` or `xml`"
                    ))
                }
            },
        };
        fields.push(DetailField { name, source });
    }
    fields.sort_by_key(|f| {
        let rank = FIRST
            .iter()
            .position(|n| *n == f.name)
            .unwrap_or(FIRST.len());
        (rank, f.name.clone())
    });
    Ok(fields)
}

/// An element name as written in a plain-string source; a dotted JSON path is not one, which
/// is fine: it then never matches XML.
fn xml_name(text: &str, what: &str) -> Result<String, String> {
    if text.is_empty() || text.contains(['<', '>', '/', ' ']) {
        return Err(format!(
            "{what}: `{text}` is not a JSON path or an element name"
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_elements_by_local_name() {
        let body =
            br#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/Alice &amp; Bob</Arn>
    <a:Account>123456789012</a:Account>
  </GetCallerIdentityResult>
</GetCallerIdentityResponse>"#;
        assert_eq!(
            xml_text(body, "Arn").as_deref(),
            Some("arn:aws:iam::123456789012:user/Alice & Bob")
        );
        assert_eq!(xml_text(body, "Account").as_deref(), Some("123456789012"));
        assert_eq!(xml_text(body, "GetCallerIdentityResult"), None);
        assert_eq!(xml_text(body, "UserId"), None);
        assert_eq!(xml_text(b"<a><b>x", "b"), None);
    }

    #[test]
    fn values_are_cleaned_and_lists_joined() {
        let f = |source| DetailField {
            name: "x".into(),
            source,
        };
        let doc = serde_json::json!({"scopes": ["api", "read_user"], "name": "a\u{1b}[31mb"});
        let scopes = f(Source::Json(JsonPath::parse("scopes").unwrap()));
        assert_eq!(
            scopes.read(&[], Some(&doc), b"").as_deref(),
            Some("api, read_user")
        );
        let name = f(Source::Json(JsonPath::parse("name").unwrap()));
        assert_eq!(name.read(&[], Some(&doc), b"").as_deref(), Some("a [31mb"));
        let header = f(Source::Header("X-OAuth-Scopes".into()));
        let headers = vec![("x-oauth-scopes".to_string(), "repo, gist".to_string())];
        assert_eq!(
            header.read(&headers, None, b"").as_deref(),
            Some("repo, gist")
        );
        let long = serde_json::json!({"name": "y".repeat(500)});
        assert_eq!(
            name.read(&[], Some(&long), b"").unwrap().chars().count(),
            MAX_VALUE + 1
        );
    }
}
