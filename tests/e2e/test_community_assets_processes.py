"""Community → matching over the real broker, every service in its own processes: a place recorded in the
community's assets register shows on matching's village map, and its removal takes it off."""
from __future__ import annotations

import re

from wspolnota.testing import wait_until


def kajetanow_places(stack) -> str | None:  # type: ignore[no-untyped-def]
    page = stack.http.get(f"{stack.url}/matching/mapa", timeout=10)
    page.raise_for_status()
    found = re.search(r'<th scope="row">Kajetanów</th>(?:<td[^>]*>[^<]*</td>){3}<td class="num">(\d+)</td>', page.text)
    return found.group(1) if found else None


def test_a_place_recorded_in_community_reaches_the_village_map_and_leaves_it(kafka_bootstrap, new_stack) -> None:  # type: ignore[no-untyped-def]
    stack = new_stack(kafka_bootstrap).start()
    created = stack.post("/community/api/assets", {"kind": "place", "subtype": "swietlica", "village": "kajetanow",
                                                   "name": "Świetlica w Kajetanowie", "capacity": 60,
                                                   "accessible": True})
    assert created.status_code == 201, created.text
    wait_until(lambda: kajetanow_places(stack) == "1", 120,
               message="the place on the village map\n" + stack.log_tails(("community-relay", "matching-consumer")))
    form = stack.http.get(f"{stack.url}/community/zasoby/{created.json()['id']}", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    removed = stack.http.post(f"{stack.url}/community/zasoby/{created.json()['id']}/usun",
                              data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert removed.status_code == 302, removed.text
    wait_until(lambda: kajetanow_places(stack) == "0", 60, message="the place off the map")
