"""The signed-in user's own account: profile, two-factor enrolment (recovery codes shown
once), API tokens (created and shown once, revoked)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from nca_share.auth.models import User
from nca_share.auth.scopes import SCOPES, allowed_scopes
from nca_share.errors import AuthenticationError, Conflict, PermissionDenied, ValidationError
from nca_share.web.context import db_session
from nca_share.web.forms import ConfirmForm, PasswordChangeForm, TokenForm, TotpForm
from nca_share.web.nav import NavItem
from nca_share.web.services import auth_service, client_ip
from nca_share.web.session import current_user, login_session

bp = Blueprint("account", __name__, url_prefix="/account")

NAV = (NavItem("account.overview", _l("My account"), order=90),)

F = TypeVar("F", bound=Callable[..., Any])


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page (and back afterwards)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def _user() -> User:
    user = current_user()
    if user is None:  # login_required ran first
        abort(401)
    return user


def _token_form(user: User) -> TokenForm:
    form = TokenForm()
    allowed = sorted(allowed_scopes(user.role_names()))
    form.scopes.choices = [(scope, f"{scope} — {SCOPES[scope]}") for scope in allowed]
    if request.method == "GET" and not form.scopes.data:
        form.scopes.data = ["stix:read"] if "stix:read" in allowed else []
    return form


@bp.get("")
@login_required
def overview() -> ResponseReturnValue:
    """Profile, second factor status and API tokens."""
    user = _user()
    service = auth_service()
    return render_template(
        "account/overview.html",
        user=user,
        tokens=service.list_tokens(user),
        codes_left=service.recovery_codes_left(user) if user.totp_enabled else 0,
        totp_required=service.requires_totp(user),
        token_form=_token_form(user),
        confirm_form=ConfirmForm(),
        password_form=PasswordChangeForm(),
        totp_form=TotpForm(),
    )


@bp.post("/password")
@login_required
def change_password() -> ResponseReturnValue:
    """Change the password (the current one is required); other sessions end."""
    user = _user()
    form = PasswordChangeForm()
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("account.overview"))
    try:
        auth_service().change_password(user, form.current.data, form.password.data, ip=client_ip())
    except AuthenticationError:
        db_session().commit()  # the failed attempt is audited
        flash(_("The current password is not correct."), "error")
    except ValidationError:
        db_session().rollback()
        flash(_("The new password is not allowed: choose a longer one, not your address."), "error")
    else:
        db_session().commit()
        login_session(user)  # the security stamp changed: keep only this session
        flash(_("Your password has been changed."), "success")
    return redirect(url_for("account.overview"))


@bp.post("/totp/recovery-codes")
@login_required
def regenerate_codes() -> ResponseReturnValue:
    """New recovery codes (all old ones stop working), after a fresh TOTP code."""
    user = _user()
    form = TotpForm()
    service = auth_service()
    if not form.validate():
        abort(400)
    try:
        service.verify_totp(user, form.code.data, ip=client_ip())
        codes = service.regenerate_recovery_codes(user, ip=client_ip())
    except (AuthenticationError, Conflict):
        db_session().commit()
        flash(_("The code is not correct."), "error")
        return redirect(url_for("account.overview"))
    db_session().commit()
    return render_template("account/recovery_codes.html", codes=codes)


@bp.post("/totp/disable")
@login_required
def disable_totp() -> ResponseReturnValue:
    """Switch the second factor off (only where no role requires it), after a fresh code."""
    user = _user()
    form = TotpForm()
    service = auth_service()
    if not form.validate():
        abort(400)
    try:
        service.verify_totp(user, form.code.data, ip=client_ip())
        service.disable_totp(user, actor=user, ip=client_ip())
    except AuthenticationError:
        db_session().commit()
        flash(_("The code is not correct."), "error")
        return redirect(url_for("account.overview"))
    except PermissionDenied:
        db_session().rollback()
        flash(_("Your role requires two-factor authentication."), "error")
        return redirect(url_for("account.overview"))
    db_session().commit()
    login_session(user)
    flash(_("Two-factor authentication is off."), "success")
    return redirect(url_for("account.overview"))


@bp.route("/totp", methods=["GET", "POST"])
@login_required
def totp_setup() -> ResponseReturnValue:
    """Enrol in TOTP: show a new secret, confirm with a first code, show recovery codes."""
    user = _user()
    service = auth_service()
    if user.totp_enabled:
        flash(_("Two-factor authentication is already on."), "info")
        return redirect(url_for("account.overview"))
    form = TotpForm()
    error = None
    if form.validate_on_submit():
        try:
            codes = service.confirm_totp(user, form.code.data, ip=client_ip())
        except (AuthenticationError, Conflict):
            db_session().commit()
            error = _("The code is not correct. Add the new key below to your app and try again.")
        else:
            db_session().commit()
            login_session(user)  # the security stamp changed; keep this session valid
            return render_template("account/recovery_codes.html", codes=codes)
    secret, uri = service.begin_totp(user)
    db_session().commit()
    return render_template(
        "account/totp_setup.html",
        form=form,
        secret=secret,
        uri=uri,
        error=error,
        required=service.requires_totp(user),
    )


@bp.post("/tokens")
@login_required
def create_token() -> ResponseReturnValue:
    """Create an API token; its value is shown once."""
    user = _user()
    form = _token_form(user)
    if not form.validate():
        flash(_("The token could not be created: check the fields."), "error")
        return redirect(url_for("account.overview"))
    try:
        plaintext, token = auth_service().create_token(
            user,
            form.name.data,
            form.scopes.data or [],
            expires_days=form.expires_days.data,
            actor=user,
            ip=client_ip(),
        )
    except (ValidationError, PermissionDenied):
        db_session().rollback()
        flash(_("The token could not be created: choose at least one allowed scope."), "error")
        return redirect(url_for("account.overview"))
    db_session().commit()
    return render_template("account/token_created.html", plaintext=plaintext, token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of the user's own tokens (another user's token is 'not found')."""
    user = _user()
    if not ConfirmForm().validate():
        abort(400)
    service = auth_service()
    token = next((t for t in service.list_tokens(user) if t.id == token_id), None)
    if token is None:
        abort(404)
    service.revoke_token(token.id, actor=user, ip=client_ip())
    db_session().commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("account.overview"))
