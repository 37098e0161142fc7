"""Validation of organisation fields as they arrive from any surface (CSV cell strings, JSON
values, form fields) into the typed values the ``Organisation`` model stores.

``organisation_fields`` checks every given field, collects *all* problems and raises one
``ValidationError`` whose ``details["errors"]`` lists ``{"field", "message"}`` per problem, so an
importer can report every bad column of a row at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nca_share.constituency import validation as v
from nca_share.errors import ValidationError

#: Fields of an organisation a caller may set, in display order.
ORGANISATION_FIELDS = (
    "kvk",
    "name",
    "sbi_codes",
    "sbi_version",
    "employees",
    "turnover_eur",
    "balance_eur",
    "group_aggregated",
    "province",
    "municipality",
    "nis2_entity_types",
    "cer_critical_entity",
)


def _bool(value: Any, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "ja", "j", "y", "waar"):
        return True
    if text in ("", "0", "false", "no", "nee", "n", "onwaar"):
        return False
    raise ValidationError(f"must be yes/no, got {value!r}", location=field)


def _optional_int(value: Any, *, field: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"must be a whole number, got {value!r}", location=field)
    return v.non_negative_int(value, field=field)


def _optional_text(value: Any, *, field: str, max_len: int) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    if len(text) > max_len:
        raise ValidationError(f"longer than {max_len} characters", location=field)
    return text


def _entity_types(value: Any, *, field: str) -> list[str]:
    from nca_share.constituency.classification import known_entity_types

    items = value if isinstance(value, list) else str(value or "").replace("|", ";").split(";")
    if isinstance(value, str) and ";" not in value and "," in value:
        items = value.split(",")
    known = known_entity_types()
    result: list[str] = []
    for item in items:
        key = str(item).strip()
        if not key:
            continue
        if known and key not in known:
            raise ValidationError(f"unknown NIS2 entity type {key!r}", location=field)
        if key not in result:
            result.append(key)
    return result


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "kvk": lambda x: v.kvk_number(str(x)),
    "name": lambda x: v.name(str(x)),
    "sbi_codes": lambda x: v.sbi_codes(x if isinstance(x, list) else str(x), field="sbi_codes"),
    "sbi_version": lambda x: v.sbi_version(str(x)),
    "employees": lambda x: _optional_int(x, field="employees"),
    "turnover_eur": lambda x: _optional_int(x, field="turnover_eur"),
    "balance_eur": lambda x: _optional_int(x, field="balance_eur"),
    "group_aggregated": lambda x: _bool(x, field="group_aggregated"),
    "province": lambda x: v.province(str(x)) if x not in (None, "") else None,
    "municipality": lambda x: _optional_text(x, field="municipality", max_len=100),
    "nis2_entity_types": lambda x: _entity_types(x, field="nis2_entity_types"),
    "cer_critical_entity": lambda x: _bool(x, field="cer_critical_entity"),
}


def organisation_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and normalise organisation fields.

    :param data: field name -> raw value; unknown names are refused.
    :param partial: when false, ``kvk`` and ``name`` are required.
    :raises ValidationError: listing every bad field in ``details["errors"]``.
    """
    errors: list[dict[str, str]] = []
    result: dict[str, Any] = {}
    for key, raw in data.items():
        validator = _VALIDATORS.get(key)
        if validator is None:
            errors.append({"field": key, "message": "unknown field"})
            continue
        try:
            result[key] = validator(raw)
        except ValidationError as exc:
            errors.append({"field": exc.location or key, "message": exc.message})
    if not partial:
        for required in ("kvk", "name"):
            if required not in data:
                errors.append({"field": required, "message": "is required"})
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ValidationError(summary, location=errors[0]["field"], details={"errors": errors})
    return result
