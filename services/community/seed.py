"""Demo data for the community service: a year of community work in the demo gmina Zagnańsk.

    python -m services.community.seed --demo [--database-url URL] [--responses N]

The diagnosis part: the community's assets (village halls, the OSP fire stations, the school, the library, a
minibus and equipment to lend, three village heads and a KGW chair listed with their consent), a closed needs
survey answered online and on paper across the villages, an open survey still collecting answers, and a first
diagnosis of the gmina with the organiser's conclusions. Every person is invented (notes say so). Everything goes
through the same use cases as the staff forms and the API. Running it twice adds nothing the second time.
Other parts of the service add their own seeders to `SEEDERS`.
"""
from __future__ import annotations

import argparse
import random
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from contracts import volunteers as volunteer_contract
from services.community import assets, diagnosis, surveys
from services.community.db import known_providers, make_db
from services.community.db import surveys as survey_table
from services.community.handlers import PUBLISHES
from services.community.plan_seed import seed_plan_demo, seed_with_providers
from wspolnota import config
from wspolnota.db import Database
from wspolnota.demo import seed_main
from wspolnota.transport.outbox import Outbox

NOTE = "DANE FIKCYJNE — wpis na potrzeby demonstracji."
START = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)

ASSETS: list[dict[str, Any]] = [
    {"kind": "place", "subtype": "swietlica", "village": "zagnansk", "name": "Świetlica wiejska w Zagnańsku",
     "capacity": 80, "accessible": True, "accessibility_note": "podjazd i toaleta dla osób na wózku"},
    {"kind": "place", "subtype": "remiza", "village": "kajetanow", "name": "Remiza OSP Kajetanów", "capacity": 120,
     "accessible": False, "accessibility_note": "sala na piętrze, bez windy"},
    {"kind": "place", "subtype": "szkola", "village": "samsonow", "name": "Szkoła Podstawowa w Samsonowie",
     "capacity": 150, "accessible": True},
    {"kind": "place", "subtype": "biblioteka", "village": "zagnansk", "name": "Gminna Biblioteka Publiczna",
     "capacity": 30, "accessible": True},
    {"kind": "place", "subtype": "sala_parafialna", "village": "tumlin-wegle", "name": "Sala parafialna w Tumlinie-Węglach",
     "capacity": 60, "accessible": False},
    {"kind": "transport", "subtype": "bus", "village": "zagnansk", "name": "Bus gminny (9 miejsc)", "capacity": 9,
     "lendable": True, "accessible": True, "accessibility_note": "najazd dla wózka"},
    {"kind": "equipment", "subtype": "namiot", "village": "kajetanow", "name": "Namiot 6×3 m (OSP)",
     "lendable": True},
    {"kind": "equipment", "subtype": "naglosnienie", "village": "zagnansk", "name": "Nagłośnienie przenośne",
     "lendable": True},
    {"kind": "leader", "subtype": "soltys", "village": "kajetanow", "name": "Sołtys Kajetanowa (Jan Demo)",
     "consent_date": date(2026, 1, 5)},
    {"kind": "leader", "subtype": "soltys", "village": "tumlin-wegle", "name": "Sołtyska Tumlina-Węgli (Anna Przykład)",
     "consent_date": date(2026, 1, 7)},
    {"kind": "leader", "subtype": "kgw", "village": "samsonow", "name": "Przewodnicząca KGW Samsonów (Ewa Fikcja)",
     "consent_date": date(2026, 1, 9)},
    {"kind": "leader", "subtype": "osp", "village": "zagnansk", "name": "Prezes OSP Zagnańsk (Piotr Próbny)",
     "consent_date": date(2026, 1, 9)},
]

QUESTIONS: list[dict[str, Any]] = [
    {"kind": "single", "text": "Jak często korzysta Pan/Pani ze świetlicy lub remizy w swojej miejscowości?",
     "required": True, "options": ["co tydzień", "kilka razy w roku", "wcale"]},
    {"kind": "multiple", "text": "Czego najbardziej brakuje w Pana/Pani miejscowości?", "required": True,
     "options": ["transportu do lekarza i urzędu", "zajęć dla seniorów", "zajęć dla dzieci i młodzieży",
                 "pomocy sąsiedzkiej w zakupach", "miejsca spotkań"]},
    {"kind": "scale", "text": "Jak ocenia Pan/Pani życie w swojej miejscowości? (1 — źle, 5 — bardzo dobrze)",
     "required": True, "min_value": 1, "max_value": 5},
    {"kind": "number", "text": "Ile godzin w miesiącu mógłby Pan/mogłaby Pani poświęcić na wolontariat?",
     "required": False, "min_value": 0, "max_value": 100},
    {"kind": "text", "text": "Co warto zmienić lub zorganizować w pierwszej kolejności?", "required": False},
]
OPEN_ANSWERS = ["Bus do przychodni raz w tygodniu.", "Spotkania dla seniorów w świetlicy.", "Plac zabaw przy remizie.",
                "Pomoc w zakupach dla samotnych osób.", "Kurs komputerowy dla starszych.", "Wspólne sprzątanie wsi."]
VILLAGE_WEIGHTS = {"zagnansk": 5, "kajetanow": 3, "samsonow": 3, "tumlin-wegle": 2, "janaszow": 1, "lekomin": 1}


def _answers(rng: random.Random, questions: list[dict[str, Any]]) -> dict[str, Any]:
    single, multiple, scale, number, text = questions
    out: dict[str, Any] = {single["id"]: rng.choices([0, 1, 2], weights=[2, 5, 3])[0],
                           multiple["id"]: sorted(rng.sample(range(5), k=rng.choice([1, 2, 2, 3]))),
                           scale["id"]: rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 4, 5, 2])[0]}
    if rng.random() < 0.5:
        out[number["id"]] = rng.choice([0, 2, 4, 4, 8, 10])
    if rng.random() < 0.4:
        out[text["id"]] = rng.choice(OPEN_ANSWERS)
    return out


def seed_diagnosis(db: Database, rng: random.Random, responses: int = 60) -> dict[str, int]:
    """The diagnosis part of the demo; nothing when a survey already exists."""
    with db.engine.connect() as conn:
        if conn.execute(sa.select(survey_table.c.id).limit(1)).first():
            return {"assets": 0, "surveys": 0, "responses": 0, "diagnoses": 0}
    outbox = Outbox(db, PUBLISHES)
    known = [v for v in VILLAGE_WEIGHTS]
    added = {"assets": 0, "surveys": 0, "responses": 0, "diagnoses": 0}

    def at(days: float) -> Callable[[], datetime]:
        return lambda: START + timedelta(days=days)

    with db.transaction() as session:
        for row in ASSETS:
            assets.add_asset(session, outbox, {**row, "description": NOTE}, actor="seed --demo", clock=at(0))
            added["assets"] += 1
        survey = surveys.create_survey(session, {
            "title": "Diagnoza potrzeb mieszkańców gminy Zagnańsk 2026",
            "intro": "Ankieta jest anonimowa. Odpowiedzi pomogą zaplanować działania CUS w sołectwach."}, clock=at(1))
        questions = [surveys.add_question(session, survey["id"], q, clock=at(1)) for q in QUESTIONS]
        surveys.publish(session, survey["id"], clock=at(2))
        for i in range(responses):
            village = rng.choices(known, weights=list(VILLAGE_WEIGHTS.values()))[0]
            surveys.submit_response(session, survey["id"], village, _answers(rng, questions),
                                    channel="paper" if i % 3 == 0 else "online",
                                    entered_by="seed --demo" if i % 3 == 0 else "", clock=at(3 + i * 0.5))
            added["responses"] += 1
        surveys.close(session, outbox, survey["id"], clock=at(40))
        open_survey = surveys.create_survey(session, {
            "title": "Zajęcia dla seniorów w Kajetanowie — jakie i kiedy?", "villages": ["kajetanow"]}, clock=at(60))
        q = surveys.add_question(session, open_survey["id"], {
            "kind": "multiple", "text": "Jakie zajęcia?", "required": True,
            "options": ["gimnastyka", "rękodzieło", "wyjazdy", "kurs komputerowy"]}, clock=at(60))
        surveys.publish(session, open_survey["id"], clock=at(61))
        for i in range(8):
            surveys.submit_response(session, open_survey["id"], "kajetanow",
                                    {q["id"]: sorted(rng.sample(range(4), k=2))}, channel="online", clock=at(62 + i))
            added["responses"] += 1
        added["surveys"] = 2
        diagnosis.create_version(session, {
            "scope": "gmina", "title": "Diagnoza potrzeb i potencjału gminy Zagnańsk 2026",
            "conclusions": "Najczęściej brakuje transportu do lekarza i urzędu oraz zajęć dla seniorów.\n"
                           "Świetlica w Zagnańsku i remiza w Kajetanowie mogą gościć spotkania; bus gminny "
                           "można wykorzystać do dowozu.\nPlan: grupa wsparcia seniorów w Kajetanowie, "
                           "dowóz do przychodni raz w tygodniu."}, author="seed --demo", clock=at(45))
        added["diagnoses"] = 1
    return added


def _broker_answers() -> bool:
    host, _, port = config.get("KAFKA_BOOTSTRAP_SERVERS").split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 9092)), timeout=0.5):
            return True
    except (OSError, ValueError):
        return False


def wait_for_providers(db: Database, wait_s: float) -> bool:
    """Partner organisations and volunteers reach this service through the bus (the volunteers seed has just
    written them to its outbox): while the system runs, wait up to `wait_s` seconds for them, with progress."""
    def known() -> int:
        with db.engine.connect() as conn:
            return len(conn.execute(sa.select(known_providers.c.volunteer_id).where(
                known_providers.c.provider_type == volunteer_contract.PARTNER_ORGANISATION)).all())

    if known() or wait_s <= 0 or not _broker_answers():
        return bool(known())
    started = time.monotonic()
    print("community: waiting for the volunteers register's providers to arrive through the bus", end="", flush=True)
    while time.monotonic() - started < wait_s:
        if known():
            print(f" — here after {time.monotonic() - started:.0f} s")
            return True
        print(".", end="", flush=True)
        time.sleep(1.0)
    print(" — not yet")
    return False


def seed_providers_part(db: Database, args: argparse.Namespace) -> dict[str, int]:
    if not wait_for_providers(db, args.wait_for_providers):
        print("community: partner organisations and helpers are not known here yet (is `make run` running?); "
              "run `wspolnota seed --demo` again later to add their cooperation and hours")
    return seed_with_providers(db, datetime.now(UTC))


SEEDERS: list[Callable[[Database, random.Random, argparse.Namespace], dict[str, int]]] = [
    lambda db, rng, args: seed_diagnosis(db, rng, args.responses),
    lambda db, rng, args: seed_plan_demo(db, datetime.now(UTC)),  # the plan, activities, groups
    lambda db, rng, args: seed_providers_part(db, args),  # partners' cooperation, helpers' hours
]


def seed_demo(db: Database, args: argparse.Namespace) -> dict[str, int]:
    rng = random.Random(2026)
    counts: dict[str, int] = {}
    for seeder in SEEDERS:
        counts.update(seeder(db, rng, args))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.community.seed",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--responses", type=int, default=60, help="answers to the closed needs survey")
    parser.add_argument("--wait-for-providers", type=float, default=45.0, metavar="SECONDS",
                        help="while the system runs, how long to wait for the volunteers register's providers "
                             "(partners' cooperation and helpers' hours need them; 0: do not wait)")
    return seed_main("community", parser, argv, make_db, seed_demo,
                     lambda counts, args: ", ".join(f"{n} {_noun(name, n)}" for name, n in counts.items()))


SINGULAR = {"assets": "asset", "surveys": "survey", "responses": "response", "diagnoses": "diagnosis",
            "plans": "plan", "activities": "activity", "groups": "group", "registrations": "registration",
            "partners": "partner", "helper_hours": "helper's hours"}
PLURAL = {"partners": "partners' cooperation", "helper_hours": "helpers' hours"}


def _noun(name: str, n: int) -> str:
    return SINGULAR.get(name, name) if n == 1 else PLURAL.get(name, name)


if __name__ == "__main__":
    sys.exit(main())
