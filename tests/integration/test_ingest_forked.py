"""Large inputs through ``nca-share ingest`` in a real process: the forked preparation
(``IngestService._ingest_forked``) must store exactly what the in-process path stores, with
both processes preparing chunks, and a preparation process that dies must end the run with
a clear error instead of a hang or a traceback.

The CLI runs as a subprocess because the fork path is only taken by a single-threaded
process (pytest may run helper threads). A small wrapper around the real CLI counts which
process prepared each chunk and can make the child die; everything else is the product's
code against the real database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from benchmarks.common import synthetic_objects
from nca_share.config import load_settings
from nca_share.db import Database
from nca_share.errors import ParseError
from nca_share.stix.decode import parse_stix_bytes
from nca_share.stix.ingest import _FORK_MIN_BYTES, IngestService
from nca_share.stix.models import (
    StixEdge,
    StixIngestRun,
    StixObject,
    StixObservable,
    StixQuarantine,
)
from nca_share.stix.tlp import TLP

_WRAPPER = """
import atexit, os, sys
import nca_share.stix.ingest as ingest
parent = os.getpid()
counts = {"parent": 0, "child": 0}
ingest._SEGMENT_BYTES = 64 * 1024  # many pieces in a few MB
real = ingest._prepare_chunk
def counted(prepare, chunk, start, run):
    if os.getpid() != parent:
        if os.environ.get("KILL_CHILD") and start > 0:
            os._exit(9)
        return real(prepare, chunk, start, run)
    counts["parent"] += 1
    return real(prepare, chunk, start, run)
ingest._prepare_chunk = counted
if os.environ.get("NO_HELP"):
    ingest._Pieces.claim_published = lambda self: None
real_take = ingest._ChildBatches._take
def take(self, tag, body, ready):
    if tag == ingest._MSG_BATCH:
        counts["child"] += 1
    return real_take(self, tag, body, ready)
ingest._ChildBatches._take = take
atexit.register(lambda: print("chunks", counts["parent"], counts["child"], file=sys.stderr))
from nca_share.cli import main
sys.argv = ["nca-share", *sys.argv[1:]]
main()
"""


def _objects() -> list[Any]:
    """A >4 MiB bundle of real-shaped content with hostile objects, a duplicate (first
    wins) and a newer version of an earlier object spread through it."""
    objects: list[Any] = synthetic_objects(10_500, seed=11)
    first = dict(objects[20])
    newer = dict(first, modified="2030-01-01T00:00:00.000Z", name="newer version")
    duplicate = dict(objects[30], name="same version again: ignored")
    objects[2_000:2_000] = [{"type": "indicator", "id": "not-an-id"}, "not an object"]
    objects[6_000:6_000] = [newer, duplicate, {"type": "malware", "id": f"malware--{uuid.uuid4()}"}]
    objects.append({**first, "created": "yesterday"})
    return objects


def _snapshot(database: Database) -> dict[str, Any]:
    with database.engine.connect() as conn:
        objects = sorted(
            (r.stix_id, r.version_key, r.is_current, r.revoked, r.tlp, r.tlp_defaulted, r.name)
            for r in conn.execute(select(StixObject))
        )
        raws = {(r.stix_id, r.version_key): r.raw for r in conn.execute(select(StixObject))}
        edges = Counter(
            (r.source_id, r.target_id, r.kind, r.relationship_type, r.via_id)
            for r in conn.execute(select(StixEdge))
        )
        observables = Counter(
            (r.stix_id, r.kind, r.value, r.ip_start, r.ip_end)
            for r in conn.execute(select(StixObservable))
        )
        quarantine = sorted(
            (r.input_index, r.stix_id, r.field, r.problem)
            for r in conn.execute(select(StixQuarantine))
            if r.input_index is not None  # whole-input problems are checked by the tests
        )
    return {
        "objects": objects,
        "raws": raws,
        "edges": edges,
        "observables": observables,
        "quarantine": quarantine,
    }


def _chunks(result: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """(chunks prepared by the writer, chunks sent by the preparation process)."""
    parent, child = result.stderr.split("chunks")[1].split()[:2]
    return int(parent), int(child)


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", _WRAPPER, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    data = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": _objects()})
    assert len(data) > _FORK_MIN_BYTES
    path = tmp_path / "large.json"
    path.write_bytes(data)
    return path


def _env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCA_SHARE_")}
    env.update(
        NCA_SHARE_DATABASE_URL=database_url,
        NCA_SHARE_DATA_DIR=str(tmp_path / "var"),
        NCA_SHARE_INGEST_BATCH_SIZE="800",  # 100-object chunks: many of them, both sides
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        **extra,
    )
    return env


def _reference(tmp_path: Path) -> Database:
    """A fresh SQLite store that ingests in-process, for comparison."""
    reference = Database(
        load_settings(
            database_url=f"sqlite:///{tmp_path / 'reference.db'}",
            data_dir=tmp_path,
            ingest_batch_size=800,
            ingest_processes=False,
        )
    )
    reference.upgrade()
    return reference


@pytest.mark.parametrize("writer_helps", [True, False], ids=["both-prepare", "child-prepares"])
def test_forked_ingest_stores_what_the_in_process_path_stores(
    database: Database, database_url: str, bundle: Path, tmp_path: Path, writer_helps: bool
) -> None:
    env = _env(database_url, tmp_path, **({} if writer_helps else {"NO_HELP": "1"}))
    result = _cli(["ingest", str(bundle), "--json"], env, tmp_path)
    assert result.returncode == 1, result.stderr  # 1: something was quarantined
    counts = json.loads(result.stdout.splitlines()[0])
    parent_chunks, child_chunks = _chunks(result)
    assert child_chunks > 0, "the preparation process prepared nothing: fork path not taken"
    if not writer_helps:
        assert parent_chunks == 0

    reference = _reference(tmp_path)
    try:
        expected = IngestService(reference).ingest_path(bundle, source="cli:large.json")
        assert counts == expected.counts()
        assert counts["quarantined"] == 4
        forked, in_process = _snapshot(database), _snapshot(reference)
    finally:
        reference.dispose()
    for key in ("objects", "edges", "observables", "quarantine"):
        assert forked[key] == in_process[key], key
    assert forked["raws"] == in_process["raws"]


def test_a_dying_preparation_process_ends_the_run_with_an_error(
    database: Database, database_url: str, bundle: Path, tmp_path: Path
) -> None:
    env = _env(database_url, tmp_path, KILL_CHILD="1")
    result = _cli(["ingest", str(bundle), "--json"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "preparation process ended unexpectedly (exit code 9)" in result.stderr
    with database.engine.connect() as conn:
        run = conn.execute(select(StixIngestRun)).one()
    assert run.error is not None
    assert "exit code 9" in run.error


def _ingest_damaged(data: bytes, database_url: str, tmp_path: Path) -> ParseError:
    """``nca-share ingest`` of damaged bytes (forked: they are large): it must fail (exit
    2) with the error the whole decode reports, which is returned."""
    assert len(data) > _FORK_MIN_BYTES
    path = tmp_path / "damaged.json"
    path.write_bytes(data)
    with pytest.raises(ParseError) as whole:
        parse_stix_bytes(data, str(path))
    result = _cli(["ingest", str(path), "--json"], _env(database_url, tmp_path), tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"line {whole.value.line}, column {whole.value.column}" in result.stderr
    assert whole.value.message in result.stderr
    return whole.value


def test_a_large_input_damaged_further_on_keeps_the_objects_before_the_damage(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """A truncated download: the objects in the pieces read before the damage are stored
    and counted; the error is the one the whole decode reports (line and column), on the
    run and in quarantine, and the exit code says the input failed."""
    objects = _objects()
    data = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    truncated = data[: int(len(data) * 0.9)]
    whole = _ingest_damaged(truncated, database_url, tmp_path)
    with database.engine.connect() as conn:
        run = conn.execute(select(StixIngestRun)).one()
        whole_input = conn.execute(
            select(StixQuarantine).where(StixQuarantine.input_index.is_(None))
        ).one()
    assert run.error is not None
    assert whole.message in run.error
    assert whole.message in whole_input.problem
    assert whole_input.run_id == run.id
    # a prefix of the input: everything up to the last complete piece before the damage
    assert 0 < run.read < len(objects)
    assert run.read < truncated.count(b'{"type"')

    reference = _reference(tmp_path)
    try:
        expected = IngestService(reference).ingest_objects(objects[: run.read], source="x")
        assert (run.stored, run.new_versions, run.quarantined) == (
            expected.stored,
            expected.new_versions,
            expected.quarantined,
        )
        stored, in_process = _snapshot(database), _snapshot(reference)
    finally:
        reference.dispose()
    for key in ("objects", "edges", "observables"):
        assert stored[key] == in_process[key], key
    assert stored["quarantine"] == in_process["quarantine"]


def test_a_large_input_damaged_at_the_start_stores_nothing(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": _objects()})
    whole = _ingest_damaged(data[:300] + b"\x07" + data[301:], database_url, tmp_path)
    with database.engine.connect() as conn:
        assert conn.execute(select(StixObject)).first() is None
        run = conn.execute(select(StixIngestRun)).one()
        assert conn.execute(select(StixQuarantine)).one().run_id == run.id
    assert run.read == 0
    assert run.error is not None
    assert whole.message in run.error


@pytest.mark.parametrize("spelling", ["plain", "escaped"])
def test_a_tlp_marking_defined_at_the_end_applies_to_objects_before_it(
    database: Database, database_url: str, tmp_path: Path, spelling: str
) -> None:
    """TLP is law, also when an input defines its own TLP marking after the objects that
    use it: the preparation process reads up to the last marking definition (however its
    type is spelt) before preparing anything."""
    custom = f"marking-definition--{uuid.uuid4()}"
    objects: list[Any] = synthetic_objects(10_500, seed=12)
    marked = [obj["id"] for obj in objects[100:110]]
    for obj in objects[100:110]:
        obj["object_marking_refs"] = [custom]
    objects.append(
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": custom,
            "created": "2024-01-01T00:00:00.000Z",
            "definition_type": "tlp",
            "definition": {"tlp": "red"},
        }
    )
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objects})
    if spelling == "escaped":
        data = data.replace(
            b'"marking-definition","spec_version":"2.1","id":"' + custom.encode(),
            b'"marking-d\\u0065finition","spec_version":"2.1","id":"' + custom.encode(),
        )
        assert data.count(b"\\u0065") == 1
    path = tmp_path / "late-marking.json"
    path.write_bytes(data)

    result = _cli(["ingest", str(path), "--json"], _env(database_url, tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert _chunks(result)[1] > 0, "fork path not taken"
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(StixObject.stix_id, StixObject.tlp, StixObject.tlp_defaulted).where(
                StixObject.stix_id.in_(marked)
            )
        ).all()
    assert len(rows) == len(marked)
    assert {(tlp, defaulted) for _, tlp, defaulted in rows} == {(int(TLP.RED), False)}


def test_an_input_that_cannot_be_cut_is_read_whole_by_the_preparation_process(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """The objects array starts after more than a MiB of other properties: the child decodes
    the input in one piece (the writer cannot share it) and the result is the same."""
    objects = synthetic_objects(10_500, seed=13)
    doc = {"x_padding": "p" * (1 << 21), "type": "bundle", "id": "bundle--1", "objects": objects}
    path = tmp_path / "uncut.json"
    path.write_bytes(orjson.dumps(doc))
    result = _cli(["ingest", str(path), "--json"], _env(database_url, tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    parent_chunks, child_chunks = _chunks(result)
    assert (parent_chunks, child_chunks > 0) == (0, True)
    assert json.loads(result.stdout.splitlines()[0])["new_versions"] == len(objects)
    reference = _reference(tmp_path)
    try:
        IngestService(reference).ingest_path(path, source="cli:uncut.json")
        assert _snapshot(database) == _snapshot(reference)
    finally:
        reference.dispose()
