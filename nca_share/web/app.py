"""The Flask application factory and the registries other packages extend.

``create_app`` only wires: configuration, extensions' ``init_app`` and blueprints. It does
not migrate, connect, sleep or start threads; the database is migrated lazily on first use
(``nca_share.web.context.get_database``) and ``nca-share serve`` migrates before serving.
"""

from __future__ import annotations

import importlib
import logging
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask
from werkzeug.routing import IntegerConverter, Map

from nca_share.config import Settings, load_settings
from nca_share.db import Database

log = logging.getLogger(__name__)

#: Every blueprint of the application, as ``"module:attribute"``. flask-smorest blueprints
#: (``flask_smorest.Blueprint``) are registered through the API so they appear in the
#: OpenAPI document; plain Flask blueprints are registered on the app. Add ONE line per
#: blueprint. A module may also define ``NAV`` (a tuple of ``NavItem``) for the header.
BLUEPRINTS: tuple[str, ...] = (
    "nca_share.web.views.health:bp",
    "nca_share.web.views.main:bp",
    "nca_share.web.views.auth:bp",
    "nca_share.web.views.account:bp",
    "nca_share.web.views.operator:bp",
    "nca_share.web.views.explorer:bp",
    "nca_share.api.me:blp",
    "nca_share.api.stix:blp",
    "nca_share.api.audit:blp",
    "nca_share.api.organisations:blp",
    "nca_share.api.constituency:blp",
    "nca_share.constituency.views:bp",
    "nca_share.feeds.views:bp",
    "nca_share.api.feeds:blp",
    "nca_share.matching.views:bp",
    "nca_share.api.matching:blp",
)

#: gettext domains, one per package, merged into one catalogue per request. Each lives in
#: ``nca_share/translations/<lang>/LC_MESSAGES/<domain>.po`` (and its committed ``.mo``).
TRANSLATION_DOMAINS: tuple[str, ...] = ("web", "constituency", "feeds", "matching")

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

#: Languages the UI offers; the first is the default.
LANGUAGES: tuple[str, ...] = ("nl", "en")


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> Flask:
    """Build the WSGI application.

    :param settings: the platform settings (``load_settings()`` when omitted).
    :param database: an existing ``Database`` to use (tests pass their migrated one);
        otherwise one is built from ``settings`` and migrated on first use.
    """
    settings = settings or load_settings()
    from nca_share.web.request import NcaRequest

    app = Flask(__name__)
    app.request_class = NcaRequest
    _configure(app, settings)
    app.extensions["nca_share.settings"] = settings
    app.extensions["nca_share.db"] = database or Database(settings)

    from nca_share.api import init_api
    from nca_share.web import context, errors, i18n, security, session
    from nca_share.web.extensions import csrf

    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    context.init_app(app)
    session.init_app(app)
    errors.init_app(app)
    api = init_api(app)

    from flask_smorest import Blueprint as ApiBlueprint

    from nca_share.web.nav import NavItem, nav_items

    app.jinja_env.globals["nav_items"] = nav_items

    nav: list[NavItem] = []
    for dotted in BLUEPRINTS:
        module_name, _, attr = dotted.partition(":")
        module = importlib.import_module(module_name)
        blueprint = getattr(module, attr)
        if isinstance(blueprint, ApiBlueprint):
            api.register_blueprint(blueprint)
        elif isinstance(blueprint, Blueprint):
            app.register_blueprint(blueprint)
        else:
            raise TypeError(f"{dotted} is not a Flask blueprint")
        nav.extend(getattr(module, "NAV", ()))
    app.extensions["nca_share.nav"] = tuple(sorted(nav, key=lambda item: item.order))
    return app


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to 32-bit database ids by default: a larger number in a URL is
    simply "not found" (and documented as such) instead of overflowing a query."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = 2**31 - 1,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def _configure(app: Flask, settings: Settings) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    secret = settings.secret_key
    if not secret:
        # No working default credentials: without a configured key every process gets a
        # random one, so sessions simply do not survive a restart.
        log.warning("NCA_SHARE_SECRET_KEY is not set; using a random key for this process")
        secret = secrets.token_urlsafe(48)
    https = settings.base_url.lower().startswith("https://")
    directories = ";".join(str(TRANSLATIONS_DIR) for _ in TRANSLATION_DOMAINS)
    app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME="nca_share_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        PREFERRED_URL_SCHEME="https" if https else "http",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        # CSRF is checked explicitly in a before_request hook so bearer-token API calls
        # can be exempt while browser (cookie) requests never are.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=https,
        BABEL_DEFAULT_LOCALE=LANGUAGES[0]
        if settings.default_locale not in LANGUAGES
        else settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_DOMAIN=";".join(TRANSLATION_DOMAINS),
        BABEL_TRANSLATION_DIRECTORIES=directories,
        API_TITLE="nca_share API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
