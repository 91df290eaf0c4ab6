"""Print a topic's first N records as JSON (run as its own process by the e2e tests)."""
from __future__ import annotations

import json
import sys
import time

from kafka import KafkaConsumer
from kafka.structs import TopicPartition


def main(bootstrap: str, topic: str, expect: int, timeout_s: float) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    deadline = time.monotonic() + timeout_s
    partitions = None
    while not partitions and time.monotonic() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            time.sleep(0.2)
    records: list[dict[str, object]] = []
    if partitions:
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        while len(records) < expect and time.monotonic() < deadline:
            for batch in consumer.poll(200).values():
                for r in batch:
                    records.append({"partition": r.partition, "offset": r.offset,
                                    "key": r.key.decode() if r.key else None,
                                    "value": (r.value or b"").decode("utf-8", "replace"),
                                    "headers": {k: (v or b"").decode("utf-8", "replace") for k, v in r.headers}})
    consumer.close()
    json.dump(records, sys.stdout, ensure_ascii=False)


def committed(bootstrap: str, topic: str, group: str) -> None:
    """Print the group's committed offsets on the topic (OffsetFetch only: it does not join the group)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=group, enable_auto_commit=False)
    partitions = consumer.partitions_for_topic(topic) or set()
    offsets = {p: consumer.committed(TopicPartition(topic, p)) for p in sorted(partitions)}
    consumer.close(autocommit=False)
    json.dump({str(p): o for p, o in offsets.items()}, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "--committed":
        committed(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
