"""The Alembic migrations and the models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import nca_share.models  # noqa: F401
from nca_share.db import Base, Database


def test_migrations_match_models(database: Database) -> None:
    """Migrating to head yields exactly the tables, columns and indexes the models declare."""
    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent(database: Database) -> None:
    """Running the upgrade again on a migrated database changes nothing."""
    database._upgraded = False
    database.upgrade()
    database._upgraded = False
    database.upgrade()
