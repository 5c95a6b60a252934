//! Filters: why a string that matches a key's shape is still not a key.
//!
//! Every rule gets the same filters: allowlists, documentation placeholders, template and
//! environment references, low-entropy or patterned bodies, and plain identifiers that merely
//! share a key's prefix. Generic rules (not tied to one provider's format) also drop shapes that
//! are never secrets: hashes, UUIDs, integrity strings, images, paths, URLs, dotted references.
//! Each filter looks at the secret's *body*, the secret less the keyword it begins with, so a
//! fixed prefix such as `pc_live_` neither adds entropy nor hides a placeholder.

use memchr::{memchr, memrchr};

use crate::rules::{contains_ignore_ascii_case, Context, Rule};

/// How far a context condition looks, at most, on either side of a match. A 50 MB minified
/// line must not make each context check read 50 MB.
const CONTEXT_BYTES: usize = 8 * 1024;

/// Lower-case fragments that mark a documentation placeholder rather than a real key.
const PLACEHOLDERS: &[&str] = &[
    "example",
    "your_",
    "your-",
    "yourapi",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "replaceme",
    "replace_me",
    "replace-me",
    "redacted",
    "dummy",
    "xxxx",
    "...",
    "***",
    "<",
    ">",
    "insert_",
    "insert-",
    "_here",
    "-here",
    "notreal",
    "not_real",
    "fake",
    "sample",
    "randomstring",
    "random_string",
];

/// Lower-case fragments that mark a reference to a value kept elsewhere.
const REFERENCES: &[&str] = &[
    "${",
    "$(",
    "{{",
    "}}",
    "%(",
    "%{",
    "<%",
    "#{",
    "process.env",
    "os.environ",
    "os.getenv",
    "getenv(",
    "env(",
    "env[",
    "secrets.",
    "vars.",
    "var.",
    "local.",
    "settings.",
];

/// Keys published in providers' documentation, SDK samples and RFCs: every copy of a tutorial
/// carries them, and none of them grants anything.
const PUBLISHED_EXAMPLES: &[&str] = &[
    // AWS documentation's access key pairs
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    // Firebase's documentation API key, and the key in Google Maps JavaScript samples
    "AIzaSyDOCAbC123dEf456GhI789jKl012-MnO",
    "AIzaSyB41DRUbKWJHPxaFjMAwdrzWzbVKartNGg",
    // Stripe's documentation test keys
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
    // RFC 6749 / 6750 / 7009 (OAuth 2.0) and RFC 5849 (OAuth 1.0) examples
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "SplxlOBeZQQYbYS6WxSbIA",
    "7Fjfp0ZBr1KtDRbnfVdmIw",
    "45ghiukldjahdnhzdauz",
    "ad180jjd733klru7",
    "9djdj82h48djs9d2",
    "kkk9d7dh3k39sjv7",
    "nnch734d00sl2jdk",
    "hh5s93j4hdidpola",
    "pfkkdhi9sl3r4s00",
];

/// Words that placeholder and tutorial credentials are made of (`SuperSecretPassword1!`,
/// `MY_API_KEY_HERE`, `changeit`): a value that is two or three of them, plus at most a few
/// digits or symbols, was typed by a person, not generated.
const WORDS: &[&str] = &[
    "abc",
    "access",
    "acme",
    "admin",
    "all",
    "any",
    "api",
    "app",
    "application",
    "auth",
    "bar",
    "baz",
    "best",
    "big",
    "bot",
    "change",
    "client",
    "cloud",
    "code",
    "company",
    "cool",
    "corp",
    "data",
    "database",
    "db",
    "default",
    "demo",
    "dev",
    "development",
    "dog",
    "cat",
    "dragon",
    "dummy",
    "easy",
    "example",
    "fake",
    "foo",
    "football",
    "for",
    "go",
    "good",
    "guest",
    "hard",
    "hello",
    "here",
    "hidden",
    "home",
    "hunter",
    "ilove",
    "in",
    "insert",
    "is",
    "it",
    "key",
    "keys",
    "let",
    "letmein",
    "local",
    "login",
    "long",
    "love",
    "magic",
    "main",
    "master",
    "me",
    "monkey",
    "my",
    "new",
    "no",
    "not",
    "now",
    "of",
    "ok",
    "old",
    "one",
    "open",
    "our",
    "pass",
    "passphrase",
    "passwd",
    "password",
    "passwords",
    "prod",
    "production",
    "private",
    "public",
    "put",
    "pwd",
    "qwerty",
    "random",
    "real",
    "really",
    "replace",
    "root",
    "safe",
    "sample",
    "secret",
    "secrets",
    "secure",
    "server",
    "service",
    "sesame",
    "set",
    "shadow",
    "some",
    "staging",
    "string",
    "strong",
    "summer",
    "sunshine",
    "super",
    "system",
    "team",
    "temp",
    "test",
    "testing",
    "the",
    "this",
    "three",
    "to",
    "token",
    "tokens",
    "top",
    "two",
    "user",
    "users",
    "value",
    "very",
    "web",
    "welcome",
    "winter",
    "word",
    "world",
    "you",
    "your",
];

/// Returns the body's entropy if `rule` accepts the secret at `blob[start..end]`, `None` if a
/// filter rejects it.
pub fn accept(
    rule: &Rule,
    blob: &[u8],
    start: usize,
    end: usize,
    path: Option<&[u8]>,
) -> Option<f64> {
    judge(rule, blob, start, end, path).ok()
}

/// Which filter drops a candidate: what `rules check` tells the author of an example that is
/// not found.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejected {
    Allowlist,
    Placeholder,
    Reference,
    Patterned,
    Identifier,
    PublishedExample,
    DictionaryWords,
    Checksum(&'static str),
    LowEntropy { entropy: f64, min: f64 },
    NeverSecret,
    NoContext { within_lines: usize },
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Allowlist => f.write_str("the rule's own allowlist ([rule.allow])"),
            Rejected::Placeholder => f.write_str(
                "the placeholder filter (it holds a documentation placeholder such as `example`, \
                 `xxxx`, `<...>` or `changeme`)",
            ),
            Rejected::Reference => f.write_str(
                "the reference filter (it looks like a template or environment reference such as \
                 `${VAR}` or `{{ x }}`)",
            ),
            Rejected::Patterned => f.write_str(
                "the pattern filter (its body is one character repeated, has 3 or fewer distinct \
                 characters, or holds a run like `123456` or `abcdef`)",
            ),
            Rejected::Identifier => f.write_str(
                "the identifier filter (its body is a plain identifier: letters and `_`/`-` only, \
                 one case, no digits)",
            ),
            Rejected::PublishedExample => f.write_str(
                "the published-example filter (a key printed in a provider's or an RFC's \
                 documentation)",
            ),
            Rejected::DictionaryWords => f.write_str(
                "the word filter (its body is two or three common words plus a few digits or \
                 symbols)",
            ),
            Rejected::Checksum(name) => write!(f, "the `{name}` checksum (it does not hold)"),
            Rejected::LowEntropy { entropy, min } => write!(
                f,
                "the entropy filter (its body has {entropy:.2} bits/byte, under min_entropy {min})"
            ),
            Rejected::NeverSecret => f.write_str(
                "the generic-rule filter (a hash, UUID, integrity string, image, path, URL or \
                 dotted reference is never a secret)",
            ),
            Rejected::NoContext { within_lines } => write!(
                f,
                "the context condition (no [rule.context] word within {within_lines} lines or in \
                 the path)"
            ),
        }
    }
}

/// [`accept`], saying which filter rejects.
pub fn judge(
    rule: &Rule,
    blob: &[u8],
    start: usize,
    end: usize,
    path: Option<&[u8]>,
) -> Result<f64, Rejected> {
    let secret = &blob[start..end];
    if rule.allow.allows(secret) {
        return Err(Rejected::Allowlist);
    }
    if let Some(checksum) = rule.checksum {
        let before = &blob[start.saturating_sub(crate::rules::checksum::LOOKBEHIND)..start];
        if !checksum.verify(secret, before) {
            return Err(Rejected::Checksum(checksum.name()));
        }
    }
    let body = body_of(rule, secret);
    if is_placeholder(secret) {
        return Err(Rejected::Placeholder);
    }
    if is_reference(secret) {
        return Err(Rejected::Reference);
    }
    if is_patterned(body) {
        return Err(Rejected::Patterned);
    }
    if is_identifier(body) {
        return Err(Rejected::Identifier);
    }
    if is_published_example(secret) {
        return Err(Rejected::PublishedExample);
    }
    if is_dictionary_words(body) {
        return Err(Rejected::DictionaryWords);
    }
    let entropy = shannon_entropy(body);
    // A provider rule's body is key material by its shape; a short one (an AWS key id's 16
    // characters) cannot show its alphabet's entropy, and the plain estimate is biased low
    // there. Generic rules keep the plain estimate: for them entropy is what tells words
    // from keys.
    let measured = if rule.generic {
        entropy
    } else {
        corrected_entropy(body, entropy)
    };
    if measured < rule.min_entropy {
        return Err(Rejected::LowEntropy {
            entropy: measured,
            min: rule.min_entropy,
        });
    }
    if rule.generic && is_never_secret(secret) {
        return Err(Rejected::NeverSecret);
    }
    if let Some(context) = &rule.context {
        if !context_near(context, blob, start, end, path) {
            return Err(Rejected::NoContext {
                within_lines: context.within_lines,
            });
        }
    }
    Ok(entropy)
}

/// The secret less the longest rule keyword it begins with.
pub fn body_of<'a>(rule: &Rule, secret: &'a [u8]) -> &'a [u8] {
    let prefix = rule
        .keywords
        .iter()
        .map(|k| k.as_bytes())
        .filter(|k| k.len() < secret.len() && secret[..k.len()].eq_ignore_ascii_case(k))
        .map(|k| k.len())
        .max()
        .unwrap_or(0);
    &secret[prefix..]
}

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Bodies shorter than this get the Miller-Madow bias correction: `(distinct - 1) / (2 n ln 2)`
/// bits. A random 16-character base32 body measures below 3.0 bits one time in 270 with the
/// plain estimate, and one time in 13,000 with the correction.
const SHORT_BODY: usize = 32;

/// [`shannon_entropy`] corrected for the bias of short samples.
pub fn corrected_entropy(body: &[u8], entropy: f64) -> f64 {
    if body.is_empty() || body.len() >= SHORT_BODY {
        return entropy;
    }
    let mut seen = [false; 256];
    let distinct = body
        .iter()
        .filter(|&&b| !std::mem::replace(&mut seen[b as usize], true))
        .count();
    entropy + (distinct as f64 - 1.0) / (2.0 * body.len() as f64 * std::f64::consts::LN_2)
}

/// A key published in documentation, an SDK sample or an RFC.
pub fn is_published_example(secret: &[u8]) -> bool {
    PUBLISHED_EXAMPLES.iter().any(|e| e.as_bytes() == secret)
}

/// Two or three [`WORDS`] (any case, with `_`, `-` or `.` between them), then at most five
/// digits or symbols: `SuperSecretPassword1!`, `MY_SECRET_KEY`, `test-token-2024`.
pub fn is_dictionary_words(body: &[u8]) -> bool {
    let letters_end = body
        .iter()
        .rposition(u8::is_ascii_alphabetic)
        .map_or(0, |i| i + 1);
    let suffix = &body[letters_end..];
    if letters_end == 0 || suffix.len() > 5 || suffix.iter().any(u8::is_ascii_alphabetic) {
        return false;
    }
    let mut letters = [0u8; 64];
    let mut n = 0;
    for &b in &body[..letters_end] {
        if b.is_ascii_alphabetic() {
            if n == letters.len() {
                return false;
            }
            letters[n] = b.to_ascii_lowercase();
            n += 1;
        } else if !matches!(b, b'_' | b'-' | b'.') {
            return false;
        }
    }
    // fewest[i]: the fewest words that spell letters[..i] exactly (u8::MAX: none).
    let mut fewest = [u8::MAX; 65];
    fewest[0] = 0;
    for i in 0..n {
        if fewest[i] >= 3 {
            continue;
        }
        for word in WORDS {
            let w = word.as_bytes();
            if letters[i..n].starts_with(w) {
                let words = fewest[i] + 1;
                let next = &mut fewest[i + w.len()];
                *next = (*next).min(words);
            }
        }
    }
    (2..=3).contains(&fewest[n])
}

/// Past this length a secret is a block (a PEM or PGP key), not a token a person would type a
/// placeholder for: angle brackets (a PGP `Comment: Name <email>` line) and runs of one
/// character (DER's zero padding, `AAAAAA`) are normal in it.
const BLOCK_LEN: usize = 256;

/// `YOUR_API_KEY`, `<token>`, `xxxx…`, `changeme`, `...`, published `…EXAMPLE` keys.
pub fn is_placeholder(secret: &[u8]) -> bool {
    let block = secret.len() > BLOCK_LEN;
    // `YourTokenHere`, `APIKEYHERE`, `key_here`: text telling the reader what to put there.
    let trimmed = secret
        .iter()
        .rposition(u8::is_ascii_alphabetic)
        .map_or(&secret[..0], |i| &secret[..=i]);
    if !block && trimmed.len() > 4 && trimmed[trimmed.len() - 4..].eq_ignore_ascii_case(b"here") {
        return true;
    }
    PLACEHOLDERS
        .iter()
        .filter(|p| !(block && matches!(**p, "<" | ">")))
        .any(|p| contains_ignore_ascii_case(secret, p.as_bytes()))
}

/// `${VAR}`, `$VAR`, `{{ .Values.x }}`, `${{ secrets.X }}`, `os.environ[...]`, `process.env.X`,
/// `var.x`.
pub fn is_reference(secret: &[u8]) -> bool {
    if let [b'$' | b'%' | b'@', next, ..] = secret {
        if next.is_ascii_alphabetic() || matches!(next, b'_' | b'{' | b'(') {
            return true;
        }
    }
    REFERENCES
        .iter()
        .any(|r| contains_ignore_ascii_case(secret, r.as_bytes()))
}

/// One character repeated, three or fewer distinct characters, a run of six identical
/// characters, or a run like `123456` / `abcdef` / `fedcba`: keys are random, these are not.
pub fn is_patterned(body: &[u8]) -> bool {
    if body.len() >= 4 {
        let mut seen = [false; 256];
        let mut distinct = 0;
        for &b in body {
            if !seen[b as usize] {
                seen[b as usize] = true;
                distinct += 1;
            }
        }
        if distinct <= 3 {
            return true;
        }
    }
    if body.len() > BLOCK_LEN {
        return false;
    }
    let (mut same, mut up, mut down) = (1, 1, 1);
    for pair in body.windows(2) {
        let (raw_a, b) = (pair[0], pair[1]);
        same = if raw_a == b { same + 1 } else { 1 };
        // Runs count whatever the case, so `AbCdEf` is the alphabet it is.
        let (a, b) = (raw_a.to_ascii_lowercase(), b.to_ascii_lowercase());
        let alnum = a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric();
        up = if alnum && b == a.wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if alnum && b == a.wrapping_sub(1) {
            down + 1
        } else {
            1
        };
        if same >= 6 || up >= 6 || down >= 6 {
            return true;
        }
    }
    false
}

/// A body that reads as a name, not a key: letters and `_ - .` only, no digit, and either
/// lower-case throughout, UPPER_CASE with a separator, or camelCase words of three or more
/// letters (`webhook_signature`, `API_KEY_NAME`, `WebhookSignature`). Upper-case letters alone
/// are not enough: base32 key bodies (AWS key ids) are exactly that.
pub fn is_identifier(body: &[u8]) -> bool {
    if body.is_empty()
        || !body
            .iter()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'-' | b'.'))
    {
        return false;
    }
    let has_upper = body.iter().any(u8::is_ascii_uppercase);
    let has_lower = body.iter().any(u8::is_ascii_lowercase);
    if !has_upper {
        return true;
    }
    if !has_lower {
        return body.iter().any(|b| matches!(b, b'_' | b'-' | b'.'));
    }
    // camelCase: split before each upper-case letter and at separators; every word has >= 3 letters.
    let mut word = 0usize;
    for &b in body {
        if b.is_ascii_uppercase() || !b.is_ascii_alphabetic() {
            if word != 0 && word < 3 {
                return false;
            }
            word = usize::from(b.is_ascii_uppercase());
        } else {
            word += 1;
        }
    }
    word == 0 || word >= 3
}

/// Shapes a generic rule never reports: hex digests and commit ids, UUIDs, lockfile integrity
/// strings, base64 images, file paths, URLs and dotted references such as `config.api_key`.
pub fn is_never_secret(secret: &[u8]) -> bool {
    let hex = secret.iter().all(u8::is_ascii_hexdigit);
    if hex && matches!(secret.len(), 32 | 40 | 64 | 96 | 128) {
        return true;
    }
    if is_uuid(secret) {
        return true;
    }
    let lower_starts =
        |p: &str| secret.len() >= p.len() && secret[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if [
        "sha1-", "sha256-", "sha384-", "sha512-", "md5-", "data:", "/", "./", "../", "~/", "http",
    ]
    .iter()
    .any(|p| lower_starts(p))
    {
        return true;
    }
    if memchr::memmem::find(secret, b"://").is_some() {
        return true;
    }
    if secret.len() > 2
        && secret[0].is_ascii_alphabetic()
        && secret[1] == b':'
        && secret[2] == b'\\'
    {
        return true;
    }
    is_dotted_reference(secret)
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `a.b`, `self.api_key`, `config.get_token()`, `Settings.DB_PASSWORD2`: dotted names with at
/// least one dot. A part that mixes upper case, lower case and digits (`hunter2.Xk9`) is no
/// name a programmer writes: that value is a password with a dot in it.
fn is_dotted_reference(s: &[u8]) -> bool {
    let s = s.strip_suffix(b"()").unwrap_or(s);
    let mut parts = 0;
    for part in s.split(|&b| b == b'.') {
        let ok = part
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
        let has = |f: fn(&u8) -> bool| part.iter().any(f);
        let mixed =
            has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit);
        if !ok || mixed {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

/// True if a context word occurs in the path, or within the rule's line window around the
/// match (capped at [`CONTEXT_BYTES`] either side).
fn context_near(
    context: &Context,
    blob: &[u8],
    start: usize,
    end: usize,
    path: Option<&[u8]>,
) -> bool {
    if path.is_some_and(|p| context.occurs_in(p)) {
        return true;
    }
    let floor = start.saturating_sub(CONTEXT_BYTES);
    let mut lo = start;
    for _ in 0..=context.within_lines {
        match memrchr(b'\n', &blob[floor..lo]) {
            Some(i) => lo = floor + i,
            None => {
                lo = floor;
                break;
            }
        }
    }
    let ceiling = (end + CONTEXT_BYTES).min(blob.len());
    let mut hi = end;
    for _ in 0..=context.within_lines {
        match memchr(b'\n', &blob[hi..ceiling]) {
            Some(i) => hi = hi + i + 1,
            None => {
                hi = ceiling;
                break;
            }
        }
    }
    context.occurs_in(&blob[lo..hi])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn identifiers_are_not_keys() {
        assert!(is_identifier(b"webhook_signature"));
        assert!(is_identifier(b"WebhookSignature"));
        assert!(is_identifier(b"API_KEY_NAME"));
        assert!(!is_identifier(b"aB9xQ2mN7pL4kJ8h"));
        assert!(!is_identifier(b"aBxQmNpLkJhGfDsA"));
        assert!(!is_identifier(b"QWERTZPLMKJHGFDS"));
    }

    #[test]
    fn patterns_are_not_keys() {
        assert!(is_patterned(b"1234567890abcdef"));
        assert!(is_patterned(b"aaaaaaaaaaaa"));
        assert!(is_patterned(b"abababababab"));
        assert!(!is_patterned(b"q8Zr3LxV1mTw6KpN"));
        // A key block's DER padding is not a pattern.
        let block = format!(
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB{}",
            "Zq3x".repeat(60)
        );
        assert!(!is_patterned(block.as_bytes()));
        assert!(!is_placeholder(
            format!("Comment: A <a@b.c>\n{}", "Zq3x".repeat(70)).as_bytes()
        ));
    }

    #[test]
    fn never_secret_shapes() {
        assert!(is_never_secret(b"3f786850e387550fdab836ed7e6dc881de23001b"));
        assert!(is_never_secret(b"123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_never_secret(b"sha512-Zm9vYmFyYmF6"));
        assert!(is_never_secret(b"config.api_key"));
        assert!(is_never_secret(b"https://example.com/x"));
        assert!(!is_never_secret(b"q8Zr3LxV1mTw6KpN"));
    }

    fn builtin(id: &str) -> Rule {
        crate::rules::RuleSet::builtin()
            .unwrap()
            .get(id)
            .unwrap()
            .clone()
    }

    fn accepted(rule: &Rule, text: &str, secret: &str) -> bool {
        let start = text.find(secret).unwrap();
        accept(rule, text.as_bytes(), start, start + secret.len(), None).is_some()
    }

    #[test]
    fn random_short_key_ids_are_not_dropped_for_entropy() {
        // Drawn at random (AKIA + 16 base32 characters, encoding a 12-digit account): its body
        // measures 2.875 bits, below the rule's 3.0, and was dropped.
        let aws = builtin("aws-access-key-id");
        for id in [
            "AKIAVQBEQXEYQBW2BSQB",
            "AKIAZXPPNNLNPJNPO2CP",
            "AKIASB5S5DHBBIDVSSAF",
        ] {
            assert!(shannon_entropy(&id.as_bytes()[4..]) < aws.min_entropy);
            assert!(
                accepted(&aws, &format!("aws_access_key_id = {id}"), id),
                "{id}"
            );
        }
        // Generic rules keep the plain estimate, and repetition is still no key.
        assert!(!accepted(
            &aws,
            "id = AKIAQQQQRRRRSSSSTTTT",
            "AKIAQQQQRRRRSSSSTTTT"
        ));
        assert!(
            (corrected_entropy(b"abcd", 2.0) - 2.0 - 3.0 / (8.0 * std::f64::consts::LN_2)).abs()
                < 1e-9
        );
    }

    #[test]
    fn passwords_with_a_dot_are_not_references() {
        let password = builtin("generic-password");
        assert!(accepted(
            &password,
            "db_password = \"hunter2.Xk9\"",
            "hunter2.Xk9"
        ));
        assert!(accepted(
            &password,
            "password: Summer2024.Qv7",
            "Summer2024.Qv7"
        ));
        assert!(is_never_secret(b"settings.DB_PASSWORD2"));
        assert!(is_never_secret(b"self.api_key"));
    }

    #[test]
    fn placeholders_words_and_alphabets_are_not_keys() {
        for p in [
            "YourApiTokenHere",
            "INSERT_TOKEN_HERE",
            "RANDOMSTRINGHERE1",
            "my_random_string_value",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        assert!(!is_placeholder(b"q8Zr3LxV1mTw6KpN"));
        assert!(is_patterned(b"AbCdEfGhIjKlMnOpQrStUv"));
        assert!(is_patterned(b"zYxWvUtSrQ"));
        for w in [
            "SUPERSECRETPASSWORD",
            "SuperSecretPassword1!",
            "MySecretPass2024",
            "test-token-2024",
            "my_api_key",
        ] {
            assert!(is_dictionary_words(w.as_bytes()), "{w}");
        }
        for k in [
            "q8Zr3LxV1mTw6KpN",
            "secret",
            "Zq7!mK2xWp",
            "hunter2.Xk9",
            "superpasswordsecretkey",
        ] {
            assert!(!is_dictionary_words(k.as_bytes()), "{k}");
        }
        let api = builtin("generic-api-key");
        for (text, secret) in [
            (
                "api_token = \"AbCdEfGhIjKlMnOpQrStUv\"",
                "AbCdEfGhIjKlMnOpQrStUv",
            ),
            ("api_token = \"RANDOMSTRINGHERE1\"", "RANDOMSTRINGHERE1"),
            (
                "apiKey: \"AIzaSyDOCAbC123dEf456GhI789jKl012-MnO\"",
                "AIzaSyDOCAbC123dEf456GhI789jKl012-MnO",
            ),
            (
                "secret = \"sk_test_4eC39HqLyjWDarjtT1zdp7dc\"",
                "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            ),
            (
                "\"access_token\":\"2YotnFZFEjr1zCsicMWpAA\",",
                "2YotnFZFEjr1zCsicMWpAA",
            ),
        ] {
            assert!(!accepted(&api, text, secret), "{text}");
        }
        let password = builtin("generic-password");
        assert!(!accepted(
            &password,
            "password = \"SUPERSECRETPASSWORD\"",
            "SUPERSECRETPASSWORD"
        ));
        assert!(!accepted(
            &password,
            "password = \"SuperSecretPassword1!\"",
            "SuperSecretPassword1!"
        ));
        assert!(accepted(
            &password,
            "password = \"Zq7!mK2xWp\"",
            "Zq7!mK2xWp"
        ));
    }

    #[test]
    fn published_example_keys_are_not_keys() {
        let aws = builtin("aws-secret-access-key");
        let text = "aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
        assert!(!accepted(
            &aws,
            text,
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
        ));
        assert!(is_published_example(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_published_example(b"AKIAVQBEQXEYQBW2BSQB"));
    }

    #[test]
    fn references_are_not_keys() {
        for r in [
            "${API_KEY}",
            "$API_KEY",
            "{{ .Values.key }}",
            "process.env.KEY",
            "var.token",
        ] {
            assert!(is_reference(r.as_bytes()), "{r}");
        }
        assert!(!is_reference(b"q8Zr3LxV1mTw6KpN"));
    }
}
