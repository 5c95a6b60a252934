//! Property tests: arbitrary rule files, config files and scanned bytes never make keyhound
//! panic. Each property runs a bounded number of cases (`cargo test` runs them in CI in
//! seconds); `PROPTEST_CASES=100000 cargo test fuzz` runs them for longer by hand.

use std::path::PathBuf;
use std::sync::OnceLock;

use keyhound::config::file::{ConfigSource, FoundBy, Settings};
use keyhound::finding;
use keyhound::matcher::{Matcher, Scratch};
use keyhound::rules::{parse_rule_file, RuleSet};
use keyhound::suppress::inline_allowed;
use proptest::prelude::*;

/// Cases per property unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn builtin() -> &'static Matcher {
    static MATCHER: OnceLock<Matcher> = OnceLock::new();
    MATCHER.get_or_init(|| Matcher::new(RuleSet::builtin().expect("the built-in rules load")))
}

/// Scans `bytes` through every stage that reads them: matching, locating (lines, columns,
/// snippets), inline markers, grouping into findings.
fn scan(matcher: &Matcher, bytes: &[u8]) {
    let mut matches = Vec::new();
    matcher.scan(bytes, Some(b"f.env"), &mut Scratch::default(), &mut matches);
    let hits = finding::hits_in(bytes, "f.env", &matches, matcher.rules());
    for m in &matches {
        let _ = inline_allowed(bytes, &(m.start..m.end));
    }
    for f in finding::findings_from(hits, matcher.rules()) {
        assert!(f
            .locations
            .iter()
            .all(|l| l.line >= 1 && l.end_line >= l.line));
        let _ = f.primary().snippet.render(false);
    }
}

/// Text made of the pieces scanners and parsers trip on: key prefixes, line ends of every
/// kind, markers, multi-byte characters, quotes, and random runs.
fn scanned_text() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"pc_live_".to_vec()),
        Just(b"pc_test_".to_vec()),
        Just(b"AKIA".to_vec()),
        Just(b"ghp_".to_vec()),
        Just(b"-----BEGIN RSA PRIVATE KEY-----\n".to_vec()),
        Just(b"Bearer ".to_vec()),
        Just(b"keyhound:allow".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just("é€😀".as_bytes().to_vec()),
        Just(b"\"'=:".to_vec()),
        "[A-Za-z0-9+/_-]{1,40}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(piece, 0..64).prop_map(|parts| parts.concat())
}

/// A rule file that is TOML-shaped, with arbitrary values where a user writes them.
fn rule_file() -> impl Strategy<Value = String> {
    let value = prop_oneof![".{0,20}", "[a-z_]{1,12}", Just(String::new())];
    let regex = prop_oneof![
        ".{0,30}",
        Just("(?P<key>pc_[a-z]{4}_[A-Za-z0-9]{20})".to_string()),
        Just("(a|b)*{1000}".to_string()),
        Just("[".to_string()),
    ];
    (value.clone(), regex, value.clone(), value, any::<bool>()).prop_map(
        |(id, regex, keyword, extra, whole)| {
            format!(
                "[[rule]]\nid = {id:?}\nname = {extra:?}\nprovider = {extra:?}\nseverity = \
                 {keyword:?}\nkeywords = [{keyword:?}]\nregex = {regex:?}\nwhole_file = {whole}\n\
                 examples = [{extra:?}]\n"
            )
        },
    )
}

/// A config file that is TOML-shaped, with arbitrary values.
fn config_file() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        ".{0,20}".prop_map(|s| format!("{s:?}")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        Just("1e300".to_string()),
        Just("-0.0".to_string()),
        Just("[\"\"]".to_string()),
    ];
    let key = prop::sample::select(vec![
        "[verify]\ntimeout",
        "[verify]\nconnect_timeout",
        "[verify]\nenabled",
        "max_file_size",
        "exclude_paths",
        "baseline",
        "[allow]\npaths",
        "[allow]\nregexes",
        "[allow]\nstopwords",
        "disable_rules",
        "[verify.endpoints]\npolitical-comms-api-key",
    ]);
    prop::collection::vec((key, value), 0..4).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect()
    })
}

fn parse_config(text: &str) {
    let source = ConfigSource {
        path: PathBuf::from("fuzz.toml"),
        display: "fuzz.toml".into(),
        found_by: FoundBy::Flag,
    };
    let _ = Settings::parse(Settings::defaults(PathBuf::from("/r"), true), source, text);
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn scanning_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        scan(builtin(), &bytes);
    }

    #[test]
    fn scanning_key_shaped_text_never_panics(bytes in scanned_text()) {
        scan(builtin(), &bytes);
    }

    #[test]
    fn arbitrary_config_text_never_panics(text in ".{0,200}") {
        parse_config(&text);
    }

    #[test]
    fn config_shaped_text_never_panics(text in config_file()) {
        parse_config(&text);
    }

    #[test]
    fn arbitrary_rule_file_text_never_panics(text in ".{0,200}") {
        let _ = parse_rule_file("fuzz.toml", &text);
    }
}

proptest! {
    // Each case compiles a regex: fewer cases.
    #![proptest_config(config(32))]

    #[test]
    fn rule_shaped_files_never_panic_and_scan(text in rule_file(), bytes in scanned_text()) {
        if let Ok(rules) = parse_rule_file("fuzz.toml", &text) {
            scan(&Matcher::new(RuleSet::from_rules(rules)), &bytes);
        }
    }
}
