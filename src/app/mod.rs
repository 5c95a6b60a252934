//! Orchestration only: sources → parallel scan → findings → report → exit code. Each stage
//! lives in its own module; this one dispatches a command line to its subcommand's module,
//! which decides the order and what the user is told.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, RulesCommand};
use crate::config::{rule_load, rule_select, Output};
use crate::rules::LoadOptions;

/// std's `eprintln!` panics when stderr cannot be written (closed pipe, full disk): messages
/// are best effort, and the run ends with the exit code its outcome calls for.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

/// std's `println!` panics on a broken pipe (`keyhound ... | head`): the reader has gone, so
/// the rest is dropped quietly, as the report itself is.
macro_rules! println {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stdout(), $($arg)*);
    }};
}

mod audit;
mod baseline;
mod config;
mod history;
mod install_hook;
mod live;
mod merge;
mod pipeline;
mod rules;
mod scan;
mod staged;
mod summary;
mod verify_key;

/// Runs a parsed command line; `Err` means exit code 2.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let output = Output::new(cli.color, cli.verbose, cli.quiet);
    match &cli.command {
        Command::Scan(args) => scan::scan(args, output),
        Command::History(args) => history::history(args, output),
        Command::InstallHook(args) => install_hook::install_hook(args),
        Command::Baseline(args) => baseline::baseline(args, output),
        Command::Config(args) => config::show_config(args),
        Command::Rules(RulesCommand::List { rules, format }) => {
            rules::rules_list(&rule_load(rules), &rule_select(rules), *format)
        }
        Command::Rules(RulesCommand::Check { files, rules }) => {
            let load = if files.is_empty() {
                rule_load(rules)
            } else {
                LoadOptions {
                    builtin: false,
                    paths: files.clone(),
                    ..LoadOptions::default()
                }
            };
            rules::rules_check(&load, &rule_select(rules))
        }
        Command::Verify(args) => verify_key::verify_key(args, output),
        Command::Audit(args) => audit::audit(args, output),
        Command::Merge(args) => merge::merge(args, output),
    }
}

/// An error and its causes on one line, each cause once: a message that already quotes its
/// cause (`cannot read x: No such file or directory (os error 2)`) is not followed by it again.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
