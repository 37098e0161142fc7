"""Translation catalogues: every .po compiles, committed .mo files match, nl is complete."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask

from nca_share.web.app import LANGUAGES, TRANSLATION_DOMAINS, TRANSLATIONS_DIR
from nca_share.web.i18n import localtime

PO_FILES = sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"))


def _messages(catalog: object) -> dict[object, object]:
    return {m.id: m.string for m in catalog if m.id}  # type: ignore[attr-defined]


def test_there_are_catalogues_for_every_language() -> None:
    """The web domain has a catalogue for each offered language."""
    for lang in LANGUAGES:
        assert (TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "web.po").exists()


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_po_compiles_and_committed_mo_matches(po_path: Path) -> None:
    """Each .po compiles without errors and its committed .mo holds the same messages."""
    domain = po_path.stem
    assert domain in TRANSLATION_DOMAINS, f"{domain} is not registered in TRANSLATION_DOMAINS"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=po_path.parent.parent.name, domain=domain)
    errors = [(m.id, err) for m, errs in catalog.check() for err in errs]
    assert errors == []
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # compiles
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is not compiled (pybabel compile) or not committed"
    with mo_path.open("rb") as fh:
        committed = read_mo(fh)
    expected = {k: v for k, v in _messages(catalog).items() if v and not _fuzzy(catalog, k)}
    assert {k: v for k, v in _messages(committed).items() if v} == expected


def _fuzzy(catalog: object, msgid: object) -> bool:
    message = catalog.get(msgid)  # type: ignore[attr-defined]
    return bool(message and message.fuzzy)


def test_dutch_web_catalogue_is_complete() -> None:
    """Every UI string of the web domain has a Dutch translation (Dutch is the default)."""
    with (TRANSLATIONS_DIR / "nl" / "LC_MESSAGES" / "web.po").open("rb") as fh:
        catalog = read_po(fh, locale="nl", domain="web")
    untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_times_are_shown_in_amsterdam(app: Flask) -> None:
    """A UTC time is shown in Europe/Amsterdam (CET in winter, CEST in summer)."""
    with app.test_request_context("/"):
        winter = localtime(datetime(2026, 1, 15, 12, 0, tzinfo=UTC), "yyyy-MM-dd HH:mm")
        summer = localtime(datetime(2026, 7, 15, 12, 0, tzinfo=UTC), "yyyy-MM-dd HH:mm")
    assert winter == "2026-01-15 13:00"
    assert summer == "2026-07-15 14:00"
