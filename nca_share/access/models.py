"""The ``access_grants`` table: who a restricted resource was shared with.

One row grants one resource (a STIX id such as ``indicator--…`` or another resource key such
as ``notice:12``) to exactly one organisation, partnership or user. This is how the platform
records "the organisations the source shared with" (AMBER, AMBER+STRICT) and "the named
recipients" (RED).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nca_share.db import Base, utcnow


class AccessGrant(Base):
    """One resource shared with one organisation, partnership or user."""

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN organisation_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN partnership_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN user_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_grantee",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_ref: Mapped[str] = mapped_column(String(300), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    partnership_id: Mapped[int | None] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    granted_by: Mapped[str | None] = mapped_column(String(320))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
