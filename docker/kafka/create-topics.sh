#!/usr/bin/env bash
# One-shot topic creation for the ragline stack (the kafka-init service of
# docker-compose.yml runs it in the apache/kafka image). Idempotent: topics
# that exist are left as they are. Names are ragline's defaults
# (config/kent.toml [kafka]); override them with the same RAGLINE_KAFKA_*
# variables given to ragline.
set -euo pipefail

bootstrap="${KAFKA_BOOTSTRAP:-kafka:9092}"
partitions="${INPUT_PARTITIONS:-3}"
topics=/opt/kafka/bin/kafka-topics.sh

create() {
  local topic="$1" count="$2"
  shift 2
  "$topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$topic" --partitions "$count" --replication-factor 1 "$@"
}

# Input: case events, keyed by child id.
create "${RAGLINE_KAFKA_INPUT_TOPIC:-ragline.case-events}" "$partitions"
# Live indicator values keyed indicator/unit: compacted, the latest value of
# every indicator and unit is kept for ever.
create "${RAGLINE_KAFKA_VALUES_TOPIC:-ragline.indicator-values}" "$partitions" \
  --config cleanup.policy=compact --config min.cleanable.dirty.ratio=0.1 \
  --config segment.ms=3600000
create "${RAGLINE_KAFKA_RAG_CHANGES_TOPIC:-ragline.rag-changes}" 1
create "${RAGLINE_KAFKA_SCORECARDS_TOPIC:-ragline.scorecards}" 1
create "${RAGLINE_KAFKA_RESTATEMENTS_TOPIC:-ragline.restatements}" 1
# Dead letters carry the raw rejected message (base64 when not UTF-8): allow
# records larger than the 1 MiB input limit.
create "${RAGLINE_KAFKA_DEAD_LETTERS_TOPIC:-ragline.dead-letters}" 1 \
  --config max.message.bytes=4194304

"$topics" --bootstrap-server "$bootstrap" --list
echo "kafka-init: topics ready"
