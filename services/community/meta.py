"""The community service's one MetaData (with its outbox and processed_events tables): the diagnosis tables in
db.py and the plan, activity, group and partner tables in db_plan.py join it."""
from __future__ import annotations

import sqlalchemy as sa

from wspolnota.db import transport_tables

metadata = sa.MetaData()
outbox, processed = transport_tables(metadata)
