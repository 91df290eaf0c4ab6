"""`make test` step 0: make sure what the tests need is there (PostgreSQL up, the broker binary present)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def ensure_postgres() -> None:
    if os.environ.get("DATABASE_URL"):
        print("prepare: PostgreSQL from DATABASE_URL")
        return
    if _answers("127.0.0.1", 5432):
        print("prepare: PostgreSQL answers on 127.0.0.1:5432")
        return
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if not versions or not shutil.which("pg_ctlcluster"):
        sys.exit("prepare: PostgreSQL is down and not installed here; set DATABASE_URL to a server")
    print(f"prepare: starting PostgreSQL {versions[-1]}")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=True)
    deadline = time.monotonic() + 30
    while not _answers("127.0.0.1", 5432):
        if time.monotonic() > deadline:
            sys.exit("prepare: PostgreSQL did not come up within 30 s")
        time.sleep(0.2)


def ensure_broker_binary() -> None:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return
    from wspolnota.broker import tansu_binary

    print(f"prepare: tansu at {tansu_binary()}")


if __name__ == "__main__":
    ensure_postgres()
    ensure_broker_binary()
