"""Registration, e-mail verification, login, lockout and password reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nca_share.auth.audit import AuditQuery
from nca_share.auth.models import User
from nca_share.auth.service import (
    AccountDisabled,
    AuthService,
    EmailNotVerified,
    InvalidCredentials,
)
from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.errors import Conflict, TooManyAttempts, ValidationError
from nca_share.notify.email import Mailer
from tests.fixtures.smtp import SmtpServer
from tests.unit.auth.conftest import PASSWORD, AuthFactory


def _verified_user(auth: AuthFactory, email: str = "ann@example.nl") -> int:
    with auth() as svc:
        return svc.create_user(email, PASSWORD, verified=True, actor="test").id


def _actions(auth: AuthFactory) -> list[str]:
    with auth() as svc:
        return [e.action for e in svc.audit.list(AuditQuery(limit=1000))]


def test_register_verify_login(
    auth: AuthFactory, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    """A new user gets a verification mail over SMTP, follows the link and can log in."""
    with auth() as svc:
        user = svc.register("  Ann@Example.NL ", PASSWORD, "en", ip="192.0.2.1")
        assert user is not None
        assert user.email == "ann@example.nl"
    mail = smtp_server.wait_for(to="ann@example.nl")
    assert mail.subject == "Confirm your e-mail address for nca_share"
    assert "<a href=" in mail.html
    link = smtp_server.last_link("ann@example.nl")
    assert link.startswith(f"{smtp_settings.base_url}/verify/")
    with auth() as svc, pytest.raises(EmailNotVerified):
        svc.authenticate("ann@example.nl", PASSWORD, "192.0.2.1")
    with auth() as svc:
        svc.verify_email(link.rsplit("/", 1)[1])
    with auth() as svc:
        logged_in = svc.authenticate("ANN@example.nl", PASSWORD, "192.0.2.1")
        assert logged_in.last_login_at is not None
    with auth() as svc, pytest.raises(ValidationError):
        svc.verify_email(link.rsplit("/", 1)[1])  # single use
    assert "auth.login" in _actions(auth)


def test_verification_mail_in_dutch(auth: AuthFactory, smtp_server: SmtpServer) -> None:
    """The mail follows the user's locale (Dutch by default)."""
    with auth() as svc:
        svc.register("bram@example.nl", PASSWORD)
    mail = smtp_server.wait_for(to="bram@example.nl")
    assert mail.subject == "Bevestig je e-mailadres voor nca_share"
    assert "Bevestig je e-mailadres via deze link" in mail.text


def test_verification_link_expires(
    auth: AuthFactory, smtp_server: SmtpServer, clock: FrozenClock
) -> None:
    """A verification link is refused after its lifetime."""
    with auth() as svc:
        svc.register("cas@example.nl", PASSWORD)
    smtp_server.wait_for(to="cas@example.nl")
    clock.advance(timedelta(hours=48, seconds=1))
    with auth() as svc, pytest.raises(ValidationError) as err:
        svc.verify_email(smtp_server.last_link("cas@example.nl").rsplit("/", 1)[1])
    assert err.value.details["reason"] == "invalid_link"


def test_register_existing_address_reveals_nothing(
    auth: AuthFactory, smtp_server: SmtpServer
) -> None:
    """Registering a taken address creates nothing and mails the owner instead."""
    _verified_user(auth)
    with auth() as svc:
        assert svc.register("ANN@example.nl", "another long password") is None
    mail = smtp_server.wait_for(to="ann@example.nl")
    assert "already" in mail.subject or "al een" in mail.subject
    with auth() as svc:
        assert svc.session.scalar(select(func.count(User.id))) == 1


def test_email_unique_case_insensitive(auth: AuthFactory) -> None:
    """Two accounts may not differ only in the case of the address."""
    _verified_user(auth, "Dee@Example.nl")
    with auth() as svc, pytest.raises(Conflict):
        svc.create_user("dee@EXAMPLE.NL", PASSWORD)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "too_short"),
        ("eve@example.nl", "is_email"),
        ("EVE@EXAMPLE.NL", "is_email"),
        ("x" * 2000, "too_long"),
    ],
)
def test_password_policy(auth: AuthFactory, password: str, reason: str) -> None:
    """Passwords need 12+ characters and must not be the e-mail address."""
    with auth() as svc, pytest.raises(ValidationError) as err:
        svc.register("eve@example.nl", password)
    assert err.value.location == "password"
    assert err.value.details["reason"] == reason


@pytest.mark.parametrize(
    "email",
    [
        "",
        "no-at-sign",
        "a@b",
        "two@@example.nl",
        "a b@example.nl",
        "x@example.nl\nBcc: evil@example.org",
    ],
)
def test_bad_addresses_refused(auth: AuthFactory, email: str) -> None:
    """Malformed addresses (including header injection) are refused at registration."""
    with auth() as svc, pytest.raises(ValidationError) as err:
        svc.register(email, PASSWORD)
    assert err.value.location == "email"


def test_unknown_user_and_wrong_password_look_the_same(auth: AuthFactory) -> None:
    """Unknown address and wrong password raise the same error with the same message."""
    _verified_user(auth)
    with auth() as svc, pytest.raises(InvalidCredentials) as unknown:
        svc.authenticate("nobody@example.nl", PASSWORD, "192.0.2.9")
    with auth() as svc, pytest.raises(InvalidCredentials) as wrong:
        svc.authenticate("ann@example.nl", "wrong password here", "192.0.2.9")
    assert str(unknown.value) == str(wrong.value)
    assert unknown.value.code == wrong.value.code == "authentication_failed"
    assert _actions(auth).count("auth.login_failed") == 2


def test_lockout_after_failures_and_unlock(auth: AuthFactory, clock: FrozenClock) -> None:
    """Five wrong passwords lock the account for 15 minutes, even for the right password."""
    _verified_user(auth)
    for _ in range(5):
        with auth() as svc, pytest.raises(InvalidCredentials):
            svc.authenticate("ann@example.nl", "wrong password here", "192.0.2.1")
    with auth() as svc, pytest.raises(TooManyAttempts) as err:
        svc.authenticate("ann@example.nl", PASSWORD, "192.0.2.2")
    assert err.value.details["retry_after"] == (clock.now() + timedelta(minutes=15)).isoformat()
    clock.advance(timedelta(minutes=14, seconds=59))
    with auth() as svc, pytest.raises(TooManyAttempts):
        svc.authenticate("ann@example.nl", PASSWORD, "192.0.2.2")
    clock.advance(timedelta(seconds=2))
    with auth() as svc:
        assert svc.authenticate("ann@example.nl", PASSWORD, "192.0.2.2").failed_logins == 0
    actions = _actions(auth)
    assert actions.count("auth.lockout") == 1
    assert actions.count("auth.login_throttled") == 2


def test_successful_login_resets_the_counter(auth: AuthFactory) -> None:
    """Failures interrupted by a successful login do not add up to a lockout."""
    _verified_user(auth)
    for _ in range(3):
        for _ in range(4):
            with auth() as svc, pytest.raises(InvalidCredentials):
                svc.authenticate("ann@example.nl", "wrong password here", None)
        with auth() as svc:
            svc.authenticate("ann@example.nl", PASSWORD, None)


def test_ip_throttling(auth_db: Database, clock: FrozenClock) -> None:
    """Too many failures from one IP address refuse that address, not others."""
    settings = auth_db.settings.model_copy(
        update={"auth": auth_db.settings.auth.model_copy(update={"ip_max_failed_logins": 3})}
    )
    with auth_db.session() as s:
        svc = AuthService(s, settings, None, clock)
        svc.create_user("ann@example.nl", PASSWORD, verified=True)
    for i in range(3):
        with auth_db.session() as s, pytest.raises(InvalidCredentials):
            AuthService(s, settings, None, clock).authenticate(
                f"x{i}@example.nl", "wrong", "198.51.100.7"
            )
    with auth_db.session() as s, pytest.raises(TooManyAttempts):
        AuthService(s, settings, None, clock).authenticate(
            "ann@example.nl", PASSWORD, "198.51.100.7"
        )
    with auth_db.session() as s:
        AuthService(s, settings, None, clock).authenticate(
            "ann@example.nl", PASSWORD, "198.51.100.8"
        )
    clock.advance(timedelta(minutes=16))
    with auth_db.session() as s:
        AuthService(s, settings, None, clock).authenticate(
            "ann@example.nl", PASSWORD, "198.51.100.7"
        )


def test_unknown_address_is_throttled_like_an_account(auth: AuthFactory) -> None:
    """An unknown address is refused after as many failures as lock an account."""
    for _ in range(5):
        with auth() as svc, pytest.raises(InvalidCredentials):
            svc.authenticate("ghost@example.nl", "whatever password", None)
    with auth() as svc, pytest.raises(TooManyAttempts):
        svc.authenticate("ghost@example.nl", "whatever password", None)


def test_disabled_account_refused(auth: AuthFactory) -> None:
    """A disabled account cannot log in, even with the right password."""
    uid = _verified_user(auth)
    with auth() as svc:
        svc.set_disabled(svc.get_user(uid), True, actor="test")
    with auth() as svc, pytest.raises(AccountDisabled):
        svc.authenticate("ann@example.nl", PASSWORD, None)


def test_password_reset(
    auth: AuthFactory, smtp_server: SmtpServer, smtp_settings: Settings
) -> None:
    """A reset link sets a new password once; the old password stops working."""
    uid = _verified_user(auth)
    with auth() as svc:
        stamp = svc.get_user(uid).security_stamp
        svc.request_password_reset("nobody@example.nl", ip="192.0.2.1")
        svc.request_password_reset("Ann@example.nl", ip="192.0.2.1")
    smtp_server.wait_for(to="ann@example.nl")
    link = smtp_server.last_link("ann@example.nl")
    assert link.startswith(f"{smtp_settings.base_url}/reset/")
    token = link.rsplit("/", 1)[1]
    with auth() as svc, pytest.raises(ValidationError):
        svc.reset_password(token, "short")
    with auth() as svc:
        svc.reset_password(token, "a brand new password")
    with auth() as svc, pytest.raises(ValidationError):
        svc.reset_password(token, "another new password")
    with auth() as svc, pytest.raises(InvalidCredentials):
        svc.authenticate("ann@example.nl", PASSWORD, None)
    with auth() as svc:
        user = svc.authenticate("ann@example.nl", "a brand new password", None)
        assert user.security_stamp != stamp
    assert {m.rcpt_tos for m in smtp_server.messages} == {("ann@example.nl",)}


def test_no_mail_when_the_transaction_rolls_back(
    auth_db: Database, clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    """Mail goes out only after commit: a rolled-back registration sends nothing."""

    def register_then_fail() -> None:
        with auth_db.session() as s:
            AuthService(s, auth_db.settings, Mailer(auth_db.settings), clock).register(
                "fay@example.nl", PASSWORD
            )
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        register_then_fail()
    with auth_db.session() as s:
        AuthService(s, auth_db.settings, Mailer(auth_db.settings), clock).register(
            "gus@example.nl", PASSWORD
        )
    smtp_server.wait_for(to="gus@example.nl")
    assert smtp_server.messages_to("fay@example.nl") == []


def test_change_password(auth: AuthFactory) -> None:
    """Changing a password needs the current one."""
    uid = _verified_user(auth)
    with auth() as svc, pytest.raises(InvalidCredentials):
        svc.change_password(svc.get_user(uid), "not my password", "a brand new password")
    with auth() as svc:
        svc.change_password(svc.get_user(uid), PASSWORD, "a brand new password")
    with auth() as svc:
        svc.authenticate("ann@example.nl", "a brand new password", None)


def test_default_argon2_cost(settings: Settings, database: Database) -> None:
    """With default settings passwords are argon2id hashes at the configured cost, and a
    cheaper stored hash is upgraded at the next login."""
    with database.session() as s:
        cheap = settings.model_copy(
            update={
                "auth": settings.auth.model_copy(
                    update={"argon2_time_cost": 1, "argon2_memory_kib": 1024}
                )
            }
        )
        user = AuthService(s, cheap).create_user("hal@example.nl", PASSWORD, verified=True)
        assert user.password_hash.startswith("$argon2id$v=19$m=1024,t=1,")
    with database.session() as s:
        user = AuthService(s, settings).authenticate("hal@example.nl", PASSWORD, None)
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_prune_login_attempts(auth: AuthFactory, clock: FrozenClock) -> None:
    """Old login attempts are pruned; recent ones still count for throttling."""
    _verified_user(auth)
    with auth() as svc, pytest.raises(InvalidCredentials):
        svc.authenticate("ann@example.nl", "wrong password here", "192.0.2.1")
    clock.advance(timedelta(days=8))
    with auth() as svc:
        svc.authenticate("ann@example.nl", PASSWORD, "192.0.2.1")
    with auth() as svc:
        assert svc.prune_login_attempts() == 1
        assert svc.prune_login_attempts() == 0
