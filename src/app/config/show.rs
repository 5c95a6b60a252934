//! `keyhound config`: the effective configuration, as TOML a config file could hold, with each
//! setting commented with where it came from (keyhound's default, or the file and line).
//! When a scan does something unexpected, this answers "which setting, and who set it?".

use std::fmt::Write as _;

use crate::config::file::{
    format_duration, format_size, FoundBy, Origin, Settings, CONFIG_ENV, CONFIG_FILE,
};
use crate::suppress::Allowlist;

/// Renders `settings` as commented TOML.
pub fn render(settings: &Settings) -> String {
    let mut out = String::new();
    let base_kind = if settings.in_repository {
        "the repository root"
    } else {
        "the scanned directory"
    };
    let _ = writeln!(out, "# keyhound: the effective configuration");
    let _ = writeln!(
        out,
        "# base directory: {} ({base_kind}); path globs and the baseline are relative to it",
        settings.base.display()
    );
    if let Some(user) = &settings.user {
        let _ = writeln!(out, "# user config: {} (your own, trusted)", user.display);
    }
    match &settings.source {
        Some(source) => {
            let how = match source.found_by {
                FoundBy::Flag => "named by --config".to_string(),
                FoundBy::Env => format!("named by ${CONFIG_ENV}"),
                FoundBy::Discovery => format!("{CONFIG_FILE} at the base directory"),
                FoundBy::User => "your own".to_string(),
            };
            let _ = writeln!(out, "# config file: {} ({how})", source.display);
            if source.found_by.is_repository() {
                let _ = writeln!(
                    out,
                    "# repository config: it may narrow what is reported, never turn live checks \
                     on, move them, or reach outside the tree"
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "# config file: none (no --config, no ${CONFIG_ENV}, no {CONFIG_FILE} at the base directory)"
            );
        }
    }
    for what in &settings.ignored {
        let _ = writeln!(out, "# ignored: {what}");
    }
    let _ = writeln!(
        out,
        "# Flags of `scan` and `history` (--max-file-size, --baseline, --no-baseline) win over these.\n"
    );

    setting(
        &mut out,
        "max_file_size",
        &string(&format_size(settings.max_file_size.value)),
        &settings.max_file_size.origin,
    );
    setting(
        &mut out,
        "max_decode_depth",
        &settings.max_decode_depth.value.to_string(),
        &settings.max_decode_depth.origin,
    );
    setting(
        &mut out,
        "exclude_paths",
        &strings(settings.exclude_paths.value.patterns()),
        &settings.exclude_paths.origin,
    );
    if settings.disable_rules.is_empty() {
        setting(&mut out, "disable_rules", "[]", &Origin::Default);
    } else {
        let _ = writeln!(out, "disable_rules = [");
        for id in &settings.disable_rules {
            let _ = writeln!(out, "  {},  # {}", string(&id.value), from(&id.origin));
        }
        let _ = writeln!(out, "]");
    }
    let exists = if settings.baseline_path().is_file() {
        "present"
    } else {
        "not present"
    };
    let _ = writeln!(
        out,
        "baseline = {}  # {} ({exists})",
        string(&settings.baseline.value),
        from(&settings.baseline.origin)
    );

    match &settings.allowlists.global {
        Some(allow) => allowlist(&mut out, "allow", allow),
        None => {
            let _ = writeln!(out, "\n[allow]  # default: nothing allowlisted");
        }
    }
    for (id, allow) in &settings.allowlists.rules {
        allowlist(&mut out, &format!("rules.{id}.allow"), allow);
    }

    let live = &settings.live_checks;
    let _ = writeln!(out, "\n[verify]");
    setting(
        &mut out,
        "enabled",
        &live.enabled.value.to_string(),
        &live.enabled.origin,
    );
    setting(
        &mut out,
        "timeout",
        &string(&format_duration(live.timeout.value)),
        &live.timeout.origin,
    );
    setting(
        &mut out,
        "connect_timeout",
        &string(&format_duration(live.connect_timeout.value)),
        &live.connect_timeout.origin,
    );
    if live.endpoints.is_empty() {
        let _ = writeln!(
            out,
            "\n[verify.endpoints]  # default: each rule's own endpoint"
        );
    } else {
        let _ = writeln!(out, "\n[verify.endpoints]");
        for (id, url) in &live.endpoints {
            setting(&mut out, id, &string(&url.value), &url.origin);
        }
    }

    if !settings.rules.is_empty() || !settings.repository_rules.is_empty() {
        let _ = writeln!(
            out,
            "\n# Rules added by [[rule]] tables (`keyhound rules list` lists every rule):"
        );
        for rule in settings.rules.iter().chain(&settings.repository_rules) {
            let _ = writeln!(
                out,
                "#   {}: {}  (from {}:{})",
                rule.id, rule.name, rule.origin, rule.line
            );
        }
    }
    out
}

fn setting(out: &mut String, key: &str, value: &str, origin: &Origin) {
    let _ = writeln!(out, "{key} = {value}  # {}", from(origin));
}

fn allowlist(out: &mut String, table: &str, allow: &Allowlist) {
    let _ = writeln!(out, "\n[{table}]  # from {}", allow.origin);
    let _ = writeln!(out, "paths = {}", strings(allow.paths()));
    let _ = writeln!(out, "regexes = {}", strings(allow.regexes()));
    let _ = writeln!(out, "stopwords = {}", strings(allow.stopwords()));
}

fn from(origin: &Origin) -> String {
    match origin {
        Origin::Default => "default".to_string(),
        other => format!("from {other}"),
    }
}

/// A TOML string literal.
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML array of string literals.
fn strings(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::file::{ConfigFile, ConfigSource};

    #[test]
    fn output_is_a_valid_config_file() {
        let source = ConfigSource {
            path: PathBuf::from("k.toml"),
            display: "k.toml".into(),
            found_by: FoundBy::Flag,
        };
        let text = "max_file_size = 1000\ndisable_rules = [\"jwt\", \"bearer-token\"]\n[allow]\nregexes = ['''^a\\d\"b''']\n[rules.jwt.allow]\npaths = [\"x/**\"]\n[verify.endpoints]\njwt = \"https://h/x\"\n";
        let settings =
            Settings::parse(Settings::defaults(PathBuf::from("/r"), true), source, text).unwrap();
        let shown = render(&settings);
        assert!(
            shown.contains("disable_rules = [\n  \"jwt\",  # from k.toml:2\n"),
            "{shown}"
        );
        assert!(
            shown.contains("max_file_size = \"1000\"  # from k.toml:1"),
            "{shown}"
        );
        assert!(shown.contains("timeout = \"10s\"  # default"), "{shown}");
        let reparsed: ConfigFile =
            toml::from_str(&shown).unwrap_or_else(|e| panic!("{e}\n{shown}"));
        let regexes = &reparsed.allow.unwrap().into_inner().regexes;
        assert_eq!(regexes[0].get_ref(), r#"^a\d"b"#);
    }
}
