"""Per-app and per-request plumbing: settings, the database and its request session.

Views call ``db_session()`` for a session bound to the current request; it is closed (and
rolled back if nothing committed) when the request ends. Services own their commits.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.db import Database


def init_app(app: Flask) -> None:
    """Close the request session at the end of every request."""
    app.extensions.setdefault("nca_share.clock", SystemClock())
    app.teardown_appcontext(_close_session)
    app.jinja_env.globals["now"] = lambda: get_clock().now()


def get_settings() -> Settings:
    """The settings the current app was built with."""
    return cast(Settings, current_app.extensions["nca_share.settings"])


def get_clock() -> Clock:
    """The clock services should use (tests may replace ``app.extensions['nca_share.clock']``)."""
    return cast(Clock, current_app.extensions["nca_share.clock"])


def get_database() -> Database:
    """The app's database, migrated to head on first use (idempotent, thread-safe)."""
    database = cast(Database, current_app.extensions["nca_share.db"])
    database.upgrade()
    return database


def db_session() -> Session:
    """The SQLAlchemy session of the current request (created on first use)."""
    session = g.get("_nca_db_session")
    if session is None:
        session = get_database().sessionmaker()
        g._nca_db_session = session
    return cast(Session, session)


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("_nca_db_session", None)
    if session is not None:
        session.close()
