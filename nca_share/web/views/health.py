"""``/healthz`` (the process answers) and ``/readyz`` (the database answers)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from nca_share.db import Database

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: always 200 while the process serves requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: 200 when the database answers a query, else 503 (no migration here)."""
    database: Database = current_app.extensions["nca_share.db"]
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not ready"; the reason goes to the log
        log.warning("readiness check failed", exc_info=True)
        return jsonify(status="unavailable", checks={"database": "error"}), 503
    return jsonify(status="ok", checks={"database": "ok"})
