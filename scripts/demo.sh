#!/usr/bin/env bash
# The main job on the embedded default: generate a Kent-scale event history,
# replay it into a local RocksDB state, and write month-end scorecards.
#
#   ./scripts/demo.sh [MONTHS]      (default 36 months from April 2016)
#
# Writes out/events.jsonl, out/state/, out/scorecard-<month>.{json,csv,html}.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh

months="${1:-36}"
# The same build as the tests' (the dev profile, dependencies optimised), so
# the README's two commands compile RocksDB and librdkafka once between them.
if [ ! -x "$CARGO_TARGET_DIR/debug/ragline" ]; then
  echo "demo: building ragline; the first build on a machine compiles RocksDB and librdkafka (18 to 25 minutes on 2 cores as measured)" >&2
fi
cargo build --bin ragline
ragline="$CARGO_TARGET_DIR/debug/ragline"
echo "demo: generating $months months of Kent-scale events" >&2
mkdir -p out
"$ragline" check-config --config config/kent.toml
"$ragline" generate --config config/kent.toml --seed 2017 --months "$months" --scale kent --start 2016-04 --out out/events.jsonl
rm -rf out/state
echo "demo: replaying them into out/state" >&2
"$ragline" replay --config config/kent.toml --input out/events.jsonl --state out/state --dead-letters out/dead-letters.jsonl
last=$(python3 -c "import sys; y,m=2016,4+int(sys.argv[1])-1; y+= (m-1)//12; m=(m-1)%12+1; print(f'{y:04d}-{m:02d}')" "$months")
for format in json csv html; do
  "$ragline" report --config config/kent.toml --state out/state --month "$last" --all-units --format "$format" --out "out/scorecard-$last.$format"
done
echo "demo: scorecards for $last written to out/scorecard-$last.{json,csv,html}"
