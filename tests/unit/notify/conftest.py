"""Fixtures of the notify tests; the helpers live in notify_support (a unique module name)."""
from notify_support import db, deliver, outbox, settings  # noqa: F401 - fixtures are found by name
