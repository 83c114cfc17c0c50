#!/usr/bin/env python3
"""Produce a JSON Lines event file to a Kafka topic, one message per line.

    produce.py EVENTS.jsonl --brokers 127.0.0.1:19192 --topic T [--partitions 4] [--key child_id|unit]

Creates the topic (if it does not exist) with the given partition count, then
produces every line as it is (raw bytes, so malformed lines reach the consumer
too, as they would from a real source) keyed as docs/events.md says: the
`child_id`, or the `unit` for unit-level events (and for lines without a
`child_id`); lines that are not JSON objects get no key. Prints the count, the
elapsed time and the rate. Needs confluent-kafka from PyPI (its wheel bundles
a librdkafka recent enough for tansu).
"""

import argparse
import json
import sys
import time

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic


def message_key(line, field):
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict):
        return None
    key = obj.get(field) if field == "unit" else (obj.get("child_id") or obj.get("unit"))
    return key.encode() if isinstance(key, str) else None


def ensure_topic(brokers, topic, partitions):
    admin = AdminClient({"bootstrap.servers": brokers})
    existing = admin.list_topics(timeout=30).topics
    if topic in existing:
        have = len(existing[topic].partitions)
        print(f"produce: topic {topic} exists with {have} partitions", file=sys.stderr)
        return
    # retention given explicitly: tansu reports only the configs a topic was created with,
    # and Quix Streams derives its changelog/repartition topics from retention.ms
    config = {"retention.ms": "-1", "retention.bytes": "-1"}
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1, config=config)])
    for name, future in futures.items():
        try:
            future.result(30)
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise
    print(f"produce: created topic {topic} with {partitions} partitions", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("events")
    ap.add_argument("--brokers", default="127.0.0.1:19192")
    ap.add_argument("--topic", default="ragline.case-events")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--key", choices=["child_id", "unit"], default="child_id",
                    help="key child events by child_id (default) or every event by unit")
    args = ap.parse_args(argv)
    ensure_topic(args.brokers, args.topic, args.partitions)
    producer = Producer({
        "bootstrap.servers": args.brokers,
        "linger.ms": 20,
        "batch.size": 1 << 20,
        "compression.type": "lz4",
        "enable.idempotence": False,
        "acks": "all",
    })
    failures = []

    def delivered(err, _msg):
        if err is not None:
            failures.append(err)

    start = time.perf_counter()
    count = 0
    with open(args.events, "rb") as fh:
        for raw in fh:
            line = raw.rstrip(b"\n")
            if line.endswith(b"\r"):
                line = line[:-1]
            key = message_key(line, args.key)
            while True:
                try:
                    producer.produce(args.topic, value=line, key=key, on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.1)
            count += 1
            if count % 10000 == 0:
                producer.poll(0)
    left = producer.flush(120)
    elapsed = time.perf_counter() - start
    if failures or left:
        print(f"produce: {len(failures)} failed deliveries, {left} not delivered: {failures[:3]}", file=sys.stderr)
        return 1
    print(f"produce: {count} messages to {args.topic} in {elapsed:.2f} s ({count / elapsed:,.0f} messages/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
