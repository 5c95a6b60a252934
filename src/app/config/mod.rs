//! `keyhound config`: the configuration in effect, and where each setting came from.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};

use crate::cli::ShowConfigArgs;
use crate::config::Settings;

mod show;

/// `keyhound config [--config FILE] [PATH]`.
pub(super) fn show_config(args: &ShowConfigArgs) -> Result<ExitCode> {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if std::fs::symlink_metadata(&path).is_err() {
        bail!("{}: no such file or directory", path.display());
    }
    let settings = Settings::load(&path, args.config.config.as_deref())?;
    let text = show::render(&settings);
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the configuration")?,
    }
    Ok(ExitCode::SUCCESS)
}
