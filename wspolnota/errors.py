"""One error mapping for every service: the use cases raise these, the web layer answers them.

A handler (use case) raises `NotFound`, `Invalid` (field → Polish message) or `Refused` (a Polish sentence for
the whole request); `create_service_app` turns them into flask-smorest's JSON error shape on every JSON request
(404, 422 with `{"errors": {"json": {field: [message]}}}`, 409). Pages catch them themselves and show the
message beside the form. `api_error` is the one way a route answers an error of its own making.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Flask, request
from flask_smorest import abort as smorest_abort


class DomainError(Exception):
    status = 409

    def __init__(self, message: str = "", *, errors: Mapping[str, str | list[str]] | None = None):
        super().__init__(message or (dict(errors) if errors else ""))
        self.message = message
        self.errors: dict[str, str | list[str]] = dict(errors or {})

    def answer(self) -> dict[str, Any]:
        """flask-smorest's keyword arguments for this error."""
        if self.errors:
            return {"errors": {"json": {k: v if isinstance(v, list) else [v] for k, v in self.errors.items()}}}
        return {"message": self.message}


class NotFound(DomainError):
    status = 404


class Invalid(DomainError):
    """Business validation that needs the database: field → Polish message (422)."""

    status = 422

    def __init__(self, errors: Mapping[str, str | list[str]] | str, message: str = ""):
        if isinstance(errors, str):
            super().__init__(errors)
        else:
            super().__init__(message, errors=errors)


class Refused(DomainError):
    """A request the rules refuse as a whole (409 with a Polish message)."""

    status = 409


def api_error(status: int, message: str | None = None, *, errors: Mapping[str, Any] | None = None,
              headers: Mapping[str, str] | None = None) -> NoReturn:
    """A JSON error answer in flask-smorest's shape (code, status, message, errors)."""
    kwargs: dict[str, Any] = {}
    if message is not None:
        kwargs["message"] = message
    if errors is not None:
        kwargs["errors"] = dict(errors)
    if headers is not None:
        kwargs["headers"] = dict(headers)
    smorest_abort(status, **kwargs)
    raise AssertionError("unreachable")


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json or (
        request.accept_mimetypes.best == "application/json")


def install(app: Flask) -> None:
    """Answer a `DomainError` that reaches the app: JSON for API requests; for a page, the plain HTTP error."""

    @app.errorhandler(DomainError)
    def _domain_error(err: DomainError):  # type: ignore[no-untyped-def]
        if wants_json():
            try:
                api_error(err.status, **err.answer())
            except Exception as http_error:  # noqa: BLE001 - smorest raises the HTTPException to answer with
                return app.handle_http_exception(http_error)  # type: ignore[arg-type]
        from werkzeug.exceptions import default_exceptions

        return app.handle_http_exception(default_exceptions[err.status](description=err.message or None))
