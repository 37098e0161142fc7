"""Property test: real bundles mutated in hostile ways never crash the ingest; every bad object
is quarantined with a reason and every good object is stored."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from nca_share.db import Database
from nca_share.stix.checks import MAX_OBJECT_BYTES
from nca_share.stix.ingest import IngestService
from nca_share.stix.models import StixEdge, StixObject
from tests.conftest import SHARED_DATA

BASES = (
    "oasis-cti-documentation/apt1.json",  # STIX 2.1 report, indicators, relationships
    "unit42-playbooks-stix20/hellokitty-ransomware.json",  # STIX 2.0 vendor bundle
    "misp-stix-tests/test_events_collection_stix21.json",  # 2.1 with SCOs
)
BAD = (
    "wrong_type",
    "missing_id",
    "bad_timestamp",
    "huge_string",
    "deep_nesting",
    "invalid_utf8",
    "wrong_spec_version",
    "id_type_mismatch",
)
GOOD = ("duplicate", "dangling_ref")
WRONG_TYPES: tuple[tuple[str, Any], ...] = (
    ("name", 123),
    ("created", 5),
    ("object_marking_refs", "marking-definition--x"),
    ("revoked", "yes"),
    ("confidence", "high"),
    ("type", 7),
    ("id", 17),
    ("labels", "malicious"),
    ("external_references", {"source_name": "x"}),
    ("created_by_ref", ["identity--0c7b5b88-8ff7-4a4d-aa9c-feb398cd0061"]),
)
BAD_TIMESTAMPS = (
    "yesterday",
    "2020-13-01T00:00:00Z",
    "2020-01-01 00:00:00",
    "2021-02-30T00:00:00Z",
)
BAD_SPECS: tuple[Any, ...] = ("2.2", "3.0", "", 21, ["2.1"])


_TICKS = itertools.count()


@cache
def _base(name: str) -> tuple[list[dict[str, Any]], str | None]:
    doc = json.loads((SHARED_DATA / name).read_text(encoding="utf-8"))
    return doc["objects"], doc.get("spec_version")


def _version(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj.get("created") or "")


def _nested(depth: int) -> Any:
    node: Any = "bottom"
    for _ in range(depth):
        node = [node]
    return node


_PARAMS: dict[str, st.SearchStrategy[Any]] = {
    "wrong_type": st.sampled_from(range(len(WRONG_TYPES))),
    "bad_timestamp": st.sampled_from(BAD_TIMESTAMPS),
    "huge_string": st.integers(1, 1000),
    "deep_nesting": st.integers(260, 500),
    "invalid_utf8": st.sampled_from(["ff fe", "61 c3", "ed a0 80"]),
    "wrong_spec_version": st.sampled_from(range(len(BAD_SPECS))),
}


@st.composite
def mutation_plans(draw: st.DrawFn) -> tuple[str, list[tuple[int, str, Any]]]:
    """A base bundle and up to eight (object index, mutation, parameter) picks."""
    name = draw(st.sampled_from(BASES))
    size = len(_base(name)[0])
    picks = draw(
        st.lists(
            st.tuples(st.integers(0, size - 1), st.sampled_from(BAD + GOOD)),
            min_size=1,
            max_size=8,
            unique_by=lambda pick: pick[0],
        )
    )
    plan = []
    for index, mutation in picks:
        strategy = _PARAMS.get(mutation)
        plan.append((index, mutation, draw(strategy) if strategy is not None else None))
    return name, plan


def build(
    name: str, plan: list[tuple[int, str, Any]]
) -> tuple[bytes, set[int], list[dict[str, Any]], list[str]]:
    """(bundle bytes, indexes of bad objects, the good objects, dangling refs added)."""
    base, spec = _base(name)
    objects = copy.deepcopy(base)
    bad: set[int] = set()
    dangling: list[str] = []
    appended: list[dict[str, Any]] = []
    markers: dict[bytes, bytes] = {}
    for index, mutation, param in plan:
        obj = objects[index]
        if mutation in BAD:
            bad.add(index)
        if mutation == "wrong_type":
            key, value = WRONG_TYPES[param]
            obj[key] = value
        elif mutation == "missing_id":
            del obj["id"]
        elif mutation == "bad_timestamp":
            obj["modified"] = param
        elif mutation == "huge_string":
            obj["description"] = "x" * (MAX_OBJECT_BYTES + param)
        elif mutation == "deep_nesting":
            obj["x_deep"] = _nested(param)
        elif mutation == "invalid_utf8":
            marker = f"UTF8MARKER{index:05d}"
            obj["name"] = marker
            markers[marker.encode()] = bytes.fromhex(param)
        elif mutation == "wrong_spec_version":
            obj["spec_version"] = BAD_SPECS[param]
        elif mutation == "id_type_mismatch":
            other = "malware" if obj.get("type") != "malware" else "tool"
            obj["id"] = f"{other}--{uuid.uuid4()}"
        elif mutation == "duplicate":
            appended.append(copy.deepcopy(obj))
        elif mutation == "dangling_ref":
            ref = f"identity--{uuid.uuid4()}"
            obj["created_by_ref"] = ref
            # a changed object needs a new version (unique across examples) to be stored
            tick = next(_TICKS)
            obj["modified"] = (
                f"2099-01-01T{tick // 3600 % 24:02d}:{tick // 60 % 60:02d}:{tick % 60:02d}.000Z"
            )
            dangling.append(ref)
    objects.extend(appended)
    bundle: dict[str, Any] = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    if spec:
        bundle["spec_version"] = spec
    data = json.dumps(bundle).encode()  # the stdlib writes nesting orjson would refuse
    for marker, replacement in markers.items():
        data = data.replace(marker, replacement)
    good = [o for i, o in enumerate(objects) if i not in bad]
    return data, bad, good, dangling


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=mutation_plans())
def test_mutated_real_bundles(
    database: Database, plan: tuple[str, list[tuple[int, str, Any]]]
) -> None:
    """No crash; exactly the bad objects are quarantined, each with a reason; every good
    object (including duplicates and objects with dangling refs) is in the store."""
    data, bad, good, dangling = build(*plan)
    report = IngestService(database, batch_size=25).ingest_bytes(
        data, origin="mutated", source="property"
    )
    errors = [p for p in report.problems if p.severity == "error"]
    assert {p.index for p in errors} == bad
    assert all(p.problem for p in errors)
    assert report.quarantined == len(bad)
    assert report.stored == report.read - len(bad) == len(good)
    with database.session() as session:
        stored = {
            (sid, _version(raw))
            for sid, raw in session.execute(select(StixObject.stix_id, StixObject.raw))
        }
        for obj in good:
            assert (obj["id"], _version(obj)) in stored
        for ref in dangling:
            edge = session.scalars(select(StixEdge).where(StixEdge.target_id == ref)).first()
            assert edge is not None
            assert edge.kind == "created_by_ref"
