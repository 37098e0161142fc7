"""Tables of ``nca_share.auth``: users, their roles, recovery codes, e-mail tokens, API tokens,
login attempts and the append-only audit log.

E-mail addresses are stored normalised (stripped, lower-case), so the unique constraint on
``users.email`` is case-insensitive on every backend. Secrets are never stored in plain text:
passwords as argon2 hashes, tokens and recovery codes as SHA-256 digests, the TOTP secret
encrypted with Fernet. ``audit_log`` has database triggers (created by the migration) that
refuse UPDATE and DELETE.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nca_share.db import Base, JSONType, utcnow


class Role(enum.StrEnum):
    """The roles a user may hold; a user may hold several."""

    OPERATOR = "operator"
    ANALYST = "analyst"
    REVIEWER = "reviewer"
    #: Coordinator of one partnership (``UserRole.partnership_id``).
    COORDINATOR = "coordinator"
    #: Member (staff) of one organisation (``UserRole.organisation_id``).
    MEMBER = "member"


#: The authority's own staff.
STAFF_ROLES = frozenset({Role.OPERATOR, Role.ANALYST, Role.REVIEWER})
#: Roles that must use a second factor.
TOTP_REQUIRED_ROLES = STAFF_ROLES | {Role.COORDINATOR}


class EmailTokenPurpose(enum.StrEnum):
    VERIFY = "verify"
    RESET = "reset"


class User(Base):
    """A person who signs in; identified by a normalised e-mail address."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    email_verified_at: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Fernet token of the base32 TOTP secret (set by ``begin_totp``, active once enabled).
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The last TOTP time-step accepted; a code of this step or earlier is a replay.
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    #: Changes whenever credentials change; web sessions carrying an older stamp are void.
    security_stamp: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    def role_names(self) -> frozenset[str]:
        """The names of the roles this user holds."""
        return frozenset(r.role for r in self.roles)


class UserRole(Base):
    """One role of a user; members name their organisation, coordinators their partnership."""

    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint(
            "(role = 'member' AND organisation_id IS NOT NULL AND partnership_id IS NULL)"
            " OR (role = 'coordinator' AND partnership_id IS NOT NULL"
            " AND organisation_id IS NULL)"
            " OR (role IN ('operator', 'analyst', 'reviewer')"
            " AND organisation_id IS NULL AND partnership_id IS NULL)",
            name="role_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_by: Mapped[str | None] = mapped_column(String(320))

    user: Mapped[User] = relationship(back_populates="roles")

    def __repr__(self) -> str:
        scope = self.organisation_id or self.partnership_id or ""
        return f"<UserRole {self.user_id} {self.role} {scope}>"


class RecoveryCode(Base):
    """A single-use second-factor recovery code (SHA-256 of the normalised code)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class EmailToken(Base):
    """A single-use, expiring link token for e-mail verification or password reset."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ApiToken(Base):
    """An API token acting for its user within ``scopes``; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The first characters of the token (``ncas_xxxx``), to recognise it in lists.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    def is_active(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        return self.revoked_at is None and self.expires_at > now


class LoginAttempt(Base):
    """One login attempt (password step), kept for throttling by e-mail and by IP address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str | None] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """One line of the append-only audit log. The actor is copied, not referenced, so the
    entry survives the user (and no cascade can ever try to update it)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str | None] = mapped_column(String(320), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str | None] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
