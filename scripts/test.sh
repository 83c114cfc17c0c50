#!/usr/bin/env bash
# Sets up and runs every test tier of the workspace (ragline and its
# benchmark suite, bench/): formatting, lints, unit, integration,
# property, simulation and end-to-end tests, the heavy tier (a real broker,
# tansu; kill -9 rounds; a real Prometheus with the alert rules; promtool;
# headless Chromium; the static checks of the deployment files) and a
# bounded run of each fuzz target.
#
# On a fresh machine the first run builds tansu (release, once per machine),
# then ragline's dependencies once (RocksDB and librdkafka are C and C++:
# most of the time), shared by clippy and the tests, then the fuzz targets
# with the nightly toolchain (no C++). Later runs reuse all of it.
#
# RAGLINE_QUICK=1 skips the heavy tier's setup and the fuzz run (the heavy
# tests then return at once; under CI=true they fail instead).
# RAGLINE_FUZZ_SECONDS sets the fuzz time per target (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh

started=$SECONDS
step() { echo "test: $* ($((SECONDS - started)) s so far)" >&2; }
# cargo shows its progress bar on a terminal; in a pipe (CI) it prints one
# line per crate, which is progress enough.

if [ "${RAGLINE_QUICK:-0}" != "1" ]; then
  # Test tools: Prometheus and promtool, Chromium and poppler-utils
  # (pdftoppm: printed pages to pixels), stunnel and openssl (a TLS proxy in
  # front of the test broker, test certificates; Debian packages), tansu.
  missing=()
  for package in prometheus chromium poppler-utils chromium-driver stunnel4 openssl; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]} (Debian packages)"
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
  export RAGLINE_PDFTOPPM="$(command -v pdftoppm)"
  export RAGLINE_STUNNEL="$(command -v stunnel4)"
  export RAGLINE_TANSU="${RAGLINE_TOOLS:-$HOME/.cache/ragline-tools}/bin/tansu"
  ./scripts/check-deploy.sh
fi

step "formatting"
cargo fmt --all -- --check
if [ ! -d "$CARGO_TARGET_DIR/debug/build" ]; then
  step "building the workspace and its tests; the first build on a machine compiles RocksDB and librdkafka (18 to 25 minutes on 2 cores as measured)"
else
  step "building the workspace and its tests"
fi
cargo build --workspace --all-targets
step "clippy (shares the dependencies just built)"
cargo clippy --workspace --all-targets -- -D warnings
step "tests"
cargo test --workspace --all-targets
if [ "${RAGLINE_QUICK:-0}" != "1" ]; then
  step "fuzzing each target for ${RAGLINE_FUZZ_SECONDS:-30} s"
  ./scripts/fuzz.sh "${RAGLINE_FUZZ_SECONDS:-30}"
fi
step "done"
