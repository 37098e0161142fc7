"""Tables of the constituency: organisations and partnerships (extended by the constituency
issue with assets, contacts, maturity, memberships)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nca_share.db import Base, utcnow


class Organisation(Base):
    """A company or public body served by the authority, keyed by its KVK number."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kvk: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Partnership(Base):
    """A samenwerkingsverband: a sector, regional or chain partnership of organisations."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
