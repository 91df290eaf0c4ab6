"""Field types that several services' schemas share (codes from the reference data)."""
from __future__ import annotations

from marshmallow import fields, validate

from wspolnota import reference

CATEGORY_CODES = sorted(reference.categories())
VILLAGE_CODES = sorted(reference.villages())


def category_field(**kw) -> fields.String:  # type: ignore[no-untyped-def]
    return fields.String(validate=validate.OneOf(CATEGORY_CODES, error="Nieznana kategoria: {input}."), **kw)


def village_field(**kw) -> fields.String:  # type: ignore[no-untyped-def]
    return fields.String(validate=validate.OneOf(VILLAGE_CODES, error="Nieznana miejscowość: {input}."), **kw)


def uuid_str(**kw) -> fields.String:  # type: ignore[no-untyped-def]
    return fields.String(validate=validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"), **kw)
