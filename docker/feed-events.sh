#!/usr/bin/env bash
# Feed a synthetic event history into the running stack: `ragline generate`
# in the ragline container, keyed by child id (unit for unit-level events
# such as staffing snapshots and audits), produced to the input topic with
# kafka-console-producer.sh in the kafka container.
#
#   ./docker/feed-events.sh                       # 12 months, small scale, seed 1
#   ./docker/feed-events.sh --months 36 --scale kent --seed 2017 --messy
#
# Arguments go to `ragline generate` (--seed, --months, --scale, --start,
# --messy); --config and --out are set here. TOPIC overrides the topic.
set -euo pipefail
cd "$(dirname "$0")"

topic="${TOPIC:-ragline.case-events}"
if [ $# -eq 0 ]; then
  set -- --seed 1 --months 12 --scale small
fi
compose=(docker compose -f docker-compose.yml)

# shellcheck disable=SC2016 # expanded by the container's shell
"${compose[@]}" exec -T ragline sh -c '
  out=$(mktemp) && ragline generate --config /etc/ragline/kent.toml --out "$out" "$@" >&2 \
    && cat "$out" && rm -f "$out"' sh "$@" |
  "${compose[@]}" exec -T kafka bash -c '
    awk '\''{
      key = ""
      if (match($0, /"child_id"[ ]*:[ ]*"[^"]*"/) || match($0, /"unit"[ ]*:[ ]*"[^"]*"/)) {
        key = substr($0, RSTART, RLENGTH)
        sub(/^"[a-z_]*"[ ]*:[ ]*"/, "", key)
        sub(/"$/, "", key)
      }
      printf "%s\t%s\n", key, $0
    }'\'' | /opt/kafka/bin/kafka-console-producer.sh --bootstrap-server kafka:9092 \
      --topic "$1" --property parse.key=true --property "key.separator=$(printf "\t")" \
      --producer-property linger.ms=50 --producer-property batch.size=262144' bash "$topic"
echo "feed-events: produced to $topic; watch http://localhost:3000 or http://localhost:9464/scorecard" >&2
