"""Web pages of matching: the recipient preview for analysts, an organisation's notices and
matches with their explanations, and the notices section on the company page (the
constituency template includes ``matching/_org_section.html``; the data comes from the
``matching_section`` context function below, filtered by the access policy).

Adapters only; every text from feeds is rendered autoescaped.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from nca_share.access import AccessPolicy, Principal
from nca_share.constituency.models import Organisation
from nca_share.matching.engine import Criteria
from nca_share.matching.live import live_index
from nca_share.matching.models import Match
from nca_share.matching.notices import NoticeService
from nca_share.matching.preview import PreviewService
from nca_share.web.context import db_session, get_clock, get_database, get_settings
from nca_share.web.i18n import select_locale
from nca_share.web.nav import NavItem
from nca_share.web.session import current_principal
from nca_share.web.views.account import login_required

bp = Blueprint("matching", __name__, url_prefix="/matching", template_folder="templates")

NAV = (NavItem("matching.preview", _l("Recipients"), visible=lambda p: bool(p.is_staff)),)

_TLP = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")


def _may_see_org(principal: Principal, org_id: int) -> bool:
    return bool(principal.is_staff or org_id in principal.organisation_ids)


def _split(name: str) -> tuple[str, ...]:
    raw = request.args.get(name, "")[:4000]
    return tuple(x.strip() for x in raw.replace("\n", ",").split(",") if x.strip())[:200]


def org_section(org_id: int, limit: int = 20) -> dict[str, Any]:
    """Notices and matches of one organisation visible to the current principal."""
    principal = current_principal()
    if not _may_see_org(principal, org_id):
        return {"notices": [], "matches": [], "lang": select_locale()}
    session = db_session()
    notices = NoticeService(session, get_settings()).visible_for(
        principal, organisation_id=org_id, limit=limit
    )
    matches = list(
        session.scalars(
            select(Match)
            .where(
                Match.organisation_id == org_id,
                AccessPolicy(session).filter(principal, Match.tlp, Match.stix_id),
            )
            .order_by(Match.last_seen.desc(), Match.id.desc())
            .limit(limit)
        )
    )
    return {"notices": notices, "matches": matches, "lang": select_locale()}


@bp.app_context_processor
def _context() -> dict[str, Any]:
    return {"matching_section": org_section, "tlp_label": lambda n: _TLP[n] if 0 <= n < 5 else "?"}


@bp.get("/organisations/<int:org_id>")
@login_required
def organisation(org_id: int) -> ResponseReturnValue:
    """All visible notices and matches of one organisation."""
    principal = current_principal()
    org = db_session().get(Organisation, org_id)
    if org is None or not _may_see_org(principal, org_id):
        abort(404)
    return render_template("matching/organisation.html", org=org, section=org_section(org_id, 200))


@bp.get("/preview")
@login_required
def preview() -> ResponseReturnValue:
    """Who would receive these objects: counts per dimension, sector, NIS2 class, maturity
    level and partnership, and the reasons per organisation (analysts only)."""
    principal = current_principal()
    if not principal.is_staff:
        abort(404)
    ids = _split("ids")
    criteria = Criteria(
        sectors=_split("sectors"),
        nis2=_split("nis2"),
        regions=_split("regions"),
        products=_split("products"),
    )
    result = None
    if ids or not criteria.is_empty():
        service = PreviewService(
            db_session(),
            live_index(get_database()),
            clock=get_clock(),
            timezone=get_settings().timezone,
        )
        result = service.preview(ids, criteria, locale=select_locale())
    return render_template(
        "matching/preview.html",
        result=result,
        form={
            k: request.args.get(k, "")[:4000]
            for k in ("ids", "sectors", "nis2", "regions", "products")
        },
    )
