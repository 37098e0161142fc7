"""Shared fixtures: settings, a migrated database on every backend, a clean environment.

Database tests run once per backend: SQLite always, PostgreSQL when
``NCA_SHARE_TEST_DATABASE_URL`` is set (``.ci/run`` sets it, so there it is mandatory).
The schema is migrated once per session per backend; each test then gets an empty
database: a fresh copy of the migrated SQLite file, or the PostgreSQL test schema with every
table truncated after the test. Tests may commit freely and use several connections,
threads or processes (the URL is real).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from nca_share.config import Settings, load_settings
from nca_share.db import Base, Database, make_engine, upgrade

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
PG_ENV = "NCA_SHARE_TEST_DATABASE_URL"

# No wall-clock limits in tests: Hypothesis' default 200 ms deadline per example fails at
# random on a busy machine (e.g. the first example pays for a lazy import).
hypothesis_settings.register_profile("nca_share", deadline=None)
hypothesis_settings.load_profile("nca_share")

# Shared plugins from tests/fixtures/: add one line per module.
pytest_plugins: list[str] = [
    "tests.fixtures.web",
    "tests.fixtures.dns",
    "tests.fixtures.smtp",
    "tests.fixtures.taxii",
]


def pytest_report_header(config: pytest.Config) -> list[str]:
    pg = os.environ.get(PG_ENV)
    return [f"nca_share: PostgreSQL tests {'ON at ' + pg if pg else 'skipped (no ' + PG_ENV + ')'}"]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No NCA_SHARE_* variable or local config file from the developer's shell leaks in."""
    for key in list(os.environ):
        if key.startswith("NCA_SHARE_") and key != PG_ENV:
            monkeypatch.delenv(key)
    monkeypatch.setenv("NCA_SHARE_CONFIG_DIR", str(tmp_path / "no-config"))


class _Backend:
    """One migrated database per backend per test session."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        if name == "sqlite":
            self.template = root / "template.db"
            engine = make_engine(f"sqlite:///{self.template}")
            upgrade(engine)
            engine.dispose()
            self.base_url = ""
        else:
            base = os.environ[PG_ENV]
            self.schema = f"nca_test_{os.getpid()}_{secrets.token_hex(3)}"
            admin = make_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            sep = "&" if "?" in base else "?"
            self.base_url = f"{base}{sep}options=-csearch_path%3D{self.schema}"
            engine = make_engine(self.base_url)
            upgrade(engine)
            engine.dispose()
            self.admin_url = base

    def url_for(self, tmp_path: Path) -> str:
        if self.name == "sqlite":
            target = tmp_path / "nca_share.db"
            shutil.copyfile(self.template, target)
            return f"sqlite:///{target}"
        return self.base_url

    def reset(self) -> None:
        if self.name != "postgresql":
            return
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        engine = make_engine(self.base_url)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()

    def close(self) -> None:
        if self.name == "postgresql":
            admin = make_engine(self.admin_url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()


_BACKENDS: dict[str, _Backend] = {}


@pytest.fixture(scope="session")
def _backend_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, _Backend]]:
    yield _BACKENDS
    for backend in _BACKENDS.values():
        backend.close()
    _BACKENDS.clear()


def _get_backend(name: str, registry: dict[str, _Backend], factory: Any) -> _Backend:
    if name not in registry:
        registry[name] = _Backend(name, factory.mktemp(f"db-{name}"))
    return registry[name]


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ]
)
def backend_name(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run; PostgreSQL skips without a test URL."""
    name: str = request.param
    if name == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} to run these tests")
    return name


@pytest.fixture
def database_url(
    backend_name: str,
    _backend_registry: dict[str, _Backend],
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> Iterator[str]:
    """URL of an empty, migrated database for this test."""
    backend = _get_backend(backend_name, _backend_registry, tmp_path_factory)
    yield backend.url_for(tmp_path)
    backend.reset()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: its own data directory and database, loopback URLs allowed."""
    return load_settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        allow_private_urls=True,
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    """The migrated test database."""
    db = Database(settings)
    db._upgraded = True  # the backend fixture migrated it already
    yield db
    db.dispose()


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    """Settings for tests that need no database."""
    return load_settings(data_dir=tmp_path / "var", secret_key="test-secret-key-not-for-production")
