"""The web shell: the Flask application factory, server-rendered pages, security headers,
i18n wiring and the per-request database session. Adapters only: business rules live in the
services (``nca_share.auth``, ``nca_share.access``, ``nca_share.stix`` …).

How other packages plug in (one line each, in ``nca_share/web/app.py``):

- a page blueprint or a flask-smorest API blueprint: add ``"package.module:bp"`` to
  ``BLUEPRINTS``; a module may also define ``NAV = (NavItem(...),)`` for header links;
- a translation domain: add its name to ``TRANSLATION_DOMAINS`` and put the catalogue in
  ``nca_share/translations/<lang>/LC_MESSAGES/<domain>.po`` (+ the compiled ``.mo``).
"""

from nca_share.web.app import create_app

__all__ = ["create_app"]
