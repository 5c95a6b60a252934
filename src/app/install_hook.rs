//! `keyhound install-hook`: a pre-commit hook that runs `keyhound scan --pre-commit`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};

use crate::cli::InstallHookArgs;
use crate::source::git;

/// `keyhound install-hook`: a pre-commit hook that runs `keyhound scan --pre-commit`, in
/// `core.hooksPath` if set.
pub(super) fn install_hook(args: &InstallHookArgs) -> Result<ExitCode> {
    let repo = git::open(args.path.as_deref().unwrap_or(Path::new(".")))?;
    let hooks = match repo.config().and_then(|c| c.get_path("core.hooksPath")) {
        Ok(p) if p.is_relative() => git::root(&repo).join(p),
        Ok(p) => p,
        Err(_) => repo.commondir().join("hooks"),
    };
    std::fs::create_dir_all(&hooks).with_context(|| format!("creating {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    if hook.exists() && !args.force {
        bail!(
            "{}: a pre-commit hook exists already; --force replaces it",
            hook.display()
        );
    }
    let exe = std::env::current_exe().context("finding keyhound's own path")?;
    let quoted = format!("'{}'", exe.display().to_string().replace('\'', "'\\''"));
    let script = format!(
        "#!/bin/sh\n\
         # Installed by `keyhound install-hook`: blocks commits that add leaked keys.\n\
         # A false positive? Mark its line with `keyhound:allow`.\n\
         if command -v keyhound >/dev/null 2>&1; then\n  exec keyhound scan --pre-commit\nfi\n\
         exec {quoted} scan --pre-commit\n"
    );
    std::fs::write(&hook, script).with_context(|| format!("writing {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", hook.display()))?;
    }
    println!("keyhound: installed {}", hook.display());
    Ok(ExitCode::SUCCESS)
}
