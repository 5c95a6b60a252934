//! Request forms beyond a header template, compiled from `[rule.verify]`: HTTP Basic
//! credentials, a form or JSON body, companion parts of a multi-part credential, a request
//! signature (AWS Signature Version 4), and the verdict details read from a valid answer.
//!
//! Like the rest of a check, these only ever fill in values: none of them can change where a
//! request goes.

use serde_json::Value;

use super::companion::Companion;
use super::detail::DetailField;
use super::Template;
use crate::rules::spec::{SignSpec, VerifySpec};

/// The parts of a check beyond method, URL, headers and body.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// `basic = { username, password }`: sent as `Authorization: Basic ...`.
    pub basic: Option<Basic>,
    /// `form = {...}` or `json_body = {...}`: the POST body, encoded.
    pub body: Option<BodyForm>,
    /// Other parts of the credential, searched near the key.
    pub companions: Vec<Companion>,
    /// A signature computed over the request when it is sent.
    pub sign: Option<Signing>,
    /// What a valid answer tells about the key, in display order.
    pub detail: Vec<DetailField>,
}

impl Extras {
    /// Every template of the extras (for the captures they use and whether the key is sent).
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        if let Some(b) = &self.basic {
            out.extend([&b.username, &b.password]);
        }
        if let Some(body) = &self.body {
            body.templates(&mut out);
        }
        if let Some(s) = &self.sign {
            out.extend([&s.access_key_id, &s.secret_access_key]);
        }
        out
    }

    /// The template variables the companions provide (`{{ captures.NAME }}`).
    pub fn companion_names(&self) -> impl Iterator<Item = &str> {
        self.companions.iter().map(|c| c.name.as_str())
    }
}

/// HTTP Basic credentials.
#[derive(Debug, Clone)]
pub struct Basic {
    pub username: Template,
    pub password: Template,
}

/// A POST body built from fields, each value encoded as its format needs.
#[derive(Debug, Clone)]
pub enum BodyForm {
    /// `application/x-www-form-urlencoded`, fields in the order written.
    Form(Vec<(String, Template)>),
    /// `application/json`.
    Json(JsonTemplate),
}

/// A JSON document whose strings are templates.
#[derive(Debug, Clone)]
pub enum JsonTemplate {
    Text(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
    Literal(Value),
}

impl BodyForm {
    /// The `Content-Type` the body is sent with (unless the rule sets its own).
    pub fn content_type(&self) -> &'static str {
        match self {
            BodyForm::Form(_) => "application/x-www-form-urlencoded",
            BodyForm::Json(_) => "application/json",
        }
    }

    fn templates<'a>(&'a self, out: &mut Vec<&'a Template>) {
        fn walk<'a>(j: &'a JsonTemplate, out: &mut Vec<&'a Template>) {
            match j {
                JsonTemplate::Text(t) => out.push(t),
                JsonTemplate::Array(items) => items.iter().for_each(|i| walk(i, out)),
                JsonTemplate::Object(fields) => fields.iter().for_each(|(_, v)| walk(v, out)),
                JsonTemplate::Literal(_) => {}
            }
        }
        match self {
            BodyForm::Form(fields) => out.extend(fields.iter().map(|(_, t)| t)),
            BodyForm::Json(j) => walk(j, out),
        }
    }
}

/// The signing algorithms a check may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// AWS Signature Version 4 (`AWS4-HMAC-SHA256`, signed headers).
    AwsSigV4,
}

/// `[rule.verify.sign]`, compiled.
#[derive(Debug, Clone)]
pub struct Signing {
    pub algorithm: Algorithm,
    pub service: String,
    pub region: String,
    pub access_key_id: Template,
    pub secret_access_key: Template,
}

/// Compiles the extras of a `[rule.verify]` table, taking them out of `spec`. `method` is the
/// check's (upper-case) method.
pub fn compile(method: &str, spec: &mut VerifySpec) -> Result<Extras, String> {
    let header_set = |name: &str| spec.headers.keys().any(|h| h.eq_ignore_ascii_case(name));
    let basic = match spec.basic.take() {
        None => None,
        Some(_) if header_set("authorization") => {
            return Err("verify.basic and an Authorization header cannot both be set".into())
        }
        Some(b) => Some(Basic {
            username: single_line(&b.username, "verify.basic.username")?,
            password: single_line(&b.password, "verify.basic.password")?,
        }),
    };
    let form = spec.form.take();
    let json = spec.json_body.take();
    let body = match (form, json) {
        (Some(_), Some(_)) => {
            return Err("verify.form and verify.json_body exclude each other".into())
        }
        (None, None) => None,
        (Some(f), None) => Some(BodyForm::Form(
            f.into_iter()
                .map(|(k, v)| {
                    Template::parse(&v)
                        .map(|t| (k.clone(), t))
                        .map_err(|e| format!("verify.form.{k}: {e}"))
                })
                .collect::<Result<_, _>>()?,
        )),
        (None, Some(j)) => Some(BodyForm::Json(
            json_template(j).map_err(|e| format!("verify.json_body: {e}"))?,
        )),
    };
    if body.is_some() {
        if method != "POST" {
            return Err(format!(
                "verify.form / verify.json_body: a {method} request has no body; use POST"
            ));
        }
        if spec.body.is_some() {
            return Err("verify.body cannot be given with verify.form or verify.json_body".into());
        }
    }
    let companions = std::mem::take(&mut spec.companions)
        .into_iter()
        .enumerate()
        .map(|(i, c)| Companion::compile(c).map_err(|e| format!("verify.companion[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, c) in companions.iter().enumerate() {
        if companions[..i].iter().any(|o| o.name == c.name) {
            return Err(format!(
                "verify.companion: two companions are named `{}`",
                c.name
            ));
        }
    }
    let sign = spec.sign.take().map(compile_sign).transpose()?;
    if sign.is_some() && basic.is_some() {
        return Err("verify.sign and verify.basic cannot both be set".into());
    }
    if sign.is_some() && header_set("authorization") {
        return Err("verify.sign computes the Authorization header: the rule cannot set it".into());
    }
    let detail = super::detail::compile(std::mem::take(&mut spec.detail))?;
    Ok(Extras {
        basic,
        body,
        companions,
        sign,
        detail,
    })
}

fn single_line(text: &str, what: &str) -> Result<Template, String> {
    if text.contains(['\r', '\n']) {
        return Err(format!("{what}: a credential cannot span lines"));
    }
    Template::parse(text).map_err(|e| format!("{what}: {e}"))
}

fn compile_sign(spec: SignSpec) -> Result<Signing, String> {
    let algorithm = match spec.algorithm.as_str() {
        "aws-sigv4" => Algorithm::AwsSigV4,
        other => {
            return Err(format!(
                "verify.sign.algorithm `{other}` is not one keyhound knows (`aws-sigv4`)"
            ))
        }
    };
    let plain = |v: &str, what: &str| {
        if !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            Ok(v.to_string())
        } else {
            Err(format!(
                "verify.sign.{what} `{v}` must be lower-case letters, digits and dashes"
            ))
        }
    };
    Ok(Signing {
        algorithm,
        service: plain(&spec.service, "service")?,
        region: plain(&spec.region, "region")?,
        access_key_id: single_line(&spec.access_key_id, "verify.sign.access_key_id")?,
        secret_access_key: single_line(&spec.secret_access_key, "verify.sign.secret_access_key")?,
    })
}

fn json_template(value: toml::Value) -> Result<JsonTemplate, String> {
    Ok(match value {
        toml::Value::String(s) => JsonTemplate::Text(Template::parse(&s)?),
        toml::Value::Integer(i) => JsonTemplate::Literal(Value::from(i)),
        toml::Value::Float(f) => JsonTemplate::Literal(Value::from(f)),
        toml::Value::Boolean(b) => JsonTemplate::Literal(Value::Bool(b)),
        toml::Value::Array(items) => JsonTemplate::Array(
            items
                .into_iter()
                .map(json_template)
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => JsonTemplate::Object(
            t.into_iter()
                .map(|(k, v)| json_template(v).map(|j| (k, j)))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Datetime(d) => JsonTemplate::Literal(Value::String(d.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_cannot_add_fields() {
        let body = BodyForm::Form(vec![
            ("token".into(), Template::parse("{{ secret }}").unwrap()),
            ("v".into(), Template::parse("2").unwrap()),
        ]);
        assert_eq!(
            body.render("a&b=c d", &|_| None).unwrap(),
            "token=a%26b%3Dc%20d&v=2"
        );
    }

    #[test]
    fn json_bodies_escape_their_values() {
        let v: toml::Value =
            toml::from_str(r#"x = { key = "{{ secret }}", n = 1, l = ["{{ captures.id }}"] }"#)
                .unwrap();
        let body = BodyForm::Json(json_template(v["x"].clone()).unwrap());
        let text = body.render("q\"}", &|_| Some("i")).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["key"], "q\"}");
        assert_eq!(parsed["n"], 1);
        assert_eq!(parsed["l"][0], "i");
    }
}
