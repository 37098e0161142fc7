"""TOTP second factor: enrolment, verification, replay, recovery codes, mandatory roles."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, text

from nca_share.auth.audit import AuditQuery
from nca_share.auth.models import RecoveryCode, User
from nca_share.clock import FrozenClock
from nca_share.constituency.models import Organisation, Partnership
from nca_share.errors import AuthenticationError, Conflict, PermissionDenied, TooManyAttempts
from tests.unit.auth.conftest import PASSWORD, AuthFactory


def _enrolled(auth: AuthFactory, clock: FrozenClock) -> tuple[int, pyotp.TOTP, list[str]]:
    with auth() as svc:
        user = svc.create_user("ann@example.nl", PASSWORD, verified=True)
        secret, uri = svc.begin_totp(user)
        assert uri.startswith("otpauth://totp/nca_share:ann%40example.nl?secret=")
        totp = pyotp.TOTP(secret)
        codes = svc.confirm_totp(user, totp.at(clock.now()))
        return user.id, totp, codes


def test_enrol_and_verify(auth: AuthFactory, clock: FrozenClock) -> None:
    """After enrolment a current code is accepted and ten distinct recovery codes exist."""
    uid, totp, codes = _enrolled(auth, clock)
    assert len(set(codes)) == 10
    clock.advance(timedelta(seconds=30))
    with auth() as svc:
        user = svc.get_user(uid)
        assert user.totp_enabled
        svc.verify_totp(user, totp.at(clock.now()))
        assert svc.recovery_codes_left(user) == 10
        actions = [e.action for e in svc.audit.list(AuditQuery(limit=100))]
    assert "auth.totp_enabled" in actions
    assert "auth.totp_verified" in actions


def test_wrong_first_code_does_not_enable(auth: AuthFactory, clock: FrozenClock) -> None:
    """Enrolment needs a valid code; a wrong one leaves TOTP off."""
    with auth() as svc:
        user = svc.create_user("ann@example.nl", PASSWORD, verified=True)
        secret, _ = svc.begin_totp(user)
        wrong = f"{(int(pyotp.TOTP(secret).at(clock.now())) + 1) % 1_000_000:06d}"
        with pytest.raises(AuthenticationError):
            svc.confirm_totp(user, wrong)
        assert not user.totp_enabled
    with auth() as svc:
        other = svc.create_user("bob@example.nl", PASSWORD, verified=True)
        with pytest.raises(Conflict):
            svc.confirm_totp(other, "123456")  # no enrolment started


def test_replay_refused(auth: AuthFactory, clock: FrozenClock) -> None:
    """The same code (same time step) works once; the enrolment code cannot log in."""
    uid, totp, _ = _enrolled(auth, clock)
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.verify_totp(svc.get_user(uid), totp.at(clock.now()))  # used to enrol
    clock.advance(timedelta(seconds=30))
    code = totp.at(clock.now())
    with auth() as svc:
        svc.verify_totp(svc.get_user(uid), code)
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.verify_totp(svc.get_user(uid), code)


def test_drift_window(auth: AuthFactory, clock: FrozenClock) -> None:
    """Codes one step old or ahead are accepted, two steps away refused."""
    uid, totp, _ = _enrolled(auth, clock)
    clock.advance(timedelta(minutes=5))
    now = clock.now()
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.verify_totp(svc.get_user(uid), totp.at(now, counter_offset=-2))
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.verify_totp(svc.get_user(uid), totp.at(now, counter_offset=2))
    with auth() as svc:
        svc.verify_totp(svc.get_user(uid), totp.at(now, counter_offset=-1))
    with auth() as svc:
        svc.verify_totp(svc.get_user(uid), totp.at(now, counter_offset=1))
    with auth() as svc, pytest.raises(AuthenticationError):
        # older than the step already used: a replay even though it is inside the window
        svc.verify_totp(svc.get_user(uid), totp.at(now))


def test_wrong_codes_lock_the_account(auth: AuthFactory, clock: FrozenClock) -> None:
    """Guessing second-factor codes counts towards the lockout."""
    uid, totp, _ = _enrolled(auth, clock)
    for _ in range(5):
        with auth() as svc, pytest.raises(AuthenticationError):
            svc.verify_totp(svc.get_user(uid), "12345x")
    clock.advance(timedelta(seconds=30))
    with auth() as svc, pytest.raises(TooManyAttempts):
        svc.verify_totp(svc.get_user(uid), totp.at(clock.now()))
    with auth() as svc, pytest.raises(TooManyAttempts):
        svc.authenticate("ann@example.nl", PASSWORD, None)


def test_recovery_code_single_use(auth: AuthFactory, clock: FrozenClock) -> None:
    """A recovery code works once, in any case and with or without dashes."""
    uid, _, codes = _enrolled(auth, clock)
    with auth() as svc:
        assert svc.use_recovery_code(svc.get_user(uid), codes[3].upper().replace("-", " ")) == 9
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.use_recovery_code(svc.get_user(uid), codes[3])
    with auth() as svc, pytest.raises(AuthenticationError):
        svc.use_recovery_code(svc.get_user(uid), "0000-0000-0000-0000")
    with auth() as svc:
        assert svc.use_recovery_code(svc.get_user(uid), codes[0]) == 8
        stored = svc.session.scalars(select(RecoveryCode.code_hash)).all()
    assert not any(code.replace("-", "") in h for code in codes for h in stored)


def test_secret_encrypted_at_rest(auth: AuthFactory, clock: FrozenClock) -> None:
    """The TOTP secret is not stored in plain text."""
    uid, totp, _ = _enrolled(auth, clock)
    with auth() as svc:
        raw = svc.session.execute(
            text("SELECT totp_secret FROM users WHERE id = :id"), {"id": uid}
        ).scalar_one()
    assert totp.secret not in raw
    assert raw.startswith("gAAAA")  # a Fernet token


def test_member_may_disable_staff_may_not(auth: AuthFactory, clock: FrozenClock) -> None:
    """SME members can switch TOTP off; analysts and coordinators cannot."""
    uid, _, _ = _enrolled(auth, clock)
    with auth() as svc:
        org = Organisation(kvk="12345678", name="Bakkerij")
        pship = Partnership(slug="zorg", name="Zorg")
        svc.session.add_all([org, pship])
        svc.session.flush()
        user = svc.get_user(uid)
        svc.grant_role(user, "member", organisation_id=org.id)
        assert not svc.requires_totp(user)
        svc.grant_role(user, "coordinator", partnership_id=pship.id)
        assert svc.requires_totp(user)
        with pytest.raises(PermissionDenied):
            svc.disable_totp(user)
        svc.revoke_role(user, "coordinator")
        svc.grant_role(user, "analyst")
        with pytest.raises(PermissionDenied):
            svc.disable_totp(user)
        svc.revoke_role(user, "analyst")
        svc.disable_totp(user)
        assert not user.totp_enabled
        assert svc.recovery_codes_left(user) == 0
        assert [e.action for e in svc.audit.list(AuditQuery(action="auth.totp_disabled"))] == [
            "auth.totp_disabled"
        ]


@pytest.mark.parametrize(
    ("role", "required"),
    [
        ("operator", True),
        ("analyst", True),
        ("reviewer", True),
        ("coordinator", True),
        ("member", False),
    ],
)
def test_requires_totp(auth: AuthFactory, role: str, required: bool) -> None:
    """Staff roles and coordinators must use TOTP, members need not."""
    with auth() as svc:
        org = Organisation(kvk="12345678", name="Bakkerij")
        pship = Partnership(slug="zorg", name="Zorg")
        svc.session.add_all([org, pship])
        svc.session.flush()
        user = svc.create_user("ann@example.nl", PASSWORD, verified=True)
        assert not svc.requires_totp(user)
        svc.grant_role(
            user,
            role,
            organisation_id=org.id if role == "member" else None,
            partnership_id=pship.id if role == "coordinator" else None,
        )
        assert svc.requires_totp(user) is required


def test_operator_reset_for_lost_device(auth: AuthFactory, clock: FrozenClock) -> None:
    """An operator can clear a lost second factor; the user enrols again."""
    uid, _, _ = _enrolled(auth, clock)
    with auth() as svc:
        user = svc.get_user(uid)
        svc.grant_role(user, "analyst")
        svc.reset_totp(user, actor="operator@example.nl")
        assert user.totp_secret is None
        svc.begin_totp(user)
    with auth() as svc:
        assert isinstance(svc.get_user(uid), User)
        assert svc.audit.list(AuditQuery(action="auth.totp_reset"))[0].actor_email == (
            "operator@example.nl"
        )
