"""The whole system on a real broker: each service in its own processes (gunicorn web, relay, consumer), plus
the front door. The end-to-end and browser journey tests drive it, and so does the pipeline benchmark
(`bench/pipeline.py`); it lives here, not under tests/, so the benchmark imports nothing from the tests.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import requests

from bench.read_topic import committed_total, read_records
from wspolnota.broker import free_port
from wspolnota.config import ROOT, SERVICES
from wspolnota.testing import Samples, metric_samples, wait_until

PY = sys.executable
STAFF_PASSWORD = "e2e-staff-password-1"


class Stack:
    def __init__(self, workdir: Path, bootstrap: str, prefix: str):
        self.workdir, self.bootstrap, self.prefix = workdir, bootstrap, prefix
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports = {s: free_port() for s in SERVICES}
        self.front_port = free_port()
        self.metrics_ports: dict[str, int] = {}  # each worker serves its Prometheus metrics (wspolnota.metrics)
        self.url = f"http://127.0.0.1:{self.front_port}"
        self.http = requests.Session()  # signed in at the front door by start()
        self.service_env: dict[str, dict[str, str]] = {}  # per service: settings for all its processes

    def db_url(self, service: str) -> str:
        return f"sqlite:///{self.workdir / (service + '.db')}"

    def env(self, service: str | None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WSPOLNOTA_FAILPOINT")}
        env.update(KAFKA_BOOTSTRAP_SERVERS=self.bootstrap, WSPOLNOTA_TOPIC_PREFIX=self.prefix,
                   WSPOLNOTA_VAR_DIR=str(self.workdir), GUNICORN_WORKERS="1", GUNICORN_THREADS="4",
                   PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
        if service:
            env["DATABASE_URL"] = self.db_url(service)
            env.update(self.service_env.get(service, {}))
        for s in SERVICES:
            env[f"WSPOLNOTA_{s.upper()}_URL"] = f"http://127.0.0.1:{self.ports[s]}"
        env.update(extra)
        return env

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def migrate(self) -> None:
        for service in SERVICES:
            subprocess.run([PY, "-m", "wspolnota.cli", "migrate", service], env=self.env(service), check=True,
                           capture_output=True)

    def start_web(self, service: str) -> None:
        self._spawn(f"{service}-web", [PY, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                                       "--bind", f"127.0.0.1:{self.ports[service]}",
                                       f"services.{service}.app:create_app()"], self.env(service))

    def start_front(self) -> None:
        self._spawn("front", [PY, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py"),
                              "--bind", f"127.0.0.1:{self.front_port}", "services.front.app:create_app()"],
                    self.env(None))

    def start_worker(self, role: str, service: str, **extra: str) -> subprocess.Popen[bytes]:
        command = "relay" if role == "relay" else "consume"
        name = f"{service}-{role}"
        self.metrics_ports[name] = free_port()
        return self._spawn(name, [PY, "-m", "wspolnota.cli", command, service],
                           self.env(service, WSPOLNOTA_METRICS_PORT=str(self.metrics_ports[name]), **extra))

    def metrics(self, name: str) -> Samples:
        """A scrape of a worker's /metrics (wspolnota.testing.metric_samples); {} while it is not up."""
        try:
            return metric_samples(requests.get(f"http://127.0.0.1:{self.metrics_ports[name]}/metrics", timeout=5).text)
        except requests.ConnectionError:
            return {}

    def start(self, without: tuple[str, ...] = ()) -> Stack:
        from services.front.accounts import AuthStore

        self.migrate()
        accounts = AuthStore(f"sqlite:///{self.workdir / 'auth.db'}")  # the front door's default under the var dir
        accounts.migrate()
        accounts.add("e2e.admin", "admin", STAFF_PASSWORD)
        accounts.dispose()
        self.start_front()
        for service in SERVICES:
            self.start_web(service)
            for role in ("relay", "consumer"):
                if f"{service}-{role}" not in without:
                    self.start_worker(role, service)
        # 90 s: 13 Python processes start at once; on a 2-core box shared with other test runs the last
        # gunicorn can need more than a minute (60 s timed out once on the third stack of a run).
        for service in SERVICES:
            wait_until(partial(self._healthy, f"{self.url}/{service}/healthz"), 90, message=f"{service} web")
        self.sign_in()
        return self

    def sign_in(self) -> None:
        form = self.http.get(f"{self.url}/auth/login", timeout=10).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        signed = self.http.post(f"{self.url}/auth/login", data={"login": "e2e.admin", "password": STAFF_PASSWORD,
                                                                "csrf_token": token}, allow_redirects=False, timeout=10)
        assert signed.status_code == 302, signed.text

    @staticmethod
    def _healthy(url: str) -> bool:
        try:
            return requests.get(url, timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or still importing
            return False

    def stop(self, name: str, sig: int = signal.SIGTERM) -> int:
        """Signal a process group and wait; one that ignores the signal for 15 s is killed."""
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        try:
            return proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            return proc.wait(10)

    def stop_all(self) -> None:
        """SIGTERM to every process at once, then wait for each (one by one took ~10 s per stack)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name in list(self.procs):
            self.stop(name)

    # -- the staff's view, through the front door -----------------------------------------------
    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.http.post(f"{self.url}{path}", json=body, timeout=10)

    def get(self, path: str) -> Any:
        response = self.http.get(f"{self.url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def read_topic(self, topic: str, expect: int, timeout_s: float = 60) -> list[dict[str, Any]]:
        """Read a topic without a group, in a separate process (no consumer in the test process: docs/architecture.md)."""
        return read_records(self.bootstrap, self.prefix + topic, expect, timeout_s)

    def committed(self, topic: str, service: str) -> int:
        """How many records of the topic the service's consumer group has committed, over all partitions."""
        return committed_total(self.bootstrap, self.prefix + topic, self.prefix + service)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tails(self, names: tuple[str, ...] = ("matching-consumer", "notify-consumer", "needs-relay"),
                  lines: int = 25) -> str:
        """The last lines of some process logs, for a failure message (a CI run keeps nothing else)."""
        return "\n".join(f"--- {name}.log ---\n" + "\n".join(self.log(name).splitlines()[-lines:])
                         for name in names)
