//! Matcher micro-benchmark, std only: `cargo bench --bench matcher`.
//!
//! Times, through the library:
//! - startup: loading the built-in rules and building the keyword automaton;
//! - a 10 MB synthetic source buffer, scanned as one blob and as 2,000 file-sized blobs;
//! - a 50 MB minified buffer that is one single line.
//!
//! Prints figures and asserts nothing about them. Run without `--bench` (as `cargo test
//! --all-targets` does) it only smoke-tests itself on small buffers.

use std::hint::black_box;
use std::time::{Duration, Instant};

use keyhound::matcher::{Matcher, Scratch};
use keyhound::rules::{parse_rule_file, RuleSet};

/// xorshift64*: deterministic, so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// One of the words of a space-separated list.
    fn word(&mut self, list: &'static str) -> &'static str {
        let n = list.split_ascii_whitespace().count();
        list.split_ascii_whitespace()
            .nth(self.below(n))
            .unwrap_or("x")
    }

    fn push_from(&mut self, out: &mut Vec<u8>, alphabet: &[u8], n: usize) {
        for _ in 0..n {
            out.push(alphabet[self.below(alphabet.len())]);
        }
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

const NOUNS: &str =
    "user account session token password secret key credential order client config request \
    response cache auth header signature webhook tenant bearer api service queue event message \
    scope grant refresh access policy hash digest nonce salt cursor index record schema";
const VERBS: &str =
    "get set load fetch validate parse build refresh rotate encode decode create update verify \
    sign issue revoke store send handle";
/// Lines real code holds near secrets: references and hashes, never values.
const REFS: &[&str] = &[
    "    token = os.environ.get(\"API_TOKEN\")",
    "    headers = {\"Authorization\": f\"Bearer {token}\"}",
    "  headers: { Authorization: `Bearer ${TOKEN}` },",
    "\treq.Header.Set(\"Authorization\", \"Bearer \"+c.accessToken)",
    "    let secret = std::env::var(\"CLIENT_SECRET\")?;",
    "    password_hash = hashlib.sha256(password.encode() + salt).hexdigest()",
    "        String apiKey = System.getenv(\"STRIPE_SECRET_KEY\");",
    "          DB_PASSWORD: ${{ secrets.DB_PASSWORD }}",
    "    api_key = getenv(\"POLITICAL_COMMS_API_KEY\", \"\")",
    "const communalKey = process.env.COMMUNAL_API_KEY;",
];

fn ident(rng: &mut Rng, out: &mut Vec<u8>) {
    if rng.below(3) == 0 {
        out.extend_from_slice(rng.word(VERBS).as_bytes());
        out.push(b'_');
    }
    out.extend_from_slice(rng.word(NOUNS).as_bytes());
    for _ in 0..rng.below(3) {
        out.push(b'_');
        out.extend_from_slice(rng.word(NOUNS).as_bytes());
    }
}

/// A real-shaped key, assembled at run time (no key literal in the source).
fn planted_key(rng: &mut Rng, out: &mut Vec<u8>) {
    match rng.below(3) {
        0 => {
            out.extend_from_slice(b"pc_");
            out.extend_from_slice(b"live_");
            rng.push_from(out, ALNUM, 24);
        }
        1 => {
            out.extend_from_slice(b"gh");
            out.extend_from_slice(b"p_");
            rng.push_from(out, ALNUM, 36);
        }
        _ => {
            out.extend_from_slice(b"xo");
            out.extend_from_slice(b"xb-");
            rng.push_from(out, b"0123456789", 11);
            out.push(b'-');
            rng.push_from(out, b"0123456789", 13);
            out.push(b'-');
            rng.push_from(out, ALNUM, 24);
        }
    }
}

/// Identifier-heavy source lines, with a key planted about every 2 MB.
fn source_like(size: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(size + 256);
    let mut next_key = 1 << 20;
    while out.len() < size {
        match rng.below(10) {
            0..=2 => out.extend_from_slice(rng.pick(REFS).as_bytes()),
            3 => {
                out.extend_from_slice(b"    request_id = \"");
                rng.push_from(&mut out, HEX, 32);
                out.push(b'"');
            }
            4 => {
                out.extend_from_slice(b"    # ");
                for _ in 0..8 + rng.below(8) {
                    out.extend_from_slice(rng.word(NOUNS).as_bytes());
                    out.push(b' ');
                }
            }
            _ => {
                out.extend_from_slice(b"    ");
                ident(&mut rng, &mut out);
                out.extend_from_slice(b" = ");
                ident(&mut rng, &mut out);
                out.push(b'.');
                ident(&mut rng, &mut out);
                out.push(b'(');
                ident(&mut rng, &mut out);
                out.extend_from_slice(b", timeout=30)");
            }
        }
        if out.len() >= next_key {
            out.extend_from_slice(b"\n    client = Client(api_key=\"");
            planted_key(&mut rng, &mut out);
            out.push(b'"');
            next_key += 2 << 20;
        }
        out.push(b'\n');
    }
    out
}

/// A minified bundle: one line, no newline anywhere.
fn minified_line(size: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(size + 256);
    let mut next_key = 4 << 20;
    while out.len() < size {
        let a = ALNUM[rng.below(52)];
        match rng.below(6) {
            0 => {
                out.extend_from_slice(b"headers:{Authorization:\"Bearer \"+");
                out.push(a);
                out.extend_from_slice(b".token}");
            }
            1 => {
                out.push(a);
                out.extend_from_slice(b".apiKey=e.apiKey||window.__ENV__.SECRET_KEY");
            }
            2 => {
                out.extend_from_slice(b"var ");
                out.push(a);
                out.extend_from_slice(b"=\"");
                rng.push_from(&mut out, HEX, 40);
                out.push(b'"');
            }
            3 => {
                out.extend_from_slice(b"if(!");
                out.push(a);
                out.extend_from_slice(b".password)throw new Error(\"missing password\")");
            }
            _ => {
                out.extend_from_slice(b"function ");
                out.push(a);
                out.extend_from_slice(b"(e,t){return e.");
                ident(&mut rng, &mut out);
                out.extend_from_slice(b"(t)}");
            }
        }
        if out.len() >= next_key {
            out.extend_from_slice(b";const k=\"");
            planted_key(&mut rng, &mut out);
            out.push(b'"');
            next_key += 8 << 20;
        }
        out.push(b';');
    }
    out
}

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The built-in rules' keywords, each rule with a regex that never matches.
fn keyword_only_rules(matcher: &Matcher) -> Matcher {
    let mut toml = String::from("[provider]\nname = \"Bench\"\ndocs = \"https://example.org\"\n");
    for (i, rule) in matcher.rules().iter().enumerate() {
        let keywords: Vec<String> = rule.keywords.iter().map(|k| toml_string(k)).collect();
        toml.push_str(&format!(
            "[[rule]]\nid = \"kw-{i}\"\nname = \"kw\"\ndescription = \"kw\"\nseverity = \"low\"\n\
             keywords = [{}]\nregex = '(zqxjvk[0-9]{{24}})'\n",
            keywords.join(", ")
        ));
    }
    let rules = parse_rule_file("bench-keywords.toml", &toml).expect("keyword-only rules parse");
    Matcher::new(RuleSet::from_rules(rules))
}

struct Stats {
    min: Duration,
    median: Duration,
}

fn measure(iterations: usize, mut f: impl FnMut()) -> Stats {
    let mut times: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    Stats {
        min: times[0],
        median: times[times.len() / 2],
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn report_scan(label: &str, bytes: usize, findings: usize, s: &Stats) {
    println!(
        "{label:<44} {:>9.1} ms median {:>9.1} ms min {:>8.1} MB/s {findings:>6} findings",
        ms(s.median),
        ms(s.min),
        mb_per_s(bytes, s.median)
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (iterations, source_size, minified_size) = if full {
        (10, 10_000_000, 50_000_000)
    } else {
        (1, 200_000, 500_000)
    };
    if !full {
        println!("smoke run (pass --bench, as `cargo bench` does, for the real sizes)");
    }

    // Startup: rules parsed and validated, keyword automaton built. Regexes are compiled
    // lazily, on the first blob that holds one of a rule's keywords, so they show up below.
    let startup = measure(iterations.max(5) * 2, || {
        let rules = RuleSet::builtin().expect("built-in rules load");
        black_box(Matcher::new(rules));
    });
    println!(
        "{:<44} {:>9.2} ms median {:>9.2} ms min",
        "startup: RuleSet::builtin + Matcher::new",
        ms(startup.median),
        ms(startup.min)
    );

    let first_scan = measure(iterations.max(5), || {
        let matcher = Matcher::new(RuleSet::builtin().expect("built-in rules load"));
        let mut scratch = Scratch::default();
        let mut out = Vec::new();
        let blob = source_like(2_000, 7);
        matcher.scan(&blob, None, &mut scratch, &mut out);
        black_box(out.len());
    });
    println!(
        "{:<44} {:>9.2} ms median {:>9.2} ms min",
        "startup + first 2 KB scan (lazy regexes)",
        ms(first_scan.median),
        ms(first_scan.min)
    );

    let matcher = Matcher::new(RuleSet::builtin().expect("built-in rules load"));
    let mut scratch = Scratch::default();
    let mut out = Vec::new();

    let source = source_like(source_size, 42);
    // Warm up: compiles every regex the buffer triggers.
    matcher.scan(&source, None, &mut scratch, &mut out);
    let findings = out.len();
    let s = measure(iterations, || {
        matcher.scan(black_box(&source), None, &mut scratch, &mut out);
    });
    report_scan(
        &format!("source, one {:.1} MB blob", source.len() as f64 / 1e6),
        source.len(),
        findings,
        &s,
    );

    // The same bytes as file-sized blobs (about 5 KB, cut at line ends), as a tree scan sees them.
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < source.len() {
        let mut end = (start + 5_000).min(source.len());
        while end < source.len() && source[end - 1] != b'\n' {
            end += 1;
        }
        chunks.push(&source[start..end]);
        start = end;
    }
    let mut findings = 0;
    for chunk in &chunks {
        matcher.scan(chunk, None, &mut scratch, &mut out);
        findings += out.len();
    }
    let s = measure(iterations, || {
        for chunk in &chunks {
            matcher.scan(black_box(chunk), None, &mut scratch, &mut out);
        }
    });
    report_scan(
        &format!("source, {} blobs of ~5 KB", chunks.len()),
        source.len(),
        findings,
        &s,
    );

    // The keyword pass alone: every built-in rule's keywords, each rule with a regex that cannot
    // match (one literal, found or not by memchr), so nearly all the time is the Aho-Corasick
    // pass that decides which rules run.
    let keywords_only = keyword_only_rules(&matcher);
    let mut findings = 0;
    for chunk in &chunks {
        keywords_only.scan(chunk, None, &mut scratch, &mut out);
        findings += out.len();
    }
    let s = measure(iterations, || {
        for chunk in &chunks {
            keywords_only.scan(black_box(chunk), None, &mut scratch, &mut out);
        }
    });
    report_scan("keyword pass only (same blobs)", source.len(), findings, &s);

    // Each rule alone (its keywords and regexes) on the same source bytes as file-sized blobs:
    // which rules the time goes to.
    let mut per_rule: Vec<(Duration, usize, &str)> = Vec::new();
    for rule in matcher.rules() {
        let single = Matcher::new(RuleSet::from_rules(vec![rule.clone()]));
        let mut found = 0;
        for chunk in &chunks {
            single.scan(chunk, None, &mut scratch, &mut out);
            found += out.len();
        }
        let s = measure(iterations.clamp(1, 3), || {
            for chunk in &chunks {
                single.scan(black_box(chunk), None, &mut scratch, &mut out);
            }
        });
        per_rule.push((s.median, found, rule.id.as_str()));
    }
    per_rule.sort_by_key(|r| std::cmp::Reverse(r.0));
    let sum: Duration = per_rule.iter().map(|r| r.0).sum();
    println!(
        "each rule alone on the ~5 KB blobs: sum {:.1} ms; the costliest:",
        ms(sum)
    );
    for (d, found, id) in per_rule.iter().take(8) {
        println!(
            "    {id:<40} {:>9.1} ms {:>8.1} MB/s {found:>6} findings",
            ms(*d),
            mb_per_s(source.len(), *d)
        );
    }

    // Regex compilation: a rule's regexes are built the first time one of its keywords occurs,
    // so a small file pays for every rule it triggers.
    let small = source_like(2_000, 7).to_ascii_lowercase();
    let fresh = RuleSet::builtin().expect("built-in rules load");
    let mut compile: Vec<(Duration, &str, bool)> = fresh
        .rules()
        .iter()
        .map(|rule| {
            let triggered = rule.keywords.iter().any(|k| {
                let k = k.to_ascii_lowercase();
                small.windows(k.len()).any(|w| w == k.as_bytes())
            });
            let start = Instant::now();
            let _ = black_box(rule.compile());
            (start.elapsed(), rule.id.as_str(), triggered)
        })
        .collect();
    compile.sort_by_key(|c| std::cmp::Reverse(c.0));
    let total: Duration = compile.iter().map(|c| c.0).sum();
    let hit: Vec<&(Duration, &str, bool)> = compile.iter().filter(|c| c.2).collect();
    let list = |items: &mut dyn Iterator<Item = &(Duration, &str, bool)>| {
        items
            .map(|(d, id, _)| format!("{id} {:.2} ms", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "compiling every rule's regexes: {:.2} ms in all; the costliest: {}",
        ms(total),
        list(&mut compile.iter().take(5))
    );
    println!(
        "  of which the {} rules a 2 KB source blob triggers: {:.2} ms ({})",
        hit.len(),
        ms(hit.iter().map(|c| c.0).sum()),
        list(&mut hit.iter().copied())
    );

    let minified = minified_line(minified_size, 99);
    matcher.scan(&minified, None, &mut scratch, &mut out);
    let findings = out.len();
    let s = measure(iterations.clamp(1, 5), || {
        matcher.scan(black_box(&minified), None, &mut scratch, &mut out);
    });
    report_scan(
        &format!("minified, one {:.1} MB line", minified.len() as f64 / 1e6),
        minified.len(),
        findings,
        &s,
    );
}
