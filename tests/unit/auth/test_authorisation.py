"""Administrative account changes need ``users:admin``; users may manage their own tokens."""

from __future__ import annotations

import pytest

from nca_share.access import Principal
from nca_share.errors import AuthenticationError, PermissionDenied
from tests.unit.auth.conftest import PASSWORD, AuthFactory


def test_only_admins_change_roles_and_accounts(auth: AuthFactory) -> None:
    """A member cannot grant roles (not even to themselves); an operator can."""
    with auth() as svc:
        ann = svc.create_user("ann@example.nl", PASSWORD, verified=True)
        ops = svc.create_user("ops@example.nl", PASSWORD, verified=True)
        svc.grant_role(ops, "operator", actor="test")
        ann_p, ops_p = svc.principal(ann), svc.principal(ops)
        for attempt in (
            lambda: svc.grant_role(ann, "analyst", actor=ann_p),
            lambda: svc.grant_role(ann, "analyst", actor=ann),
            lambda: svc.revoke_role(ops, "operator", actor=ann_p),
            lambda: svc.set_disabled(ops, True, actor=ann_p),
            lambda: svc.reset_totp(ops, actor=ann_p),
            lambda: svc.create_user("new@example.nl", PASSWORD, actor=ann_p),
        ):
            with pytest.raises(PermissionDenied):
                attempt()
        with pytest.raises(AuthenticationError):
            svc.grant_role(ann, "analyst", actor=Principal.anonymous())
        svc.grant_role(ann, "analyst", actor=ops_p)
        svc.set_disabled(ann, True, actor=ops)
        assert ann.role_names() == {"analyst"}
        assert ann.disabled


def test_token_owner_or_admin(auth: AuthFactory) -> None:
    """Users create and revoke their own tokens; others need users:admin."""
    with auth() as svc:
        ann = svc.create_user("ann@example.nl", PASSWORD, verified=True)
        bob = svc.create_user("bob@example.nl", PASSWORD, verified=True)
        ops = svc.create_user("ops@example.nl", PASSWORD, verified=True)
        svc.grant_role(ops, "operator", actor="test")
        _, ann_token = svc.create_token(ann, "mine", ["stix:read"], actor=ann)
        with pytest.raises(PermissionDenied):
            svc.create_token(ann, "for ann", ["stix:read"], actor=bob)
        with pytest.raises(PermissionDenied):
            svc.revoke_token(ann_token.id, actor=svc.principal(bob))
        plaintext, _ = svc.create_token(ops, "ops reader", ["stix:read"], actor=ops)
        token_principal = svc.authenticate_token(plaintext)
        with pytest.raises(PermissionDenied):  # an operator's token without users:admin
            svc.revoke_token(ann_token.id, actor=token_principal)
        svc.revoke_token(ann_token.id, actor=svc.principal(ops))
        assert ann_token.revoked_at is not None
        _, again = svc.create_token(ann, "mine too", ["stix:read"], actor=svc.principal(ann))
        svc.revoke_token(again.id, actor=ann)
        assert again.revoked_at is not None
