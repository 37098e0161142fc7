"""Stored codes are shown as words in the user's language."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale

from nca_share.constituency.labels import LABELS, label


def test_labels_follow_the_language(app: Flask) -> None:
    """Dutch by default, English by choice; unknown values are shown as stored."""
    with app.test_request_context("/"):
        with force_locale("nl"):
            assert label("size", "large") == "grote onderneming"
            assert label("contact_role", "24x7") == "24/7-contactpersoon"
            assert label("mode", "weekly") == "wekelijks overzicht"
        with force_locale("en"):
            assert label("size", "large") == "large enterprise"
        assert label("size", "gigantic") == "gigantic"
        assert label("size", None) == "—"


def test_every_label_has_a_dutch_translation(app: Flask) -> None:
    """No label falls back to its English message id in Dutch (except names like TAXII)."""
    same_in_both = {"webhook", "inbox", "TAXII", "e-mail", "product", "urgent"}
    with app.test_request_context("/"), force_locale("nl"):
        untranslated = [
            str(text)
            for group in LABELS.values()
            for text in group.values()
            if str(text) == text._args[0] and str(text) not in same_in_both
        ]
    assert untranslated == []
