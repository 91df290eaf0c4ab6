"""What deciding the hold costs in a full re-solve of the matching service. A script, not a test.

    python -m bench.matching.hold_cost [--needs 300] [--providers 70] [--repeats 3]

Builds matching's database through its own event handlers (bench/matching/service_harness.py: the
service on the in-memory bus and SQLite; volunteers with random categories, villages and radii, needs 1–10
days ahead, all held so none has a match), then times, in CPU seconds and side by side in one run,
`schedule.hold_until` over every open need and one whole `schedule.resolve` (which includes it).
Results for docs/matching.md ("the hold") are printed; nothing is written.
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bench.matching.service_harness import NOW, MatchingService
from services.matching import schedule
from services.matching.settings import Settings
from services.matching.world import load_world, solvable_slots
from wspolnota import reference

CATEGORIES = ("ZAK", "TRN", "TOW", "CYF", "OGR")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=300)
    parser.add_argument("--providers", type=int, default=70)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(1)
    villages = list(reference.villages())
    settings = Settings(resolve_interval=timedelta(0), hold_hours=48, hold_min_providers=1, forecast_hours=0)
    with tempfile.TemporaryDirectory() as workdir:
        matching = MatchingService(Path(workdir), settings)
        try:
            for _ in range(args.providers):
                matching.volunteer(village=rng.choice(villages), categories=tuple(rng.sample(CATEGORIES, 3)),
                                   radius_km=rng.choice([5, 10, 15]))
            print(f"{args.providers} providers registered", flush=True)
            for k in range(args.needs):
                matching.need(category=rng.choice(CATEGORIES), village=rng.choice(villages),
                              start=NOW.replace(hour=9) + timedelta(days=rng.randint(3, 10), hours=rng.randint(0, 8)))
                if (k + 1) % 100 == 0:
                    print(f"{k + 1}/{args.needs} needs registered", flush=True)
            shipped = replace(settings, hold_min_providers=Settings().hold_min_providers)
            with matching.service.db.transaction() as session:
                world = load_world(session, matching.now, shipped)
                wanted = [world.domain_need(n) for n in world.needs if solvable_slots(world, n, matching.now) > 0]
                for run in range(1, args.repeats + 1):
                    started = time.process_time()
                    held = sum(schedule.hold_until(world, n, matching.now, shipped) is not None for n in wanted)
                    hold_s = time.process_time() - started
                    started = time.process_time()
                    schedule.resolve(session, matching.service.outbox, matching.now, shipped)
                    resolve_s = time.process_time() - started
                    print(f"run {run}: {len(wanted)} open needs × {len(world.providers)} providers — hold_until "
                          f"{hold_s:.3f} CPU-s ({held} held), whole resolve {resolve_s:.3f} CPU-s "
                          f"({hold_s / resolve_s:.0%} of it)", flush=True)
                session.rollback()
        finally:
            matching.close()


if __name__ == "__main__":
    main()
