"""Print the records of a topic as JSON lines — run in its own process, so the test process keeps
a single consumer role (tansu: a group join after a manual assignment in one process may hang)."""
from __future__ import annotations

import sys
import time

from kafka import KafkaConsumer
from kafka.structs import TopicPartition


def main(bootstrap: str, topic: str, expect: int, timeout_s: float) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    deadline = time.monotonic() + timeout_s
    partitions = consumer.partitions_for_topic(topic)
    while not partitions and time.monotonic() < deadline:
        time.sleep(0.2)
        partitions = consumer.partitions_for_topic(topic)
    values: list[str] = []
    if partitions:
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        while len(values) < expect and time.monotonic() < deadline:
            for batch in consumer.poll(200).values():
                values.extend((r.value or b"").decode("utf-8") for r in batch)
    consumer.close()
    for value in values:
        print(value)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
