"""``nca-share worker``, ``scheduler`` and ``jobs``: the operator's commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from nca_share.cli import context as cli_context
from nca_share.cli import main
from nca_share.db import Database
from nca_share.jobs.service import JobService


@pytest.fixture
def runner(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A CLI runner on the test database; the engines the commands open are disposed after."""
    monkeypatch.setenv("NCA_SHARE_DATABASE_URL", database.url)
    monkeypatch.setenv("NCA_SHARE_JOBS__BACKOFF_BASE_S", "3600")
    opened: list[Database] = []

    class TrackedDatabase(Database):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(cli_context, "Database", TrackedDatabase)
    yield CliRunner()
    for db in opened:
        db.dispose()


def test_enqueue_run_list_retry(runner: CliRunner, database: Database) -> None:
    """Enqueue by CLI (idempotent with a key), run in burst mode, list, retry a dead job."""
    result = runner.invoke(main, ["jobs", "enqueue", "noop", "--payload", '{"a": 1}', "-u", "k"])
    assert result.exit_code == 2  # no short option: usage error, nothing enqueued
    result = runner.invoke(
        main, ["jobs", "enqueue", "noop", "--payload", '{"a": 1}', "--unique-key", "k"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("enqueued job ")
    again = runner.invoke(main, ["jobs", "enqueue", "noop", "--unique-key", "k"])
    assert "exists already" in again.output
    bad = runner.invoke(main, ["jobs", "enqueue", "test_invalid"])
    assert bad.exit_code == 0
    unknown = runner.invoke(main, ["jobs", "enqueue", "nope"])
    assert unknown.exit_code == 1
    assert "unknown job kind 'nope'" in unknown.output
    not_json = runner.invoke(main, ["jobs", "enqueue", "noop", "--payload", "{"])
    assert not_json.exit_code == 2

    worker = runner.invoke(main, ["worker", "--burst", "--threads", "2"])
    assert worker.exit_code == 0, worker.output
    assert worker.output.strip() == "worker stopped: 2 jobs run"

    listed = runner.invoke(main, ["jobs", "list", "--json"])
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert sorted((r["kind"], r["state"]) for r in rows) == [
        ("noop", "done"),
        ("test_invalid", "dead"),
    ]
    dead = runner.invoke(main, ["jobs", "list", "--state", "dead"])
    assert "test_invalid" in dead.output
    assert "payload.feed_id: feed_id missing" in dead.output
    dead_id = next(r["id"] for r in rows if r["state"] == "dead")
    retried = runner.invoke(main, ["jobs", "retry", str(dead_id)])
    assert retried.output.strip() == f"job {dead_id} (test_invalid) is now queued"
    done_id = next(r["id"] for r in rows if r["state"] == "done")
    refused = runner.invoke(main, ["jobs", "retry", str(done_id)])
    assert refused.exit_code == 1
    assert "only dead or queued" in refused.output
    cancelled = runner.invoke(main, ["jobs", "cancel", str(dead_id)])
    assert cancelled.output.strip() == f"job {dead_id} (test_invalid) is now dead"
    assert runner.invoke(main, ["jobs", "list", "--kind", "nothing"]).output == "no jobs\n"


def test_scheduler_once(runner: CliRunner, database: Database) -> None:
    """``scheduler --once`` enqueues the due periodic jobs once per slot."""
    first = runner.invoke(main, ["scheduler", "--once"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("enqueued ")
    assert first.output != "enqueued 0 jobs\n"
    second = runner.invoke(main, ["scheduler", "--once"])
    assert second.output == "enqueued 0 jobs\n"
    with database.session() as session:
        assert JobService(session).counts()["queued"] >= 1
