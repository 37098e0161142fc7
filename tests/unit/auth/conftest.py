"""Fixtures for the auth tests: a frozen clock and an ``AuthService`` factory wired to the
loopback SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

import pytest

from nca_share.auth.service import AuthService
from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.notify.email import Mailer

PASSWORD = "correct horse battery staple"

AuthFactory = Callable[[], AbstractContextManager[AuthService]]


@pytest.fixture
def clock() -> FrozenClock:
    """A clock the tests move by hand."""
    return FrozenClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))


@pytest.fixture
def auth_db(smtp_settings: Settings) -> Iterator[Database]:
    """The test database with settings whose SMTP points at the loopback server (and a
    cheap argon2 cost: the production cost is covered by ``test_default_argon2_cost``)."""
    fast = smtp_settings.auth.model_copy(
        update={"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
    )
    db = Database(smtp_settings.model_copy(update={"auth": fast}))
    db._upgraded = True  # migrated by the backend fixture
    yield db
    db.dispose()


@pytest.fixture
def auth(auth_db: Database, clock: FrozenClock) -> AuthFactory:
    """``with auth() as svc:`` runs ``svc`` in one transaction, committed at the end."""

    @contextmanager
    def factory() -> Iterator[AuthService]:
        with auth_db.session() as session:
            yield AuthService(session, auth_db.settings, Mailer(auth_db.settings), clock)

    return factory
