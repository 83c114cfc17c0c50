#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/) for a bounded time each, seeded from
# tests/corpus (each line a seed) and from the regression inputs kept in
# fuzz/regressions. Needs the nightly toolchain; installs cargo-fuzz once.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
#
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script:
# copy it into fuzz/regressions/<target>/ so that the stable-toolchain
# harness test (tests/harness.rs) replays it on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
seconds="${1:-60}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: installing the nightly toolchain (rustup)" >&2
  rustup toolchain install nightly --profile minimal >&2
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (once per machine, about 5 minutes)" >&2
  cargo install cargo-fuzz --locked >&2
fi

seeds="$CARGO_TARGET_DIR/fuzz-seeds"
rm -rf "$seeds"
mkdir -p "$seeds/decode" "$seeds/engine"
line=0
while IFS= read -r text; do
  line=$((line + 1))
  printf '%s' "$text" >"$seeds/decode/corpus-$line"
done < <(cat tests/corpus/valid.jsonl tests/corpus/invalid.jsonl)
for target in decode engine; do
  if [ -d "fuzz/regressions/$target" ]; then
    cp fuzz/regressions/"$target"/* "$seeds/$target/" 2>/dev/null || true
  fi
done
# The engine target reads its own byte format: lines of the corpus are
# arbitrary bytes to it, still useful starting points.
cp "$seeds"/decode/* "$seeds/engine/"

export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
mkdir -p "$CARGO_TARGET_DIR"
for target in decode engine; do
  mkdir -p "fuzz/corpus/$target"
  echo "fuzz: $target for ${seconds}s (first build compiles ragline with the nightly toolchain)" >&2
  log="$CARGO_TARGET_DIR/fuzz-$target.log"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" "$seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $target failed (a crash leaves its input in fuzz/artifacts/$target/); log: $log" >&2
    exit 1
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs)' "$log" \
    | sed "s/^/fuzz: $target: /" >&2
done
