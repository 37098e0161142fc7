"""Operator pages: the audit log (filtered, newest first, paged) and users with their roles
(grant, revoke, disable, reset a lost second factor). Only operators reach these pages;
everyone else gets 404 so the pages do not advertise themselves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from functools import wraps
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from nca_share.access import Principal
from nca_share.auth.audit import AuditQuery
from nca_share.auth.models import Role
from nca_share.errors import NotFound, PermissionDenied, ValidationError
from nca_share.web.context import db_session, get_settings
from nca_share.web.forms import AuditFilterForm, ConfirmForm, RoleForm
from nca_share.web.nav import NavItem
from nca_share.web.services import audit_log, auth_service, client_ip
from nca_share.web.session import current_principal, current_user
from nca_share.web.views.account import login_required

bp = Blueprint("operator", __name__, url_prefix="/operator")

PAGE_SIZE = 50


def _is_operator(principal: Principal) -> bool:
    return principal.has_role(Role.OPERATOR)


NAV = (
    NavItem("operator.audit", _l("Audit log"), visible=_is_operator, order=80),
    NavItem("operator.users", _l("Users"), visible=_is_operator, order=81),
)

F = TypeVar("F", bound=Callable[..., Any])


def operator_required(view: F) -> F:
    """Operators only; others get 404."""

    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _is_operator(current_principal()):
            abort(404)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def local_day_start(day: Any) -> datetime:
    """Midnight of ``day`` in the display time zone, as UTC."""
    zone = ZoneInfo(get_settings().timezone)
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@bp.get("/audit")
@operator_required
def audit() -> ResponseReturnValue:
    """The audit log with filters on action, actor and date; newest first."""
    form = AuditFilterForm(request.args)
    form.validate()
    before = request.args.get("before", type=int)
    query = AuditQuery(
        action=(form.action.data or "").strip() or None,
        actor_email=(form.actor.data or "").strip() or None,
        since=local_day_start(form.since.data)
        if form.since.data and not form.since.errors
        else None,
        until=local_day_start(form.until.data + timedelta(days=1))
        if form.until.data and not form.until.errors
        else None,
        before_id=before,
        limit=PAGE_SIZE + 1,
    )
    entries = list(audit_log().list(query))
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "before" and v}
    next_url = (
        url_for("operator.audit", before=entries[-1].id, **args) if more and entries else None
    )
    return render_template("operator/audit.html", form=form, entries=entries, next_url=next_url)


@bp.get("/users")
@operator_required
def users() -> ResponseReturnValue:
    """Every user with roles and status."""
    form = RoleForm()
    form.role.choices = [(r.value, r.value) for r in Role]
    return render_template(
        "operator/users.html",
        users=auth_service().list_users(),
        role_form=form,
        confirm_form=ConfirmForm(),
    )


@bp.post("/users/<int:user_id>/roles")
@operator_required
def grant_role(user_id: int) -> ResponseReturnValue:
    """Grant a role (members name an organisation, coordinators a partnership)."""
    form = RoleForm()
    form.role.choices = [(r.value, r.value) for r in Role]
    if not form.validate():
        abort(400)
    service = auth_service()
    try:
        user = service.get_user(user_id)
        service.grant_role(
            user,
            form.role.data,
            organisation_id=form.organisation_id.data,
            partnership_id=form.partnership_id.data,
            actor=current_principal(),
            ip=client_ip(),
        )
    except NotFound:
        db_session().rollback()
        flash(_("That user, organisation or partnership does not exist."), "error")
    except ValidationError:
        db_session().rollback()
        flash(
            _("Members need an organisation, coordinators a partnership, staff roles neither."),
            "error",
        )
    else:
        db_session().commit()
        flash(_("Role granted."), "success")
    return redirect(url_for("operator.users"))


@bp.post("/users/<int:user_id>/roles/revoke")
@operator_required
def revoke_role(user_id: int) -> ResponseReturnValue:
    """Take a role away."""
    if not ConfirmForm().validate():
        abort(400)
    service = auth_service()
    try:
        service.revoke_role(
            service.get_user(user_id),
            request.form.get("role", ""),
            organisation_id=request.form.get("organisation_id", type=int),
            partnership_id=request.form.get("partnership_id", type=int),
            actor=current_principal(),
            ip=client_ip(),
        )
    except (NotFound, ValidationError):
        db_session().rollback()
        abort(404)
    db_session().commit()
    flash(_("Role revoked."), "success")
    return redirect(url_for("operator.users"))


@bp.post("/users/<int:user_id>/disable")
@operator_required
def toggle_disabled(user_id: int) -> ResponseReturnValue:
    """Disable or re-enable an account (not your own)."""
    if not ConfirmForm().validate():
        abort(400)
    service = auth_service()
    try:
        user = service.get_user(user_id)
    except NotFound:
        abort(404)
    me = current_user()
    if me is not None and me.id == user.id:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("operator.users"))
    service.set_disabled(user, not user.disabled, actor=current_principal(), ip=client_ip())
    db_session().commit()
    flash(_("Account updated."), "success")
    return redirect(url_for("operator.users"))


@bp.post("/users/<int:user_id>/reset-totp")
@operator_required
def reset_totp(user_id: int) -> ResponseReturnValue:
    """Clear a lost second factor; the user enrols again at the next login."""
    if not ConfirmForm().validate():
        abort(400)
    service = auth_service()
    try:
        service.reset_totp(service.get_user(user_id), actor=current_principal(), ip=client_ip())
    except (NotFound, PermissionDenied):
        db_session().rollback()
        abort(404)
    db_session().commit()
    flash(_("Two-factor authentication reset."), "success")
    return redirect(url_for("operator.users"))
