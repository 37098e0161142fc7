"""``AuditLog``: append and read the audit log.

There is deliberately no update or delete here; the database refuses both as well (triggers
created by the ``auth_0001`` migration). Action names are dotted, e.g. ``auth.login``,
``auth.login_failed``, ``auth.lockout``, ``auth.totp_enabled``, ``role.grant``,
``token.create``, ``token.revoke``; other packages add theirs (``export.*``, ``publish.*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.access.principal import Principal
from nca_share.auth.models import AuditEntry, User
from nca_share.clock import Clock, SystemClock

Actor = Principal | User | str | None


@dataclass(frozen=True)
class AuditQuery:
    """Filters for ``AuditLog.list``; ``before_id`` pages backwards (newest first)."""

    action: str | None = None
    actor_email: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None
    limit: int = 100


class AuditLog:
    """The append-only audit log."""

    def __init__(self, session: Session, clock: Clock | None = None) -> None:
        self.session = session
        self.clock = clock or SystemClock()

    def record(
        self,
        action: str,
        *,
        actor: Actor = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> AuditEntry:
        """Append one entry (flushed with the caller's transaction).

        :param action: dotted action name, e.g. ``auth.login``.
        :param actor: who did it: a principal, a user, a free label (``"cli"``) or nobody.
        :param target: what it was done to, e.g. ``user:12`` or ``token:3``.
        """
        user_id: int | None = None
        email: str | None = None
        if isinstance(actor, Principal):
            user_id, email = actor.user_id, actor.email
            if actor.token_id is not None:
                details = {**(details or {}), "via_token": actor.token_id}
        elif isinstance(actor, User):
            user_id, email = actor.id, actor.email
        elif isinstance(actor, str):
            email = actor
        entry = AuditEntry(
            at=self.clock.now(),
            actor_user_id=user_id,
            actor_email=email,
            action=action[:100],
            target=target[:300] if target else None,
            details=details or {},
            ip=ip[:64] if ip else None,
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def list(self, query: AuditQuery | None = None) -> Sequence[AuditEntry]:
        """Entries matching ``query``, newest first."""
        q = query or AuditQuery()
        stmt = select(AuditEntry)
        if q.action:
            stmt = stmt.where(AuditEntry.action == q.action)
        if q.actor_email:
            stmt = stmt.where(AuditEntry.actor_email == q.actor_email.strip().lower())
        if q.target:
            stmt = stmt.where(AuditEntry.target == q.target)
        if q.since:
            stmt = stmt.where(AuditEntry.at >= q.since)
        if q.until:
            stmt = stmt.where(AuditEntry.at < q.until)
        if q.before_id:
            stmt = stmt.where(AuditEntry.id < q.before_id)
        stmt = stmt.order_by(AuditEntry.id.desc()).limit(max(1, min(q.limit, 1000)))
        return self.session.scalars(stmt).all()
