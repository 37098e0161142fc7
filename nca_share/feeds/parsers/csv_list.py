"""CSV indicator lists → STIX 2.1 indicators.

A per-feed :class:`CsvMapping` names the columns (by header name or 0-based index) holding the
value, its type, first-seen time and a comment, plus the delimiter. Handled: byte-order marks,
quoting (also multi-line quoted cells), multi-value cells, ``#`` comment banners as abuse.ch
publishes them (a header inside the banner is found too), ``IP:port`` values. Each bad line is
reported with its line number; every good line still becomes an indicator.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nca_share.feeds.parsers import ParseResult, RecordProblem
from nca_share.feeds.stixgen import (
    guess_kind,
    normalise_value,
    parse_timestamp,
    pattern_for,
    sdo_id,
    stix_timestamp,
)

#: Type names lists use → our observable kinds. ``ip`` and ``hash`` are refined by the value.
TYPE_ALIASES: dict[str, str] = {
    "ip": "ip",
    "ipaddress": "ip",
    "ip-address": "ip",
    "ip_address": "ip",
    "ip-dst": "ip",
    "ip-src": "ip",
    "dst_ip": "ip",
    "ipv4": "ipv4",
    "ipv4-addr": "ipv4",
    "ipv6": "ipv6",
    "ipv6-addr": "ipv6",
    "domain": "domain",
    "domain-name": "domain",
    "hostname": "domain",
    "host": "domain",
    "fqdn": "domain",
    "url": "url",
    "uri": "url",
    "link": "url",
    "email": "email",
    "email-addr": "email",
    "email-src": "email",
    "email-dst": "email",
    "emailwhois": "email",
    "whois-registrant-email": "email",
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha512": "sha512",
    "sha-512": "sha512",
    "file": "hash",
    "hash": "hash",
    "filehash": "hash",
}

Column = str | int
#: separators of several values in one cell (not used inside URLs)
_MULTI_SPLIT = re.compile(r"[,;|\s]+")


@dataclass(frozen=True)
class CsvMapping:
    """How one CSV list is read. Columns are header names or 0-based indexes."""

    value: Column = "value"
    type: Column | None = None
    #: the kind of every value when there is no type column (``None``: guessed per value)
    fixed_type: str | None = None
    first_seen: Column | None = None
    comment: Column | None = None
    port: Column | None = None
    delimiter: str = ","
    #: the first non-comment line is a header (a header inside a ``#`` banner is found too)
    header: bool = True
    #: splits a cell holding several values (default: newlines, and for non-URL values also
    #: commas, semicolons, pipes and blanks)
    multi_value_separator: str | None = None
    labels: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CsvMapping:
        """Build from a feed's ``csv`` config section (unknown keys are refused).

        :raises ValueError: an unknown key or a bad value.
        """
        known = set(cls.__dataclass_fields__)
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown CSV mapping keys: {', '.join(sorted(unknown))}")
        values = dict(config)
        if "labels" in values:
            values["labels"] = tuple(values["labels"])
        mapping = cls(**values)
        if len(mapping.delimiter) != 1:
            raise ValueError("delimiter must be one character")
        if mapping.fixed_type is not None and mapping.fixed_type.lower() not in TYPE_ALIASES:
            raise ValueError(f"unknown fixed_type {mapping.fixed_type!r}")
        return mapping


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) per CSV record, skipping blank and ``#`` lines."""
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False)
    previous_end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start = previous_end + 1
            previous_end = reader.line_num
            yield start, ["\x00csv-error", str(exc)]
            continue
        start = previous_end + 1
        previous_end = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        yield start, row


def _resolve(column: Column | None, header: list[str] | None, name: str) -> int | None:
    if column is None:
        return None
    if isinstance(column, int):
        return column
    if header is None:
        raise ValueError(f"column {name}={column!r} is named but the list has no header")
    lowered = [h.strip().lower() for h in header]
    try:
        return lowered.index(column.strip().lower())
    except ValueError:
        raise ValueError(f"column {name}={column!r} is not in the header {header!r}") from None


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _split_port(kind: str, value: str) -> tuple[str, str | None]:
    """``1.2.3.4:443`` → (``1.2.3.4``, ``443``); ``[2001:db8::1]:443`` too."""
    if kind not in ("ip", "ipv4", "ipv6"):
        return value, None
    if value.startswith("[") and "]:" in value:
        host, port = value[1:].split("]:", 1)
        return host, port
    if value.count(":") == 1:
        host, port = value.split(":", 1)
        if port.isdigit():
            return host, port
    return value, None


def _kind_for(type_text: str, fixed: str | None, value: str) -> str:
    alias = (
        TYPE_ALIASES.get((type_text or fixed or "").strip().lower())
        if (type_text or fixed)
        else None
    )
    if (type_text or fixed) and alias is None:
        raise ValueError(f"unknown type {type_text or fixed!r}")
    if alias in (None, "ip", "hash"):
        guessed = guess_kind(
            value.split(":", 1)[0] if alias == "ip" and value.count(":") == 1 else value
        )
        if guessed is None:
            raise ValueError(f"cannot tell what kind of value {value!r} is")
        if alias == "ip" and guessed not in ("ipv4", "ipv6"):
            raise ValueError(f"{value!r} is not an IP address")
        if alias == "hash" and guessed not in ("md5", "sha1", "sha256", "sha512"):
            raise ValueError(f"{value!r} is not an MD5/SHA-1/SHA-256/SHA-512 hash")
        return guessed
    return alias


def parse_csv_list(
    data: bytes | str,
    mapping: CsvMapping,
    *,
    feed_key: str,
    default_time: datetime,
    source_name: str = "",
) -> ParseResult:
    """Parse one CSV list into indicators.

    :param feed_key: stable name of the feed; part of every indicator id so re-collecting the same
        row yields the same object.
    :param default_time: ``valid_from``/``created`` for rows without a first-seen time (the
        list's own time: Last-Modified or file mtime).
    :param source_name: shown in the indicator name and description.
    """
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    text = text.removeprefix("\ufeff")
    result = ParseResult()
    header: list[str] | None = None
    last_comment: str | None = None
    indexes: dict[str, int | None] | None = None
    needs_header = mapping.header

    def comment_header() -> list[str] | None:
        if last_comment is None:
            return None
        cells = next(csv.reader([last_comment.lstrip("#").strip()], delimiter=mapping.delimiter))
        return [c.strip() for c in cells]

    for line_no, row in _records(text, mapping.delimiter):
        location = f"line {line_no}"
        raw = mapping.delimiter.join(row)
        if row[0] == "\x00csv-error":
            result.problems.append(RecordProblem(location, f"malformed CSV: {row[1]}"))
            continue
        if row[0].lstrip().startswith("#"):
            last_comment = raw
            continue
        if indexes is None:
            try:
                if needs_header:
                    header = [c.strip() for c in row]
                    if isinstance(mapping.value, str) and mapping.value.lower() not in [
                        h.lower() for h in header
                    ]:
                        banner = comment_header()
                        if banner and mapping.value.lower() in [h.lower() for h in banner]:
                            header = banner
                            needs_header = False  # this row is data
                if header is None and any(
                    isinstance(c, str)
                    for c in (mapping.value, mapping.type, mapping.first_seen, mapping.comment)
                ):
                    header = comment_header()
                indexes = {
                    name: _resolve(getattr(mapping, name), header, name)
                    for name in ("value", "type", "first_seen", "comment", "port")
                }
            except ValueError as exc:
                result.problems.append(RecordProblem(location, str(exc), raw))
                return result
            if needs_header:
                continue
        try:
            result.objects.extend(
                _row_indicators(row, indexes, mapping, feed_key, default_time, source_name)
            )
        except ValueError as exc:
            result.problems.append(RecordProblem(location, str(exc), raw[:500]))
    return result


def _row_indicators(
    row: list[str],
    indexes: dict[str, int | None],
    mapping: CsvMapping,
    feed_key: str,
    default_time: datetime,
    source_name: str,
) -> list[dict[str, Any]]:
    if indexes["value"] is not None and indexes["value"] >= len(row):
        raise ValueError(
            f"the row has {len(row)} columns, the value is in column {indexes['value'] + 1}"
        )
    cell = _cell(row, indexes["value"])
    if not cell:
        raise ValueError("empty value")
    first_seen_text = _cell(row, indexes["first_seen"])
    first_seen = parse_timestamp(first_seen_text) if first_seen_text else None
    if first_seen_text and first_seen is None:
        raise ValueError(f"cannot read first-seen time {first_seen_text!r}")
    when = stix_timestamp(first_seen or default_time)
    comment = _cell(row, indexes["comment"])
    type_text = _cell(row, indexes["type"])
    column_port = _cell(row, indexes["port"])
    values: list[str] = []
    for line in cell.splitlines():
        if mapping.multi_value_separator:
            values.extend(line.split(mapping.multi_value_separator))
        elif "://" in line:
            values.append(line)  # URLs may hold commas and semicolons
        else:
            values.extend(_MULTI_SPLIT.split(line))
    values = [v.strip() for v in values if v.strip()]
    out: list[dict[str, Any]] = []
    for raw_value in values:
        kind = _kind_for(type_text, mapping.fixed_type, raw_value)
        host, port = _split_port(kind, raw_value)
        if kind in ("ip",):
            kind = guess_kind(host) or kind
        value = normalise_value(kind, host)
        port = port or column_port or None
        if port is not None and (not port.isdigit() or not 0 < int(port) < 65536):
            raise ValueError(f"bad port {port!r}")
        description = comment
        if port:
            description = f"{comment} (port {port})".strip()
        indicator: dict[str, Any] = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": sdo_id("indicator", feed_key, kind, value),
            "created": when,
            "modified": when,
            "name": f"{source_name}: {value}" if source_name else value,
            "pattern": pattern_for(kind, value),
            "pattern_type": "stix",
            "valid_from": when,
            "indicator_types": ["malicious-activity"],
        }
        if description:
            indicator["description"] = description
        if mapping.labels:
            indicator["labels"] = list(mapping.labels)
        if port:
            indicator["x_nca_port"] = int(port)
        out.append(indicator)
    return out
