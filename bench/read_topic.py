"""Read a topic without joining a group, in a process of its own.

Run as a program (`python -m bench.read_topic BOOTSTRAP TOPIC EXPECT TIMEOUT_S`) it prints the topic's
first EXPECT records as JSON; `--committed BOOTSTRAP TOPIC GROUP` prints a group's committed offsets.
Tests call `read_records()` / `committed_total()`, which run it as a subprocess: the pytest process then
holds no Kafka consumer at all (on tansu a group consumer created in a process that already had one — or
had a manually assigned one — can take ~50 s to join, or never finish; docs/architecture.md).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

ROOT = Path(__file__).resolve().parents[1]


def read_records(bootstrap: str, topic: str, expect: int, timeout_s: float = 60) -> list[dict[str, Any]]:
    """The topic's first `expect` records (fewer if the deadline passes): partition, offset, key, value, headers.

    Assign + seek to the beginning, no group: nothing is committed and no group has to be joined.
    """
    out = subprocess.run([sys.executable, "-m", "bench.read_topic", bootstrap, topic, str(expect), str(timeout_s)],
                         capture_output=True, check=True, cwd=ROOT, timeout=timeout_s + 30)
    records: list[dict[str, Any]] = json.loads(out.stdout)
    return records


def committed_total(bootstrap: str, topic: str, group: str) -> int:
    """How many records of the topic the group has committed, over all partitions (OffsetFetch: no join)."""
    out = subprocess.run([sys.executable, "-m", "bench.read_topic", "--committed", bootstrap, topic, group],
                         capture_output=True, check=True, cwd=ROOT, timeout=60)
    return sum(o or 0 for o in json.loads(out.stdout).values())


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
