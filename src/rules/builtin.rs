//! The rule files shipped inside the binary.
//!
//! Listed by hand with `include_str!` so the binary needs no files at run time; a test
//! (`every_rule_file_is_embedded`) fails when a file in `rules/` is missing from this list.

/// Each built-in rule file: its name under `rules/` and its text.
pub const FILES: &[(&str, &str)] = &[
    ("political-comms.toml", include_str!("../../rules/political-comms.toml")),
    ("communal.toml", include_str!("../../rules/communal.toml")),
    ("bearer.toml", include_str!("../../rules/bearer.toml")),
    ("aws.toml", include_str!("../../rules/aws.toml")),
    ("github.toml", include_str!("../../rules/github.toml")),
    ("gitlab.toml", include_str!("../../rules/gitlab.toml")),
    ("slack.toml", include_str!("../../rules/slack.toml")),
    ("stripe.toml", include_str!("../../rules/stripe.toml")),
    ("google.toml", include_str!("../../rules/google.toml")),
    ("openai.toml", include_str!("../../rules/openai.toml")),
    ("anthropic.toml", include_str!("../../rules/anthropic.toml")),
    ("sendgrid.toml", include_str!("../../rules/sendgrid.toml")),
    ("twilio.toml", include_str!("../../rules/twilio.toml")),
    ("npm.toml", include_str!("../../rules/npm.toml")),
    ("pypi.toml", include_str!("../../rules/pypi.toml")),
    ("huggingface.toml", include_str!("../../rules/huggingface.toml")),
    ("shopify.toml", include_str!("../../rules/shopify.toml")),
    ("mailgun.toml", include_str!("../../rules/mailgun.toml")),
    ("telegram.toml", include_str!("../../rules/telegram.toml")),
    ("azure.toml", include_str!("../../rules/azure.toml")),
    ("private-key.toml", include_str!("../../rules/private-key.toml")),
    ("jwt.toml", include_str!("../../rules/jwt.toml")),
    ("connection-url.toml", include_str!("../../rules/connection-url.toml")),
    ("generic-secret.toml", include_str!("../../rules/generic-secret.toml")),
];
