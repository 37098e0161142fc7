"""The audit log: written for security events, append-only in the database itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from nca_share.auth.audit import AuditLog, AuditQuery
from nca_share.auth.service import InvalidCredentials
from nca_share.clock import FrozenClock
from nca_share.constituency.models import Organisation
from nca_share.db import Database
from tests.unit.auth.conftest import PASSWORD, AuthFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_update_and_delete_fail_in_the_database(database: Database) -> None:
    """Plain SQL UPDATE and DELETE on audit_log are refused by triggers on every backend."""
    with database.session() as s:
        AuditLog(s).record("test.event", actor="someone", details={"a": 1})
    for statement in (
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "UPDATE audit_log SET details = '{}' WHERE id = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(statement))
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_log")).scalars().all() == ["test.event"]


def test_role_changes_audited(auth: AuthFactory) -> None:
    """Granting and revoking roles writes who, what and to whom."""
    with auth() as svc:
        org = Organisation(kvk="12345678", name="Bakkerij")
        svc.session.add(org)
        svc.session.flush()
        user = svc.create_user("ann@example.nl", PASSWORD, verified=True)
        svc.grant_role(user, "member", organisation_id=org.id, actor="ops@example.nl")
        svc.grant_role(user, "member", organisation_id=org.id, actor="ops@example.nl")  # no-op
        svc.revoke_role(user, "member", actor="ops@example.nl", ip="192.0.2.1")
        entries = svc.audit.list(AuditQuery(actor_email="OPS@example.nl"))
    assert [(e.action, e.target, e.details) for e in reversed(entries)] == [
        ("role.grant", f"user:{user.id}", {"role": "member", "organisation_id": org.id}),
        ("role.revoke", f"user:{user.id}", {"role": "member", "organisation_id": org.id}),
    ]


def test_login_events_audited(auth: AuthFactory) -> None:
    """Successful and failed logins are audited with the IP address."""
    with auth() as svc:
        svc.create_user("ann@example.nl", PASSWORD, verified=True)
    with auth() as svc:
        svc.authenticate("ann@example.nl", PASSWORD, "203.0.113.4")
    with auth() as svc, pytest.raises(InvalidCredentials):
        svc.authenticate("ann@example.nl", "wrong password!", "203.0.113.5")
    with auth() as svc:
        ok = svc.audit.list(AuditQuery(action="auth.login"))
        bad = svc.audit.list(AuditQuery(action="auth.login_failed"))
    assert [(e.actor_email, e.ip) for e in ok] == [("ann@example.nl", "203.0.113.4")]
    assert [(e.actor_email, e.ip) for e in bad] == [("ann@example.nl", "203.0.113.5")]


def test_list_filters_and_pages(database: Database) -> None:
    """Entries filter by action, actor and time, newest first, paged by id."""
    clock = FrozenClock(T0)
    with database.session() as s:
        log = AuditLog(s, clock)
        for i in range(5):
            log.record("a.one" if i % 2 else "a.two", actor=f"u{i}@example.nl", target=f"t:{i}")
            clock.advance(timedelta(minutes=1))
    with database.session() as s:
        log = AuditLog(s, clock)
        assert [e.target for e in log.list(AuditQuery(action="a.one"))] == ["t:3", "t:1"]
        assert [e.target for e in log.list(AuditQuery(actor_email="u2@example.nl"))] == ["t:2"]
        since = T0 + timedelta(minutes=3)
        assert [e.target for e in log.list(AuditQuery(since=since))] == ["t:4", "t:3"]
        page1 = log.list(AuditQuery(limit=2))
        page2 = log.list(AuditQuery(limit=2, before_id=page1[-1].id))
        assert [e.target for e in [*page1, *page2]] == ["t:4", "t:3", "t:2", "t:1"]
