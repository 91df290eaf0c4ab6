"""Demo data for the needs service: a fictional but plausible gmina Zagnańsk.

    python -m services.needs.seed --demo [--database-url URL]

Residents, IPUS support packages with weekly visits, and one-off needs across villages and
categories. Every person is invented (names drawn from common Polish names, streets that do not
exist, phone numbers from the 500 000 xxx block); notes say so. Everything goes through the same use
cases as the forms, so the outbox announces it to the other services once the relay runs.
Running it twice adds nothing the second time.
"""
from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from services.needs import handlers, model, schemas
from services.needs.db import make_db, residents
from wspolnota import localtime, reference
from wspolnota.db import Database
from wspolnota.demo import seed_main
from wspolnota.transport.outbox import Outbox

DEMO_PREFIX = "M-DEMO"
ACTOR = "seed --demo"
FIRST = ["Stanisława", "Janina", "Zofia", "Helena", "Krystyna", "Teresa", "Danuta", "Barbara", "Marianna",
         "Władysław", "Józef", "Stanisław", "Tadeusz", "Kazimierz", "Henryk", "Zdzisław", "Anna", "Ewa", "Marek",
         "Agnieszka"]
LAST_M = ["Kowal", "Wrona", "Sowa", "Bąk", "Kruk", "Dudek", "Gil", "Szpak", "Czyż", "Zięba"]
LAST_F = ["Kowal", "Wrona", "Sowa", "Bąk", "Kruk", "Dudek", "Gil", "Szpak", "Czyż", "Zięba"]
STREETS = ["ul. Fikcyjna", "ul. Przykładowa", "ul. Wymyślona", "ul. Demonstracyjna", "ul. Testowa"]
DESCRIPTIONS = {
    "ZAK": "Zakupy spożywcze i odbiór leków z apteki (recepta w aplikacji).",
    "TRN": "Dowóz na wizytę u lekarza w Kielcach i powrót.",
    "TOW": "Odwiedziny i rozmowa, krótki spacer.",
    "OPI": "Kilka godzin obecności, aby opiekunka mogła załatwić sprawy.",
    "KOR": "Pomoc w odrabianiu lekcji z matematyki (szkoła podstawowa).",
    "NAP": "Wymiana uszczelki w kranie, naprawa drzwiczek szafki.",
    "OGR": "Ułożenie drewna na opał pod wiatą.",
    "CYF": "Pomoc w ustawieniu e-recepty i wideorozmowy na telefonie.",
    "URZ": "Towarzyszenie w urzędzie przy wypełnianiu wniosku.",
    "POS": "Dowóz obiadu.",
    "ZWI": "Wyprowadzanie psa.",
    "DOM": "Lekkie porządki i rozwieszenie prania.",
    "WSP": "Rozmowa wspierająca; w razie niepokoju kontakt z pracownikiem socjalnym.",
    "SAS": "Usługi sąsiedzkie zgodnie z decyzją: zakupy, przygotowanie posiłku.",
    "TEL": "Telefon życzliwości: rozmowa, jak minął tydzień.",
}


def _person(rng: random.Random, index: int) -> dict[str, Any]:
    first = rng.choice(FIRST)
    last = rng.choice(LAST_F if first.endswith("a") else LAST_M)
    if first.endswith("a") and last in ("Kowal",):
        last = "Kowalowa"
    village = rng.choice(sorted(reference.villages()))
    basis = rng.choice(["art6_1_c", "art6_1_e", "art9_2_b", "consent"])
    return {
        "ref": f"{DEMO_PREFIX}{index:02d}", "name": f"{first} {last}",
        "address": f"{rng.choice(STREETS)} {rng.randint(1, 120)}", "village": village,
        "phone": f"+48 500 000 {index:03d}", "email": "", "preferred_channel": rng.choice(["phone", "phone", "sms"]),
        "notes": "DANE FIKCYJNE — osoba wymyślona na potrzeby demonstracji.", "legal_basis": basis,
        "consent_date": localtime.today() - timedelta(days=rng.randint(5, 200)) if basis == "consent" else None,
    }


def already_seeded(db: Database) -> bool:
    with db.engine.connect() as conn:
        return conn.execute(sa.select(residents.c.id).where(residents.c.ref.like(f"{DEMO_PREFIX}%"))).first() is not None


def seed_demo(db: Database, residents_count: int = 36, one_off_count: int = 60, seed: int = 2026,
              today: date | None = None) -> dict[str, int]:
    """Fill the database; return counts of what was created."""
    if already_seeded(db):
        return {"residents": 0, "packages": 0, "needs": 0}
    rng = random.Random(seed)
    today = today or localtime.today()
    outbox = Outbox(db, handlers.PUBLISHES)
    counts = {"residents": 0, "packages": 0, "needs": 0}
    people = [_person(rng, i + 1) for i in range(residents_count)]
    with db.transaction() as session:
        for person in people:
            handlers.create_resident(session, schemas.ResidentCreate().load(
                {**{k: v for k, v in person.items() if v is not None and k != "email"},
                 **({"consent_date": person["consent_date"].isoformat()} if person["consent_date"] else {})}),
                actor=ACTOR)
            counts["residents"] += 1

    # IPUS support packages with weekly visits for the first eight residents
    for i, person in enumerate(people[:8]):
        plan_ref = f"IPUS/{today.year}/{100 + i}"
        start = today + timedelta(days=1)
        end = start + timedelta(days=rng.choice([90, 120, 180]))
        category = ["TOW", "ZAK", "POS", "TOW", "DOM", "WSP", "ZAK", "OPI"][i]
        with db.transaction() as session:
            handlers.open_package(session, outbox, schemas.PackageCreate().load({
                "plan_ref": plan_ref, "resident_ref": person["ref"], "village": person["village"],
                "start_date": start.isoformat(), "end_date": end.isoformat(),
                "note": "Plan demonstracyjny."}), actor=ACTOR)
            weekdays = sorted(rng.sample(range(5), k=rng.choice([1, 2])))
            hour = rng.choice([9, 10, 14, 16])
            _, rows = handlers.register_series(session, outbox, schemas.RecurringNeedCreate().load({
                "resident_ref": person["ref"], "category": category, "village": person["village"],
                "description": DESCRIPTIONS[category], "duration_minutes": 60, "slots": 1,
                "moderation": "review", "source": "case_system", "plan_ref": plan_ref,
                "recurrence": {"weekdays": weekdays, "time_from": time(hour).strftime("%H:%M"),
                               "time_to": time(hour + 2).strftime("%H:%M"), "starts_on": start.isoformat(),
                               "until": min(end, start + timedelta(days=41)).isoformat()}}), actor=ACTOR)
        counts["packages"] += 1
        counts["needs"] += len(rows)

    # one-off needs across villages and categories, a few urgent, some already handled
    categories = sorted(set(reference.categories()) - reference.remote_categories())  # calls: a series only
    for n in range(one_off_count):
        person = people[rng.randrange(len(people))]
        category = categories[n % len(categories)]
        urgent = n % 9 == 0
        if urgent:
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=rng.randint(2, 20))
        else:
            day = today + timedelta(days=rng.randint(2, 28))
            start = datetime.combine(day, time(rng.choice([8, 9, 10, 12, 14, 16])), model.WARSAW).astimezone(UTC)
        body = {
            "resident_ref": person["ref"], "category": category, "village": person["village"],
            "description": DESCRIPTIONS[category], "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=rng.choice([2, 3, 4]))).isoformat(),
            "duration_minutes": rng.choice([60, 90, 120]), "urgency": "urgent" if urgent else rng.choice(
                ["normal", "normal", "high"]), "slots": 2 if category == "OGR" else 1,
            "involves_minor": category == "OPI" and n % 2 == 0, "moderation": rng.choice(["review", "auto"]),
            "source": rng.choice(list(schemas.SOURCES)),
        }
        with db.transaction() as session:
            row = handlers.register_need(session, outbox, schemas.NeedCreate().load(body), actor=ACTOR)
            if n % 11 == 5:
                handlers.cancel_need(session, outbox, row["id"], "Mieszkaniec zrezygnował (demo).", actor=ACTOR)
            elif n % 13 == 7:
                handlers.change_status(session, outbox, row["id"], model.FOLLOW_UP,
                                       "Brak kontaktu telefonicznego (demo).", actor=ACTOR)
        counts["needs"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.needs.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=36)
    parser.add_argument("--needs", type=int, default=60, help="one-off needs (recurring ones come on top)")
    return seed_main(
        "needs", parser, argv, make_db,
        lambda db, args: seed_demo(db, residents_count=args.residents, one_off_count=args.needs),
        lambda counts, args: f"{counts['residents']} residents, {counts['packages']} support packages, "
                             f"{counts['needs']} needs")


if __name__ == "__main__":
    sys.exit(main())
