//! Embeds every `rules/*.toml` in the binary, parsed and validated, so that adding a provider is
//! adding a file and start-up costs the same however many files there are.
//!
//! Writes `$OUT_DIR/builtin_rules.bin` (the pre-parsed rules, see `src/rules/embedded.rs`) and
//! `$OUT_DIR/builtin_rules.rs` (the sorted file names). A rule file that does not parse, a regex
//! that does not, or an id defined twice fails the build with the file, line and rule.

use std::fmt::Write as _;
use std::path::Path;

#[allow(dead_code)]
mod rules {
    #[path = "../src/rules/embedded.rs"]
    pub mod embedded;
    #[path = "../src/rules/spec.rs"]
    pub mod spec;
}

fn main() {
    // Read at run time, not baked in with env!(): a build script compiled in one checkout and
    // reused from a copied target/ directory would otherwise embed that checkout's rules.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=src/rules/embedded.rs");
    println!("cargo:rerun-if-changed=src/rules/spec.rs");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable rules/ entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    names.sort();
    let mut code = String::from("&[\n");
    let mut files = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for name in &names {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(code, "    {name:?},").expect("writing to a String");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        match rules::embedded::embed(name, &text) {
            Ok(file) => files.push(file),
            Err(e) => errors.push(format!("rules/{e}")),
        }
    }
    code.push_str("]\n");
    let mut first_seen = std::collections::HashMap::new();
    for file in &files {
        for rule in &file.rules {
            let id = rule.spec.id.get_ref();
            if let Some(first) =
                first_seen.insert(id.clone(), format!("{}:{}", file.name, rule.line))
            {
                errors.push(format!(
                    "rules/{}:{}: rule `{id}` is already defined in rules/{first}",
                    file.name, rule.line
                ));
            }
        }
    }
    if !errors.is_empty() {
        panic!("invalid built-in rules:\n{}", errors.join("\n"));
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        std::fs::write(&path, bytes)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    };
    write("builtin_rules.rs", code.as_bytes());
    let examples = rules::embedded::split_examples(&mut files);
    write("builtin_rules.bin", &rules::embedded::encode(&files));
    write(
        "builtin_examples.bin",
        &rules::embedded::encode_examples(&examples),
    );
}
