#!/usr/bin/env bash
# Installs what building and testing ragline needs, skipping what is there:
# Debian packages (libclang for RocksDB's bindings, OpenSSL for Kafka over TLS,
# cmake, a C/C++ toolchain)
# and a Rust toolchain. Source it or run it; it exports nothing permanent.
# `scripts/setup.sh gssapi` also installs Cyrus SASL's headers (libsasl2-dev)
# for a build with `--features gssapi` (Kerberos to Kafka).
set -euo pipefail

packages=(libclang-dev libssl-dev cmake g++ make pkg-config python3 curl openssl)
if [ "${1:-}" = "gssapi" ]; then
  packages+=(libsasl2-dev)
fi
need_packages=()
for package in "${packages[@]}"; do
  if ! dpkg -s "$package" >/dev/null 2>&1; then
    need_packages+=("$package")
  fi
done
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "setup: installing ${need_packages[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: installing a Rust toolchain with rustup" >&2
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt >/dev/null
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
