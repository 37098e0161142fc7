"""IngestService: version semantics, TLP defaults, quarantine, malformed input, --strict."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from nca_share.clock import FrozenClock
from nca_share.db import Database
from nca_share.errors import ParseError, ValidationError
from nca_share.stix.ingest import IngestService
from nca_share.stix.models import (
    StixEdge,
    StixIngestRun,
    StixObject,
    StixObservable,
    StixQuarantine,
)
from nca_share.stix.store import StixStore
from nca_share.stix.tlp import TLP, TLP1_GREEN_ID, TLP2_AMBER_STRICT_ID, TLP2_RED_ID

T0 = "2024-03-01T10:00:00.000Z"
T1 = "2024-03-02T10:00:00.000Z"
T2 = "2024-03-03T10:00:00.000Z"


def _id(otype: str) -> str:
    return f"{otype}--{uuid.uuid4()}"


def indicator(stix_id: str | None = None, modified: str = T0, **extra: Any) -> dict[str, Any]:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id or _id("indicator"),
        "created": T0,
        "modified": modified,
        "name": "Bad IP",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": T0,
    }
    obj.update(extra)
    return obj


def _rows(database: Database, stix_id: str) -> list[StixObject]:
    with database.session() as session:
        return StixStore(session).versions(stix_id)


def test_newer_version_becomes_current_older_and_identical_change_nothing(
    database: Database,
) -> None:
    """(id, modified) keys versions: newer is current, a late older one is kept but not current,
    an identical re-delivery is unchanged."""
    service = IngestService(database)
    sid = _id("indicator")
    first = service.ingest_objects([indicator(sid, T1)], source="t")
    assert (first.new_versions, first.changed_ids) == (1, [sid])
    newer = service.ingest_objects([indicator(sid, T2, name="v2")], source="t")
    assert (newer.new_versions, newer.changed_ids) == (1, [sid])
    older = service.ingest_objects([indicator(sid, T0, name="v0")], source="t")
    assert (older.new_versions, older.changed_ids) == (1, [])
    same = service.ingest_objects([indicator(sid, T2, name="v2")], source="t")
    assert (same.new_versions, same.unchanged, same.changed_ids) == (0, 1, [])
    rows = _rows(database, sid)
    assert [r.version_key for r in rows] == [
        "2024-03-01T10:00:00.000000Z",
        "2024-03-02T10:00:00.000000Z",
        "2024-03-03T10:00:00.000000Z",
    ]
    assert [r.is_current for r in rows] == [False, False, True]
    assert rows[-1].raw["name"] == "v2"


def test_revoked_version_is_current_and_flagged(database: Database) -> None:
    """A newer revoked version becomes current with revoked set; its observables are dropped."""
    service = IngestService(database)
    sid = _id("indicator")
    service.ingest_objects([indicator(sid, T0)], source="t")
    with database.session() as session:
        assert StixStore(session).observables("198.51.100.7", "ipv4")
    report = service.ingest_objects([indicator(sid, T1, revoked=True)], source="t")
    assert report.changed_ids == [sid]
    with database.session() as session:
        current = StixStore(session).get(sid)
        assert current.revoked is True
        assert StixStore(session).observables("198.51.100.7", "ipv4") == []


def test_scos_are_deduplicated_by_id_and_markings_version_by_created(database: Database) -> None:
    """SCOs (no modified) are stored once per id; marking definitions use created."""
    service = IngestService(database)
    sco = {"type": "ipv4-addr", "id": _id("ipv4-addr"), "value": "203.0.113.9"}
    marking = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _id("marking-definition"),
        "created": T0,
        "definition_type": "statement",
        "definition": {"statement": "Copyright Example"},
    }
    first = service.ingest_objects([sco, marking], source="t")
    again = service.ingest_objects([dict(sco), dict(marking)], source="t")
    assert first.new_versions == 2
    assert (again.new_versions, again.unchanged) == (0, 2)
    assert _rows(database, sco["id"])[0].version_key == ""
    assert _rows(database, marking["id"])[0].version_key == "2024-03-01T10:00:00.000000Z"


def test_duplicates_within_one_input_first_wins(database: Database) -> None:
    """The same (id, modified) twice in one input: the first is stored, the second unchanged."""
    sid = _id("indicator")
    report = IngestService(database).ingest_objects(
        [indicator(sid, name="first"), indicator(sid, name="second")], source="t"
    )
    assert (report.read, report.new_versions, report.unchanged) == (2, 1, 1)
    assert _rows(database, sid)[0].raw["name"] == "first"


def test_default_tlp_applies_only_to_unmarked_objects(database: Database) -> None:
    """Marked objects keep their (strictest) TLP; unmarked ones get the ingest default."""
    custom = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _id("marking-definition"),
        "created": T0,
        "definition_type": "tlp",
        "definition": {"tlp": "red"},
    }
    unmarked = indicator()
    green = indicator(object_marking_refs=[TLP1_GREEN_ID])
    strictest = indicator(
        object_marking_refs=[TLP1_GREEN_ID],
        granular_markings=[{"marking_ref": TLP2_AMBER_STRICT_ID, "selectors": ["name"]}],
    )
    by_custom = indicator(object_marking_refs=[custom["id"]])
    statement_only = indicator(object_marking_refs=[_id("marking-definition")])
    IngestService(database).ingest_objects(
        [by_custom, custom, unmarked, green, strictest, statement_only],
        source="t",
        default_tlp=TLP.RED,
    )
    with database.session() as session:
        store = StixStore(session)
        assert (store.get(unmarked["id"]).tlp, store.get(unmarked["id"]).tlp_defaulted) == (
            TLP.RED,
            True,
        )
        assert (store.get(green["id"]).tlp, store.get(green["id"]).tlp_defaulted) == (
            TLP.GREEN,
            False,
        )
        assert store.get(strictest["id"]).tlp == TLP.AMBER_STRICT
        assert store.get(strictest["id"]).marking_refs == [TLP1_GREEN_ID, TLP2_AMBER_STRICT_ID]
        assert (store.get(by_custom["id"]).tlp, store.get(by_custom["id"]).tlp_defaulted) == (
            TLP.RED,
            False,
        )
        assert store.get(statement_only["id"]).tlp_defaulted is True
    # a later ingest still knows the stored custom marking
    later = indicator(object_marking_refs=[custom["id"]])
    IngestService(database).ingest_objects([later], source="t", default_tlp=TLP.CLEAR)
    with database.session() as session:
        assert StixStore(session).get(later["id"]).tlp == TLP.RED


def test_bad_objects_are_quarantined_and_good_ones_kept(database: Database) -> None:
    """Each bad object is quarantined with index, id, field and problem; the rest is stored."""
    good = indicator()
    bad_time = indicator(modified="yesterday")
    bad_ref = indicator(created_by_ref="not-an-id")
    objects = [good, bad_time, 42, bad_ref, {"id": "x"}]
    report = IngestService(database).ingest_objects(objects, source="feed-x", feed_id=7)
    assert (report.read, report.stored, report.quarantined) == (5, 1, 4)
    where = {(p.index, p.field) for p in report.problems}
    assert where == {(1, "modified"), (2, None), (3, "created_by_ref"), (4, "type")}
    with database.session() as session:
        rows = session.scalars(select(StixQuarantine).order_by(StixQuarantine.input_index)).all()
        assert [r.input_index for r in rows] == [1, 2, 3, 4]
        assert rows[0].stix_id == bad_time["id"]
        assert rows[0].feed_id == 7
        assert rows[0].run_id == report.run_id
        assert "yesterday" in (rows[0].excerpt or "")
        run = session.get(StixIngestRun, report.run_id)
        assert run is not None
        assert (run.read, run.stored, run.quarantined, run.feed_id) == (5, 1, 4, 7)
        assert run.finished_at is not None
    assert _rows(database, good["id"])


def test_malformed_json_is_a_parse_error_with_line_and_column(database: Database) -> None:
    """Broken JSON raises ParseError with line and column and is recorded as a failed run."""
    data = b'{"type": "bundle",\n  "objects": [\n    {"type": "indicator",, }]}'
    with pytest.raises(ParseError) as info:
        IngestService(database).ingest_bytes(data, origin="broken.json", source="t")
    assert info.value.line == 3
    assert info.value.column is not None
    with database.session() as session:
        run = session.scalars(select(StixIngestRun)).one()
        assert run.error is not None
        assert "line 3" in run.error
        assert session.scalar(select(func.count()).select_from(StixQuarantine)) == 1


def test_top_level_shapes(database: Database) -> None:
    """A bundle, a single object, a JSON list and an envelope without type are accepted;
    other JSON is refused as not STIX."""
    service = IngestService(database)
    one, two, three = indicator(), indicator(), indicator()
    assert service.ingest_bytes(orjson.dumps(one), origin="o", source="t").new_versions == 1
    assert service.ingest_bytes(orjson.dumps([two]), origin="o", source="t").new_versions == 1
    envelope = orjson.dumps({"id": "bundle--x", "objects": [three]})
    assert service.ingest_bytes(envelope, origin="o", source="t").new_versions == 1
    with pytest.raises(ValidationError):
        service.ingest_bytes(b"[1, 2", origin="o", source="t")
    with pytest.raises(ValidationError):
        service.ingest_bytes(b'"just a string"', origin="o", source="t")


def test_invalid_utf8_only_loses_the_damaged_object(database: Database) -> None:
    """Undecodable bytes inside one object's string quarantine that object only."""
    good, damaged = indicator(), indicator(name="MARKER")
    data = orjson.dumps({"type": "bundle", "objects": [good, damaged]})
    data = data.replace(b"MARKER", b"bad \xff\xfe bytes")
    report = IngestService(database).ingest_bytes(data, origin="o", source="t")
    assert (report.new_versions, report.quarantined) == (1, 1)
    assert report.problems[0].stix_id == damaged["id"]
    assert "UTF-8" in report.problems[0].problem


def test_edges_and_observables_follow_the_current_version(database: Database) -> None:
    """Edges and observables are replaced when a newer version becomes current."""
    service = IngestService(database)
    rel_id = _id("relationship")
    ind = indicator(created_by_ref="identity--11111111-1111-4111-8111-111111111111")
    a, b, c = _id("malware"), _id("malware"), _id("malware")
    rel = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": rel_id,
        "created": T0,
        "modified": T0,
        "relationship_type": "indicates",
        "source_ref": ind["id"],
        "target_ref": a,
    }
    service.ingest_objects([ind, rel], source="t")
    newer_rel = dict(rel, modified=T1, source_ref=b, target_ref=c)
    newer_ind = dict(ind, modified=T1, pattern="[domain-name:value = 'evil.example']")
    service.ingest_objects([newer_rel, newer_ind], source="t")
    with database.session() as session:
        edges = session.scalars(select(StixEdge).order_by(StixEdge.id)).all()
        assert {(e.source_id, e.target_id, e.kind) for e in edges} == {
            (b, c, "relationship"),
            (ind["id"], "identity--11111111-1111-4111-8111-111111111111", "created_by_ref"),
        }
        values = session.scalars(select(StixObservable.value)).all()
        assert values == ["evil.example"]


def test_date_added_strictly_increases_even_with_a_frozen_clock(database: Database) -> None:
    """date_added is unique and increasing per inserted row, across runs, with a frozen clock."""
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    service = IngestService(database, clock=clock, batch_size=3)
    service.ingest_objects([indicator() for _ in range(7)], source="t")
    IngestService(database, clock=clock).ingest_objects([indicator() for _ in range(2)], source="t")
    with database.session() as session:
        added = session.scalars(select(StixObject.date_added).order_by(StixObject.pk)).all()
    assert len(added) == 9
    assert all(later > earlier for earlier, later in zip(added, added[1:], strict=False))
    assert added[0] == clock.now()
    assert added[-1] - added[0] < timedelta(seconds=1)


def test_date_added_across_a_second_boundary(database: Database) -> None:
    """The writer formats date_added once per second: rows that cross into the next second
    (and the next day) still get each microsecond exactly once, in order."""
    clock = FrozenClock(datetime(2026, 12, 31, 23, 59, 59, 999_997, tzinfo=UTC))
    IngestService(database, clock=clock).ingest_objects([indicator() for _ in range(6)], source="t")
    with database.session() as session:
        added = session.scalars(select(StixObject.date_added).order_by(StixObject.pk)).all()
    start = clock.now()
    assert added == [start + timedelta(microseconds=n) for n in range(6)]
    assert added[-1].year == 2027


def test_database_refusal_of_one_object_keeps_the_others(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the database refuses a batch, its objects are stored one per transaction and only
    the refused one is quarantined with the database's reason."""
    service = IngestService(database, batch_size=10)
    objects = [indicator() for _ in range(5)]
    poisoned = objects[2]["id"]
    original = service._write

    def write(conn: Any, prepared: Any, problems: Any, run: Any, delta: Any) -> None:
        if any(p.stix_id == poisoned for p in prepared):
            raise IntegrityError("INSERT INTO stix_objects", {}, Exception("refused by test"))
        original(conn, prepared, problems, run, delta)

    monkeypatch.setattr(service, "_write", write)
    report = service.ingest_objects(objects, source="t")
    assert (report.new_versions, report.quarantined) == (4, 1)
    assert report.problems[0].stix_id == poisoned
    assert "refused by test" in report.problems[0].problem
    assert _rows(database, poisoned) == []
    assert all(_rows(database, o["id"]) for o in objects if o["id"] != poisoned)


def test_strict_mode_runs_the_validator(database: Database) -> None:
    """--strict quarantines what stix2-validator rejects and reports its warnings."""
    broken_pattern = indicator(pattern="[ipv4-addr:value = '1.2.3.4'")
    fine = indicator(description="An indicator with a description")
    report = IngestService(database).ingest_objects([broken_pattern, fine], source="t", strict=True)
    assert report.quarantined == 1
    errors = [p for p in report.problems if p.severity == "error"]
    assert errors[0].stix_id == broken_pattern["id"]
    assert "stix2-validator" in errors[0].problem
    assert report.new_versions == 1
    lax = IngestService(database).ingest_objects([indicator(pattern="[x")], source="t")
    assert lax.quarantined == 0  # without --strict the pattern grammar is not checked


def test_report_counts_are_json_serialisable() -> None:
    """counts() is exactly the five documented keys."""
    from nca_share.stix.ingest import IngestReport

    assert list(json.loads(json.dumps(IngestReport().counts()))) == [
        "read",
        "stored",
        "new_versions",
        "unchanged",
        "quarantined",
    ]


def test_red_marking_id_resolves(database: Database) -> None:
    """A TLP 2.0 RED marking gives rank 4."""
    obj = indicator(object_marking_refs=[TLP2_RED_ID])
    IngestService(database).ingest_objects([obj], source="t")
    with database.session() as session:
        assert StixStore(session).get(obj["id"]).tlp == 4


def test_progress_is_told_the_total_and_every_batch(database: Database) -> None:
    """An IngestProgress gets start(total) once, then batch sizes adding up to the total."""
    from nca_share.stix.ingest import IngestProgress

    class Recorder(IngestProgress):
        def __init__(self) -> None:
            self.total = -1
            self.steps: list[int] = []

        def start(self, total: int) -> None:
            self.total = total

        def __call__(self, n: int) -> None:
            self.steps.append(n)

    recorder = Recorder()
    objects = [indicator() for _ in range(23)]
    IngestService(database, batch_size=10).ingest_objects(objects, source="t", progress=recorder)
    assert recorder.total == 23
    # the pipeline's first batch is an eighth of the batch size (the writer starts early)
    assert recorder.steps == [1, 10, 10, 2]


def test_concurrent_ingests_both_succeed_and_keep_one_current(database: Database) -> None:
    """Two writers at once (threads, own connections): no lock errors, every version stored
    once, exactly one current row per id, date_added unique."""
    import threading

    shared = [indicator(modified=T1) for _ in range(40)]
    newer = [dict(o, modified=T2) for o in shared]
    mine = [[indicator() for _ in range(150)] for _ in range(2)]
    inputs = [mine[0] + shared, mine[1] + newer]
    errors: list[BaseException] = []

    def work(objects: list[dict[str, Any]]) -> None:
        try:
            IngestService(database, batch_size=20).ingest_objects(objects, source="t")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(objs,)) for objs in inputs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(StixObject))
        assert total == 300 + 40 + 40
        current = session.scalars(
            select(StixObject.version_key).where(
                StixObject.is_current.is_(True), StixObject.stix_id.in_([o["id"] for o in shared])
            )
        ).all()
        assert sorted(current) == ["2024-03-03T10:00:00.000000Z"] * 40
        added = session.scalars(select(StixObject.date_added)).all()
        assert len(set(added)) == len(added)


def test_later_batches_see_versions_stored_by_earlier_batches_of_the_same_run(
    database: Database,
) -> None:
    """Into an empty store the writer skips reading back what it has not stored yet; a new
    version, a repeat and a new object in later batches must still be decided right."""
    first = indicator()
    objects = [first, *(indicator() for _ in range(9))]
    objects += [indicator(first["id"], modified=T1), dict(objects[3]), indicator()]
    report = IngestService(database, batch_size=4).ingest_objects(objects, source="t")
    assert (report.new_versions, report.unchanged, report.quarantined) == (12, 1, 0)
    rows = _rows(database, first["id"])
    assert [(r.version_key[:10], r.is_current) for r in rows] == [
        ("2024-03-01", False),
        ("2024-03-02", True),
    ]


def test_another_writer_between_batches_is_noticed(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """If another ingest commits between two batches of a run into an empty store, the run
    must read versions back again: the object the other writer stored is unchanged here."""
    shared = indicator()
    ours = [indicator() for _ in range(4)] + [dict(shared), indicator()]
    other = IngestService(database)
    calls: list[int] = []

    def between_batches(count: int) -> None:
        if not calls:
            other.ingest_objects([shared], source="other")
        calls.append(count)

    with caplog.at_level(logging.WARNING, logger="nca_share.stix.ingest"):
        report = IngestService(database, batch_size=4).ingest_objects(
            ours, source="t", progress=between_batches
        )
    assert len(calls) >= 2
    assert (report.new_versions, report.unchanged, report.quarantined) == (5, 1, 0)
    assert len(_rows(database, shared["id"])) == 1
    # decided before writing, not rescued by retrying a batch the database refused
    assert "refused" not in caplog.text


def test_connections_go_back_with_automatic_checkpoints_even_after_a_refused_batch(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multi-batch SQLite run switches automatic WAL checkpoints off on its writing
    connection; every connection must return to the pool with them on again, also when the
    database refused a batch (else the WAL of whoever gets that connection grows unbounded)."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("WAL checkpoints are SQLite's")
    service = IngestService(database, batch_size=2)
    objects = [indicator() for _ in range(6)]
    poisoned = objects[3]["id"]
    original = service._write

    def write(conn: Any, prepared: Any, problems: Any, run: Any, delta: Any) -> None:
        original(conn, prepared, problems, run, delta)
        if any(p.stix_id == poisoned for p in prepared):
            raise IntegrityError("INSERT INTO stix_objects", {}, Exception("refused by test"))

    returned: list[int] = []

    def on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            pages = dbapi_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            returned.append(pages)

    monkeypatch.setattr(service, "_write", write)
    event.listen(database.engine.pool, "checkin", on_checkin)
    try:
        report = service.ingest_objects(objects, source="t")
    finally:
        event.remove(database.engine.pool, "checkin", on_checkin)
    assert report.quarantined == 1
    assert returned
    assert 0 not in returned
