"""Fixtures of the community tests; the helpers live in community_support (a unique module name)."""
from community_support import app, db, organiser, reader  # noqa: F401 - fixtures are found by name
