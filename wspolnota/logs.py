"""Logging: one readable line per event tagged with the service (text), or JSON for production."""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from wspolnota import config


class _JsonFormatter(logging.Formatter):
    def __init__(self, service: str, role: str):
        super().__init__()
        self.service, self.role = service, role

    def format(self, record: logging.LogRecord) -> str:
        body = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(), "level": record.levelname,
                "service": self.service, "role": self.role, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def setup_logging(service: str, role: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if config.get("LOG_FORMAT") == "json":
        handler.setFormatter(_JsonFormatter(service, role))
    else:
        # Under the `make run` supervisor each line is already prefixed with time and process name.
        stamp = "%(asctime)s " if sys.stderr.isatty() else ""
        handler.setFormatter(logging.Formatter(f"{stamp}{service}-{role} %(levelname)s %(message)s",
                                               datefmt="%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.get("LOG_LEVEL"))
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("kafka").setLevel(config.get("KAFKA_LOG_LEVEL"))  # its own retries are logged as warnings
