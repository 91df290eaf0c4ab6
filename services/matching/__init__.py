"""The matching service (the map: CONTRIBUTING.md; the design: docs/matching.md).

The use cases (schedule.py, review.py, cascade.py, actions.py) each take the session of the caller's unit of
work, the outbox and `now` (an injected clock: the bootstrap's `Parts.clock`, or the tests' own times). Events
go through the outbox in the same transaction as the change; every status change is one the lifecycle in
model.py allows. Hard filters come from rules.py and are re-checked whenever a match is created outside the
solver (cascade, staff pick), so the Kamilka gate holds on every path.
"""
