#!/usr/bin/env bash
# Time ragline and the two baselines on one generated history:
#
#   bench/baselines/run_bench.sh [WORKDIR] [SCALE] [MONTHS] [VARIANT] [RUNS]
#
# defaults: /tmp/ragline-bench kent 24 clean 2. Generates the history (once),
# then RUNS times each: ragline replay (file -> RocksDB state), the DuckDB
# recompute of the last month end, and (with a broker on $BROKER, default
# 127.0.0.1:19192, started with scripts/broker.sh start 19192) the Quix
# Streams counters over the produced topic. Checks every result against
# ragline's report for that month. Needs: pip install duckdb quixstreams
# confluent-kafka.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${1:-/tmp/ragline-bench}"
scale="${2:-kent}"
months="${3:-24}"
variant="${4:-clean}"
runs="${5:-2}"
broker="${BROKER:-127.0.0.1:19192}"
config="$repo/config/kent.toml"
ragline="${RAGLINE:-${CARGO_TARGET_DIR:-$HOME/.cache/ragline-target}/release/ragline}"
mkdir -p "$work"
label="$scale-$months-1-$variant"
events="$work/$label.jsonl"
flag=""
[ "$variant" = messy ] && flag="--messy"
[ -s "$events" ] || "$ragline" generate --config "$config" --seed 1 --months "$months" --scale "$scale" \
  --out "$events" $flag
lines=$(wc -l <"$events")
# the last month of the history (generate starts at 2016-04)
month=$(python3 -c "i = 2016 * 12 + 3 + $months - 1; print(f'{i // 12:04d}-{i % 12 + 1:02d}')")
echo "history: $events ($lines lines), month end $month, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

for run in $(seq 1 "$runs"); do
  rm -rf "$work/$label.state"
  "$ragline" replay --config "$config" --input "$events" --state "$work/$label.state" --json \
    >"$work/replay.json"
  python3 -c "import json; d = json.load(open('$work/replay.json'))
print(f\"ragline replay run $run: {d['elapsed_seconds']:.2f} s, {d['events_per_second']:,.0f} events/s\")"
done
"$ragline" report --config "$config" --state "$work/$label.state" --month "$month" --all-units \
  --format json --out "$work/ragline-$month.json"

for run in $(seq 1 "$runs"); do
  /usr/bin/time -f "duckdb run $run: peak RSS %M KiB" \
    python3 "$here/duckdb_scorecard.py" "$events" --config "$config" --month "$month" \
    --out "$work/duckdb-$month.json" 2>&1 | sed "s/^duckdb_scorecard:/duckdb run $run:/"
done
python3 "$here/compare.py" "$work/ragline-$month.json" "$work/duckdb-$month.json" | tail -n 1

if (exec 3<>"/dev/tcp/${broker%:*}/${broker#*:}") 2>/dev/null; then
  topic="bench.$label.$(date +%s)"
  python3 "$here/produce.py" "$events" --brokers "$broker" --topic "$topic" --partitions 4
  for run in $(seq 1 "$runs"); do
    python3 "$here/quix_rolling.py" --brokers "$broker" --topic "$topic" --count "$lines" \
      --month "$month" --config "$config" --compare "$work/ragline-$month.json" 2>&1 \
      | grep -v -i "httpx\|deprecat" | sed "s/^quix_rolling:/quix run $run:/"
  done
else
  echo "no broker on $broker: skipping Quix (scripts/broker.sh start ${broker#*:})"
fi
