"""Fixtures of the cross-surface security tests: one small world of principals.

Organisation A is an active member of partnership P, organisation B is not; the principals
are a member of A, a member of B, the coordinator of P, an analyst and an operator (staff
and coordinators with TOTP, as the platform demands).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from nca_share.clock import FrozenClock
from nca_share.constituency.models import Membership, Partnership
from nca_share.db import Database
from tests.fixtures.web import UserCredentials, csrf_token, login, make_org, make_user


@dataclass
class World:
    """The principals and resources every security test uses."""

    app: Flask
    org_a: int
    org_b: int
    partnership: int
    users: dict[str, UserCredentials]
    _clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self, name: str) -> FlaskClient:
        """A test client logged in (password and TOTP) as ``name``; ``anonymous`` = nobody."""
        if name not in self._clients:
            client = self.app.test_client()
            if name != "anonymous":
                creds = self.users[name]
                login(client, creds, totp_code=self.totp(creds))
            self._clients[name] = client
        return self._clients[name]

    def totp(self, creds: UserCredentials) -> str | None:
        """A fresh TOTP code for ``creds`` (the frozen clock moves one step: no replay)."""
        if creds.totp_secret is None:
            return None
        clock = self.app.extensions["nca_share.clock"]
        clock.advance(timedelta(seconds=30))
        return str(pyotp.TOTP(creds.totp_secret).at(clock.now()))

    def csrf(self, name: str) -> str:
        """The CSRF token of ``name``'s session."""
        return csrf_token(self.client(name), "/account" if name != "anonymous" else "/login")


@pytest.fixture
def world(app: Flask, database: Database) -> World:
    """Organisations A and B, partnership P (A active), and one user per kind of principal."""
    app.extensions["nca_share.clock"] = FrozenClock(datetime.now(UTC))
    org_a = make_org(app, "20000001", "Organisatie A")
    org_b = make_org(app, "20000002", "Organisatie B")
    with database.session() as session:
        partnership = Partnership(slug="p", name="Partnerschap P")
        session.add(partnership)
        session.flush()
        session.add(
            Membership(partnership_id=partnership.id, organisation_id=org_a, status="active")
        )
        pid = partnership.id
    users = {
        "member_a": make_user(app, "a@example.nl", ("member", org_a, None)),
        "member_b": make_user(app, "b@example.nl", ("member", org_b, None)),
        "coordinator": make_user(app, "c@example.nl", ("coordinator", None, pid), totp=True),
        "analyst": make_user(app, "analyst@example.nl", "analyst", totp=True),
        "operator": make_user(app, "operator@example.nl", "operator", totp=True),
    }
    return World(app=app, org_a=org_a, org_b=org_b, partnership=pid, users=users)
