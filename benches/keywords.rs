//! The keyword pass on real files, std only: `cargo bench --bench keywords -- DIR...`.
//!
//! Loads every text file under the given directories into memory (binary files, `.git` and
//! files over 16 MiB are left out), then times, on one thread:
//! - building the keyword automaton over every built-in rule's keywords, as each
//!   Aho-Corasick kind;
//! - the overlapping search the matcher runs, as each kind (MB/s; every kind must find the
//!   same occurrences, which this checks), and with `--features vectorscan` as one Vectorscan
//!   block-mode database of caseless literals;
//! - `Matcher::new` and `Matcher::scan` over every file (the whole matcher, regexes included).
//!
//! It writes the keywords, one a line, to `$TMPDIR/keyhound-keywords.txt`, so that ripgrep can
//! search the same files for the same keywords: `rg -i -F -c -f FILE DIR`. Prints figures and
//! asserts nothing about them. Without `--bench` (as `cargo test --all-targets` runs it), it only
//! smoke-tests itself on a small buffer.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use keyhound::matcher::{Matcher, Scratch};
use keyhound::rules::RuleSet;

fn load(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != ".git" {
                load(&path, out);
            }
        } else if kind.is_file() {
            if let Ok(bytes) = std::fs::read(&path) {
                let head = &bytes[..bytes.len().min(8192)];
                if bytes.len() <= 16 << 20 && !head.contains(&0) {
                    out.push(bytes);
                }
            }
        }
    }
}

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut result = 0;
    for _ in 0..runs {
        let start = Instant::now();
        result = black_box(f());
        best = best.min(start.elapsed());
    }
    (best, result)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    let dirs: Vec<PathBuf> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    let mut blobs = Vec::new();
    if full && !dirs.is_empty() {
        for dir in &dirs {
            load(dir, &mut blobs);
        }
    } else {
        println!("smoke run (`cargo bench --bench keywords -- DIR...` for real figures)");
        blobs.push(b"let api_key = env(\"KEY\"); // token, secret, password\n".repeat(1000));
    }
    let runs = if full { 5 } else { 1 };
    let bytes: usize = blobs.iter().map(Vec::len).sum();
    println!("{} files, {:.1} MB", blobs.len(), bytes as f64 / 1e6);

    let rules = RuleSet::builtin().expect("built-in rules load");
    let mut keywords = Matcher::new(rules.clone()).keywords().to_vec();
    keywords.sort();
    let list = std::env::temp_dir().join("keyhound-keywords.txt");
    std::fs::write(&list, keywords.join("\n") + "\n").expect("writing the keyword list");
    println!(
        "{} rules, {} distinct keywords (written to {})",
        rules.len(),
        keywords.len(),
        list.display()
    );

    let mut counts = Vec::new();
    for (name, kind) in [
        ("noncontiguous NFA", AhoCorasickKind::NoncontiguousNFA),
        ("contiguous NFA", AhoCorasickKind::ContiguousNFA),
        ("DFA", AhoCorasickKind::DFA),
    ] {
        let build = || {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(kind))
                .build(&keywords)
                .expect("keywords build")
        };
        let (built, _) = best_of(runs * 2, || {
            black_box(build());
            0
        });
        let automaton = build();
        let (searched, found) = best_of(runs, || {
            blobs
                .iter()
                .map(|b| automaton.find_overlapping_iter(b).count())
                .sum()
        });
        counts.push(found);
        println!(
            "keywords, {name:<18} build {:>7.2} ms  search {:>8.1} ms {:>8.1} MB/s  {found} occurrences",
            built.as_secs_f64() * 1e3,
            searched.as_secs_f64() * 1e3,
            bytes as f64 / 1e6 / searched.as_secs_f64()
        );
    }
    #[cfg(feature = "vectorscan")]
    counts.push(vectorscan_pass(&keywords, &blobs, runs, bytes));
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "the automaton kinds found different occurrences: {counts:?}"
    );

    let (built, _) = best_of(runs * 2, || {
        black_box(Matcher::new(rules.clone()));
        0
    });
    let matcher = Matcher::new(rules);
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    let (scanned, found) = best_of(runs, || {
        let mut found = 0;
        for blob in &blobs {
            matcher.scan(blob, None, &mut scratch, &mut out);
            found += out.len();
        }
        found
    });
    println!(
        "Matcher::new {:>7.2} ms; Matcher::scan every file {:>8.1} ms {:>8.1} MB/s  {found} matches",
        built.as_secs_f64() * 1e3,
        scanned.as_secs_f64() * 1e3,
        bytes as f64 / 1e6 / scanned.as_secs_f64()
    );
}

/// The same keywords as one Vectorscan block database of caseless literals (what the matcher
/// builds with the `vectorscan` feature): build time, search time, occurrences.
#[cfg(feature = "vectorscan")]
fn vectorscan_pass(keywords: &[String], blobs: &[Vec<u8>], runs: usize, bytes: usize) -> usize {
    use vectorscan_rs::{BlockDatabase, BlockScanner, Flag, Pattern, Scan};
    let build = || {
        let patterns = keywords
            .iter()
            .enumerate()
            .map(|(id, k)| {
                let mut expression = Vec::new();
                for &b in k.as_bytes() {
                    if b.is_ascii_alphanumeric() {
                        expression.push(b);
                    } else {
                        expression.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                    }
                }
                Pattern::new(expression, Flag::CASELESS, Some(id as u32))
            })
            .collect();
        BlockDatabase::new(patterns).expect("keywords compile")
    };
    let (built, _) = best_of(runs * 2, || {
        black_box(build());
        0
    });
    let database = build();
    let mut scanner = BlockScanner::new(&database).expect("scratch");
    let (searched, found) = best_of(runs, || {
        let mut found = 0;
        for blob in blobs {
            scanner
                .scan(blob, |_, _, _, _| {
                    found += 1;
                    Scan::Continue
                })
                .expect("scan");
        }
        found
    });
    println!(
        "keywords, {:<18} build {:>7.2} ms  search {:>8.1} ms {:>8.1} MB/s  {found} occurrences",
        "Vectorscan",
        built.as_secs_f64() * 1e3,
        searched.as_secs_f64() * 1e3,
        bytes as f64 / 1e6 / searched.as_secs_f64()
    );
    found
}
