"""Scale benchmark: one re-solve of the min-cost flow with N open needs × M providers.

Run one size per process so the peak resident memory (getrusage) belongs to that size alone:

    python -m bench.matching.scale --needs 10000 --providers 40000 --repeats 7

Candidates come from a vectorised stand-in for the service's cached candidate set: a k-d tree gives the
nearest providers of each need, numpy applies the hard filters that have a vector form (Kamilka,
licence + car, authorisation, area/radius, a day-slot overlap), and the k nearest survivors become arcs.
The re-solve itself is ``solver.solve_flow`` — the same code the matcher runs. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
from scipy.spatial import cKDTree

from services.matching.solver import FlowProblem, solve_flow

EARTH_KM = 6371.0088
CATEGORY_COUNT = 14
KOR, TRN, URZ = 4, 1, 8


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def region(rng: np.random.Generator, count: int, side_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Points clustered in villages across a square region of side_km (a county or a voivodeship)."""
    villages = max(1, count // 400)
    centres = rng.uniform(0, side_km, (villages, 2))
    pick = rng.integers(0, villages, count)
    xy = centres[pick] + rng.normal(0, 1.0, (count, 2))
    return 50.0 + xy[:, 0] / 111.0, 20.0 + xy[:, 1] / 70.0


def candidates(rng: np.random.Generator, needs: int, providers: int, k: int, side_km: float):
    need_lat, need_lon = region(rng, needs, side_km)
    prov_lat, prov_lon = region(rng, providers, side_km)
    category = rng.integers(0, CATEGORY_COUNT, needs)
    minor = (category == KOR) | (rng.random(needs) < 0.02)
    need_days = rng.integers(0, 2**7, needs) | 1
    kamilka = rng.random(providers) < 0.22
    car = rng.random(providers) < 0.55
    authorised = rng.random(providers) < 0.3
    radius = rng.choice([3.0, 5.0, 8.0, 10.0, 15.0], providers)
    prov_days = rng.integers(0, 2**7, providers)

    tree = cKDTree(unit_vectors(prov_lat, prov_lon))
    probe = min(providers, 4 * k)
    chord, nearest = tree.query(unit_vectors(need_lat, need_lon), k=probe)
    km = 2 * EARTH_KM * np.arcsin(np.clip(chord / 2, 0, 1))
    ok = km <= radius[nearest]
    ok &= ~minor[:, None] | kamilka[nearest]
    ok &= (category[:, None] != TRN) | car[nearest]
    ok &= (category[:, None] != URZ) | authorised[nearest]
    ok &= (need_days[:, None] & prov_days[nearest]) != 0
    rank = np.cumsum(ok, axis=1)
    keep = ok & (rank <= k)
    rows, cols = np.nonzero(keep)
    return rows, nearest[rows, cols], km[rows, cols]


def problem(rng: np.random.Generator, needs: int, providers: int, arcs) -> FlowProblem:
    arc_need, provider_id, km = arcs
    used, arc_provider = np.unique(provider_id, return_inverse=True)  # only providers with a candidate arc
    pieces = rng.integers(1, 4, len(used))  # free units per provider (open-task and hour room)
    load = rng.integers(0, 4, len(used))  # units already booked this week
    piece_provider = np.repeat(np.arange(len(used)), pieces)
    j = np.arange(len(piece_provider)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    piece_cost = 40 * (2 * (np.repeat(load, pieces) + j) + 1)
    urgency = rng.choice([1000, 2000, 4000], needs, p=[0.6, 0.25, 0.15])
    return FlowProblem(
        slots=np.where(rng.random(needs) < 0.1, 2, 1).astype(np.int64),
        unmet_cost=(urgency + 300).astype(np.int64),
        arc_need=arc_need.astype(np.int64),
        arc_provider=arc_provider.astype(np.int64),
        arc_cost=(np.round(10 * km) + 300).astype(np.int64),
        piece_provider=piece_provider.astype(np.int64),
        piece_cost=piece_cost.astype(np.int64),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=10_000)
    parser.add_argument("--providers", type=int, default=40_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    side_km = float(np.sqrt(args.providers / 40))  # ≈ 40 providers per km², villages of ~400

    started = time.perf_counter()
    arcs = candidates(rng, args.needs, args.providers, args.k, side_km)
    candidate_s = time.perf_counter() - started

    build, solve = [], []
    served = 0
    for _ in range(args.repeats):  # each repeat: new loads and urgencies, as after a batch of events
        started = time.perf_counter()
        flow = problem(rng, args.needs, args.providers, arcs)
        built = time.perf_counter()
        solution = solve_flow(flow)
        done = time.perf_counter()
        build.append(built - started)
        solve.append(done - built)
        served = int(solution.arc_flow.sum())
    total = np.array(build) + np.array(solve)
    print(json.dumps({
        "needs": args.needs,
        "providers": args.providers,
        "k": args.k,
        "arcs": int(len(arcs[0])),
        "repeats": args.repeats,
        "candidate_generation_s": round(candidate_s, 3),
        "build_p95_s": round(float(np.percentile(build, 95)), 3),
        "solve_p95_s": round(float(np.percentile(solve, 95)), 3),
        "resolve_p50_s": round(float(np.percentile(total, 50)), 3),
        "resolve_p95_s": round(float(np.percentile(total, 95)), 3),
        "slots_served": served,
        "slots": int(flow.slots.sum()),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
