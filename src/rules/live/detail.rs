//! What a valid key can do, read from its check's own answer: `[rule.verify.detail]` names a
//! field (`identity`, `scopes`, `account`...) and where the answer carries it (a JSON dotted
//! path, an XML element, a header). No extra request is ever made for it.

use std::collections::BTreeMap;

use super::JsonPath;
use crate::rules::spec::DetailSpec;

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
