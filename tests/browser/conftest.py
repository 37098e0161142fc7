"""Browser tests run on SQLite only: they exercise the pages and the browser, not the
database backend (the same flows run on both backends through the test client)."""

from __future__ import annotations

import pytest


@pytest.fixture
def backend_name() -> str:
    """Always SQLite for browser tests."""
    return "sqlite"
