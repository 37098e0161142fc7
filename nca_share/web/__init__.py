"""The web shell: the Flask application factory, server-rendered pages, security headers,
i18n wiring and the per-request database session. Adapters only: business rules live in the
services (``nca_share.auth``, ``nca_share.access``, ``nca_share.stix`` …).

How other packages plug in (each a one-line registry edit in ``nca_share/web/app.py``):

- **A blueprint** (pages or API): add ``"package.module:bp"`` to ``BLUEPRINTS``. A plain
  ``flask.Blueprint`` is registered on the app; a ``flask_smorest.Blueprint`` (``url_prefix``
  under ``/api/v1``) through the API, so it appears in ``/api/v1/openapi.json``; document its
  errors with ``nca_share.api.errors(blp, 401, 403, 404)`` and guard it with
  ``nca_share.api.auth.requires("scope")``.
- **A header link**: in the same module define ``NAV = (NavItem("endpoint", _l("Label"),
  visible=lambda principal: ...),)`` (``nca_share.web.nav.NavItem``; without ``visible``
  the link shows for every signed-in user).
- **A translation domain**: add its name to ``TRANSLATION_DOMAINS`` and keep the catalogues in
  ``nca_share/translations/<lang>/LC_MESSAGES/<domain>.po`` with the compiled ``.mo`` committed
  (see ``nca_share/translations/README.md``). All domains merge into one catalogue per request,
  so ``_()``/``_l()`` work everywhere; msgids are English, the ``nl`` catalogue is Dutch.

Helpers for views: ``context.db_session()`` (request session; services never commit, views
do), ``services.auth_service()/audit_log()/access_policy()/mailer()``,
``session.current_user()/current_principal()``, ``views.account.login_required``,
``stix_reads.StixReads`` (TLP-filtered STIX reads), ``i18n.select_locale()`` and the Jinja
filter ``localtime`` (UTC in, Europe/Amsterdam out). Every POST form must carry
``{{ form.csrf_token }}`` (or ``csrf_token()``); errors are rendered once in ``errors.py``.
"""

from nca_share.web.app import create_app

__all__ = ["create_app"]
