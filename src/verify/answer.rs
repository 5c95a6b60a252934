//! Reading an answer the way a rule says to: whether a response case matches it (status,
//! headers, JSON and XML conditions), and the verdict details a valid answer carries. The
//! cases and details are the rule's (compiled in [`crate::rules::live`]); reading answers is
//! verify's business.

use serde_json::Value;

use crate::rules::live::detail::{DetailField, Source};
use crate::rules::live::{Case, JsonPath};

/// The longest detail value kept: a provider's answer is not a place for a novel.
const MAX_VALUE: usize = 200;

impl JsonPath {
    /// The value at this path, if any (a numeric segment indexes an array).
    pub fn lookup<'v>(&self, mut value: &'v Value) -> Option<&'v Value> {
        for segment in self.segments() {
            value = match value {
                Value::Object(map) => map.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

impl Case {
    /// [`Case::matches`], and the case's XML conditions on the raw `body`.
    pub fn matches_answer(
        &self,
        status: u16,
        headers: &[(String, String)],
        json: Option<&Value>,
        body: &[u8],
    ) -> bool {
        let xml_holds = self
            .xml_has
            .iter()
            .all(|name| xml_text(body, name).is_some())
            && self.xml.iter().all(|(name, wanted)| {
                xml_text(body, name).is_some_and(|t| wanted.iter().any(|w| *w == t.trim()))
            });
        xml_holds && self.matches(status, headers, json)
    }

    /// Whether an answer matches. `headers` are (name, value) with any case; `json` is the
    /// body parsed as JSON, if it parses.
    pub fn matches(&self, status: u16, headers: &[(String, String)], json: Option<&Value>) -> bool {
        if !self.status.is_empty() && !self.status.contains(&status) {
            return false;
        }
        if !self.json.is_empty() || !self.json_has.is_empty() {
            let Some(doc) = json else {
                return false;
            };
            if !self.json_has.iter().all(|p| p.lookup(doc).is_some()) {
                return false;
            }
            let holds = |(path, values): &(JsonPath, Vec<Value>)| {
                path.lookup(doc)
                    .is_some_and(|found| values.iter().any(|v| json_equal(found, v)))
            };
            if !self.json.iter().all(holds) {
                return false;
            }
        }
        self.headers.iter().all(|(name, wanted)| {
            headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .any(|(_, v)| wanted.iter().any(|w| header_value_is(v, w)))
        })
    }
}

/// Whether a header value is `want` (lower-case): equal ignoring case and surrounding space,
/// or equal once its `;` parameters are dropped (`application/json; charset=utf-8`). An
/// empty `want` accepts any value.
fn header_value_is(value: &str, want: &str) -> bool {
    let value = value.trim();
    want.is_empty()
        || value.eq_ignore_ascii_case(want)
        || value
            .split(';')
            .next()
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
}

/// JSON equality where `1` and `1.0` are the same number.
fn json_equal(found: &Value, want: &Value) -> bool {
    match (found, want) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => found == want,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_match_exactly_or_by_media_type() {
        assert!(header_value_is(
            "application/json; charset=utf-8",
            "application/json"
        ));
        assert!(header_value_is(" 0 ", "0"));
        assert!(!header_value_is("10", "0"));
        assert!(!header_value_is("text/html", "application/json"));
        assert!(header_value_is("anything", ""));
    }

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
