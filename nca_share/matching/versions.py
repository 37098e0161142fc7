"""Version comparison and version ranges for product matching.

This module owns

- :func:`compare`, comparing two version strings with the semantics of a scheme: ``pypi``
  (PEP 440 through ``packaging``; falls back to the generic order for invalid versions) and a
  careful generic comparator for everything else (CPE, npm/semver, maven, golang, deb, ...):
  versions split into numeric and alphabetic segments, numbers compared as numbers, a leading
  ``v`` and a Debian-style epoch understood, pre-release tags (``alpha``, ``beta``, ``rc``,
  ``dev``, ``pre``, ``preview``, ``snapshot``) sorting before the release;
- :class:`VersionRange`: a union of intervals parsed from the notations the feeds and users
  write: ``>=1.2,<2.0`` (comma/space separated constraints form one interval), ``|`` or
  ``||`` between alternatives, ``1.2.*`` / ``1.2.x`` prefixes, a bare version (exactly that
  version), ``*`` / ``-`` / empty (any version), and the ``vers:`` URI form
  (``vers:generic/>=1.0|<2.0``, as CSAF's ``product_version_range`` uses);
- :meth:`VersionRange.overlaps`: whether two ranges share a version, which is how "the
  organisation runs versions X" meets "the vulnerability affects versions Y".

Unparseable constraints never raise: they widen the range to "any version" and set
``approximate`` (recall over precision for warnings about one's own products).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from packaging.version import InvalidVersion, Version

__all__ = ["Interval", "VersionRange", "compare"]

_SEGMENT = re.compile(r"[0-9]+|[a-z]+")
_PRE_TAGS = {
    "dev": -5,
    "snapshot": -5,
    "alpha": -4,
    "a": -4,
    "beta": -3,
    "b": -3,
    "pre": -2,
    "preview": -2,
    "rc": -1,
    "cr": -1,
}
_TOKEN = re.compile(r"(?:>=|<=|==|!=|~=|[<>=^~])?\s*[^\s,<>=!^~|]+")
_OPERATOR = re.compile(r"^(>=|<=|==|!=|=|>|<|~=|\^|~)?\s*(.+)$")


@cache
def _generic_key(version: str) -> tuple[tuple[int, int | str], ...]:
    text = version.strip().lower()
    epoch = 0
    head, colon, rest = text.partition(":")
    if colon and head.isdecimal():
        epoch, text = int(head), rest
    if text.startswith("v") and text[1:2].isdigit():
        text = text[1:]
    # Build metadata (semver "+...") does not order versions.
    text = text.split("+", 1)[0]
    key: list[tuple[int, int | str]] = [(2, epoch)]
    for seg in _SEGMENT.findall(text):
        if seg.isdecimal():
            key.append((2, int(seg)))
        elif seg in _PRE_TAGS:
            key.append((0, _PRE_TAGS[seg]))
        else:
            key.append((1, seg))
    return tuple(key)


def _generic_compare(a: str, b: str) -> int:
    ka, kb = _generic_key(a), _generic_key(b)
    # A missing segment sorts like a release marker: between pre-release tags (0) and any
    # further number or word (1, 2): "1.0" == "1.0.0"-ish, "1.0rc1" < "1.0" < "1.0.1".
    length = max(len(ka), len(kb))
    pad: tuple[int, int | str] = (1, "")
    for i in range(length):
        x = ka[i] if i < len(ka) else pad
        y = kb[i] if i < len(kb) else pad
        if x == y:
            continue
        if x == pad and y[0] == 2 and y[1] == 0:
            continue
        if y == pad and x[0] == 2 and x[1] == 0:
            continue
        if x[0] != y[0]:
            return -1 if x[0] < y[0] else 1
        xv, yv = x[1], y[1]
        if isinstance(xv, int) and isinstance(yv, int):
            return -1 if xv < yv else 1
        return -1 if str(xv) < str(yv) else 1
    return 0


@cache
def _pep440(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def compare(a: str, b: str, scheme: str = "generic") -> int:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b`` under ``scheme``."""
    if scheme == "pypi":
        va, vb = _pep440(a), _pep440(b)
        if va is not None and vb is not None:
            return (va > vb) - (va < vb)
    return _generic_compare(a, b)


@dataclass(frozen=True, slots=True)
class Interval:
    """Versions between ``low`` and ``high`` (None: unbounded), each end in- or exclusive."""

    low: str | None = None
    low_inclusive: bool = True
    high: str | None = None
    high_inclusive: bool = True

    def contains(self, version: str, scheme: str = "generic") -> bool:
        if self.low is not None:
            c = compare(version, self.low, scheme)
            if c < 0 or (c == 0 and not self.low_inclusive):
                return False
        if self.high is not None:
            c = compare(version, self.high, scheme)
            if c > 0 or (c == 0 and not self.high_inclusive):
                return False
        return True

    def intersects(self, other: Interval, scheme: str = "generic") -> bool:
        return self.meet(other, scheme) is not None

    def meet(self, other: Interval, scheme: str = "generic") -> Interval | None:
        """The intersection of two intervals (None when empty)."""
        low, low_inc = self.low, self.low_inclusive
        if other.low is not None:
            c = 1 if low is None else compare(other.low, low, scheme)
            if c > 0:
                low, low_inc = other.low, other.low_inclusive
            elif c == 0:
                low_inc = low_inc and other.low_inclusive
        high, high_inc = self.high, self.high_inclusive
        if other.high is not None:
            c = -1 if high is None else compare(other.high, high, scheme)
            if c < 0:
                high, high_inc = other.high, other.high_inclusive
            elif c == 0:
                high_inc = high_inc and other.high_inclusive
        if low is not None and high is not None:
            c = compare(low, high, scheme)
            if not (c < 0 or (c == 0 and low_inc and high_inc)):
                return None
        return Interval(low, low_inc, high, high_inc)

    def __str__(self) -> str:
        if self.low is not None and self.low == self.high:
            return self.low
        parts = []
        if self.low is not None:
            parts.append((">=" if self.low_inclusive else ">") + self.low)
        if self.high is not None:
            parts.append(("<=" if self.high_inclusive else "<") + self.high)
        return ",".join(parts) or "*"


_ANY = Interval()


def _bump(prefix: str) -> str | None:
    """The smallest version above every version starting with ``prefix`` ("1.2" → "1.3")."""
    parts = prefix.split(".")
    if not parts[-1].isdecimal():
        return None
    parts[-1] = str(int(parts[-1]) + 1)
    return ".".join(parts)


def _parse_constraint(text: str) -> Interval | None:
    m = _OPERATOR.match(text.strip())
    if m is None:
        return None
    op, version = m.group(1) or "", m.group(2).strip()
    if not version or " " in version:
        return None
    if version in ("*", "x", "-"):
        return _ANY
    if not any(c.isdigit() for c in version):
        return None
    if version.endswith((".*", ".x", ".X")) and op in ("", "=", "=="):
        prefix = version[:-2]
        upper = _bump(prefix)
        return Interval(prefix, True, upper, False) if upper else None
    if op in ("", "=", "=="):
        return Interval(version, True, version, True)
    if op == ">=":
        return Interval(version, True, None)
    if op == ">":
        return Interval(version, False, None)
    if op == "<=":
        return Interval(None, True, version, True)
    if op == "<":
        return Interval(None, True, version, False)
    if op in ("^", "~", "~="):
        parts = version.split(".")
        keep = 1 if op == "^" else max(1, len(parts) - 1)
        if op == "^" and parts[0] == "0" and len(parts) > 1:
            keep = 2
        upper = _bump(".".join(parts[:keep]))
        return Interval(version, True, upper, False) if upper else None
    return None  # "!=" and anything else: ignored (widening)


@dataclass(frozen=True)
class VersionRange:
    """A union of version intervals; the empty tuple means "no version" (matches nothing)."""

    intervals: tuple[Interval, ...] = (_ANY,)
    approximate: bool = False
    text: str = field(default="*", compare=False)

    @classmethod
    def any(cls) -> VersionRange:
        return cls()

    @classmethod
    def exact(cls, version: str) -> VersionRange:
        return cls((Interval(version, True, version, True),), text=version)

    @classmethod
    def parse(cls, text: str | None, scheme: str = "generic") -> VersionRange:
        """Read a range notation (see the module docstring); never raises."""
        if text is None:
            return cls()
        raw = text.strip()
        if raw in ("", "*", "-", "all", "any"):
            return cls(text=raw or "*")
        body = raw
        if body.startswith("vers:"):
            _, _, body = body[5:].partition("/")
            return cls._parse_vers(body, raw, scheme)
        intervals: list[Interval] = []
        approximate = False
        for alternative in re.split(r"\|\|?", body):
            alt = alternative.strip()
            if not alt:
                continue
            current: Interval | None = _ANY
            tokens = _TOKEN.findall(alt)
            if not tokens or _TOKEN.sub("", alt).strip(" ,"):
                approximate = True
                continue
            for token in tokens:
                piece = _parse_constraint(token)
                if piece is None:
                    approximate = approximate or not token.strip().startswith("!=")
                    continue
                current = current.meet(piece, scheme) if current is not None else None
            if current is not None:
                intervals.append(current)
        if approximate:
            intervals = [_ANY]
        return cls(tuple(intervals), approximate, raw)

    @classmethod
    def _parse_vers(cls, body: str, raw: str, scheme: str) -> VersionRange:
        """``vers`` constraints: ``|``-separated, sorted; consecutive lower/upper bounds pair
        up into one interval, a bare ``=`` version stands alone, ``*`` is anything."""
        items = [c.strip() for c in body.split("|") if c.strip()]
        intervals: list[Interval] = []
        approximate = False
        pending_low: Interval | None = None
        for item in items:
            if item == "*":
                return cls(text=raw)
            piece = _parse_constraint(item)
            if piece is None:
                approximate = approximate or not item.startswith("!=")
                continue
            if piece.low is not None and piece.high is None:
                if pending_low is not None:
                    intervals.append(pending_low)
                pending_low = piece
            elif piece.high is not None and piece.low is None:
                if pending_low is not None:
                    intervals.append(
                        Interval(
                            pending_low.low,
                            pending_low.low_inclusive,
                            piece.high,
                            piece.high_inclusive,
                        )
                    )
                    pending_low = None
                else:
                    intervals.append(piece)
            else:
                intervals.append(piece)
        if pending_low is not None:
            intervals.append(pending_low)
        if not intervals:
            intervals.append(_ANY)
            approximate = True
        del scheme
        return cls(tuple(intervals), approximate, raw)

    @property
    def is_any(self) -> bool:
        return any(i.low is None and i.high is None for i in self.intervals)

    def contains(self, version: str, scheme: str = "generic") -> bool:
        return any(i.contains(version, scheme) for i in self.intervals)

    def overlaps(self, other: VersionRange, scheme: str = "generic") -> bool:
        """True when some version lies in both ranges."""
        if self.is_any:
            return bool(other.intervals)
        if other.is_any:
            return bool(self.intervals)
        return any(a.intersects(b, scheme) for a in self.intervals for b in other.intervals)

    def __str__(self) -> str:
        return " | ".join(str(i) for i in self.intervals) if self.intervals else "∅"
