//! Keys where they really hide: encoded text, archives and compressed files, UTF-16 files.

use std::io::Write;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

use crate::support::*;

const RULE: &str = "political-comms-api-key";

/// `(path, line, column, decoded)` of every location of the one finding in `run`.
fn places(run: &Run) -> Vec<(String, u64, u64, Option<String>)> {
    let findings = run.findings();
    assert_eq!(findings.len(), 1, "expected one finding\n{}", run.dump());
    assert_eq!(findings[0]["rule_id"], RULE, "{}", run.dump());
    let mut places: Vec<_> = findings[0]["locations"]
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap_or_default().to_string(),
                l["line"].as_u64().unwrap_or(0),
                l["column"].as_u64().unwrap_or(0),
                l["decoded"].as_str().map(str::to_string),
            )
        })
        .collect();
    places.sort();
    places
}

fn place(
    path: &str,
    line: u64,
    column: u64,
    decoded: Option<&str>,
) -> (String, u64, u64, Option<String>) {
    (path.to_string(), line, column, decoded.map(str::to_string))
}

fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn each_encoding_is_found_at_the_encoded_text_with_how_it_was_decoded() {
    let key = pc_live(1301);
    let b64 = STANDARD.encode(format!("POLITICAL_COMMS_KEY={key}"));
    let url_safe = URL_SAFE_NO_PAD.encode(format!("{{\"auth\":\"{key}\"}}"));
    // 34 bytes: the base64 ends in `==`, which percent-encoding escapes.
    let nested = percent(STANDARD.encode(format!("key: {key}!")).as_bytes());
    assert!(nested.ends_with("%3D%3D"));
    let escaped: String = key
        .chars()
        .map(|c| {
            if c == '_' {
                "\\u005f".to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    let octal: String = key
        .chars()
        .map(|c| {
            if c == '_' {
                "\\137".to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    let hex: String = format!("token={key}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let entities = key.replace('_', "&#95;");
    let tree = Tree::new(&[
        ("plain.env", &format!("PC_KEY={key}\n")),
        (
            "k8s/secret.yaml",
            &format!("kind: Secret\ndata:\n  api: {b64}\n"),
        ),
        (
            "docker.json",
            &format!("{{\"auths\": {{\"x\": \"{url_safe}\"}}}}\n"),
        ),
        (
            "hook.txt",
            &format!("see\nhttps://hooks.example/in?d={nested}\n"),
        ),
        ("app.json", &format!("{{\"key\": \"{escaped}\"}}\n")),
        ("main.c", &format!("char *k = \"{octal}\";\n")),
        ("build.sh", &format!("export X={hex}\n")),
        ("page.html", &format!("<b data-k=\"{entities}\"></b>\n")),
    ]);
    let run = tree.scan_json(&[]);
    run.assert_code(1);
    let hook_line = format!("https://hooks.example/in?d={nested}");
    assert_eq!(
        places(&run),
        vec![
            place("app.json", 1, 10, Some("escape")),
            place("build.sh", 1, 10, Some("hex")),
            place("docker.json", 1, 18, Some("base64")),
            place("hook.txt", 2, 1, Some("percent > base64")),
            place("k8s/secret.yaml", 3, 8, Some("base64")),
            place("main.c", 1, 12, Some("escape")),
            place("page.html", 1, 12, Some("html")),
            place("plain.env", 1, 8, None),
        ],
        "{hook_line}\n{}",
        run.dump()
    );
    // One finding: its fingerprint is the plain key's.
    let plain = Tree::new(&[("plain.env", &format!("PC_KEY={key}\n"))]).scan_json(&[]);
    assert_eq!(
        run.findings()[0]["fingerprint"],
        plain.findings()[0]["fingerprint"]
    );
    run.assert_nowhere(&key).assert_nowhere(&b64);

    // Off, only the plain key is found.
    let off = tree.scan_json(&["--max-decode-depth", "0"]);
    assert_eq!(
        places(&off),
        vec![place("plain.env", 1, 8, None)],
        "{}",
        off.dump()
    );
    // One level deep, only the base64 run before the escaped padding is decoded.
    let one = tree.scan_json(&["--max-decode-depth", "1"]);
    let hook: Vec<_> = places(&one)
        .into_iter()
        .filter(|p| p.0 == "hook.txt")
        .collect();
    assert_eq!(
        hook,
        vec![place("hook.txt", 2, 28, Some("base64"))],
        "{}",
        one.dump()
    );
}

#[test]
fn the_config_file_sets_the_decode_depth() {
    let key = pc_live(1302);
    let tree = Tree::new(&[
        (".keyhound.toml", "max_decode_depth = 0\n"),
        (
            "s.yaml",
            &format!("api: {}\n", STANDARD.encode(format!("k={key}"))),
        ),
    ]);
    tree.scan_json(&[]).assert_findings(&[]);
    tree.scan_json(&["--max-decode-depth", "2"])
        .assert_findings(&[(RULE, "s.yaml", 1, 6)]);
}

#[test]
fn every_report_format_says_how_a_key_was_decoded() {
    let key = pc_live(1303);
    let tree = Tree::new(&[(
        "s.yaml",
        &format!("api: {}\n", STANDARD.encode(format!("k={key}"))),
    )]);
    let human = tree.run(&["scan"]);
    assert!(human.stdout.contains("decoded: base64"), "{}", human.dump());
    let jsonl = tree.run(&["scan", "--format", "jsonl"]);
    // The finding's line, then the scan's own record.
    let first = jsonl.stdout.lines().next().unwrap_or_default();
    let line: Value = serde_json::from_str(first).expect("a JSON line");
    assert_eq!(line["decoded"], "base64");
    let csv = tree.run(&["scan", "--format", "csv"]);
    let mut lines = csv.stdout.lines();
    assert!(
        lines.next().unwrap_or_default().ends_with(",decoded"),
        "{}",
        csv.dump()
    );
    assert!(
        lines.next().unwrap_or_default().ends_with(",base64"),
        "{}",
        csv.dump()
    );
    let sarif = tree.run(&["scan", "--format", "sarif"]);
    let doc: Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(
        doc["runs"][0]["results"][0]["properties"]["decoded"],
        "base64"
    );
}

#[test]
fn decoded_noise_stays_quiet() {
    // An image, integrity hashes, a JWT's header, a minified bundle full of base64 and hex.
    let png = STANDARD
        .encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xffa");
    let svg =
        STANDARD.encode(b"<svg xmlns=\"http://www.w3.org/2000/svg\" token=\"abcdefgh12345678\"/>");
    let integrity = STANDARD.encode([7u8; 64]);
    let jwt_header = URL_SAFE_NO_PAD.encode(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    let words =
        STANDARD.encode(b"the quick brown fox jumps over the lazy dog, password reset page");
    let tree = Tree::new(&[
        ("logo.css", &format!(".a{{background:url(data:image/png;base64,{png})}}\n.b{{background:url(\"data:image/svg+xml;base64,{svg}\")}}\n")),
        ("package-lock.json", &format!("{{\"integrity\": \"sha512-{integrity}\"}}\n")),
        ("yarn.lock", &format!("  integrity sha512-{integrity}\n")),
        ("auth.md", &format!("The header `{jwt_header}` says which algorithm signs it.\n")),
        ("bundle.min.js", &format!("var a=\"{words}\",b=\"{integrity}\",c=\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\";function d(x){{return x.replace(/%20/g,\" \")}}\n")),
    ]);
    tree.scan_json(&[]).assert_findings(&[]);
}

#[test]
fn utf16_files_are_scanned_with_their_own_line_numbers() {
    let key = pc_live(1304);
    let text = format!("# settings\r\n\r\n$key = \"{key}\"\r\n");
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let tree = Tree::new(&[]);
    tree.write("profile.ps1", &le).write("export.reg", &be);
    let run = tree.scan_json(&[]);
    assert_eq!(
        places(&run),
        vec![
            place("export.reg", 3, 9, None),
            place("profile.ps1", 3, 9, None)
        ],
        "{}",
        run.dump()
    );
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, options).expect("zip member");
        zip.write_all(bytes).expect("zip write");
    }
    zip.finish().expect("zip finish").into_inner()
}

fn tar_gz_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, *bytes)
            .expect("tar member");
    }
    tar.into_inner().expect("tar").finish().expect("gzip")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

#[test]
fn archive_members_are_scanned_under_bang_paths() {
    let key = pc_live(1305);
    let env = format!("\nPC_KEY={key}\n");
    let inner = zip_of(&[("c/.env", env.as_bytes())]);
    let docx = zip_of(&[(
        "word/document.xml",
        format!("<w:t>key {key}</w:t>").as_bytes(),
    )]);
    let encoded = format!("api: {}\n", STANDARD.encode(format!("k={key}")));
    let tree = Tree::new(&[]);
    tree.write(
        "dist/app.jar",
        zip_of(&[("META-INF/app.properties", env.as_bytes())]),
    )
    .write("a.tar.gz", tar_gz_of(&[("b.zip", &inner)]))
    .write("notes.txt.gz", gzip(env.as_bytes()))
    .write("report.docx", &docx)
    .write("k8s.tgz", tar_gz_of(&[("secret.yaml", encoded.as_bytes())]));
    let run = tree.scan_json(&[]);
    assert_eq!(
        places(&run),
        vec![
            place("a.tar.gz!b.zip!c/.env", 2, 8, None),
            place("dist/app.jar!META-INF/app.properties", 2, 8, None),
            place("k8s.tgz!secret.yaml", 1, 6, Some("base64")),
            place("notes.txt.gz!notes.txt", 2, 8, None),
            place("report.docx!word/document.xml", 1, 10, None),
        ],
        "{}",
        run.dump()
    );

    // --no-archives: skipped as binary, as before.
    let off = tree.run(&["scan", "--no-archives", "-v"]);
    off.assert_code(0)
        .assert_stderr_contains("skipped a.tar.gz: binary file");
    // Nesting beyond --max-archive-depth is a counted, named skip.
    let shallow = tree.run(&["scan", "--max-archive-depth", "1", "-v", "--format", "json"]);
    shallow.assert_stderr_contains(
        "skipped a.tar.gz!b.zip: archive: an archive nested deeper than --max-archive-depth 1",
    );
    assert!(
        !shallow.stdout.contains("a.tar.gz!b.zip!c/.env"),
        "{}",
        shallow.dump()
    );
}

#[test]
fn archive_bombs_end_in_a_counted_skip() {
    // 10 GiB of zeros: 160 gzip members of 64 MiB, each compressed once.
    let chunk = {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).expect("gzip");
        }
        gz.finish().expect("gzip")
    };
    let bomb: Vec<u8> = chunk.repeat(160);
    // A zip nested 8 deep with a key at the bottom.
    let key = pc_live(1306);
    let mut nested = zip_of(&[("deep/.env", format!("K={key}\n").as_bytes())]);
    for level in 0..8 {
        nested = zip_of(&[(&format!("level{level}.zip"), &nested)]);
    }
    let tree = Tree::new(&[("ok.env", "nothing here\n")]);
    tree.write("zeros.gz", &bomb).write("nested.zip", &nested);
    let run = tree.run(&["scan", "-v", "--format", "json"]);
    // The one stream is cut off at a limit: the budget, or --max-file-size for its one member.
    run.assert_code(0)
        .assert_stderr_matches(
            r"skipped zeros\.gz(!zeros)?: (archive: expands past \d+ bytes|\d+ bytes is over)",
        )
        .assert_stderr_contains("archive: an archive nested deeper than --max-archive-depth 3");
    assert!(run.summary().contains("2 skipped"), "{}", run.dump());
}

#[test]
fn history_scans_archive_members() {
    let key = pc_live(1307);
    let tree = Tree::new(&[]);
    tree.write(
        "release.zip",
        zip_of(&[("cfg/.env", format!("K={key}\n").as_bytes())]),
    );
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(tree.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "release"]);
    let run = tree.run(&["history", "--format", "json"]);
    let findings = run.assert_findings(&[(RULE, "release.zip!cfg/.env", 1, 3)]);
    assert!(findings[0]["commit"].is_string(), "{}", run.dump());
}

#[test]
fn staged_archives_and_encoded_keys_are_scanned() {
    let key = pc_live(1308);
    let tree = Tree::new(&[("README.md", "hello\n")]);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(tree.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "first"]);
    tree.write(
        "dist.zip",
        zip_of(&[("app/.env", format!("K={key}\n").as_bytes())]),
    )
    .write(
        "secret.yaml",
        format!("data:\n  k: {}\n", STANDARD.encode(format!("k={key}"))),
    );
    git(&["add", "."]);
    let run = tree.run(&["scan", "--staged", "--format", "json"]);
    assert_eq!(
        places(&run),
        vec![
            place("dist.zip!app/.env", 1, 3, None),
            place("secret.yaml", 2, 6, Some("base64")),
        ],
        "{}",
        run.dump()
    );
}
