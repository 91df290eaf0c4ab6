"""Rebuild the matching projection from the events it applied: ``python -m services.matching.rebuild``.

The bus keeps no history, so matching keeps every needs/volunteers event it applied (applied_events) and
replays them here, in order, into empty projection tables. Matches, reviews and offers are matching's
own records and are left as they are. Run it with the consumer stopped.
"""
from __future__ import annotations

from services.matching import projection, store
from services.matching.db import make_db


def main() -> None:
    db = make_db()
    try:
        with db.transaction() as session:
            count = projection.rebuild(session)
            store.mark_dirty(session)
    finally:
        db.dispose()
    print(f"matching: projection rebuilt from {count} applied event(s)")


if __name__ == "__main__":
    main()
