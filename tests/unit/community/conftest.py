"""Fixtures of the community tests; the helpers live in community_support and community_plan_support (unique
module names)."""
from community_plan_support import api, community, director  # noqa: F401 - fixtures are found by name
from community_support import app, db, organiser, reader  # noqa: F401 - fixtures are found by name
