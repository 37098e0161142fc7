"""``SegmentedInput`` must return exactly what ``parse_stix_bytes`` returns, piece by piece,
for every shape and serialisation of real input, and on malformed input return only a
prefix of the objects before raising the same error."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nca_share.errors import ParseError, ValidationError
from nca_share.stix.decode import SegmentedInput, decode_piece, parse_stix_bytes
from tests.unit.stix.test_ingest_service import indicator

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"

#: Text that looks like the structure the cutter looks for, inside strings.
TRICKY = [
    '},{"type": "indicator", "id": "x"}',
    '}, {"id": "malware--1"},{',
    '"objects": [',
    "]}",
    'quote \\" and backslash \\\\',
    "\\",
    '{"type":"marking-definition"}',
    "ünïcödé ☃ \U0001f600",
]


def _whole(data: bytes) -> tuple[Any, ...]:
    """What parse_stix_bytes gives, or the error it raises (type, message, line, column)."""
    try:
        objects, spec = parse_stix_bytes(data, "in")
    except ParseError as exc:
        return ("error", type(exc).__name__, exc.message, exc.line, exc.column)
    except ValidationError as exc:
        return ("error", type(exc).__name__, exc.message, None, None)
    return ("ok", objects, spec)


def _pieces(data: bytes, size: int) -> tuple[tuple[Any, ...], list[Any]]:
    """(the same shape as _whole, every object returned before an error)."""
    got: list[Any] = []
    try:
        source = SegmentedInput(data, "in", size)
        for piece in source:
            if source.bounds is not None:  # a piece that was cut out decodes again alone
                assert decode_piece(data, *source.bounds) == piece
            got.extend(piece)
    except ParseError as exc:
        return ("error", type(exc).__name__, exc.message, exc.line, exc.column), got
    except ValidationError as exc:
        return ("error", type(exc).__name__, exc.message, None, None), got
    return ("ok", got, source.bundle_spec), got


def _indicator(text: str = "x", first_key: str = "type") -> dict[str, Any]:
    """An indicator whose description is ``text`` and whose nested objects look like the
    boundaries the cutter looks for; ``first_key`` is serialised first."""
    obj = indicator(
        description=text,
        external_references=[
            {"type": "nested, first key type", "source_name": "a"},
            {"source_name": "b", "url": "https://example.org/?a=[1]"},
        ],
    )
    return {first_key: obj.pop(first_key), **obj}


_SERIALISERS = {
    "orjson": lambda doc: orjson.dumps(doc),
    "indent": lambda doc: json.dumps(doc, indent=2).encode(),
    "ascii-sorted": lambda doc: json.dumps(doc, sort_keys=True, ensure_ascii=True).encode(),
    "spaced": lambda doc: json.dumps(doc, separators=(" , ", " : ")).encode(),
}


def _wrap(objects: list[Any], shape: str) -> Any:
    if shape == "bundle":
        return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    if shape == "bundle-2.0-objects-first":
        return {"objects": objects, "type": "bundle", "spec_version": "2.0", "id": "bundle--1"}
    if shape == "envelope":
        return {"more": False, "objects": objects}
    if shape == "nested-before":
        return {
            "x_meta": {"objects": [1, 2], "list": [{"a": "]"}]},
            "type": "bundle",
            "objects": objects,
        }
    return objects


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.sampled_from(TRICKY) | st.text(max_size=40), min_size=0, max_size=30),
    first_key=st.sampled_from(["type", "id", "created"]),
    shape=st.sampled_from(
        ["bundle", "bundle-2.0-objects-first", "envelope", "nested-before", "list"]
    ),
    serialiser=st.sampled_from(sorted(_SERIALISERS)),
    size=st.sampled_from([1, 50, 300, 5000]),
    bom=st.booleans(),
)
def test_pieces_are_the_whole_decode(
    texts: list[str], first_key: str, shape: str, serialiser: str, size: int, bom: bool
) -> None:
    objects = [_indicator(text, first_key) for text in texts]
    data = _SERIALISERS[serialiser](_wrap(objects, shape))
    if bom:
        data = b"\xef\xbb\xbf" + data
    expected = _whole(data)
    assert expected[0] == "ok"
    assert _pieces(data, size)[0] == expected


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=1, max_value=25),
    where=st.floats(min_value=0.0, max_value=1.0),
    damage=st.sampled_from(["truncate", "byte", "delete"]),
    size=st.sampled_from([1, 200, 2000]),
)
def test_malformed_input_gives_a_prefix_then_the_same_error(
    count: int, where: float, damage: str, size: int
) -> None:
    objects = [_indicator(TRICKY[i % len(TRICKY)]) for i in range(count)]
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objects})
    at = min(len(data) - 1, int(len(data) * where))
    if damage == "truncate":
        data = data[:at]
    elif damage == "byte":
        data = data[:at] + b"\x07" + data[at + 1 :]
    else:
        data = data[:at] + data[at + 1 :]
    expected = _whole(data)
    outcome, before = _pieces(data, size)
    assert outcome == expected
    if expected[0] == "error":
        assert before == objects[: len(before)]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"null",
        b'{"type": "bundle", "objects": null}',
        b'{"type": "bundle", "objects": "no"}',
        b'{"type": "bundle", "objects": []}',
        b'{"type": "bundle", "objects": [ ]}',
        b"[]",
        b'{"type": "bundle", "objects": [{"type": "x"},, {"type": "y"}]}',
        b'{"type": "bundle", "objects": [{"type": "x"}, {"type": "y"},]}',
        b'{"type": "bundle", "objects": [{"type": "x"}], "objects": [{"type": "y"}]}',
        b'{"type": "bundle", "objects": [{"type": "x"}], "objects": []}',
        b'{"type": "bundle", "objects": [{"type": "x"}], "tail": [1]}',
        b'{"type": "bundle", "obj\\u0065cts": [{"type": "x"}, {"type": "y"}]}',
        b'{"type": "indicator", "objects": [{"type": "x"}]}',
        b'{"type": "bundle", "objects": [{"type": "x"}, {"type": "y"}]} trailing',
        b'[{"type": "x"}, {"type": "y"}] ]',
        b'{"type": "bundle", "objects": [{"type": "x", "d": "\xff"}, {"type": "y"}]}',
        b'{"type": "bundle", "objects": [{"type": "x", "d": "\\ud800"}, {"type": "y"}]}',
        b'{"type": "bundle", "objects": [{"type": "x", "n": NaN}, {"type": "y"}]}',
    ],
)
def test_edge_cases_agree_with_the_whole_decode(data: bytes) -> None:
    expected = _whole(data)
    for size in (1, 10, 1000):
        assert _pieces(data, size)[0] == expected


def test_a_spec_version_hidden_after_the_objects_is_not_misread() -> None:
    """The array seemed to end at the last "]" (the placeholder proof passed without the
    spec_version that follows the real end): the earlier pieces were read as a bundle
    without spec_version, so the mismatch is an error, never a silent misreading."""
    objects = [_indicator() for _ in range(20)]
    data = orjson.dumps(
        {"type": "bundle", "objects": objects, "spec_version": "2.0", "x_list": [{"a": 1}]}
    )
    source = SegmentedInput(data, "in", 200)
    assert source.bundle_spec is None
    with pytest.raises(ValidationError, match="spec_version follows its objects"):
        for _piece in source:
            pass
    # read whole or in one piece, it is an ordinary 2.0 bundle
    assert _pieces(data, 1 << 20)[0] == _whole(data)


def _shared_files() -> list[Path]:
    return sorted(SHARED_DATA.rglob("*.json")) if SHARED_DATA.is_dir() else []


@pytest.mark.skipif(not _shared_files(), reason="../shared/data is not present")
def test_every_shared_data_file_reads_the_same_in_pieces() -> None:
    for path in _shared_files():
        data = path.read_bytes()
        expected = _whole(data)
        for size in (64, 4096, 1 << 20):
            assert _pieces(data, size)[0] == expected, (path, size)


def test_the_marking_horizon_covers_every_marking_definition() -> None:
    marking = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "definition_type": "tlp",
        "definition": {"tlp": "red"},
    }
    objects = [_indicator() for _ in range(50)]
    plain = orjson.dumps({"type": "bundle", "objects": [*objects, marking]})
    source = SegmentedInput(plain, "in", 100)
    assert source.marking_horizon > plain.rindex(b'"marking-definition"')
    read_before = 0
    for piece in source:
        if any(obj.get("type") == "marking-definition" for obj in piece):
            assert read_before < source.marking_horizon <= source.position
        read_before = source.position

    none = orjson.dumps({"type": "bundle", "objects": objects})
    assert SegmentedInput(none, "in", 100).marking_horizon == 0

    # an escaped letter could spell the type: then everything is read first
    escaped = plain.replace(b'"marking-definition"', b'"\\u006darking-definition"')
    assert b'"marking-definition"' not in escaped
    source = SegmentedInput(escaped, "in", 100)
    assert source.marking_horizon >= len(escaped) - 2
