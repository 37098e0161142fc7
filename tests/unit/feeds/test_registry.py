"""Feed registry: validation, secrets at rest, the catalogue reconciled on scheduler start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.errors import Conflict, ValidationError
from nca_share.feeds import jobs
from nca_share.feeds.models import Feed
from nca_share.feeds.secrets import SecretBox
from nca_share.feeds.service import FeedInput, FeedService
from nca_share.feeds.sources import SOURCE_TYPES

CATALOGUE = Path(__file__).resolve().parents[3] / "config" / "feeds.toml"


def test_secrets_encrypted_at_rest_and_never_described(
    database: Database, settings: Settings
) -> None:
    """The password is stored as a Fernet token, opens with the key, and shows as 'set'."""
    with database.session() as session:
        feed = FeedService(session, settings).add(
            FeedInput(
                name="t",
                type="taxii21",
                url="https://taxii.example/api/",
                auth_type="basic",
                auth_config={"username": "u"},
                secrets={"password": "hunter2-secret"},
            )
        )
        described = FeedService(session, settings).describe(feed)
    assert described["secrets"] == "set"
    assert "hunter2-secret" not in str(described)
    with database.engine.connect() as conn:
        stored = conn.execute(text("SELECT secrets_encrypted FROM feeds")).scalar_one()
    assert "hunter2" not in stored
    assert SecretBox(settings).open(stored) == {"password": "hunter2-secret"}


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"type": "ftp"}, "type"),
        ({"url": None}, "url"),
        ({"default_tlp": "PURPLE"}, "tlp"),
        ({"reliability": "G"}, "reliability"),
        ({"interval_s": 5}, "interval_s"),
        ({"auth_type": "bearer", "secrets": {"password": "x"}}, "secrets"),
        ({"config": {"colour": 1}}, "config"),
        ({"type": "stix-file", "auth_type": "bearer", "secrets": {"token": "t"}}, "auth_type"),
    ],
)
def test_bad_feeds_are_refused(
    database: Database, settings: Settings, changes: dict[str, object], location: str
) -> None:
    """Each bad field is refused with its location."""
    base: dict[str, object] = {"name": "x", "type": "stix-url", "url": "https://e.example/b"}
    with database.session() as session, pytest.raises(ValidationError) as err:
        FeedService(session, settings).add(FeedInput(**{**base, **changes}))  # type: ignore[arg-type]
    assert err.value.location == location


def test_duplicate_name_conflicts(database: Database, settings: Settings) -> None:
    """Two feeds cannot share a name."""
    with database.session() as session:
        service = FeedService(session, settings)
        service.add(FeedInput(name="x", type="stix-url", url="https://e.example/b"))
        with pytest.raises(Conflict):
            service.add(FeedInput(name="x", type="stix-url", url="https://e.example/c"))


def test_every_source_type_declares_itself() -> None:
    """The explicit registry: slug matches, a title and a config schema per class."""
    for slug, cls in SOURCE_TYPES.items():
        assert cls.slug == slug
        assert cls.title
        assert isinstance(cls.config_schema, dict)
        assert isinstance(cls.secret_fields, tuple)


def test_shipped_catalogue_reconciles(database: Database, settings: Settings) -> None:
    """config/feeds.toml is valid; reconciling twice changes nothing; removed entries disable."""
    with database.session() as session:
        names = FeedService(session, settings).reconcile_catalogue(CATALOGUE)
        assert names
    with database.session() as session:
        assert FeedService(session, settings).reconcile_catalogue(CATALOGUE) == names
        feeds = session.scalars(select(Feed)).all()
        assert {f.name for f in feeds} == set(names)
        assert not any(f.enabled for f in feeds)


def test_scheduler_start_reconciles_catalogue_once(
    database: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schedule provider's first call reconciles the catalogue; later edits to a hand-made
    feed are left alone and a dropped catalogue entry is disabled on the next start."""
    config = tmp_path / "conf"
    config.mkdir()
    catalogue = config / "feeds.toml"
    catalogue.write_text(
        '[[feed]]\nname = "cat"\ntype = "stix-url"\nurl = "https://e.example/x"\ninterval_s = 600\n'
    )
    monkeypatch.setenv("NCA_SHARE_CONFIG_DIR", str(config))
    monkeypatch.setattr(jobs, "_RECONCILED", set())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with database.session() as session:
        FeedService(session, settings).add(
            FeedInput(name="manual", type="stix-url", url="https://e.example/m")
        )
    with database.session() as session:
        due = list(jobs.due_feed_jobs(session, now))
    assert len(due) == 2
    catalogue.write_text("")
    with database.session() as session:
        list(jobs.due_feed_jobs(session, now))
        assert FeedService(session, settings).get("cat").enabled  # once per process
    monkeypatch.setattr(jobs, "_RECONCILED", set())
    with database.session() as session:
        list(jobs.due_feed_jobs(session, now))
    with database.session() as session:
        service = FeedService(session, settings)
        assert not service.get("cat").enabled
        assert service.get("manual").enabled


def test_defaults_lifetime_and_confidence() -> None:
    """Lifetime only for indicators without valid_until; confidence only for SDOs/SROs
    lacking one; inputs are not changed."""
    from nca_share.feeds.service import apply_defaults

    objects: list[dict[str, Any]] = [
        {"type": "indicator", "id": "indicator--1", "valid_from": "2025-01-01T00:00:00Z"},
        {
            "type": "indicator",
            "id": "indicator--2",
            "valid_from": "2025-01-01T00:00:00Z",
            "valid_until": "2025-01-02T00:00:00Z",
            "confidence": 10,
        },
        {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "1.2.3.4"},
    ]
    out = apply_defaults(objects, 10, 75)
    assert out[0]["valid_until"] == "2025-01-11T00:00:00.000Z"
    assert out[0]["confidence"] == 75
    assert (out[1]["valid_until"], out[1]["confidence"]) == ("2025-01-02T00:00:00Z", 10)
    assert "confidence" not in out[2]
    assert "valid_until" not in objects[0]
