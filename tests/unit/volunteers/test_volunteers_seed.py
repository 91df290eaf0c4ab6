"""`python -m services.volunteers.seed --demo`: fictional, verified providers with offers, through the outbox."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.matching.handlers import CONSUMES
from services.volunteers import handlers, model, seed
from services.volunteers.db import offers, volunteers
from tests.unit.volunteers.conftest import Outbox, count
from wspolnota import localtime, reference
from wspolnota.db import Database


def test_without_demo_the_seed_refuses_and_writes_nothing(db: Database, outbox: Outbox) -> None:
    with pytest.raises(SystemExit) as exit_:
        seed.main(["--database-url", db.url])
    assert exit_.value.code == 2
    assert count(db, "volunteers") == 0 and outbox.all() == []


def test_the_seed_registers_verified_providers_with_offers_through_the_outbox(
        db: Database, outbox: Outbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert seed.main(["--demo", "--database-url", db.url, "--volunteers", "12"]) == 0
    assert "volunteers: demo data added — 12 verified providers" in capsys.readouterr().out

    partners = len(seed.PARTNERS)  # partner organisations: registered, with no offer of their own
    assert count(db, "volunteers") == 12 + partners and count(db, "offers") == 12
    types = outbox.types()
    assert types.count("VolunteerRegistered") == 12 + partners and types.count("OfferPublished") == 12
    assert "CredentialRecorded" in types
    for type_, _key, data in outbox.all():  # what the relay publishes, and what matching accepts
        handlers.PUBLISHES.validate(type_, data)  # raises InvalidEvent if the payload breaks the contract
        assert type_ in CONSUMES
        CONSUMES.validate(type_, data)
    registered = [d for t, _, d in outbox.all() if t == "VolunteerRegistered"]
    assert all(d["verified"] and not d["paused"] for d in registered)


def test_a_second_run_adds_nothing(db: Database, outbox: Outbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert seed.main(["--demo", "--database-url", db.url, "--volunteers", "5"]) == 0
    events = len(outbox.all())
    assert seed.main(["--demo", "--database-url", db.url, "--volunteers", "5"]) == 0
    assert "already present; nothing added" in capsys.readouterr().out
    assert count(db, "volunteers") == 5 + len(seed.PARTNERS) and len(outbox.all()) == events


def test_everyone_is_clearly_fictional_and_no_contact_data_goes_on_the_bus(db: Database, outbox: Outbox) -> None:
    seed.seed_demo(db, volunteers_count=20)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(volunteers)).mappings().all()
    for row in rows:
        assert row["email"].endswith("@" + seed.DEMO_DOMAIN) and row["email"].endswith(".invalid")
        assert row["phone"].startswith(("+48500001", "+48500002"))
        assert row["notes"].startswith("DANE FIKCYJNE")
        assert row["home_village"] in reference.villages()
        if row["provider_type"] == "partner_organisation":
            assert row["name"].endswith("(demo)") and row["organisation_kind"] and row["krs"] is None
            continue
        assert 5 <= row["radius_km"] <= 15 and 2 <= row["capacity_hours_per_week"] <= 8
        assert row["weekly_slots"] and all("08:00" <= s["start"] < s["end"] <= "19:00" for s in row["weekly_slots"])
    raw = outbox.raw()
    assert not any(row["email"] in raw or row["phone"] in raw for row in rows)
    # a person's name never; an organisation's registered name does travel (its public identity), its contact not
    assert not any(row["name"] in raw for row in rows if row["provider_type"] != "partner_organisation")
    assert not any(row["contact_person"] in raw for row in rows if row["contact_person"])


def test_the_mix_covers_every_category_with_the_credentials_it_needs(db: Database) -> None:
    seed.seed_demo(db)  # the default size, as `wspolnota seed --demo` runs it
    today = localtime.today()
    with db.transaction() as session:
        offered = session.execute(sa.select(offers.c.volunteer_id, offers.c.categories)).all()
        for volunteer_id, categories in offered:
            eligible = model.eligible_categories(handlers.provider(session, volunteer_id), today)
            assert set(categories) <= eligible, (categories, eligible)
        villages = set(session.execute(sa.select(volunteers.c.home_village)).scalars())
    assert set().union(*(set(c) for _, c in offered)) == set(reference.categories())
    assert villages == set(reference.villages())
    tutors = [c for _, c in offered if "KOR" in c]
    drivers = [c for _, c in offered if "TRN" in c]
    assert len(tutors) >= 5 and len(drivers) >= 5


def test_the_seed_is_deterministic(tmp_path: Path) -> None:
    def names_and_offers(name: str) -> list[tuple[str, str]]:
        database = seed.make_db(f"sqlite:///{tmp_path / name}")
        database.migrate()
        try:
            seed.seed_demo(database, volunteers_count=8)
            with database.engine.connect() as conn:
                return [(r.name, json.dumps(r.categories)) for r in conn.execute(
                    sa.select(volunteers.c.name, offers.c.categories)
                    .join(offers, offers.c.volunteer_id == volunteers.c.id).order_by(volunteers.c.email))]
        finally:
            database.dispose()

    assert names_and_offers("a.db") == names_and_offers("b.db")


def test_with_the_needs_demo_matching_proposes_seeded_providers(tmp_path: Path) -> None:
    from services.needs import seed as needs_seed
    from wspolnota.testing import InMemorySystem

    system = InMemorySystem(tmp_path)
    try:
        needs_seed.seed_demo(system["needs"].db, residents_count=4, one_off_count=14)
        seed.seed_demo(system["volunteers"].db, volunteers_count=20)
        system.pump()
        with system["matching"].db.engine.connect() as conn:
            proposed = conn.execute(sa.text("SELECT count(*) FROM proposals")).scalar_one()
            providers = conn.execute(sa.text("SELECT count(*) FROM providers WHERE verified")).scalar_one()
        assert providers == 20 + len(seed.PARTNERS)
        assert proposed > 0
        assert system["matching"].loop.stats["dead_lettered"] == 0
    finally:
        system.close()


def test_the_cli_passes_volunteers_to_its_seed_and_the_rest_to_the_needs_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    import services.community.seed
    import services.needs.seed
    import services.volunteers.seed
    from wspolnota import cli

    calls: dict[str, list[str]] = {}
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(services.needs.seed, "main", lambda argv: calls.setdefault("needs", argv) and 0)
    monkeypatch.setattr(services.volunteers.seed, "main", lambda argv: calls.setdefault("volunteers", argv) and 0)
    monkeypatch.setattr(services.community.seed, "main", lambda argv: calls.setdefault("community", argv) and 0)
    with pytest.raises(SystemExit) as done:
        cli.main(["seed", "--demo", "--residents", "6", "--volunteers", "10"])
    assert done.value.code == 0
    assert calls == {"needs": ["--demo", "--residents", "6"], "volunteers": ["--demo", "--volunteers", "10"],
                     "community": ["--demo"]}
    with pytest.raises(SystemExit) as refused:
        cli.main(["migrate", "--residents", "6"])  # other commands still refuse options they do not know
    assert refused.value.code == 2
