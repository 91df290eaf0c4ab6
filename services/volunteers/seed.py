"""Demo data for the volunteers service: fictional providers for the demo gmina Zagnańsk.

    python -m services.volunteers.seed --demo [--database-url URL] [--volunteers N]

Volunteers (and a few paid neighbours) spread over the gmina's villages, each admitted by staff, with a
written agreement, weekly daytime slots, some with a driving licence and an insured car, some with an
in-date Kamilka check, and a published offer for the coming weeks. Every person is invented (common
Polish first names with bird surnames, e-mail addresses in the never-deliverable .invalid domain, phone
numbers from the 500 001 xxx block); notes say so. Everything goes through the same use cases as the
staff forms and the API, so the outbox announces it to matching once the relay runs. Running it twice
adds nothing the second time.
"""
from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from services.volunteers import handlers, model, schemas
from services.volunteers.db import make_db, volunteers
from services.volunteers.settings import Settings
from wspolnota import localtime, reference
from wspolnota.db import Database
from wspolnota.demo import seed_main
from wspolnota.transport.outbox import Outbox

DEMO_DOMAIN = "demo.wspolnota.invalid"  # RFC 2606: .invalid never delivers
ACTOR = "seed --demo"
NOTE = "DANE FIKCYJNE — osoba wymyślona na potrzeby demonstracji."
FIRST_F = ["Agnieszka", "Magdalena", "Katarzyna", "Joanna", "Ewa", "Monika", "Beata", "Dorota", "Karolina",
           "Natalia", "Weronika", "Halina"]
FIRST_M = ["Piotr", "Tomasz", "Paweł", "Krzysztof", "Michał", "Grzegorz", "Łukasz", "Adam", "Jakub", "Marcin",
           "Wojciech", "Ryszard"]
LAST = ["Sowa", "Wrona", "Kruk", "Bąk", "Dudek", "Gil", "Szpak", "Czyż", "Zięba", "Sikora", "Jaskółka", "Gąsior"]
# Everyday categories any verified volunteer under an agreement may offer (model.eligible_categories).
EVERYDAY = ["ZAK", "TOW", "OPI", "NAP", "OGR", "CYF", "POS", "ZWI", "DOM", "WSP"]
SLOT_STARTS = [8, 9, 10, 12, 13, 14]


def _slots(rng: random.Random) -> list[dict[str, Any]]:
    """Two or three weekday/Saturday daytime slots of three to five hours, one per day."""
    days = sorted(rng.sample(range(6), k=rng.choice([2, 3, 3])))
    slots = []
    for day in days:
        start = rng.choice(SLOT_STARTS)
        end = min(start + rng.choice([3, 4, 5]), 19)
        slots.append({"weekday": day, "start": f"{start:02d}:00", "end": f"{end:02d}:00"})
    return slots


def _person(rng: random.Random, index: int, villages: list[str]) -> dict[str, Any]:
    female = rng.random() < 0.55
    first = rng.choice(FIRST_F if female else FIRST_M)
    paid_neighbour = index % 10 == 0
    home = villages[(index - 1) % len(villages)]  # round-robin: every village gets someone
    body: dict[str, Any] = {
        "name": f"{first} {rng.choice(LAST)}", "email": f"wolontariusz{index:02d}@{DEMO_DOMAIN}",
        "phone": f"+48 500 001 {index:03d}", "villages": [home], "home_village": home,
        "provider_type": model.PAID_NEIGHBOUR if paid_neighbour else model.VOLUNTEER,
        "preferred_channel": rng.choice(["email", "email", "sms"]),
        "radius_km": float(rng.randint(5, 15)), "languages": rng.choice([["pl"]] * 6 + [["pl", "uk"], ["pl", "en"]]),
        "own_car": index % 3 == 0, "weekly_slots": _slots(rng),
        "capacity_hours_per_week": float(rng.randint(2, 8)), "max_open_tasks": rng.choice([2, 3, 4]),
        "notes": NOTE, "consent": True, "verified": True,
    }
    if paid_neighbour:
        body["neighbour_conditions"] = {"adult": True, "not_family": True, "lives_nearby": True,
                                        "fitness_declared": True, "accepted_by_cus": True}
    return body


def _credentials(rng: random.Random, index: int, today: date, provider_type: str) -> list[dict[str, Any]]:
    """Credential bodies as the API takes them (schemas.Credential)."""
    creds: list[dict[str, Any]] = []
    if provider_type == model.VOLUNTEER:
        creds.append({"kind": model.AGREEMENT, "written": True,
                      "valid_from": (today - timedelta(days=rng.randint(10, 300))).isoformat(),
                      "valid_until": (today + timedelta(days=365)).isoformat()})
    if provider_type == model.PAID_NEIGHBOUR:
        creds.append({"kind": model.FIRST_AID, "valid_from": (today - timedelta(days=rng.randint(30, 400))).isoformat(),
                      "valid_until": (today + timedelta(days=rng.randint(200, 700))).isoformat()})
    if index % 3 == 0:  # driving licence and an insured car: transport
        creds.append({"kind": model.DRIVING_LICENCE,
                      "valid_from": (today - timedelta(days=365 * rng.randint(2, 30))).isoformat()})
        creds.append({"kind": model.OWN_CAR, "valid_from": (today - timedelta(days=rng.randint(10, 200))).isoformat(),
                      "valid_until": (today + timedelta(days=rng.randint(120, 360))).isoformat()})
    if index % 4 == 1:  # a clean Kamilka check: tutoring and respite with a minor
        checked = (today - timedelta(days=rng.randint(5, 120))).isoformat()
        creds.append({"kind": model.KAMILKA_CHECK, "register_checked_on": checked, "krk_seen_on": checked,
                      "register_result": model.KAMILKA_NOT_LISTED,
                      "countries_last_20_years": ["PL"]})
    if index % 5 == 2:  # authorised to process data: help with paperwork
        creds.append({"kind": model.CONFIDENTIALITY_AUTHORISATION,
                      "valid_from": (today - timedelta(days=rng.randint(10, 200))).isoformat(),
                      "valid_until": (today + timedelta(days=365)).isoformat()})
    if index % 2 == 0:  # accident insurance: small repairs count as short-term work
        creds.append({"kind": model.NNW_INSURANCE, "valid_from": (today - timedelta(days=rng.randint(1, 100))).isoformat(),
                      "valid_until": (today + timedelta(days=rng.randint(120, 360))).isoformat()})
    return creds


def _categories(rng: random.Random, index: int, eligible: set[str], held: set[str]) -> list[str]:
    """Two to four everyday categories (one by rotation, so each is covered) plus what the credentials open.

    Small repairs only for those with accident insurance (short-term work, art. 46)."""
    chosen = {EVERYDAY[index % len(EVERYDAY)], *rng.sample(EVERYDAY, k=rng.choice([1, 2, 3]))}
    chosen |= {c for c in ("TRN", "KOR", "URZ", "SAS") if c in eligible}
    if index % 4 == 1:  # some also take well-being calls (telefon życzliwości)
        chosen.add("TEL")
    if model.NNW_INSURANCE not in held:
        chosen.discard("NAP")
    return sorted(c for c in chosen if c in eligible and c in reference.categories()) or ["TOW"]


# Partner organisations of the demo gmina: invented names, no KRS numbers (a made-up number could be a real
# organisation's); the contact people are invented like the volunteers.
PARTNERS = [
    ("Koło Gospodyń Wiejskich „Pod Lipą” (demo)", "kgw", ["kajetanow"], "Barbara Sowa"),
    ("Ochotnicza Straż Pożarna (demo)", "osp", ["zagnansk", "kajetanow"], "Marek Dudek"),
    ("Parafia św. Józefa (demo)", "parish", ["zagnansk"], "ks. Adam Gil"),
    ("Szkoła Podstawowa (demo)", "school", ["samsonow"], "Ewa Zięba"),
    ("Stowarzyszenie „Razem dla Seniorów” (demo)", "ngo", ["zagnansk", "samsonow", "kajetanow"], "Jan Szpak"),
]


def _partner(index: int, name: str, kind: str, villages: list[str], contact: str) -> dict[str, Any]:
    return {"name": name, "provider_type": model.PARTNER_ORGANISATION, "organisation_kind": kind,
            "contact_person": contact, "email": f"organizacja{index:02d}@{DEMO_DOMAIN}",
            "phone": f"+48 500 002 {index:03d}", "villages": villages, "home_village": villages[0],
            "notes": NOTE, "consent": True, "verified": True}


def already_seeded(db: Database) -> bool:
    with db.engine.connect() as conn:
        return conn.execute(sa.select(volunteers.c.id)
                            .where(volunteers.c.email.like(f"%@{DEMO_DOMAIN}"))).first() is not None


def seed_demo(db: Database, volunteers_count: int = 40, weeks: int = 8, seed: int = 2026,
              today: date | None = None) -> dict[str, int]:
    """Fill the database; return counts of what was created (all zero if demo providers exist)."""
    counts = {"volunteers": 0, "organisations": 0, "credentials": 0, "offers": 0}
    if already_seeded(db):
        return counts
    rng = random.Random(seed)
    today = today or localtime.today()
    kamilka_days = Settings.from_config().kamilka_check_validity_days
    outbox = Outbox(db, handlers.PUBLISHES)
    villages = sorted(reference.villages())
    available_from = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for index in range(1, volunteers_count + 1):
        body = _person(rng, index, villages)
        with db.transaction() as session:
            created = handlers.register_volunteer(session, outbox, schemas.VolunteerCreate().load(body),
                                                  source="staff", verified_by=ACTOR, today=today)
            credentials = _credentials(rng, index, today, body["provider_type"])
            for credential in credentials:
                handlers.record_credential(session, outbox, created["id"],
                                           schemas.Credential().load(credential),
                                           kamilka_validity_days=kamilka_days, actor=ACTOR, today=today)
                counts["credentials"] += 1
            eligible = model.eligible_categories(handlers.provider(session, created["id"]), today)
            categories = _categories(rng, index, eligible, {c["kind"] for c in credentials})
            handlers.publish_offer(session, outbox, created["id"], schemas.OfferCreate().load({
                "categories": categories, "available_from": available_from.isoformat(),
                "available_to": (available_from + timedelta(weeks=weeks)).isoformat(),
                "weekly_slots": body["weekly_slots"]}))
        counts["volunteers"] += 1
        counts["offers"] += 1
    known = set(reference.villages())
    for index, (name, kind, places, contact) in enumerate(PARTNERS, start=1):
        with db.transaction() as session:
            body = _partner(index, name, kind, [v for v in places if v in known] or villages[:1], contact)
            handlers.register_volunteer(session, outbox, schemas.VolunteerCreate().load(body), source="staff",
                                        verified_by=ACTOR, today=today)
        counts["organisations"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.volunteers.seed",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=40)
    parser.add_argument("--weeks", type=int, default=8, help="how many weeks ahead the offers cover")
    return seed_main(
        "volunteers", parser, argv, make_db,
        lambda db, args: seed_demo(db, volunteers_count=args.volunteers, weeks=args.weeks),
        lambda counts, args: f"{counts['volunteers']} verified providers, {counts['organisations']} partner "
                             f"organisations, {counts['credentials']} credentials, "
                             f"{counts['offers']} offers for {args.weeks} weeks")


if __name__ == "__main__":
    sys.exit(main())
