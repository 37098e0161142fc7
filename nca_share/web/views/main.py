"""The start page and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from nca_share.web.app import LANGUAGES
from nca_share.web.session import current_user, set_user_locale

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The start page."""
    return render_template("index.html")


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    """Switch the UI language; remembered in the session and the user's profile."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["locale"] = lang
        if current_user() is not None:
            set_user_locale(lang)
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target
