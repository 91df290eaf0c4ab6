"""A fixed-window request counter in the service's own database, shared by every gunicorn worker.

Each service that limits requests (public survey answers and registrations, volunteers' sign-in links, the case
system's API clients) keeps a table made by `windows_table` — one row per key and window — and asks
`count_request` for the number of requests in the current window, this one included. The UPDATE locks the row on
PostgreSQL and the write transaction is exclusive on SQLite; two workers opening the same window at once meet on
the primary key and the loser counts again.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from wspolnota.db import Database


def windows_table(metadata: sa.MetaData, name: str, key_column: str = "key", key_length: int = 64) -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column(key_column, sa.String(key_length), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True, autoincrement=False),  # epoch seconds
        sa.Column("count", sa.Integer, nullable=False),
    )


def count_request(db: Database, table: sa.Table, key: str, window_s: int, now_s: float) -> int | None:
    """Count one request for `key` in the current window (its own transaction: a refused request counts too) and
    return the window's count; None when the count could not be taken (treat as over the limit).
    Windows older than the previous one are deleted when a new one opens."""
    key_col = table.c[list(table.primary_key.columns.keys())[0]]
    start = int(now_s) // window_s * window_s
    for _ in range(3):
        try:
            with db.transaction() as session:
                bumped = session.execute(sa.update(table).where(key_col == key, table.c.window_start == start)
                                         .values(count=table.c.count + 1)).rowcount  # type: ignore[attr-defined]
                if not bumped:
                    session.execute(sa.insert(table).values({key_col.name: key, "window_start": start, "count": 1}))
                    session.execute(sa.delete(table).where(table.c.window_start < start - window_s))
                count = session.execute(sa.select(table.c.count).where(
                    key_col == key, table.c.window_start == start)).scalar_one()
            return int(count)
        except IntegrityError:
            continue  # another worker opened the window first: count again
    return None
