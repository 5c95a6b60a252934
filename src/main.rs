//! The `keyhound` binary: parse the command line, run it, map the outcome to an exit code
//! (0 clean, 1 findings, 2 error).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = keyhound::cli::Cli::parse();
    match keyhound::app::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // Not `eprintln!`, which panics when stderr cannot be written: exit 2 regardless.
            let _ = writeln!(
                std::io::stderr(),
                "keyhound: error: {}",
                keyhound::app::error_text(&err)
            );
            ExitCode::from(2)
        }
    }
}
