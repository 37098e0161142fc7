"""Parsers that turn outside feed formats (CSV lists, MISP events, CSAF advisories) into STIX 2.1
objects as plain dicts. Pure functions: no database, no network. Bad records are reported with
where and why and never stop the good ones around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordProblem:
    """One record that could not be used: where it is (line, index, id) and why."""

    location: str
    message: str
    raw: str = ""


@dataclass
class ParseResult:
    """STIX objects produced from one input, plus the records that were skipped and why."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)

    def extend(self, other: ParseResult) -> None:
        self.objects.extend(other.objects)
        self.problems.extend(other.problems)


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (outside input may be anything)."""
    return value if isinstance(value, dict) else {}
