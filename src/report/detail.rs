//! The verdict details every format shows beside a verdict: what a valid key can do
//! (`key_info`, read from the check's answer) and the companion parts it was checked with
//! (`checked_with`, redacted unless `--show-secrets`).

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::finding::{redact_part, Finding};

/// Ordered `name: value` pairs, serialized as a JSON object in that order.
pub(super) struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Pairs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// What the key can do, as the check's answer says.
pub(super) fn key_info(f: &Finding) -> Pairs {
    Pairs(f.key_info.clone())
}

/// The companion parts the verdict was reached with, redacted unless `show`.
pub(super) fn checked_with(f: &Finding, show: bool) -> Pairs {
    Pairs(
        f.checked_with
            .iter()
            .map(|(name, value)| {
                let shown = if show {
                    value.expose().to_string()
                } else {
                    redact_part(value.expose())
                };
                (name.clone(), shown)
            })
            .collect(),
    )
}

/// `name value, name value` for people (`identity octocat, scopes repo, gist`): the human
/// note and the CSV cell. Empty when there is nothing.
pub(super) fn text(pairs: &Pairs, separator: &str) -> String {
    pairs
        .0
        .iter()
        .map(|(k, v)| format!("{k}{separator}{v}"))
        .collect::<Vec<_>>()
        .join("; ")
}
