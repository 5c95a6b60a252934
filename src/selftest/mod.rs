//! `keyhound rules check`: every rule proves itself, through the code a real run uses. Its
//! examples and negative examples go through the matcher ([`examples`]), and its live check's
//! recorded answers through the live-check code ([`replay`]). This module sits above both the
//! matcher and verify, so that neither the rules nor verify need to know the other's tests.

pub mod examples;
pub mod replay;

/// One way a rule failed its self-test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub rule_id: String,
    /// `file:line` of the rule.
    pub origin: String,
    pub message: String,
}
