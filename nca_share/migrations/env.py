"""Alembic environment: runs migrations on the engine handed over by ``nca_share.db``.

Revisions live in ``versions/``; each domain package has its own branch (``core``, ``stix``,
``constituency``, ``auth``, ``feeds``, ``matching``, …) joined by ``depends_on``, and
``nca_share.db.upgrade`` migrates to ``heads``.
"""

from alembic import context

import nca_share.models  # noqa: F401  (registers every table on Base.metadata)
from nca_share.db import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from nca_share.config import load_settings
        from nca_share.db import make_engine

        engine = make_engine(load_settings().effective_database_url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
