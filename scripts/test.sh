#!/usr/bin/env bash
# Sets up and runs every test tier: formatting, lints, unit, integration,
# property and end-to-end tests, then the heavy tier: a real broker (tansu),
# kill -9 rounds, a real Prometheus with the alert rules, promtool, headless
# Chromium, and the static checks of the deployment files.
#
# RAGLINE_QUICK=1 skips the heavy tier's setup (the heavy tests then return
# at once).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh

if [ "${RAGLINE_QUICK:-0}" != "1" ]; then
  # Test tools: Prometheus and promtool, Chromium (Debian packages), tansu.
  missing=()
  for package in prometheus chromium chromium-driver; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  ./scripts/broker.sh install
  port="${RAGLINE_BROKER_PORT:-19092}"
  ./scripts/broker.sh start "$port"
  trap './scripts/broker.sh stop '"$port" EXIT
  export RAGLINE_BROKER="127.0.0.1:$port"
  export RAGLINE_PROMETHEUS="$(command -v prometheus)"
  export RAGLINE_CHROMIUM="$(command -v chromium)"
  ./scripts/check-deploy.sh
fi

cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
cargo test --all-targets
