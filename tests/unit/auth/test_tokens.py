"""API tokens: shown once, stored hashed, scoped, expiring, revocable, never above roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from nca_share.access import require_scope
from nca_share.auth.audit import AuditQuery
from nca_share.auth.models import ApiToken
from nca_share.clock import FrozenClock
from nca_share.constituency.models import Organisation
from nca_share.errors import AuthenticationError, PermissionDenied, ValidationError
from tests.unit.auth.conftest import PASSWORD, AuthFactory


def _user(auth: AuthFactory, *roles: str) -> int:
    with auth() as svc:
        user = svc.create_user("ann@example.nl", PASSWORD, verified=True)
        for role in roles:
            if role == "member":
                org = Organisation(kvk="12345678", name="Bakkerij")
                svc.session.add(org)
                svc.session.flush()
                svc.grant_role(user, role, organisation_id=org.id)
            else:
                svc.grant_role(user, role)
        return user.id


def test_token_shown_once_stored_hashed(auth: AuthFactory) -> None:
    """The plaintext starts with ncas_ and only its SHA-256 is stored."""
    uid = _user(auth, "analyst")
    with auth() as svc:
        plaintext, token = svc.create_token(svc.get_user(uid), "ci", ["stix:read", "feeds:read"])
    assert plaintext.startswith("ncas_")
    assert len(plaintext) > 40
    with auth() as svc:
        row = svc.session.scalars(select(ApiToken)).one()
        stored = [str(v) for v in vars(row).values()]
        assert not any(plaintext in v for v in stored)
        assert row.prefix == plaintext[:12]
        principal = svc.authenticate_token(plaintext)
    assert principal.user_id == uid
    assert principal.token_id == token.id
    assert principal.scopes == frozenset({"stix:read", "feeds:read"})
    assert principal.is_staff


def test_scopes_are_enforced(auth: AuthFactory) -> None:
    """A token may use exactly its scopes, even where its user's roles allow more."""
    uid = _user(auth, "operator")
    with auth() as svc:
        plaintext, _ = svc.create_token(svc.get_user(uid), "reader", ["stix:read"])
        principal = svc.authenticate_token(plaintext)
        session_principal = svc.principal(svc.get_user(uid))
    require_scope(principal, "stix:read")
    with pytest.raises(PermissionDenied):
        require_scope(principal, "audit:read")
    require_scope(session_principal, "audit:read")  # the operator's own session may


def test_token_cannot_exceed_roles(auth: AuthFactory) -> None:
    """A member cannot create an audit:read token; unknown scopes are refused."""
    uid = _user(auth, "member")
    with auth() as svc:
        user = svc.get_user(uid)
        with pytest.raises(PermissionDenied):
            svc.create_token(user, "x", ["stix:read", "audit:read"])
        with pytest.raises(ValidationError):
            svc.create_token(user, "x", ["stix:write"])
        with pytest.raises(ValidationError):
            svc.create_token(user, "x", [])
        svc.create_token(user, "x", ["stix:read", "orgs:write", "matches:read"])


def test_revoked_role_shrinks_existing_tokens(auth: AuthFactory) -> None:
    """A token loses a scope as soon as its user loses the role that allowed it."""
    uid = _user(auth, "operator")
    with auth() as svc:
        plaintext, _ = svc.create_token(svc.get_user(uid), "admin", ["audit:read", "stix:read"])
    with auth() as svc:
        svc.revoke_role(svc.get_user(uid), "operator", actor="test")
    with auth() as svc:
        principal = svc.authenticate_token(plaintext)
    assert principal.scopes == frozenset({"stix:read"})
    with pytest.raises(PermissionDenied):
        require_scope(principal, "audit:read")


def test_expired_token_refused(auth: AuthFactory, clock: FrozenClock) -> None:
    """A token works until its expiry and not a second later."""
    uid = _user(auth)
    with auth() as svc:
        plaintext, _ = svc.create_token(svc.get_user(uid), "short", ["stix:read"], expires_days=1)
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    with auth() as svc:
        svc.authenticate_token(plaintext)
    clock.advance(timedelta(seconds=1))
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.authenticate_token(plaintext)


def test_revoked_token_refused(auth: AuthFactory) -> None:
    """A revoked token is refused; revocation and creation are audited."""
    uid = _user(auth)
    with auth() as svc:
        plaintext, token = svc.create_token(svc.get_user(uid), "t", ["stix:read"])
    with auth() as svc:
        svc.revoke_token(token.id, actor="ops@example.nl", ip="192.0.2.5")
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.authenticate_token(plaintext)
    with auth() as svc:
        revoke = svc.audit.list(AuditQuery(action="token.revoke"))
        create = svc.audit.list(AuditQuery(action="token.create"))
    assert [(e.target, e.actor_email, e.ip) for e in revoke] == [
        (f"token:{token.id}", "ops@example.nl", "192.0.2.5")
    ]
    assert create[0].details["scopes"] == ["stix:read"]


def test_disabled_user_token_refused(auth: AuthFactory) -> None:
    """Tokens of a disabled account stop working."""
    uid = _user(auth)
    with auth() as svc:
        plaintext, _ = svc.create_token(svc.get_user(uid), "t", ["stix:read"])
        svc.set_disabled(svc.get_user(uid), True)
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.authenticate_token(plaintext)


@pytest.mark.parametrize(
    "value", ["", "ncas_", "ncas_nonsense", "Bearer ncas_x", "x" * 5000, "ncas_" + "a" * 300]
)
def test_garbage_tokens_refused(auth: AuthFactory, value: str) -> None:
    """Malformed or unknown tokens get one generic refusal."""
    with auth() as svc, pytest.raises(AuthenticationError) as err:
        svc.authenticate_token(value)
    assert str(err.value) == "invalid or expired token"


def test_expiry_bounds(auth: AuthFactory) -> None:
    """Lifetimes outside 1..token_max_days are refused."""
    uid = _user(auth)
    with auth() as svc:
        user = svc.get_user(uid)
        for days in (0, -3, 367):
            with pytest.raises(ValidationError):
                svc.create_token(user, "t", ["stix:read"], expires_days=days)


def test_last_used_recorded(auth: AuthFactory, clock: FrozenClock) -> None:
    """Using a token records when it was last used."""
    uid = _user(auth)
    with auth() as svc:
        plaintext, token = svc.create_token(svc.get_user(uid), "t", ["stix:read"])
    with auth() as svc:
        svc.authenticate_token(plaintext)
    with auth() as svc:
        assert svc.get_token(token.id).last_used_at == clock.now()
