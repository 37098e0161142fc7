"""The analyst feed-health page: every feed with its health (last success, last error, objects
added, lag, back-off), a small server-rendered SVG chart of objects added per day per feed, and
the latest warning-list suppressions. Analysts, reviewers and operators only (others: 404).
Feed text is only ever rendered autoescaped."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from nca_share.access.principal import Principal
from nca_share.feeds.chart import objects_per_day_svg
from nca_share.feeds.service import FeedService
from nca_share.web.context import db_session, get_clock, get_settings
from nca_share.web.nav import NavItem
from nca_share.web.session import current_principal
from nca_share.web.views.account import login_required

bp = Blueprint("feeds", __name__, url_prefix="/feeds", template_folder="templates")

STAFF = frozenset({"analyst", "reviewer", "operator"})
CHART_DAYS = 14


def _is_staff(principal: Principal) -> bool:
    return bool(STAFF & set(principal.roles))


NAV = (NavItem("feeds.health", _l("Feeds"), visible=_is_staff),)


@bp.get("/")
@login_required
def health() -> ResponseReturnValue:
    """Feed health table, chart and recent suppressions."""
    if not _is_staff(current_principal()):
        abort(404)
    service = FeedService(db_session(), get_settings(), get_clock())
    now = get_clock().now()
    rows = service.all()
    feeds = [{**service.describe(feed), "row": feed} for feed in rows]
    per_day = service.added_per_day(now - timedelta(days=CHART_DAYS))
    chart = Markup(  # noqa: S704 - every text piece is escaped in objects_per_day_svg
        objects_per_day_svg(
            per_day, end=now.date(), days=CHART_DAYS, title=_("Objects added per day per feed")
        )
    )
    return render_template(
        "feeds/health.html",
        feeds=feeds,
        chart=chart,
        suppressions=service.suppressions(limit=50),
        names={f["id"]: f["name"] for f in feeds},
        lag=_lag,
    )


def _lag(seconds: int | None) -> str:
    """A lag in words: minutes, hours or days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return str(_("%(n)d min", n=max(seconds // 60, 0)))
    if seconds < 2 * 86400:
        return str(_("%(n)d h", n=seconds // 3600))
    return str(_("%(n)d days", n=seconds // 86400))
