"""The scenario suite of ``tests/data/scenarios/``: precision and recall of the matcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from nca_share.config import Settings
from nca_share.db import Database
from tests.unit.matching.scenario import run, scenario_paths

PATHS = scenario_paths()


def test_suite_covers_every_dimension() -> None:
    """The scenarios together expect matches on every dimension."""
    import json

    dims = set()
    for path in PATHS:
        dims |= {row[2] for row in json.loads(path.read_text())["expected"]}
    assert dims >= {"network", "product", "sector", "nis2", "region", "partnership"}


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_scenario(database: Database, settings: Settings, path: Path) -> None:
    """Every expected match is found, nothing else (precision and recall 1.0), notices as
    expected."""
    outcome = run(database, settings, path)
    true_pos = outcome.expected & outcome.actual
    precision = len(true_pos) / len(outcome.actual) if outcome.actual else 1.0
    recall = len(true_pos) / len(outcome.expected) if outcome.expected else 1.0
    assert (
        sorted(outcome.actual - outcome.expected),
        sorted(outcome.expected - outcome.actual),
    ) == ([], [])
    assert precision == recall == 1.0
    if outcome.expected_notices is not None:
        assert outcome.notices == outcome.expected_notices
