"""The demo constituency covers sectors, sizes, NIS2 classes, maturity levels and both kinds
of partnership, and loading it twice changes nothing."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from sqlalchemy import select

from nca_share.config import Settings
from nca_share.constituency.demo import load_demo_constituency
from nca_share.constituency.models import Asset, Membership, Organisation, Partnership
from nca_share.db import Database

FEODO = (
    Path(__file__).resolve().parents[4]
    / "shared/data/csv-ioc-lists/abusech-feodotracker/ipblocklist.csv"
)


def test_demo_covers_the_spread(database: Database, settings: Settings) -> None:
    """Twelve organisations across classes and levels; assets verified and hitting demo intel."""
    with database.session() as session:
        created = load_demo_constituency(session, settings)
    assert created["organisations"] == 12
    with database.session() as session:
        orgs = list(session.scalars(select(Organisation)))
        assert {o.classification for o in orgs} == {
            "essential", "important", "registration_only", "out_of_scope"
        }  # fmt: skip
        assert {o.maturity_level for o in orgs} >= {"M0", "M1", "M2", "M3", "M4"}
        assert {o.size_class for o in orgs} >= {"micro", "small", "medium", "large"}
        assets = list(session.scalars(select(Asset)))
        assert all(a.status == "verified" for a in assets)
        kinds = {p.kind for p in session.scalars(select(Partnership))}
        assert kinds == {"sector", "regional"}
        assert len(list(session.scalars(select(Membership)))) == 5
        networks = [ipaddress.ip_network(a.value) for a in assets if a.kind == "cidr"]
    c2 = [
        ipaddress.ip_address(line.split('","')[1])
        for line in FEODO.read_text().splitlines()
        if line.startswith('"20')
    ]
    hit = {n for n in networks for ip in c2 if ip in n}
    assert len(hit) == len(networks)
    with database.session() as session:
        again = load_demo_constituency(session, settings)
    assert again == {"organisations": 0, "assets": 0, "partnerships": 0, "coordinators": 0}
