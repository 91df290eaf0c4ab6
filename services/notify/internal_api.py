"""The other services' internal APIs as notify asks them at send time (docs/events.md): the shared bearer token, and
their failures as the channels' failures, so the sender retries or gives up as it does for a channel."""
from __future__ import annotations

from typing import Any

import requests

from services.notify.channels import PermanentFailure, TemporaryFailure


class InternalApi:
    """A service's internal API, asked with the shared bearer token (`X-Service-Name: notify`). Its failures are the
    channels' failures: unreachable, refused or a broken answer is temporary (the sender retries), 404 permanent
    (MISSING: the recipient is gone)."""

    PATH = ""  # with "{id}"
    SERVICE = "usługa"
    MISSING = "brak adresata (404)"

    def __init__(self, base_url: str, token: str, timeout_s: float = 5.0,
                 session: requests.Session | None = None):
        self.base_url, self.token, self.timeout_s = base_url.rstrip("/"), token, timeout_s
        self.http = session or requests.Session()

    def get_json(self, key: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = self.http.get(self.base_url + self.PATH.format(id=key), params=params,
                                     headers={"Authorization": f"Bearer {self.token}", "X-Service-Name": "notify"},
                                     timeout=self.timeout_s)
        except requests.RequestException as err:
            raise TemporaryFailure(f"{self.SERVICE} nie odpowiada ({type(err).__name__})") from err
        if response.status_code == 404:
            raise PermanentFailure(self.MISSING)
        if response.status_code in (401, 403):
            raise TemporaryFailure(f"{self.SERVICE} odmówiła dostępu ({response.status_code}); "
                                   "sprawdź INTERNAL_SERVICE_TOKEN")
        if response.status_code != 200:
            raise TemporaryFailure(f"{self.SERVICE} odpowiedziała {response.status_code}")
        try:
            body = response.json()
        except ValueError as err:
            raise TemporaryFailure(f"{self.SERVICE} zwróciła niepoprawny JSON") from err
        if not isinstance(body, dict):
            raise TemporaryFailure(f"{self.SERVICE} zwróciła niepoprawny JSON")
        return body
