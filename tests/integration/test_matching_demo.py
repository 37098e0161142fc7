"""The demo seed matches the demo intelligence against the demo constituency: company pages
have notices with explanations, and seeding twice adds no matches or notices."""

from __future__ import annotations

from sqlalchemy import func, select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.demo.runner import seed_demo
from nca_share.matching.demo import run_demo_matching
from nca_share.matching.models import Match, Notice


def test_demo_has_matches_with_explanations(settings: Settings, database: Database) -> None:
    """After the demo seed there are network matches and notices with Dutch explanations;
    matching again changes no counts."""
    summary = seed_demo(settings, database)
    assert summary.steps["matching"]["matches"] > 0
    with database.session() as session:
        matches = session.scalar(select(func.count()).select_from(Match))
        notices = list(session.scalars(select(Notice)))
        dims = set(session.scalars(select(Match.dimension).distinct()))
    assert "network" in dims
    assert notices
    assert any("bevat" in n.explanation_nl or "omvat" in n.explanation_nl for n in notices)
    run_demo_matching(settings, database)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Match)) == matches
        assert session.scalar(select(func.count()).select_from(Notice)) == len(notices)
