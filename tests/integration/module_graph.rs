//! The shape of the code: which top-level module of `src/` may use which.
//!
//! Data flows one way: source → blob → matcher → finding → suppress → verify → report, with the
//! rules feeding the matcher, and cli, config and app (and the commands beside app) on top. Every
//! `crate::X` a file under `src/X/` (or `src/X.rs`) names outside a comment is an edge X → …;
//! each must be in [`ALLOWED`], so the graph cannot drift back into cycles unnoticed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module and the modules it may use. A module missing here may use none.
const ALLOWED: &[(&str, &[&str])] = &[
    // The leaves: they know nothing of each other.
    ("delta", &[]),
    // Decoding carries a delta's segments over from its base.
    ("decode", &["delta"]),
    // The duration grammar the command line and the config file share.
    ("duration", &[]),
    ("progress", &[]),
    ("rules", &[]),
    // How a path is written in a URL, shared by SARIF locations and forge links.
    ("url_path", &[]),
    ("source", &["delta", "url_path"]),
    // The engine, in the order data flows through it.
    ("matcher", &["delta", "rules"]),
    ("finding", &["matcher", "rules"]),
    ("suppress", &["finding", "rules", "source"]),
    (
        "scan",
        &[
            "decode", "delta", "finding", "matcher", "source", "suppress",
        ],
    ),
    ("verify", &["finding", "rules"]),
    ("report", &["finding", "rules", "url_path"]),
    // Organisation audits: repositories listed, sharded, cloned and recorded; records merged.
    ("audit", &["finding", "rules"]),
    // `rules check`: the rules' examples through the matcher, recorded answers through verify.
    ("selftest", &["finding", "matcher", "rules", "verify"]),
    // What was typed (cli) and what it means (config): config reads cli, never the other way.
    // cli names report to convert `--format` into the report's own format, and source for
    // `--platform`.
    ("cli", &["duration", "report", "source"]),
    (
        "config",
        &[
            "cli", "decode", "duration", "report", "rules", "scan", "source", "suppress", "verify",
        ],
    ),
    // The commands (`audit` and `merge` among them): they wire the stages together.
    (
        "app",
        &[
            "audit", "cli", "config", "delta", "finding", "matcher", "progress", "report", "rules",
            "scan", "selftest", "source", "suppress", "verify",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules named by `crate::…` paths in `text`, comments left out:
/// `crate::x::y`, `crate::x`, and each name of `crate::{x, y::z}` (also over several lines).
fn crate_paths(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        // `keyhound_crate::` or `$crate::` is not this crate's path.
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = ident(item);
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Every edge between top-level modules, with the files that make it.
fn edges(src: &Path) -> BTreeMap<(String, String), Vec<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let from = first.strip_suffix(".rs").unwrap_or(&first).to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        for to in crate_paths(&text) {
            if to != from {
                edges
                    .entry((from.clone(), to))
                    .or_default()
                    .push(rel.display().to_string());
            }
        }
    }
    edges
}

#[test]
fn module_edges_follow_the_layering() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let stray: Vec<String> = edges(&src)
        .into_iter()
        .filter(|((from, to), _)| {
            // lib.rs and main.rs declare and use the modules; they are the crate, not a layer.
            !matches!(from.as_str(), "lib" | "main")
                && !allowed
                    .get(from.as_str())
                    .is_some_and(|tos| tos.contains(&to.as_str()))
        })
        .map(|((from, to), files)| format!("{from} -> {to} (in {})", files.join(", ")))
        .collect();
    assert!(
        stray.is_empty(),
        "module edges outside the layering (see ALLOWED in tests/integration/module_graph.rs):\n{}",
        stray.join("\n")
    );
}

#[test]
fn the_edge_finder_sees_every_form_of_path() {
    let text = "use crate::cli::Format;\n\
                use crate::{report, source::git};\n\
                use crate::{\n    matcher::Match,\n    finding,\n};\n\
                let x = crate::verify::run();\n\
                // use crate::audit;\n\
                /// [`crate::scan`]\n\
                macro_rules! m { () => { $crate::decode } }\n";
    let found: Vec<String> = crate_paths(text).into_iter().collect();
    assert_eq!(
        found,
        ["cli", "finding", "matcher", "report", "source", "verify"]
    );
}

#[test]
fn a_backward_edge_is_caught() {
    // What the test above would say if src/report used the CLI.
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let paths = crate_paths("use crate::cli::Format;\n");
    assert!(paths
        .iter()
        .any(|to| !allowed["report"].contains(&to.as_str())));
}

#[test]
fn the_release_binary_carries_no_http_server() {
    // `rules check` replays recorded answers in-process; tiny_http serves only the tests' mock.
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let manifest: toml::Table = manifest.parse().unwrap();
    let normal = manifest["dependencies"].as_table().unwrap();
    assert!(
        !normal.contains_key("tiny_http"),
        "tiny_http is a dev-dependency only"
    );
    assert!(manifest["dev-dependencies"]
        .as_table()
        .unwrap()
        .contains_key("tiny_http"));
}
