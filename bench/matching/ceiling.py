"""How far could any matcher get? Diagnostic policies that know what no service can know.

    python -m bench.matching.ceiling                      # seeds 0–19, scarce and surge → docs/matching-ceiling.md
    python -m bench.matching.ceiling --seeds 3 --quick    # quick check: prints the summary, writes nothing
    python -m bench.matching.ceiling --save var/ceiling.json    # also keep the per-seed results
    python -m bench.matching.ceiling --reuse var/ceiling.json   # re-render the page from them

The hindsight bound of the benchmark (docs/matching-benchmark.md) relaxes how offers work: it knows every
answer and every arrival, and it counts a task as open only from its need's deadline (its visits, like every
policy's, have times and never overlap for one provider). This script runs, on
the benchmark's worlds, policies between ours and that bound, each given one more thing no service has:

- ours, told every answer (it offers only to providers who would say yes in time);
- ours, told every answer and the true arrivals of the next 48 h (instead of last weeks' reports);
- the hindsight plan itself, offered at once when each need is reported;
- the hindsight plan, each offer sent just in time (its known answer lands just before the deadline);

the hindsight programme once more with the median target as a constraint (more than half of the
covered needs accepted within 3 h of their report); and, knowing nothing more than ours, ours confirming
later than it does: every non-urgent need held back until 48, 24 or 12 h before its visit, with parallel
offers once it is due, and the median target ignored (how far confirming late gets a matcher that must
ask to learn an answer). A benchmark, not a test: it measures and reports.
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from collections import defaultdict
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

from bench.matching import run as bench
from bench.matching.simulation import (
    FlowPolicy,
    GreedyNearest,
    Policy,
    Simulation,
    hindsight_plan,
    hindsight_visits,
    outcome,
    says_yes_in_time,
)
from bench.matching.world import SCENARIOS, at, make_world
from services.matching.rules import Need, TimeWindow
from services.matching.solver import fits

REPO = Path(__file__).resolve().parents[2]
QUICK_HOURS = 3.0  # the median time-to-match target
BOUND_TIME_LIMIT_S = 20.0
JUST_IN_TIME_MARGIN_H = 0.05
# Ours holding every non-urgent need until this many hours before its visit, asking this many providers at
# once per slot when it falls due: the online way to confirm late (the median target ignored).
LATE_HOLDS = ((48.0, 1), (24.0, 2), (12.0, 2))


class KnowsAnswers(FlowPolicy):
    """Ours, told every provider's answer in advance: it offers only to those who would say yes in time."""

    def solve_batch(self, sim: Simulation, options: dict[int, list[tuple[int, float]]], week: int) -> None:
        kept = {i: [(j, km) for j, km in found if says_yes_in_time(sim.world, i, j)] for i, found in options.items()}
        kept = {i: found for i, found in kept.items() if found}
        if kept:
            super().solve_batch(sim, kept, week)


class Clairvoyant(KnowsAnswers):
    """Also told the true arrivals of the next `forecast_hours` (as expected needs at their full penalty)."""

    def forecast(self, sim: Simulation, week: int) -> list[tuple[Need, list[tuple[str, float]]]]:
        return [(replace(a.need, id="F" + a.need.id), sim.world.feasible[i])
                for i, a in enumerate(sim.world.arrivals)
                if sim.now < a.time <= sim.now + self.forecast_hours and a.week == week]


class FollowBound(Policy):
    """Offers exactly the pairs of a hindsight plan (`hindsight_visits`): at once, or just in time for the
    deadline; each at the plan's visit time while that is still ahead and free, else at the earliest free one."""

    def __init__(self, name: str, plan: dict[int, list[int]], just_in_time: bool,
                 times: dict[tuple[int, int], TimeWindow] | None = None):
        self.name = name
        self.plan = plan
        self.just_in_time = just_in_time
        self.times = times or {}

    def send_at(self, sim: Simulation, i: int, j: int) -> float:
        """At the report, or so that the known answer lands just before the need's deadline or, if earlier,
        the start of the plan's visit (no visit is offered after it has begun)."""
        if not self.just_in_time:
            return sim.world.arrivals[i].time
        latest = sim.world.arrivals[i].deadline
        planned = self.times.get((i, j))
        if planned is not None:
            latest = min(latest, (planned.start - at(0)).total_seconds() / 3600)
        return latest - float(sim.world.answer_delay[i, j]) - JUST_IN_TIME_MARGIN_H

    def arrived(self, sim: Simulation, i: int) -> None:
        for j in self.plan.get(i, []):
            if self.send_at(sim, i, j) > sim.now:
                sim.schedule(self.send_at(sim, i, j), "due", (i,))

    def solve_now(self, sim: Simulation) -> None:
        for i in sim.waiting():
            room = {j for j, _ in sim.candidates(i)}
            for j in self.plan.get(i, []):
                if j in room and self.send_at(sim, i, j) <= sim.now + 1e-9:
                    planned = self.times.get((i, j))
                    fits_now = planned is not None and fits(planned, sim.need(i), sim.free(j))
                    sim.offer(i, j, planned if fits_now else None)


def asked_at_once(parallel: int) -> str:
    return f", {parallel} offers at once when due" if parallel > 1 else ""


def late_name(hours: float, parallel: int) -> str:
    return f"ours, every need held until {hours:.0f} h before{asked_at_once(parallel)}"


def policies(plan: dict[int, list[int]], times: dict[tuple[int, int], TimeWindow] | None = None) -> list[Policy]:
    """The policies of the page; `plan` is the world's hindsight plan (`times` its visits), which two of them
    follow."""
    ours = bench.policies()[-1]
    assert isinstance(ours, FlowPolicy) and ours.name == bench.OURS
    told: dict[str, Any] = dict(debounce_hours=ours.debounce_hours, urgent_parallel=1, use_deficit=True,
                forecast_hours=ours.forecast_hours, history_weeks=ours.history_weeks, hold_hours=ours.hold_hours,
                plan_held=True, hold_min_feasible=ours.hold_min_feasible)
    late = dict(told, urgent_parallel=ours.urgent_parallel, hold_min_feasible=0)
    return [
        GreedyNearest(),
        ours,
        KnowsAnswers("ours + every answer", ours.weights, **told),
        Clairvoyant("ours + every answer + true arrivals", replace(ours.weights, expected_weight=1.0),
                    **{**told, "history_weeks": 1}),
        FollowBound("hindsight plan, offered at once", plan, just_in_time=False, times=times),
        FollowBound("hindsight plan, offered just in time", plan, just_in_time=True, times=times),
        *(FlowPolicy(late_name(hours, parallel), ours.weights, **{**late, "hold_hours": hours},
                     held_parallel=parallel) for hours, parallel in LATE_HOLDS),
    ]


BOUND = "hindsight bound"
BOUND_MEDIAN = "hindsight plan with median ≤ 3 h"
NAMES = [p.name for p in policies({})]
REFERENCE = NAMES[0]
KNOWING = NAMES[: len(NAMES) - len(LATE_HOLDS)]  # ours and what more knowledge gives it
LATE = NAMES[len(KNOWING):]  # ours confirming later


def one_world(job: tuple[str, int]) -> tuple[str, int, dict[str, dict[str, float]], float]:
    scenario, seed = job
    started = time.perf_counter()
    world = make_world(SCENARIOS[scenario], seed)
    n = len(world.arrivals)
    plan, _, bound, times = hindsight_visits(world, BOUND_TIME_LIMIT_S)
    rows = {}
    for policy in policies(plan, times):
        m = outcome(Simulation(world, policy).run()).metrics
        rows[policy.name] = {k: m[k] for k in ("coverage", "median_hours_to_match", "notifications_per_need")}
    _, found, _ = hindsight_plan(world, BOUND_TIME_LIMIT_S, quick_hours=QUICK_HOURS)
    rows[BOUND] = {"coverage": bound / n}
    rows[BOUND_MEDIAN] = {"coverage": found / n}  # a plan found, so a lower end of that programme's optimum
    return scenario, seed, rows, time.perf_counter() - started


def summary(results, scenario: str) -> list[str]:
    per = results[scenario]
    ref = np.array(per[REFERENCE]["coverage"])
    bound_gap = np.mean(per[BOUND]["coverage"]) - ref.mean()
    lines = [f"| policy (*{scenario}*) | coverage | − {REFERENCE} (95 % CI) | share of the gap to the bound | "
             "median time to match (h) | notifications per need |", "|---|---|---|---|---|---|"]
    for name in [*NAMES, BOUND_MEDIAN, BOUND]:
        values = per[name]
        cov = np.array(values["coverage"])
        mean, half = bench.mean_ci(cov - ref)
        closed = "—" if name == REFERENCE else f"{mean / bound_gap:.0%}"
        median = f"{np.mean(values['median_hours_to_match']):.2f}" if "median_hours_to_match" in values else "—"
        notes = f"{np.mean(values['notifications_per_need']):.2f}" if "notifications_per_need" in values else "—"
        diff = "—" if name == REFERENCE else f"{mean * 100:+.1f} pp [{(mean - half) * 100:+.1f}, {(mean + half) * 100:+.1f}]"
        lines.append(f"| {name} | {cov.mean():.1%} | {diff} | {closed} | {median} | {notes} |")
    return lines


def chart(results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "wspolnota"
    scenarios = list(results)
    shown = [*KNOWING[1:], BOUND_MEDIAN, BOUND]
    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    for k, name in enumerate(shown):
        diffs = [bench.mean_ci(np.array(results[s][name]["coverage"]) - np.array(results[s][REFERENCE]["coverage"]))
                 for s in scenarios]
        x = np.arange(len(scenarios)) + (k - (len(shown) - 1) / 2) * 0.11
        ax.errorbar(x, [d[0] * 100 for d in diffs], yerr=[d[1] * 100 for d in diffs], fmt="o", capsize=3, label=name)
    ax.axhline(3, color="red", linewidth=0.8, linestyle="--", label="target: + 3 pp")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(np.arange(len(scenarios)), scenarios)
    ax.set_ylabel(f"coverage − {REFERENCE} (pp)")
    ax.set_title("What each piece of knowledge is worth — paired per seed, 95 % CI")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def late_chart(results, path: Path) -> None:
    """Coverage gain against median time to match for ours and ours confirming later, with the target box."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "wspolnota"
    shown = [REFERENCE, bench.OURS, *LATE]
    labels = ["greedy-nearest", "ours (shipped: ≥ 16 able, 48 h)",
              *(f"every need, {h:.0f} h" + (f", {k} at once" if k > 1 else "") for h, k in LATE_HOLDS)]
    fig, axes = plt.subplots(1, len(results), figsize=(9.5, 4.0), sharey=True)
    for ax, scenario in zip(np.atleast_1d(axes), results, strict=True):
        per = results[scenario]
        ref = np.array(per[REFERENCE]["coverage"])
        for name, label in zip(shown, labels, strict=True):
            mean, half = bench.mean_ci(np.array(per[name]["coverage"]) - ref)
            x = float(np.mean(per[name]["median_hours_to_match"]))
            ax.errorbar([x], [mean * 100], yerr=[0 if name == REFERENCE else half * 100], fmt="o", capsize=3,
                        label=label)
        ax.set_xscale("log")
        ax.set_xlim(0.5, 100)
        low, high = ax.get_ylim()
        high = max(high, 4.0)
        ax.fill_between([0.5, 3], 3, high, color="green", alpha=0.1, zorder=0, label="the targets: ≤ 3 h and ≥ + 3 pp")
        ax.set_ylim(low, high)
        ax.axvline(3, color="red", linewidth=0.8, linestyle="--")
        ax.axhline(3, color="red", linewidth=0.8, linestyle="--")
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(scenario)
        ax.set_xlabel("median time to match (h, log scale)")
    np.atleast_1d(axes)[0].set_ylabel(f"coverage − {REFERENCE} (pp, 95 % CI)")
    np.atleast_1d(axes)[-1].legend(fontsize=7, loc="lower right")
    fig.suptitle("Confirming later, online: coverage gained against time to match (paired per seed)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def run_time() -> str:
    return time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())


def report(results, seeds: list[int], elapsed: float, out: Path, ran_at: str | None = None) -> None:
    """Write the page; `ran_at` is when the simulations ran (a --reuse keeps the original run's time)."""
    img = out.parent / "img" / "matching-ceiling.svg"
    late_img = img.with_name("matching-ceiling-late.svg")
    img.parent.mkdir(parents=True, exist_ok=True)
    chart(results, img)
    late_chart(results, late_img)

    def diff(scenario: str, name: str) -> str:
        per = results[scenario]
        mean, half = bench.mean_ci(np.array(per[name]["coverage"]) - np.array(per[REFERENCE]["coverage"]))
        return f"{mean * 100:+.1f} pp (95 % CI {(mean - half) * 100:+.1f} … {(mean + half) * 100:+.1f})"

    def gain(scenario: str, name: str) -> float:
        return float(np.mean(results[scenario][name]["coverage"]) - np.mean(results[scenario][REFERENCE]["coverage"]))

    def median(scenario: str, name: str) -> str:
        return f"{np.mean(results[scenario][name]['median_hours_to_match']):.2f} h"

    def late_rows(scenario: str) -> str:
        return "; ".join(f"until {hours:.0f} h before its visit{asked_at_once(parallel)}: {diff(scenario, name)} "
                         f"at a median time to match of {median(scenario, name)}"
                         for (hours, parallel), name in zip(LATE_HOLDS, LATE, strict=True))

    late_reaches = max(gain("scarce", name) for name in LATE) >= 0.03
    same = {s: sum(abs(a - b) < 1e-9 for a, b in zip(results[s][BOUND_MEDIAN]["coverage"],
                                                      results[s][BOUND]["coverage"], strict=True))
            for s in results}
    text = [
        "# Matching: how far could any matcher get?",
        "",
        f"Generated by `python -m bench.matching.ceiling` on {ran_at or run_time()} "
        f"({platform.machine()}, Python {platform.python_version()}); the benchmark's worlds, seeds "
        f"{seeds[0]}–{seeds[-1]} ({len(seeds)} per scenario); wall time {elapsed / 60:.1f} min. The simulation and "
        "the policies `greedy-nearest` and `ours` are those of [the matching benchmark](matching-benchmark.md).",
        "",
        "The benchmark's hindsight bound knows every answer and every arrival, and counts a task as open only "
        "from its need's deadline; like every policy it gives each visit a time and no provider two visits at "
        "once. Each row below is given one more thing that no service has, so the rows "
        "show where the gap between ours and the bound comes from. Differences are paired per seed against "
        "greedy-nearest (the issue's target is + 3 pp, with the 95 % CI above 0).",
        "",
        "| policy | what it knows or may do |",
        "|---|---|",
        "| ours + every answer | the shipped matcher, offering only to providers who would say yes in time (so "
        "no declines, no timeouts; one provider per urgent need, as parallel offers buy nothing then) |",
        "| ours + every answer + true arrivals | the same, and its look-ahead is the real next 48 h of this "
        "week (at full penalty) instead of last weeks' reports |",
        "| hindsight plan, offered at once | the bound's own plan (CP-SAT), each pair offered when the need is "
        "reported or as soon as the provider has room, at the plan's visit time (the earliest free one if that "
        "has passed or is taken) |",
        "| hindsight plan, offered just in time | the same plan, each offer sent so that its known answer lands "
        f"{JUST_IN_TIME_MARGIN_H * 60:.0f} min before the need's deadline or, if earlier, the plan's visit time |",
        f"| {BOUND_MEDIAN} | the bound's programme, where more than half of the covered needs must be "
        "accepted within 3 h of their report (their tasks then open from then, not from the deadline); the "
        f"best plan CP-SAT found in {BOUND_TIME_LIMIT_S:.0f} s |",
        "| ours, every need held until … h before | knows no more than ours, but confirms later: every "
        "non-urgent need (not only those ≥ 16 providers could serve) is planned in every solve and offered only "
        f"from {' or '.join(', '.join(f'{h:.0f}' for h, _ in LATE_HOLDS).rsplit(', ', 1))} h before its visit, "
        "then to several "
        "providers at once per slot where stated (the first yes wins, the others are withdrawn); the 3 h "
        "median target is ignored |",
        "",
    ]
    for scenario in results:
        text += summary(results, scenario) + [""]
    text += [
        "![matching-ceiling.svg](img/matching-ceiling.svg)",
        "",
        "## Findings",
        "",
        f"- **Knowing every answer is worth little to ours:** {diff('scarce', NAMES[2])} over greedy-nearest in "
        f"*scarce* against ours' {diff('scarce', NAMES[1])}; adding the true arrivals of the next 48 h: "
        f"{diff('scarce', NAMES[3])}. In *surge*: {diff('surge', NAMES[2])} and {diff('surge', NAMES[3])}. "
        "A matcher like ours that could not be refused and knew the coming reports would still cover "
        f"{'less' if gain('scarce', NAMES[3]) < 0.03 else 'more'} than greedy-nearest + 3 pp in *scarce*.",
        f"- **Even the bound's own plan, offered when each need is reported, gains only "
        f"{diff('scarce', NAMES[4])}** in *scarce* ({diff('surge', NAMES[4])} in *surge*), although it knows "
        "every answer and every arrival. Offered just in time, the same plan gains "
        f"{diff('scarce', NAMES[5])} / {diff('surge', NAMES[5])} — about the bound — but its median time to "
        f"match is {median('scarce', NAMES[5])} / {median('surge', NAMES[5])}. The pairs are the same; what "
        "differs is only *when* a provider's task slot is taken: an accepted task holds one of the provider's "
        "1–4 open-task slots from the acceptance until the visit ends.",
        f"- **The median target is not what stands in the way:** with more than half of the covered needs "
        f"accepted within 3 h, the programme still found a plan as large as the unconstrained one in "
        f"{same['scarce']} of {len(seeds)} *scarce* and {same.get('surge', 0)} of {len(seeds)} *surge* seeds. A "
        "clairvoyant matcher could cover as many as the bound and still answer quickly, by choosing which "
        "needs to confirm late.",
        f"- **Confirming later without knowing the answers {'reaches' if late_reaches else 'stays under'} "
        "greedy-nearest + 3 pp in *scarce*, even with the median target dropped.** Ours holding every "
        f"non-urgent need {late_rows('scarce')} (target ≤ 3 h). In *surge*: {late_rows('surge')}."
        + ("" if late_reaches else " Asking closer to the visit keeps task slots and hours free for longer, but "
           "each answer is still learnt only by asking, and the gain levels off far below that of the bound's "
           "plan offered just in time, which never meets a refusal."),
        "",
        "![matching-ceiling-late.svg](img/matching-ceiling-late.svg)",
        "",
        "- **So the gap is the price of not knowing the answers when confirming late.** Confirming a need "
        "late frees task slots, but an online matcher learns a provider's answer only by asking, and a late "
        "decline or timeout leaves no time to ask the next one. Ours' hold (propose 48 h before the visit the "
        "needs that ≥ 16 providers could serve) is that trade made where it is safe; holding more needs or "
        "holding them longer was tried and covered no more in *scarce* without breaking the 3 h median "
        "([benchmark](matching-benchmark.md), \"Tried on top of the hold\").",
        "",
        "Re-run with the same command; `--seeds 3 --quick` prints a short summary and writes nothing.",
        "",
    ]
    out.write_text("\n".join(text), encoding="utf-8")
    print(f"wrote {out}, {img} and {late_img}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Wspólnota matching: diagnostic policies between ours and the bound")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--scenarios", default=",".join(bench.TARGET_SCENARIOS))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="print the summary, write nothing")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "matching-ceiling.md")
    parser.add_argument("--save", type=Path, default=None, help="also write the per-seed results as JSON")
    parser.add_argument("--reuse", type=Path, default=None, help="render the page from a --save file")
    args = parser.parse_args()
    if args.reuse:
        kept = json.loads(args.reuse.read_text())
        if set(kept["results"]) != set(bench.TARGET_SCENARIOS):
            parser.error(f"{args.reuse} holds {', '.join(kept['results'])}; the page needs "
                         f"{', '.join(bench.TARGET_SCENARIOS)}")
        report(kept["results"], kept["seeds"], kept["elapsed"], args.out, kept.get("ran_at"))
        return
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    scenarios = args.scenarios.split(",")
    if not args.quick and set(scenarios) != set(bench.TARGET_SCENARIOS):
        parser.error(f"the page compares {', '.join(bench.TARGET_SCENARIOS)}; use --quick for other scenarios")
    jobs = [(scenario, seed) for scenario in scenarios for seed in seeds]
    results: dict = {s: defaultdict(lambda: defaultdict(list)) for s in scenarios}
    started, ran_at = time.perf_counter(), run_time()
    done: dict[tuple[str, int], dict] = {}
    with Pool(args.processes) as pool:
        for k, (scenario, seed, rows, seconds) in enumerate(pool.imap_unordered(one_world, jobs), 1):
            done[(scenario, seed)] = rows
            print(f"[{k}/{len(jobs)} {scenario:6} seed {seed:4}] " + " | ".join(
                f"{name} {row['coverage']:.1%}" for name, row in rows.items()) + f" | {seconds:.0f}s", flush=True)
    for scenario, seed in jobs:  # in seed order, so the pairs line up
        for name, row in done[(scenario, seed)].items():
            for key, value in row.items():
                results[scenario][name][key].append(value)
    elapsed = time.perf_counter() - started
    for scenario in scenarios:
        print("\n".join(summary(results, scenario)))
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps({"results": results, "seeds": seeds, "elapsed": elapsed,
                                                "ran_at": ran_at}))
    if not args.quick:
        report(results, seeds, elapsed, args.out, ran_at)


if __name__ == "__main__":
    main()
