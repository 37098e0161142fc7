"""Fixtures of the jobs tests: test handler kinds, a frozen clock, tuned job settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nca_share.clock import FrozenClock
from nca_share.config import JobSettings, Settings
from nca_share.jobs import registry
from tests.unit.jobs.handlers import TEST_HANDLERS

START = datetime(2026, 11, 28, 12, 0, 7, tzinfo=UTC)


@pytest.fixture(autouse=True)
def test_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test-only job kinds are registered for every jobs test (and removed after)."""
    for kind, path in TEST_HANDLERS.items():
        monkeypatch.setitem(registry.HANDLERS, kind, path)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def job_settings(settings: Settings) -> Settings:
    """Settings with a 60 s lease, 10 s → 80 s back-off and 4 attempts."""
    return settings.model_copy(
        update={
            "jobs": JobSettings(
                lease_seconds=60,
                max_attempts=4,
                backoff_base_s=10.0,
                backoff_cap_s=80.0,
                poll_interval_s=0.01,
                worker_threads=2,
            )
        }
    )
