#!/usr/bin/env bash
# Check the DuckDB baseline against ragline:
#
#   bench/baselines/verify_duckdb.sh [WORKDIR] [SCALE] [MONTHS] [SEED]
#
# 1. the hand-made boundary cases of edge_cases.py;
# 2. a clean and a messy generated history of the same seed.
# Each is replayed by ragline; for several month ends every indicator DuckDB
# computes is compared, for every unit, with ragline's report (compare.py);
# then every month end from the first to the last of them, DuckDB's
# one-script range against `ragline report --month A..B --out-dir`.
# Exits non-zero on any mismatch. MONTH_LIST overrides the months of 2.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${1:-/tmp/ragline-baselines}"
scale="${2:-small}"
months="${3:-24}"
seed="${4:-1}"
config="$repo/config/kent.toml"
ragline="${RAGLINE:-${CARGO_TARGET_DIR:-$HOME/.cache/ragline-target}/release/ragline}"
month_list="${MONTH_LIST:-2016-09 2017-03 2017-08 2018-03}"
mkdir -p "$work"
status=0

check() { # EVENTS LABEL MONTHS...
  local events="$1" label="$2"
  shift 2
  local state="$work/$label.state"
  rm -rf "$state"
  "$ragline" replay --config "$config" --input "$events" --state "$state" \
    --dead-letters "$work/$label.dead.jsonl" --json >"$work/$label.replay.json"
  for month in "$@"; do
    "$ragline" report --config "$config" --state "$state" --month "$month" --all-units --format json \
      --out "$work/$label.ragline-$month.json"
    python3 "$here/duckdb_scorecard.py" "$events" --config "$config" --month "$month" \
      --out "$work/$label.duckdb-$month.json"
    echo "== $label $month"
    python3 "$here/compare.py" "$work/$label.ragline-$month.json" "$work/$label.duckdb-$month.json" \
      | tail -n 30 || status=1
  done
  local range="$1..${!#}"
  rm -rf "$work/$label.ragline-months"
  "$ragline" report --config "$config" --state "$state" --month "$range" --all-units --format json \
    --out-dir "$work/$label.ragline-months"
  python3 "$here/duckdb_scorecard.py" "$events" --config "$config" --month "$range" \
    --out "$work/$label.duckdb-months.json"
  echo "== $label $range (every month end)"
  python3 "$here/compare.py" "$work/$label.ragline-months" "$work/$label.duckdb-months.json" \
    | tail -n 30 || status=1
}

python3 "$here/edge_cases.py" "$work/edge.jsonl"
check "$work/edge.jsonl" edge 2017-02 2017-03 2017-08 2018-01 2018-02 2018-03

for variant in clean messy; do
  label="$scale-$months-$seed-$variant"
  events="$work/$label.jsonl"
  flag=""
  [ "$variant" = messy ] && flag="--messy"
  if [ ! -s "$events" ]; then
    "$ragline" generate --config "$config" --seed "$seed" --months "$months" --scale "$scale" \
      --out "$events" $flag
  fi
  # shellcheck disable=SC2086
  check "$events" "$label" $month_list
done
exit $status
