"""A real Kafka group member (KafkaConsumerAdapter) living in a process of its own, driven from the test.

The bus contract tests need real group semantics — resume after a commit, redelivery to the next member,
one copy per group — hence several group consumers per test. On tansu a group consumer created in a
process that already had one can take ~50 s to join (docs/architecture.md), so each member gets its own process, as
consumers do in production. The test calls poll/commit/seek/close on the proxy; they run in the child
(request and answer pickled over its stdin/stdout).
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from wspolnota.transport.base import Message, TopicPartition

ROOT = Path(__file__).resolve().parents[2]


class ConsumerInItsOwnProcess:
    """Implements the Consumer port by forwarding to a KafkaConsumerAdapter in a child process."""

    def __init__(self, bootstrap: str, group: str, topics: list[str], **env: str):
        self.closed = False
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.integration.consumer_process", bootstrap, group,
                                      *topics], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
                                     env={**os.environ, **env})
        self._call("ready")

    def _call(self, method: str, *args: Any) -> Any:
        assert self.proc.stdin and self.proc.stdout
        pickle.dump((method, args), self.proc.stdin)
        self.proc.stdin.flush()
        try:
            status, value = pickle.load(self.proc.stdout)
        except EOFError:
            raise RuntimeError(f"the consumer process exited ({self.proc.wait(10)}) during {method}") from None
        if status == "error":
            raise RuntimeError(f"{method} failed in the consumer process: {value}")
        return value

    def poll(self, timeout_ms: int, max_records: int | None = None) -> list[Message]:
        result: list[Message] = self._call("poll", timeout_ms, max_records)
        return result

    def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self._call("commit", offsets)

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._call("seek", topic, partition, offset)

    def lose_fetches(self) -> None:
        """Fault injection: the current kafka-python client stops sending fetches, as if one had been lost."""
        self._call("lose_fetches")

    def hang_next_rebalance(self) -> None:
        """Fault injection: the current client starts a rebalance whose join never completes (no SyncGroup
        answer), while it keeps fetching its old partitions, as kafka-python did against a restarted tansu."""
        self._call("hang_next_rebalance")

    def recreated(self) -> int:
        """How many times the adapter's watchdog replaced its client."""
        result: int = self._call("recreated")
        return result

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                if self.proc.poll() is None:
                    self._call("close")
            finally:
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)


def serve(bootstrap: str, group: str, topics: list[str]) -> None:
    requests, answers = sys.stdin.buffer, os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing else may write into the answer pipe
    from wspolnota.transport.kafka import KafkaConsumerAdapter

    consumer = KafkaConsumerAdapter(group, topics, bootstrap)

    def hang_next_rebalance() -> None:
        from kafka.future import Future

        coordinator = consumer._consumer._coordinator
        never: Future = Future()

        async def join_and_sync_that_never_answers() -> Any:
            return await never

        coordinator._do_join_and_sync_async = join_and_sync_that_never_answers
        coordinator.request_rejoin()

    specials = {
        "hang_next_rebalance": hang_next_rebalance,
        "ready": lambda: None,
        "recreated": lambda: consumer.recreated,
        "lose_fetches": lambda: setattr(consumer._consumer._fetcher, "send_fetches", lambda: None),
    }
    while True:
        try:
            method, args = pickle.load(requests)
        except EOFError:  # the test process went away
            consumer.close()
            return
        try:
            call = specials.get(method) or getattr(consumer, method)
            answer = ("ok", call(*args))
        except Exception as err:  # noqa: BLE001 - reported to the test, which raises it
            answer = ("error", repr(err))
        pickle.dump(answer, answers)
        answers.flush()
        if method == "close":
            return


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3:])
