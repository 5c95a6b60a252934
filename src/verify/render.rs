//! Filling a rule's check in: the templates of its path, headers and body rendered with a
//! key (and the values found beside it), each value escaped for where it goes. The templates
//! are the rule's (parsed in [`crate::rules::live`]); what is sent is verify's business.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use serde_json::Value;

use crate::rules::live::forms::{BodyForm, JsonTemplate};
use crate::rules::live::{Escape, Piece, Template};

impl Template {
    /// Fills the holes. `capture` looks up a named capture; a missing one is returned as the
    /// error (the name only, never a value).
    pub fn render<'v>(
        &self,
        secret: &str,
        capture: &dyn Fn(&str) -> Option<&'v str>,
        escape: Escape,
    ) -> Result<String, String> {
        let mut out = String::new();
        for piece in self.pieces() {
            let value = match piece {
                Piece::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Piece::Secret => secret,
                Piece::Capture(name) => capture(name).ok_or_else(|| name.clone())?,
            };
            match escape {
                Escape::None => out.push_str(value),
                Escape::Url => out.push_str(&percent_encode(value)),
            }
        }
        Ok(out)
    }

    /// The template with every value shown as `*****`, for `--verify-dry-run`.
    pub fn redacted(&self) -> String {
        self.render("*****", &|_| Some("*****"), Escape::None)
            .unwrap_or_default()
    }
}

/// Percent-encodes all but RFC 3986 unreserved characters and `:`, which a path segment and a
/// query may carry as it is (a Telegram bot token, `123:AA…`, sits in the path, and servers
/// that compare the raw path would not decode `%3A`).
fn percent_encode(value: &str) -> Cow<'_, str> {
    const ENCODED: &AsciiSet = &UNRESERVED.remove(b':');
    utf8_percent_encode(value, ENCODED).into()
}

impl BodyForm {
    /// The body with the values filled in and encoded; a missing capture is returned as its
    /// name.
    pub fn render<'v>(
        &self,
        secret: &str,
        capture: &dyn Fn(&str) -> Option<&'v str>,
    ) -> Result<String, String> {
        match self {
            BodyForm::Form(fields) => {
                let mut out = String::new();
                for (name, template) in fields {
                    let value = template.render(secret, capture, Escape::None)?;
                    if !out.is_empty() {
                        out.push('&');
                    }
                    out.push_str(&form_encode(name));
                    out.push('=');
                    out.push_str(&form_encode(&value));
                }
                Ok(out)
            }
            BodyForm::Json(j) => Ok(render_json(j, secret, capture)?.to_string()),
        }
    }
}

fn render_json<'v>(
    j: &JsonTemplate,
    secret: &str,
    capture: &dyn Fn(&str) -> Option<&'v str>,
) -> Result<Value, String> {
    Ok(match j {
        JsonTemplate::Text(t) => Value::String(t.render(secret, capture, Escape::None)?),
        JsonTemplate::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| render_json(i, secret, capture))
                .collect::<Result<_, _>>()?,
        ),
        JsonTemplate::Object(fields) => {
            let mut map = serde_json::Map::new();
            for (k, v) in fields {
                map.insert(k.clone(), render_json(v, secret, capture)?);
            }
            Value::Object(map)
        }
        JsonTemplate::Literal(v) => v.clone(),
    })
}

/// `application/x-www-form-urlencoded` encoding: everything but RFC 3986 unreserved
/// characters is percent-encoded, so a value cannot add a field.
pub fn form_encode(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// What RFC 3986 leaves unencoded is letters, digits and `-._~`: everything else is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_and_escape() {
        let t = Template::parse("/v1/{{secret}}/x?id={{ captures.id }}").unwrap();
        let out = t
            .render("a/b?c", &|n| (n == "id").then_some("1 2"), Escape::Url)
            .unwrap();
        assert_eq!(out, "/v1/a%2Fb%3Fc/x?id=1%202");
        let bot = Template::parse("/bot{{ secret }}/getMe").unwrap();
        assert_eq!(
            bot.render("123:AAx", &|_| None, Escape::Url).unwrap(),
            "/bot123:AAx/getMe"
        );
        assert_eq!(t.redacted(), "/v1/*****/x?id=*****");
        assert!(Template::parse("{{ secrets }}").is_err());
        assert!(Template::parse("{{ secret").is_err());
        assert_eq!(
            t.render("s", &|_| None, Escape::None),
            Err("id".to_string())
        );
    }
}
