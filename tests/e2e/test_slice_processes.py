"""The walking skeleton with every service in its own processes, over the real broker, through the front door."""
from __future__ import annotations

from tests.e2e.conftest import add_volunteer_with_offer, need_body, notifications_for
from wspolnota.testing import wait_until


def test_a_need_posted_at_the_front_door_ends_as_a_notification_on_the_staff_page(kafka_bootstrap, new_stack) -> None:  # type: ignore[no-untyped-def]
    stack = new_stack(kafka_bootstrap).start()
    add_volunteer_with_offer(stack)
    created = stack.post("/needs/api/needs", need_body())
    assert created.status_code == 201
    need_id = created.json()["id"]
    [note] = wait_until(lambda: notifications_for(stack, need_id), 90, message="the notification")
    assert note["subject"].startswith("Nowa propozycja dopasowania")
    wait_until(lambda: stack.get(f"/needs/api/needs/{need_id}")["status"] == "proposed", 60,
               message="need status from the match event")
    page = stack.http.get(f"{stack.url}/notify/", timeout=10)
    assert page.status_code == 200 and "Nowa propozycja dopasowania" in page.text
    assert 'href="/notify/common-static/style.css"' in page.text  # links carry the front door prefix
    # Each worker's metrics tell the same story: the needs relay published and has nothing waiting, and
    # matching's consumer handled the events and, once its lag snapshot is fresh, is behind on none.
    relay = stack.metrics("needs-relay")
    assert relay[("wspolnota_relay_published_total", (("service", "needs"),))] >= 1
    assert relay[("wspolnota_outbox_unpublished", (("service", "needs"),))] == 0

    def caught_up() -> bool:
        got = stack.metrics("matching-consumer")
        lag = [v for (name, _), v in got.items() if name == "wspolnota_consumer_lag"]
        return bool(lag) and sum(lag) == 0 and got[("wspolnota_consumer_events_total", (
            ("outcome", "handled"), ("service", "matching")))] >= 2
    wait_until(caught_up, 60, message="matching's consumer metrics: events handled, no lag")


def test_bad_input_at_the_front_door_is_refused_and_nothing_moves(kafka_bootstrap, new_stack) -> None:  # type: ignore[no-untyped-def]
    stack = new_stack(kafka_bootstrap).start()
    response = stack.post("/needs/api/needs", need_body(village="Gotham", duration_minutes=-5))
    assert response.status_code == 422
    assert set(response.json()["errors"]["json"]) == {"village", "duration_minutes"}
    assert stack.get("/needs/api/needs") == []
