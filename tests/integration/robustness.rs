//! Inputs that are not tidy text: invalid UTF-8 and one huge minified line.

use std::time::Instant;

use crate::support::*;

#[test]
fn key_between_invalid_utf8_bytes_is_found() {
    let key = pc_live(1101);
    let mut bytes = b"# Cl\xe9 de l'API \xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"key=\xff");
    bytes.extend_from_slice(key.as_bytes());
    bytes.extend_from_slice(b"\xc3\x28 tail \x80\n");
    let tree = Tree::new(&[]);
    tree.write("latin1.conf", &bytes);
    // Line 2; column 6: `key=` and one invalid byte (one character, as U+FFFD) come before it.
    let run = tree.scan_json(&["--show-secrets"]);
    let findings = run.assert_findings(&[(PC_RULE, "latin1.conf", 2, 6)]);
    assert_eq!(findings[0]["secret"], key.as_str(), "{}", run.dump());
    // Redacted by default, in a report that is still valid JSON and UTF-8.
    let run = tree.scan_json(&[]);
    run.assert_findings(&[(PC_RULE, "latin1.conf", 2, 6)]);
    run.assert_nowhere(pc_body(&key));
    let human = tree.run(&["scan"]);
    human.assert_code(1).assert_nowhere(pc_body(&key));
    assert!(human.stdout.contains("latin1.conf:2:6"), "{}", human.dump());
}

#[test]
fn fifty_megabyte_single_line_file_is_scanned() {
    const SIZE: usize = 50 << 20;
    let key = pc_live(1111);
    let chunk = "function(e){return e.map(function(n){return n*2+1})};var q=[7,3,9];";
    let needle = format!("var cfg={{\"apiKey\":\"{key}\"}};");
    let half = SIZE / 2 / chunk.len();
    let mut text = String::with_capacity(SIZE + chunk.len() + needle.len());
    for _ in 0..half {
        text.push_str(chunk);
    }
    let column = text.len() + needle.find(&key).unwrap() + 1;
    text.push_str(&needle);
    while text.len() < SIZE {
        text.push_str(chunk);
    }
    text.push('\n');
    let tree = Tree::new(&[]);
    tree.write("dist/bundle.min.js", text.as_bytes());
    drop(text);

    let started = Instant::now();
    let run = tree.scan_json(&[]);
    eprintln!(
        "scanning a 50 MiB single-line file took {:.2?}",
        started.elapsed()
    );
    let findings = run.assert_findings(&[(PC_RULE, "dist/bundle.min.js", 1, column as u64)]);
    assert_eq!(findings[0]["end_line"], 1, "{}", run.dump());
    let snippet = findings[0]["snippet"].as_str().unwrap_or_default();
    assert!(
        snippet.len() < 1024,
        "the snippet of a huge line is clipped, got {} bytes",
        snippet.len()
    );
}
