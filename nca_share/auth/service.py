"""``AuthService``: every account operation of nca_share, for every surface (web, REST, CLI).

The service works inside the caller's session and never commits; the caller's transaction
decides. Mail (verification, reset) is handed to the mailer only *after* that transaction
commits, so no link is ever sent for a change that was rolled back.

Login throttling (``settings.auth``): after ``max_failed_logins`` failed passwords or second
factors in a row, an account is locked for ``lockout_minutes``; a locked account is refused
even with the right password. An IP address with ``ip_max_failed_logins`` failures within
``ip_window_minutes`` is refused too, and so is an unknown e-mail address with as many
failures as would lock an account (so lock-outs do not reveal which addresses exist).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session

from nca_share.access.policy import require_scope
from nca_share.access.principal import Principal, principal_for_user
from nca_share.auth.audit import Actor, AuditLog
from nca_share.auth.crypto import decrypt, digest, encrypt, new_token
from nca_share.auth.models import (
    TOTP_REQUIRED_ROLES,
    ApiToken,
    EmailToken,
    EmailTokenPurpose,
    LoginAttempt,
    RecoveryCode,
    Role,
    User,
    UserRole,
)
from nca_share.auth.scopes import SCOPES, allowed_scopes
from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.constituency.models import Organisation, Partnership
from nca_share.errors import (
    AuthenticationError,
    Conflict,
    NcaShareError,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationError,
)
from nca_share.notify.email import MailSender, render_email

log = logging.getLogger(__name__)

LOCALES = ("nl", "en")
TOKEN_PREFIX = "ncas_"  # noqa: S105 (a prefix, not a secret)
RECOVERY_CODE_COUNT = 10
PASSWORD_MAX_LENGTH = 1024
_EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
#: Outstanding reset mails per account per hour (no mail-bombing through the reset form).
_RESET_MAILS_PER_HOUR = 3
#: ``last_used_at`` of a token is written at most this often.
_TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


class InvalidCredentials(AuthenticationError):
    """E-mail address or password wrong (deliberately not saying which)."""


class EmailNotVerified(AuthenticationError):
    """Right password, but the e-mail address is not verified yet."""

    code = "email_not_verified"


class AccountDisabled(AuthenticationError):
    """Right password, but an operator disabled the account."""

    code = "account_disabled"


@cache
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Verified for unknown e-mail addresses so both paths cost one argon2 verification.
    return hasher.hash(secrets.token_hex(16))


def normalise_email(email: str) -> str:
    """The stored form of an e-mail address: stripped and lower-case.

    :raises ValidationError: not a plausible address.
    """
    value = (email or "").strip().lower()
    if len(value) > 320 or not _EMAIL_RE.match(value):
        raise ValidationError("not a valid e-mail address", location="email")
    return value


class AuthService:
    """Accounts, second factor, roles and API tokens.

    :param session: the caller's session (the caller commits).
    :param settings: ``settings.auth`` for policies, ``base_url`` for links.
    :param mailer: sends account mail after commit; ``None`` sends nothing (CLI).
    :param clock: the time source (``FrozenClock`` in tests).
    """

    def __init__(
        self,
        session: Session,
        settings: Settings,
        mailer: MailSender | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.mailer = mailer
        self.clock = clock or SystemClock()
        self.audit = AuditLog(session, self.clock)
        cfg = settings.auth
        self._hasher = _hasher_for(
            cfg.argon2_time_cost, cfg.argon2_memory_kib, cfg.argon2_parallelism
        )

    # ------------------------------------------------------------------ users

    def find_user(self, email: str) -> User | None:
        """The user with ``email`` (any case), or ``None``."""
        try:
            value = normalise_email(email)
        except ValidationError:
            return None
        return self.session.scalar(select(User).where(User.email == value))

    def get_user(self, user_id: int) -> User:
        """:raises NotFound: no such user."""
        user = self.session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id} not found")
        return user

    def get_user_by_email(self, email: str) -> User:
        """:raises NotFound: no such user."""
        user = self.find_user(email)
        if user is None:
            raise NotFound("user not found", details={"email": email})
        return user

    def list_users(self) -> Sequence[User]:
        return self.session.scalars(select(User).order_by(User.email)).all()

    def prune_login_attempts(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Delete login attempts older than ``older_than`` (they only serve throttling).

        :returns: how many rows were deleted.
        """
        cutoff = self.clock.now() - older_than
        result = self.session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    def check_password_policy(self, password: str, email: str) -> None:
        """At least ``password_min_length`` characters and not the e-mail address.

        :raises ValidationError: with ``details["reason"]`` ``too_short``, ``too_long`` or
            ``is_email`` (for translated messages).
        """
        minimum = self.settings.auth.password_min_length
        if len(password) < minimum:
            raise ValidationError(
                f"password must have at least {minimum} characters",
                location="password",
                details={"reason": "too_short", "min_length": minimum},
            )
        if len(password) > PASSWORD_MAX_LENGTH:
            raise ValidationError(
                f"password must have at most {PASSWORD_MAX_LENGTH} characters",
                location="password",
                details={"reason": "too_long", "max_length": PASSWORD_MAX_LENGTH},
            )
        email_norm = email.strip().lower()
        if password.strip().lower() in {email_norm, email_norm.partition("@")[0]}:
            raise ValidationError(
                "password must not be the e-mail address",
                location="password",
                details={"reason": "is_email"},
            )

    def create_user(
        self,
        email: str,
        password: str,
        *,
        locale: str = "nl",
        verified: bool = False,
        actor: Actor = None,
        ip: str | None = None,
    ) -> User:
        """Create an account directly (operators, CLI, demo data).

        :raises ValidationError: bad address, password or locale.
        :raises Conflict: the address already has an account.
        :raises PermissionDenied: ``actor`` is a user without ``users:admin``.
        """
        self._authorise(actor)
        value = normalise_email(email)
        self.check_password_policy(password, value)
        if locale not in LOCALES:
            raise ValidationError("locale must be nl or en", location="locale")
        if self.session.scalar(select(User.id).where(User.email == value)) is not None:
            raise Conflict("an account with this e-mail address exists", details={"email": value})
        now = self.clock.now()
        user = User(
            email=value,
            password_hash=self._hasher.hash(password),
            locale=locale,
            email_verified_at=now if verified else None,
            disabled=False,
            totp_enabled=False,
            failed_logins=0,
            security_stamp=new_token(16),
            created_at=now,
        )
        self.session.add(user)
        self.session.flush()
        self.audit.record(
            "user.create",
            actor=actor or user,
            target=f"user:{user.id}",
            ip=ip,
            details={"email": value, "verified": verified},
        )
        return user

    def register(
        self, email: str, password: str, locale: str = "nl", *, ip: str | None = None
    ) -> User | None:
        """Self-registration: create an unverified account and mail a verification link.

        If the address already has an account nothing is created, that account's owner gets
        a notice instead, and ``None`` is returned: the surface shows the same "check your
        mail" page either way, so registration does not reveal which addresses exist.

        :raises ValidationError: bad address, password or locale.
        """
        value = normalise_email(email)
        self.check_password_policy(password, value)
        if locale not in LOCALES:
            raise ValidationError("locale must be nl or en", location="locale")
        existing = self.find_user(value)
        if existing is not None:
            self._mail(existing, "account_exists", link=f"{self._base()}/reset-password")
            self.audit.record("user.register_existing", target=f"user:{existing.id}", ip=ip)
            return None
        user = self.create_user(value, password, locale=locale, ip=ip)
        self._send_verification(user)
        return user

    def resend_verification(self, email: str) -> None:
        """Mail a fresh verification link if ``email`` has an unverified account."""
        user = self.find_user(email)
        if user is not None and not user.is_verified and not user.disabled:
            self._send_verification(user)

    def verify_email(self, token: str) -> User:
        """Mark the address of the token's user verified.

        :raises ValidationError: unknown, used or expired link.
        """
        row = self._take_email_token(token, EmailTokenPurpose.VERIFY)
        user = self.get_user(row.user_id)
        if user.email_verified_at is None:
            user.email_verified_at = self.clock.now()
        self.audit.record("user.email_verified", actor=user, target=f"user:{user.id}")
        return user

    def set_locale(self, user: User, locale: str) -> None:
        """:raises ValidationError: not nl or en."""
        if locale not in LOCALES:
            raise ValidationError("locale must be nl or en", location="locale")
        user.locale = locale

    def set_disabled(
        self, user: User, disabled: bool, *, actor: Actor = None, ip: str | None = None
    ) -> None:
        """Disable or re-enable an account; disabling voids its sessions and tokens' use.

        :raises PermissionDenied: ``actor`` is a user without ``users:admin``.
        """
        self._authorise(actor)
        if user.disabled == disabled:
            return
        user.disabled = disabled
        user.security_stamp = new_token(16)
        self.audit.record(
            "user.disable" if disabled else "user.enable",
            actor=actor,
            target=f"user:{user.id}",
            ip=ip,
        )

    # ------------------------------------------------------------------ login

    def authenticate(self, email: str, password: str, ip: str | None = None) -> User:
        """Check an e-mail address and password (the first factor).

        The caller must then ask for the second factor when ``user.totp_enabled`` (and force
        enrolment when ``requires_totp(user)`` but it is not enabled yet).

        :raises TooManyAttempts: the account, address or IP is temporarily locked.
        :raises InvalidCredentials: unknown address or wrong password (same message).
        :raises EmailNotVerified: right password, address not verified yet.
        :raises AccountDisabled: right password, account disabled.
        """
        now = self.clock.now()
        try:
            value = normalise_email(email)
        except ValidationError:
            value = (email or "").strip().lower()[:320]
        cfg = self.settings.auth
        self._check_ip(value, ip, now)
        user = self.session.scalar(select(User).where(User.email == value)) if value else None
        if user is not None and user.locked_until is not None and user.locked_until > now:
            self._refuse_locked(value, ip, now, user.locked_until, user)
        if user is None:
            since = now - timedelta(minutes=cfg.lockout_minutes)
            failures = self._count_failures(LoginAttempt.email == value, since)
            if failures >= cfg.max_failed_logins:
                self._refuse_locked(
                    value, ip, now, now + timedelta(minutes=cfg.lockout_minutes), None
                )
        ok = self._verify_password(user, password)
        if user is None or not ok:
            self._attempt(value, ip, now, success=False)
            self.audit.record(
                "auth.login_failed",
                actor=user or value,
                ip=ip,
                target=f"user:{user.id}" if user else None,
                details={"reason": "unknown_user" if user is None else "bad_password"},
            )
            if user is not None:
                self._count_user_failure(user, now, ip)
            raise InvalidCredentials("incorrect e-mail address or password")
        if user.disabled:
            self._attempt(value, ip, now, success=False)
            self.audit.record(
                "auth.login_refused",
                actor=user,
                ip=ip,
                target=f"user:{user.id}",
                details={"reason": "disabled"},
            )
            raise AccountDisabled("this account is disabled")
        if user.email_verified_at is None:
            self._attempt(value, ip, now, success=True)
            self.audit.record(
                "auth.login_refused",
                actor=user,
                ip=ip,
                target=f"user:{user.id}",
                details={"reason": "email_not_verified"},
            )
            raise EmailNotVerified("confirm your e-mail address first")
        if self._hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self._hasher.hash(password)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        self._attempt(value, ip, now, success=True)
        self.audit.record(
            "auth.login",
            actor=user,
            ip=ip,
            target=f"user:{user.id}",
            details={"second_factor": user.totp_enabled},
        )
        return user

    def change_password(self, user: User, current: str, new: str, *, ip: str | None = None) -> None:
        """Change a password knowing the current one.

        :raises InvalidCredentials: ``current`` is wrong.
        :raises ValidationError: ``new`` breaks the policy.
        """
        if not self._verify_password(user, current):
            self.audit.record(
                "auth.password_change_failed", actor=user, ip=ip, target=f"user:{user.id}"
            )
            raise InvalidCredentials("current password is incorrect")
        self.check_password_policy(new, user.email)
        self._set_password(user, new)
        self.audit.record("auth.password_changed", actor=user, ip=ip, target=f"user:{user.id}")

    def request_password_reset(self, email: str, *, ip: str | None = None) -> None:
        """Mail a reset link if ``email`` has an active account; silent otherwise."""
        user = self.find_user(email)
        if user is None or user.disabled:
            self.audit.record(
                "auth.password_reset_requested",
                ip=ip,
                details={"email": (email or "")[:320], "known": False},
            )
            return
        hour_ago = self.clock.now() - timedelta(hours=1)
        recent = self.session.scalar(
            select(func.count(EmailToken.id)).where(
                EmailToken.user_id == user.id,
                EmailToken.purpose == EmailTokenPurpose.RESET,
                EmailToken.created_at >= hour_ago,
            )
        )
        self.audit.record(
            "auth.password_reset_requested",
            actor=user,
            ip=ip,
            target=f"user:{user.id}",
            details={"known": True},
        )
        if (recent or 0) >= _RESET_MAILS_PER_HOUR:
            log.warning("password reset for user %s throttled", user.id)
            return
        token = self._new_email_token(
            user, EmailTokenPurpose.RESET, timedelta(hours=self.settings.auth.reset_token_hours)
        )
        self._mail(
            user,
            "password_reset",
            link=f"{self._base()}/reset/{quote(token)}",
            expires_hours=self.settings.auth.reset_token_hours,
        )

    def reset_password(self, token: str, new_password: str, *, ip: str | None = None) -> User:
        """Set a new password with a reset link; also verifies the address and unlocks.

        :raises ValidationError: unknown, used or expired link, or a weak password.
        """
        row = self._find_email_token(token, EmailTokenPurpose.RESET)
        user = self.get_user(row.user_id)
        self.check_password_policy(new_password, user.email)
        now = self.clock.now()
        row.used_at = now
        for other in self.session.scalars(
            select(EmailToken).where(
                EmailToken.user_id == user.id,
                EmailToken.purpose == EmailTokenPurpose.RESET,
                EmailToken.used_at.is_(None),
            )
        ):
            other.used_at = now
        self._set_password(user, new_password)
        if user.email_verified_at is None:
            user.email_verified_at = now
        user.failed_logins = 0
        user.locked_until = None
        self.audit.record("auth.password_reset", actor=user, ip=ip, target=f"user:{user.id}")
        return user

    # ------------------------------------------------------------------ TOTP

    def requires_totp(self, user: User) -> bool:
        """Whether ``user`` must use a second factor (analysts, reviewers, operators,
        coordinators)."""
        return any(r.role in TOTP_REQUIRED_ROLES for r in user.roles)

    def begin_totp(self, user: User) -> tuple[str, str]:
        """Start TOTP enrolment: a new secret (stored encrypted, not yet active).

        :returns: the base32 secret and its ``otpauth://`` URI (for a QR code).
        :raises Conflict: TOTP is already enabled.
        """
        if user.totp_enabled:
            raise Conflict("two-factor authentication is already enabled")
        secret = pyotp.random_base32()
        user.totp_secret = encrypt(self.settings, secret)
        user.totp_last_counter = None
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=user.email, issuer_name=self.settings.auth.totp_issuer
        )
        return secret, uri

    def confirm_totp(self, user: User, code: str, *, ip: str | None = None) -> list[str]:
        """Finish enrolment with a first code; returns 10 recovery codes, shown once.

        :raises Conflict: no enrolment started or already enabled.
        :raises AuthenticationError: the code is wrong.
        """
        if user.totp_enabled or user.totp_secret is None:
            raise Conflict("no two-factor enrolment in progress")
        self._check_not_locked(user)
        if not self._check_totp_code(user, code):
            self.audit.record(
                "auth.totp_confirm_failed", actor=user, ip=ip, target=f"user:{user.id}"
            )
            raise AuthenticationError("the code is not valid")
        user.totp_enabled = True
        codes = self._new_recovery_codes(user)
        user.security_stamp = new_token(16)
        self.audit.record("auth.totp_enabled", actor=user, ip=ip, target=f"user:{user.id}")
        return codes

    def verify_totp(self, user: User, code: str, *, ip: str | None = None) -> None:
        """Check a second-factor code at login (one step of clock drift either way; a code of
        a time step already used is refused).

        :raises TooManyAttempts: the account is locked.
        :raises AuthenticationError: wrong, reused or TOTP not enabled.
        """
        self._check_not_locked(user)
        if not user.totp_enabled or user.totp_secret is None:
            raise AuthenticationError("two-factor authentication is not enabled")
        if not self._check_totp_code(user, code):
            self.audit.record("auth.totp_failed", actor=user, ip=ip, target=f"user:{user.id}")
            self._count_user_failure(user, self.clock.now(), ip)
            raise AuthenticationError("the code is not valid")
        user.failed_logins = 0
        self.audit.record("auth.totp_verified", actor=user, ip=ip, target=f"user:{user.id}")

    def use_recovery_code(self, user: User, code: str, *, ip: str | None = None) -> int:
        """Use one recovery code instead of a TOTP code (each works once).

        :returns: how many unused codes are left.
        :raises TooManyAttempts: the account is locked.
        :raises AuthenticationError: wrong or already used.
        """
        self._check_not_locked(user)
        wanted = digest(f"{user.id}:{_normalise_recovery(code)}")
        now = self.clock.now()
        match = None
        for row in self.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ):
            if hmac.compare_digest(row.code_hash, wanted):
                match = row
        if match is None or not user.totp_enabled:
            self.audit.record(
                "auth.recovery_code_failed", actor=user, ip=ip, target=f"user:{user.id}"
            )
            self._count_user_failure(user, now, ip)
            raise AuthenticationError("the recovery code is not valid")
        match.used_at = now
        user.failed_logins = 0
        left = self.recovery_codes_left(user)
        self.audit.record(
            "auth.recovery_code_used",
            actor=user,
            ip=ip,
            target=f"user:{user.id}",
            details={"left": left},
        )
        return left

    def recovery_codes_left(self, user: User) -> int:
        return int(
            self.session.scalar(
                select(func.count(RecoveryCode.id)).where(
                    RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
                )
            )
            or 0
        )

    def regenerate_recovery_codes(self, user: User, *, ip: str | None = None) -> list[str]:
        """Replace all recovery codes (the surface asks for a fresh TOTP code first).

        :raises Conflict: TOTP is not enabled.
        """
        if not user.totp_enabled:
            raise Conflict("two-factor authentication is not enabled")
        codes = self._new_recovery_codes(user)
        self.audit.record(
            "auth.recovery_codes_regenerated", actor=user, ip=ip, target=f"user:{user.id}"
        )
        return codes

    def disable_totp(self, user: User, *, actor: Actor = None, ip: str | None = None) -> None:
        """Switch the second factor off (only for users whose roles do not require it).

        :raises PermissionDenied: the user holds a role that requires TOTP, or ``actor`` is
            someone else without ``users:admin``.
        """
        self._authorise(actor, owner_id=user.id)
        if self.requires_totp(user):
            raise PermissionDenied("two-factor authentication is mandatory for this account")
        self._clear_totp(user)
        self.audit.record(
            "auth.totp_disabled", actor=actor or user, ip=ip, target=f"user:{user.id}"
        )

    def reset_totp(self, user: User, *, actor: Actor, ip: str | None = None) -> None:
        """Operator action for a lost device: clear the second factor so the user enrols
        again at the next login (staff and coordinators are forced to).

        :raises PermissionDenied: ``actor`` is a user without ``users:admin``.
        """
        self._authorise(actor)
        self._clear_totp(user)
        self.audit.record("auth.totp_reset", actor=actor, ip=ip, target=f"user:{user.id}")

    # ------------------------------------------------------------------ roles

    def grant_role(
        self,
        user: User,
        role: str,
        *,
        organisation_id: int | None = None,
        partnership_id: int | None = None,
        actor: Actor = None,
        ip: str | None = None,
    ) -> UserRole:
        """Give ``user`` a role (idempotent); members need an organisation, coordinators a
        partnership, staff roles neither.

        :raises ValidationError: unknown role or wrong scope.
        :raises NotFound: the organisation or partnership does not exist.
        :raises PermissionDenied: ``actor`` is a user without ``users:admin`` (nobody grants
            themselves a role).
        """
        self._authorise(actor)
        role_value = _parse_role(role)
        self._check_role_scope(role_value, organisation_id, partnership_id)
        for held in user.roles:
            if (held.role, held.organisation_id, held.partnership_id) == (
                role_value,
                organisation_id,
                partnership_id,
            ):
                return held
        row = UserRole(
            role=role_value.value,
            organisation_id=organisation_id,
            partnership_id=partnership_id,
            granted_at=self.clock.now(),
            granted_by=_actor_label(actor),
        )
        user.roles.append(row)
        self.session.flush()
        self.audit.record(
            "role.grant",
            actor=actor,
            ip=ip,
            target=f"user:{user.id}",
            details=_role_details(role_value, organisation_id, partnership_id),
        )
        return row

    def revoke_role(
        self,
        user: User,
        role: str,
        *,
        organisation_id: int | None = None,
        partnership_id: int | None = None,
        actor: Actor = None,
        ip: str | None = None,
    ) -> None:
        """Take a role away.

        :raises NotFound: the user does not hold it.
        :raises PermissionDenied: ``actor`` is a user without ``users:admin``.
        """
        self._authorise(actor)
        role_value = _parse_role(role)
        for held in list(user.roles):
            if (
                held.role == role_value
                and (organisation_id is None or held.organisation_id == organisation_id)
                and (partnership_id is None or held.partnership_id == partnership_id)
            ):
                user.roles.remove(held)
                self.session.flush()
                self.audit.record(
                    "role.revoke",
                    actor=actor,
                    ip=ip,
                    target=f"user:{user.id}",
                    details=_role_details(role_value, held.organisation_id, held.partnership_id),
                )
                return
        raise NotFound(f"user does not hold role {role_value.value}")

    def principal(self, user: User) -> Principal:
        """The access principal of a signed-in user (full rights of their roles)."""
        return principal_for_user(self.session, user)

    # ------------------------------------------------------------------ API tokens

    def create_token(
        self,
        user: User,
        name: str,
        scopes: Iterable[str] = ("stix:read",),
        expires_days: int | None = None,
        *,
        actor: Actor = None,
        ip: str | None = None,
    ) -> tuple[str, ApiToken]:
        """Create an API token acting for ``user``.

        :returns: the plaintext (shown once, never stored) and the stored token.
        :raises ValidationError: unknown scope, bad name or lifetime.
        :raises PermissionDenied: a scope exceeds what the user's roles allow, the user is
            disabled, or ``actor`` is someone else without ``users:admin``.
        """
        self._authorise(actor, owner_id=user.id)
        wanted = sorted(set(scopes))
        unknown = [s for s in wanted if s not in SCOPES]
        if unknown or not wanted:
            raise ValidationError(
                f"unknown scopes: {', '.join(unknown)}" if unknown else "no scope given",
                location="scopes",
                details={"known": sorted(SCOPES)},
            )
        if user.disabled:
            raise PermissionDenied("the account is disabled")
        allowed = allowed_scopes(user.role_names())
        beyond = [s for s in wanted if s not in allowed]
        if beyond:
            raise PermissionDenied(
                f"the user's roles do not allow: {', '.join(beyond)}",
                details={"scopes": beyond},
            )
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise ValidationError("token name must be 1..100 characters", location="name")
        days = self.settings.auth.token_default_days if expires_days is None else expires_days
        if not 1 <= days <= self.settings.auth.token_max_days:
            raise ValidationError(
                f"expiry must be 1..{self.settings.auth.token_max_days} days",
                location="expires_days",
            )
        now = self.clock.now()
        plaintext = TOKEN_PREFIX + new_token(32)
        token = ApiToken(
            user_id=user.id,
            name=name,
            prefix=plaintext[:12],
            token_hash=digest(plaintext),
            scopes=wanted,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        self.session.add(token)
        self.session.flush()
        self.audit.record(
            "token.create",
            actor=actor or user,
            ip=ip,
            target=f"token:{token.id}",
            details={
                "user_id": user.id,
                "name": name,
                "scopes": wanted,
                "expires_at": token.expires_at.isoformat(),
            },
        )
        return plaintext, token

    def authenticate_token(self, plaintext: str) -> Principal:
        """The principal an API token acts as, restricted to the token's scopes (and to what
        the user's current roles still allow).

        :raises AuthenticationError: unknown, malformed, revoked or expired token, or the
            user is disabled (one message for all).
        """
        value = (plaintext or "").strip()
        if not value.startswith(TOKEN_PREFIX) or len(value) > 200:
            raise AuthenticationError("invalid or expired token")
        token = self.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(value)))
        now = self.clock.now()
        if token is None or not token.is_active(now) or token.user.disabled:
            raise AuthenticationError("invalid or expired token")
        if token.last_used_at is None or now - token.last_used_at >= _TOKEN_TOUCH_INTERVAL:
            token.last_used_at = now
        scopes = frozenset(token.scopes) & allowed_scopes(token.user.role_names())
        return principal_for_user(self.session, token.user, scopes=scopes, token_id=token.id)

    def get_token(self, token_id: int) -> ApiToken:
        """:raises NotFound: no such token."""
        token = self.session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"token {token_id} not found")
        return token

    def list_tokens(self, user: User | None = None) -> Sequence[ApiToken]:
        """Tokens of ``user`` (or all), newest first."""
        stmt = select(ApiToken).order_by(ApiToken.id.desc())
        if user is not None:
            stmt = stmt.where(ApiToken.user_id == user.id)
        return self.session.scalars(stmt).all()

    def revoke_token(
        self, token_id: int, *, actor: Actor = None, ip: str | None = None
    ) -> ApiToken:
        """Revoke a token (idempotent).

        :raises NotFound: no such token.
        :raises PermissionDenied: ``actor`` is neither the token's user nor has
            ``users:admin``.
        """
        token = self.get_token(token_id)
        self._authorise(actor, owner_id=token.user_id)
        if token.revoked_at is None:
            token.revoked_at = self.clock.now()
            self.audit.record(
                "token.revoke",
                actor=actor,
                ip=ip,
                target=f"token:{token.id}",
                details={"user_id": token.user_id, "name": token.name},
            )
        return token

    # ------------------------------------------------------------------ internals

    def _authorise(self, actor: Actor, *, owner_id: int | None = None) -> None:
        """Administrative changes need ``users:admin`` when a user asks (a principal or a
        ``User``); a user may act on their own ``owner_id`` resources. A label or ``None``
        is a trusted system caller (CLI, jobs) and is not checked here."""
        if isinstance(actor, User):
            actor = principal_for_user(self.session, actor)
        if not isinstance(actor, Principal):
            return
        if owner_id is not None and actor.user_id == owner_id:
            return
        require_scope(actor, "users:admin")

    def _base(self) -> str:
        return self.settings.base_url.rstrip("/")

    def _verify_password(self, user: User | None, password: str) -> bool:
        hashed = user.password_hash if user is not None else _dummy_hash(self._hasher)
        ok: bool
        try:
            ok = self._hasher.verify(hashed, (password or "")[:PASSWORD_MAX_LENGTH])
        except (VerificationError, InvalidHashError):
            ok = False
        return ok and user is not None

    def _set_password(self, user: User, password: str) -> None:
        user.password_hash = self._hasher.hash(password)
        user.security_stamp = new_token(16)

    def _attempt(self, email: str, ip: str | None, now: datetime, *, success: bool) -> None:
        self.session.add(LoginAttempt(at=now, email=email[:320], ip=ip, success=success))
        self.session.flush()

    def _count_failures(self, condition: Any, since: datetime) -> int:
        return int(
            self.session.scalar(
                select(func.count(LoginAttempt.id)).where(
                    condition, LoginAttempt.success.is_(False), LoginAttempt.at >= since
                )
            )
            or 0
        )

    def _check_ip(self, email: str, ip: str | None, now: datetime) -> None:
        if not ip:
            return
        cfg = self.settings.auth
        window = timedelta(minutes=cfg.ip_window_minutes)
        if self._count_failures(LoginAttempt.ip == ip, now - window) >= cfg.ip_max_failed_logins:
            self._attempt(email, ip, now, success=False)
            self.audit.record(
                "auth.login_throttled", actor=email or None, ip=ip, details={"scope": "ip"}
            )
            raise TooManyAttempts(
                "too many failed attempts; try again later",
                details={"retry_after": (now + window).isoformat()},
            )

    def _refuse_locked(
        self, email: str, ip: str | None, now: datetime, until: datetime, user: User | None
    ) -> None:
        self._attempt(email, ip, now, success=False)
        self.audit.record(
            "auth.login_throttled",
            actor=user or email,
            ip=ip,
            target=f"user:{user.id}" if user else None,
            details={"scope": "account"},
        )
        raise TooManyAttempts(
            "too many failed attempts; try again later",
            details={"retry_after": until.isoformat()},
        )

    def _check_not_locked(self, user: User) -> None:
        now = self.clock.now()
        if user.locked_until is not None and user.locked_until > now:
            raise TooManyAttempts(
                "too many failed attempts; try again later",
                details={"retry_after": user.locked_until.isoformat()},
            )

    def _count_user_failure(self, user: User, now: datetime, ip: str | None) -> None:
        cfg = self.settings.auth
        self.session.flush()
        # Incremented in SQL, so concurrent attempts cannot lose a count.
        count = self.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
        ).scalar_one()
        user.failed_logins = count
        if count >= cfg.max_failed_logins:
            user.locked_until = now + timedelta(minutes=cfg.lockout_minutes)
            user.failed_logins = 0
            self.audit.record(
                "auth.lockout",
                actor=user,
                ip=ip,
                target=f"user:{user.id}",
                details={"until": user.locked_until.isoformat()},
            )

    def _check_totp_code(self, user: User, code: str) -> bool:
        value = "".join((code or "").split())
        if not (value.isdigit() and len(value) == 6) or user.totp_secret is None:
            return False
        totp = pyotp.TOTP(decrypt(self.settings, user.totp_secret))
        current = totp.timecode(self.clock.now())
        for counter in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(counter), value):
                if user.totp_last_counter is not None and counter <= user.totp_last_counter:
                    return False  # replay of a code already used (or an older one)
                user.totp_last_counter = counter
                return True
        return False

    def _clear_totp(self, user: User) -> None:
        user.totp_enabled = False
        user.totp_secret = None
        user.totp_last_counter = None
        for row in self.session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == user.id)
        ):
            self.session.delete(row)
        user.security_stamp = new_token(16)
        self.session.flush()

    def _new_recovery_codes(self, user: User) -> list[str]:
        for row in self.session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == user.id)
        ):
            self.session.delete(row)
        now = self.clock.now()
        codes = []
        for _ in range(RECOVERY_CODE_COUNT):
            raw = secrets.token_hex(8)
            code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
            codes.append(code)
            self.session.add(
                RecoveryCode(user_id=user.id, code_hash=digest(f"{user.id}:{raw}"), created_at=now)
            )
        self.session.flush()
        return codes

    def _check_role_scope(
        self, role: Role, organisation_id: int | None, partnership_id: int | None
    ) -> None:
        if role == Role.MEMBER:
            if organisation_id is None or partnership_id is not None:
                raise ValidationError("a member role names one organisation", location="role")
            if self.session.get(Organisation, organisation_id) is None:
                raise NotFound(f"organisation {organisation_id} not found")
        elif role == Role.COORDINATOR:
            if partnership_id is None or organisation_id is not None:
                raise ValidationError("a coordinator role names one partnership", location="role")
            if self.session.get(Partnership, partnership_id) is None:
                raise NotFound(f"partnership {partnership_id} not found")
        elif organisation_id is not None or partnership_id is not None:
            raise ValidationError(
                f"the {role.value} role names no organisation or partnership", location="role"
            )

    def _send_verification(self, user: User) -> None:
        hours = self.settings.auth.verify_token_hours
        token = self._new_email_token(user, EmailTokenPurpose.VERIFY, timedelta(hours=hours))
        self._mail(
            user, "verify_email", link=f"{self._base()}/verify/{quote(token)}", expires_hours=hours
        )

    def _new_email_token(self, user: User, purpose: EmailTokenPurpose, ttl: timedelta) -> str:
        token = new_token(32)
        now = self.clock.now()
        self.session.add(
            EmailToken(
                user_id=user.id,
                purpose=purpose.value,
                token_hash=digest(token),
                created_at=now,
                expires_at=now + ttl,
            )
        )
        self.session.flush()
        return token

    def _find_email_token(self, token: str, purpose: EmailTokenPurpose) -> EmailToken:
        value = (token or "").strip()
        row = None
        if value and len(value) <= 200:
            row = self.session.scalar(
                select(EmailToken).where(
                    EmailToken.token_hash == digest(value), EmailToken.purpose == purpose.value
                )
            )
        if row is None or row.used_at is not None or row.expires_at <= self.clock.now():
            raise ValidationError(
                "this link is invalid or has expired",
                location="token",
                details={"reason": "invalid_link"},
            )
        return row

    def _take_email_token(self, token: str, purpose: EmailTokenPurpose) -> EmailToken:
        row = self._find_email_token(token, purpose)
        row.used_at = self.clock.now()
        return row

    def _mail(self, user: User, template: str, **ctx: Any) -> None:
        """Render now, send after the caller's transaction commits."""
        ctx.setdefault("expires_hours", self.settings.auth.verify_token_hours)
        rendered = render_email(template, user.locale, email=user.email, **ctx)
        if self.mailer is None:
            log.warning("no mailer configured: %s mail to %s not sent", template, user.email)
            return
        _queue_after_commit(
            self.session, self.mailer, user.email, rendered.subject, rendered.text, rendered.html
        )


_PENDING = "nca_share.auth.pending_mail"


def _queue_after_commit(
    session: Session, mailer: MailSender, to: str, subject: str, text: str, html: str
) -> None:
    pending: list[tuple[MailSender, str, str, str, str]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _drop_pending)
    pending.append((mailer, to, subject, text, html))


def _send_pending(session: Session) -> None:
    pending = session.info.get(_PENDING) or []
    session.info[_PENDING] = []
    for mailer, to, subject, text, html in pending:
        try:
            mailer.send(to, subject, text, html)
        except NcaShareError:
            # The account change is committed; the user can ask for the link again.
            log.exception("account mail to %s failed", to)


def _drop_pending(session: Session) -> None:
    if session.info.get(_PENDING):
        session.info[_PENDING] = []


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())[:64]


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise ValidationError(
            f"unknown role {role!r}", location="role", details={"known": [r.value for r in Role]}
        ) from None


def _actor_label(actor: Actor) -> str | None:
    if isinstance(actor, Principal):
        return actor.email
    if isinstance(actor, User):
        return actor.email
    return actor


def _role_details(
    role: Role, organisation_id: int | None, partnership_id: int | None
) -> dict[str, Any]:
    details: dict[str, Any] = {"role": role.value}
    if organisation_id is not None:
        details["organisation_id"] = organisation_id
    if partnership_id is not None:
        details["partnership_id"] = partnership_id
    return details
