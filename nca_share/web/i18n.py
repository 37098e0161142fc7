"""Language and time zone: Dutch by default, English by choice, times in Europe/Amsterdam.

The locale comes from the session (set by the language switch), else from the signed-in
user's profile, else the default (``nl``). Browser ``Accept-Language`` is deliberately not
used: the platform is Dutch-first. Times are stored in UTC and shown in ``settings.timezone``.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, g, session
from flask_babel import Babel, format_datetime

from nca_share.web.app import LANGUAGES

babel = Babel()


def init_app(app: Flask) -> None:
    """Configure flask-babel with the locale selector and the Jinja helpers."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_language"] = select_locale
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def select_locale() -> str:
    """The language of the current request."""
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return str(chosen)
    user_locale = getattr(g.get("user"), "locale", None)
    if user_locale in LANGUAGES:
        return str(user_locale)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def localtime(value: datetime | None, fmt: str = "medium") -> str:
    """Format a UTC datetime in the configured time zone and the request's language."""
    if value is None:
        return "—"
    return str(format_datetime(value, fmt))
