"""The object explorer: search and browse the STIX store, and one page per object with its
versions, markings, relationships, observables and raw JSON.

Who may use it: every signed-in user. Analysts, reviewers and operators see everything up to
AMBER+STRICT (and RED where named); organisation members and coordinators see only what TLP
allows them (``nca_share.access``). Every read goes through ``StixReads``. Feed text is
only ever rendered autoescaped; external-reference URLs become links only for http(s).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from nca_share.access import TLP_NAMES
from nca_share.errors import NotFound, ValidationError
from nca_share.stix.store import MAX_LIMIT
from nca_share.web.context import db_session
from nca_share.web.forms import ExplorerFilterForm
from nca_share.web.nav import NavItem
from nca_share.web.session import current_principal
from nca_share.web.stix_reads import ObjectFilter, StixReads
from nca_share.web.views.account import login_required
from nca_share.web.views.operator import local_day_start

bp = Blueprint("explorer", __name__, url_prefix="/objects")

NAV = (NavItem("explorer.search", _l("Objects"), order=10),)

PAGE_SIZE = 50


def _reads() -> StixReads:
    return StixReads(db_session(), current_principal())


def safe_link(url: Any) -> str | None:
    """``url`` if it is an absolute http(s) URL, else None (shown as text, never a link)."""
    if not isinstance(url, str) or len(url) > 4000:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


@bp.app_template_filter("tlp_name")
def tlp_name(rank: int | None) -> str:
    """The TLP label of a rank (never translated)."""
    if rank is None or not 0 <= rank < len(TLP_NAMES):
        return "?"
    return TLP_NAMES[rank]


@bp.get("")
@login_required
def search() -> ResponseReturnValue:
    """Search visible objects by type, name, TLP, source and date added."""
    reads = _reads()
    form = ExplorerFilterForm(request.args)
    form.type.choices = [("", _l("All types")), *((t, t) for t in reads.types())]
    form.tlp.choices = [("", _l("Any TLP")), *((str(i), n) for i, n in enumerate(TLP_NAMES))]
    form.validate()
    tlp = request.args.get("tlp", type=int)
    flt = ObjectFilter(
        types=(form.type.data,) if form.type.data else (),
        text=(form.q.data or "").strip() or None,
        tlp=tlp if tlp is not None and 0 <= tlp < len(TLP_NAMES) else None,
        source=(form.source.data or "").strip() or None,
        added_from=local_day_start(form.added_from.data)
        if form.added_from.data and not form.added_from.errors
        else None,
        added_before=local_day_start(form.added_until.data + timedelta(days=1))
        if form.added_until.data and not form.added_until.errors
        else None,
        include_revoked=bool(form.include_revoked.data),
    )
    cursor = request.args.get("cursor") or None
    try:
        page = reads.search(flt, limit=min(PAGE_SIZE, MAX_LIMIT), cursor=cursor)
    except ValidationError:
        abort(400)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "cursor" and v}
    next_url = (
        url_for("explorer.search", cursor=page.next_cursor, **args) if page.next_cursor else None
    )
    first_url = url_for("explorer.search", **args) if cursor else None
    return render_template(
        "explorer/search.html",
        form=form,
        objects=page.items,
        next_url=next_url,
        first_url=first_url,
    )


@bp.get("/<stix_id>")
@login_required
def detail(stix_id: str) -> ResponseReturnValue:
    """One object: properties, TLP and markings, versions, relationships, observables, JSON."""
    reads = _reads()
    try:
        obj = reads.get(stix_id)
    except NotFound:
        abort(404)
    raw = obj.raw if isinstance(obj.raw, dict) else {}
    references = []
    for ref in raw.get("external_references") or []:
        if isinstance(ref, dict):
            references.append(
                {
                    "source_name": ref.get("source_name"),
                    "external_id": ref.get("external_id"),
                    "description": ref.get("description"),
                    "url": ref.get("url"),
                    "link": safe_link(ref.get("url")),
                }
            )
    return render_template(
        "explorer/detail.html",
        obj=obj,
        description=raw.get("description"),
        references=references,
        versions=reads.versions(stix_id),
        neighbours=reads.neighbours(stix_id),
        observables=reads.observables(stix_id),
        raw_json=json.dumps(raw, indent=2, ensure_ascii=False, sort_keys=True),
    )
