"""The demo that ``make run`` loads: complete, idempotent, on every backend."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.demo.runner import ensure_local_secret, format_accounts, seed_demo


def test_seed_demo_is_complete_and_idempotent(settings: Settings, database: Database) -> None:
    """A second seed adds nothing; staff accounts come with a working second factor."""
    from nca_share.auth.models import User
    from nca_share.constituency.models import Organisation, Partnership
    from nca_share.stix.models import StixObject

    settings = ensure_local_secret(settings.model_copy(update={"secret_key": ""}))
    first = seed_demo(settings, database)
    with database.session() as session:
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (User, Organisation, Partnership, StixObject)
        }
    assert counts["Organisation"]
    assert counts["Organisation"] >= 10
    assert counts["Partnership"] == 2
    assert counts["StixObject"]
    assert counts["StixObject"] > 100
    assert first.steps["stix"]["quarantined"] == 0

    from nca_share.matching.models import Notice

    with database.session() as session:
        notices = sorted(session.execute(select(Notice.id, Notice.repeat_count)).all())
    assert notices
    second = seed_demo(settings, database)
    with database.session() as session:
        again = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (User, Organisation, Partnership, StixObject)
        }
    assert again == counts
    assert second.steps["stix"]["new_versions"] == 0
    assert second.steps["matching"] == "nothing new to match"
    with database.session() as session:
        assert sorted(session.execute(select(Notice.id, Notice.repeat_count)).all()) == notices
    assert second.accounts == first.accounts
    staff = [a for a in first.accounts if "analyst" in a["roles"]]
    assert staff
    assert staff[0]["totp_secret"]
    assert len(staff[0]["recovery_codes"]) == 3
    assert "analyst@nca-demo.nl" in format_accounts(first)
    stored = json.loads((settings.data_dir / "demo-accounts.json").read_text())
    assert set(stored) == {a["email"] for a in first.accounts}


def test_local_secret_is_stable(plain_settings: Settings) -> None:
    """The embedded secret key is generated once, kept private, and reused."""
    empty = plain_settings.model_copy(update={"secret_key": ""})
    one = ensure_local_secret(empty)
    two = ensure_local_secret(empty)
    assert one.secret_key
    assert one.secret_key == two.secret_key
    mode = (plain_settings.data_dir / "secret_key").stat().st_mode & 0o777
    assert mode == 0o600
