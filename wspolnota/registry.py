"""Where the command line finds each service's code: "module:function" strings, loaded when a command runs.

The shared runtime imports no service module (tests/unit/test_runtime_imports.py keeps it so). The CLI, the
worker and the jobs runner reach a service by a module path string resolved with importlib at run time — a
registry entry, not an import: `wspolnota` itself stays importable, type-checkable and testable without any
service, and no service depends on another through it.
"""
from __future__ import annotations

import importlib
from typing import Any

ENTRY_POINTS = {
    "front.app": "services.front.app:create_app",  # the front door, sign-in, accounts, dashboard
    "front.user": "services.front.cli:user_command",  # `wspolnota user add|set`
    "front.first_admin": "services.front.cli:first_admin",  # first start of `wspolnota run`
    "needs.seed": "services.needs.seed:main",
    "needs.apikey": "services.needs.apikeys:main",
    "volunteers.seed": "services.volunteers.seed:main",
    "notify.sender": "services.notify.sender:main",
    "community.seed": "services.community.seed:main",
}


def web_app(service: str) -> str:
    """gunicorn's "module:create_app()" of a service's web app (front included)."""
    return f"{ENTRY_POINTS.get(f'{service}.app', f'services.{service}.app:create_app')}()"


def entry_point(name: str) -> Any:
    """The function behind an ENTRY_POINTS name, imported now."""
    module, _, function = ENTRY_POINTS[name].partition(":")
    return getattr(importlib.import_module(module), function)
