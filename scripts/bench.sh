#!/usr/bin/env bash
# ragline's benchmark suite: prints the results table (Markdown).
#
#   scripts/bench.sh [--quick] [ragline-bench options...]
#
# Installs what it needs (python packages duckdb, quixstreams and
# confluent-kafka when missing; tansu via scripts/broker.sh), builds the
# release binaries, starts a tansu broker on 127.0.0.1:$RAGLINE_BENCH_PORT
# (default 19392; stopped on exit), generates the 60-month Kent history once
# into $RAGLINE_BENCH_WORK (default /tmp/ragline-bench) and runs
# `ragline-bench`. --quick: 24 months, 5 s per live rate, 3 months for Quix.
# Other options go to ragline-bench (see `ragline-bench --help`), e.g.
# `--json out.json`, `--baselines off`, `--rates 1000`, `--months 120`,
# `--only rebuild,duckdb` (only those sections besides the file replay).
# Then fuzzes each target for $RAGLINE_BENCH_FUZZ_SECONDS (default 600,
# --quick 60, 0 skips): the longer run beside the test command's 30 s.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
# shellcheck source=scripts/env.sh
. scripts/env.sh
port="${RAGLINE_BENCH_PORT:-19392}"
work="${RAGLINE_BENCH_WORK:-/tmp/ragline-bench}"
python="${PYTHON:-python3}"

extra=()
sizes=(--months 60 --live-seconds 15 --quix-months 12)
fuzz_seconds="${RAGLINE_BENCH_FUZZ_SECONDS:-600}"
for arg in "$@"; do
  if [ "$arg" = --quick ]; then
    sizes=(--months 24 --live-seconds 5 --quix-months 3)
    fuzz_seconds="${RAGLINE_BENCH_FUZZ_SECONDS:-60}"
  else
    extra+=("$arg")
  fi
done

if ! "$python" -c "import duckdb, quixstreams, confluent_kafka" 2>/dev/null; then
  echo "bench: installing duckdb quixstreams confluent-kafka (pip)" >&2
  "$python" -m pip install --quiet duckdb quixstreams confluent-kafka
fi
scripts/broker.sh install
echo "bench: building (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
# ragline-bench is the workspace member bench/; both land in the same target directory.
cargo build --release --quiet -p ragline -p ragline-bench --bins

scripts/broker.sh start "$port"
trap 'scripts/broker.sh stop "$port"' EXIT INT TERM

mkdir -p "$work"
"$CARGO_TARGET_DIR/release/ragline-bench" \
  --config config/kent.toml --scale kent --seed 1 "${sizes[@]}" \
  --work "$work" --broker "127.0.0.1:$port" --baselines on --python "$python" \
  "${extra[@]}"

if [ "$fuzz_seconds" -gt 0 ]; then
  echo "bench: fuzzing each target for $fuzz_seconds s" >&2
  scripts/fuzz.sh "$fuzz_seconds"
fi
