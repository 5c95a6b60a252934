//! Fingerprints: a finding's identity (rule and secret) in a form that is safe to publish.
//!
//! Fingerprints end up in committed baselines, SARIF uploads, JSON reports and CI logs, so
//! anyone may read them. A plain hash of the secret gives a guessable secret back to whoever
//! hashes guesses: `sha256(rule ‖ 0 ‖ "Dragon2024!x")` falls to a short password list. So the
//! hash depends on what kind of secret it is:
//!
//! - **Issued by a provider** (the secret begins with one of its rule's keywords, a fixed prefix
//!   such as `ghp_` or `pc_live_`, followed by at least [`RANDOM_BODY`] more bytes, and the rule
//!   is not generic): the provider generated it at random, so no one can guess it, and the fast
//!   hash is safe. This is the hash every fingerprint used before, so baselines of such keys did
//!   not change.
//! - **Anything else** (passwords, generic assignments, opaque tokens without a prefix): Argon2id
//!   with [`ARGON2_MEMORY_KIB`] KiB and [`ARGON2_PASSES`] pass (a few milliseconds each), so each
//!   guess costs the guesser as much. The salt is fixed, derived from the rule id, so the same
//!   key under the same rule has the same fingerprint on every machine and in every run, which
//!   baselines need.
//!
//! Either way the fingerprint is 32 hex digits (128 bits). [`legacy`] is the fast hash of every
//! secret, which baselines written before this scheme hold: they still match (see
//! `suppress`), and `keyhound baseline` rewrites them.

use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};

/// Argon2id memory cost, in KiB.
pub const ARGON2_MEMORY_KIB: u32 = 4096;
/// Argon2id passes over the memory.
pub const ARGON2_PASSES: u32 = 1;
/// Bytes after a provider's prefix for a secret to count as issued at random: 16 bytes of a
/// base62 alphabet are 95 bits, beyond any guessing.
pub const RANDOM_BODY: usize = 16;
/// Bytes in a fingerprint (printed as twice as many hex digits).
const FINGERPRINT_BYTES: usize = 16;
/// Separates this use of the rule id from any other.
const SALT_DOMAIN: &[u8] = b"keyhound fingerprint v2\0";

/// The fingerprint of `secret` found by a rule with this id, keywords and generic flag.
pub fn fingerprint(rule_id: &str, keywords: &[String], generic: bool, secret: &str) -> String {
    if issued_at_random(keywords, generic, secret) {
        legacy(rule_id, secret)
    } else {
        slow(rule_id, secret)
    }
}

/// Whether `secret` carries a provider's fixed prefix (one of its rule's keywords) and enough
/// random bytes after it that guessing is hopeless. A generic rule's keywords are variable
/// names, never a key's prefix, so its secrets never qualify.
pub fn issued_at_random(keywords: &[String], generic: bool, secret: &str) -> bool {
    !generic
        && keywords.iter().any(|k| {
            secret.len() >= k.len() + RANDOM_BODY
                && secret.as_bytes()[..k.len()].eq_ignore_ascii_case(k.as_bytes())
        })
}

/// The fast fingerprint: the first 128 bits of SHA-256 over the rule id, a NUL and the secret.
/// Every fingerprint was this one before guessable secrets got [`slow`].
pub fn legacy(rule_id: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    hasher.update(secret.as_bytes());
    hex(&hasher.finalize()[..FINGERPRINT_BYTES])
}

thread_local! {
    /// Argon2's working memory, one per thread, allocated once: a history's findings hashed
    /// on every core, each with memory of its own, left 37 MB more resident after 24 of them
    /// on cargo (the allocator kept the freed blocks), the scan's peak.
    static BLOCKS: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Argon2id of the secret, salted with the rule id (fixed, so stable everywhere).
fn slow(rule_id: &str, secret: &str) -> String {
    let salt = Sha256::new()
        .chain_update(SALT_DOMAIN)
        .chain_update(rule_id.as_bytes())
        .finalize();
    let mut out = [0u8; FINGERPRINT_BYTES];
    let hashed = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, 1, Some(FINGERPRINT_BYTES))
        .and_then(|params| {
            BLOCKS.with_borrow_mut(|blocks| {
                blocks.resize(ARGON2_MEMORY_KIB as usize, Block::default());
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                    .hash_password_into_with_memory(
                        secret.as_bytes(),
                        &salt[..16],
                        &mut out,
                        blocks.as_mut_slice(),
                    )
            })
        });
    match hashed {
        Ok(()) => hex(&out),
        // Only an allocation failure or a secret over 4 GiB gets here (the parameters are
        // constants that Argon2 accepts): fall back to the fast hash rather than lose the
        // finding. Still stable, only cheaper to guess.
        Err(_) => legacy(rule_id, secret),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_provider_key_keeps_its_fast_fingerprint() {
        let key = concat!("pc_", "live_q8Zr3LxV1mTw6KpN2sYb");
        let fp = fingerprint("political-comms-api-key", &kw(&["pc_live_"]), false, key);
        assert_eq!(fp, legacy("political-comms-api-key", key));
        assert_eq!(fp.len(), 32);
    }

    #[test]
    fn a_password_is_not_given_back_by_a_fast_guess() {
        // Before, the fingerprint was the fast hash, so hashing a list of guesses found it.
        let password = concat!("Dragon", "2024!x");
        let fp = fingerprint("password-assignment", &kw(&["password"]), true, password);
        assert_eq!(fp.len(), 32);
        assert!(fp.bytes().all(|b| b.is_ascii_hexdigit()));
        let guesses = ["123456", "password", "Dragon2023!x", password];
        assert!(guesses
            .iter()
            .all(|g| legacy("password-assignment", g) != fp));
        // Stable: the same everywhere, every time; bound to rule and secret.
        assert_eq!(
            fp,
            fingerprint("password-assignment", &kw(&["password"]), true, password)
        );
        // Pinned from this implementation: a change of parameters, salt or encoding would
        // orphan every committed baseline, and must be a deliberate, migrated one.
        assert_eq!(fp, "0fc796fa875b96914bf610adb44e39a3", "the scheme changed");
        assert_ne!(
            fp,
            fingerprint("other-rule", &kw(&["password"]), true, password)
        );
    }

    #[test]
    fn which_secrets_count_as_random() {
        let pc = kw(&["pc_live_"]);
        assert!(issued_at_random(&pc, false, "pc_live_q8Zr3LxV1mTw6KpN"));
        assert!(issued_at_random(&pc, false, "PC_LIVE_q8Zr3LxV1mTw6KpN"));
        // Too short after the prefix, no prefix, or a generic rule: slow.
        assert!(!issued_at_random(&pc, false, "pc_live_q8Zr3LxV1"));
        assert!(!issued_at_random(
            &pc,
            false,
            "q8Zr3LxV1mTw6KpNq8Zr3LxV1mTw6KpN"
        ));
        assert!(!issued_at_random(&pc, true, "pc_live_q8Zr3LxV1mTw6KpN"));
    }
}
