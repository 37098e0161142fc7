"""Sign up, e-mail verification, log in (password, then TOTP or a recovery code), log out
and password reset. Thin: every rule (throttling, lockout, token checks) is in
``AuthService``; this module translates its outcomes into pages.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from nca_share.auth.models import User
from nca_share.auth.service import AccountDisabled, EmailNotVerified
from nca_share.errors import AuthenticationError, TooManyAttempts, ValidationError
from nca_share.web.context import db_session
from nca_share.web.forms import (
    LoginForm,
    RecoveryForm,
    ResetConfirmForm,
    ResetRequestForm,
    SignupForm,
    TotpForm,
)
from nca_share.web.i18n import localtime, select_locale
from nca_share.web.services import auth_service, client_ip
from nca_share.web.session import (
    begin_second_factor,
    login_session,
    logout_session,
    needs_totp_enrolment,
    pending_user,
)
from nca_share.web.views.main import safe_next

bp = Blueprint("auth", __name__)


def _(text: str, **variables: Any) -> str:
    return str(gettext(text, **variables))


def password_problem(exc: ValidationError) -> str:
    """A translated message for a password or address the service refused."""
    reason = exc.details.get("reason")
    if reason == "too_short":
        return _("The password must have at least %(n)s characters.", n=exc.details["min_length"])
    if reason == "too_long":
        return _("The password is too long.")
    if reason == "is_email":
        return _("The password must not be your e-mail address.")
    if exc.location == "email":
        return _("This is not a valid e-mail address.")
    return _("The input is invalid.")


def login_problem(exc: AuthenticationError) -> str:
    """A translated message for a refused login step (never says which part was wrong)."""
    if isinstance(exc, TooManyAttempts):
        retry = exc.details.get("retry_after")
        if isinstance(retry, str):
            from datetime import datetime

            when = localtime(datetime.fromisoformat(retry), "HH:mm")
            return _("Too many failed attempts. Try again after %(time)s.", time=when)
        return _("Too many failed attempts. Try again later.")
    if isinstance(exc, EmailNotVerified):
        return _("Confirm your e-mail address first: we have sent you a new link.")
    if isinstance(exc, AccountDisabled):
        return _("This account has been disabled.")
    return _("Incorrect e-mail address or password.")


def _after_login(user: User) -> ResponseReturnValue:
    target = safe_next(request.values.get("next"))
    if needs_totp_enrolment(user):
        flash(_("Your role requires two-factor authentication. Set it up now."), "info")
        return redirect(url_for("account.totp_setup"))
    return redirect(target or url_for("main.index"))


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> ResponseReturnValue:
    """Create an account; a verification link is mailed."""
    form = SignupForm()
    if form.validate_on_submit():
        try:
            auth_service().register(
                form.email.data, form.password.data, select_locale(), ip=client_ip()
            )
        except ValidationError as exc:
            db_session().rollback()
            field = form.email if exc.location == "email" else form.password
            field.errors = [*field.errors, password_problem(exc)]
        else:
            db_session().commit()
            # The same page whether or not the address already had an account.
            return render_template("auth/check_mail.html", email=form.email.data)
    return render_template("auth/signup.html", form=form)


@bp.get("/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    """The link from the verification mail."""
    try:
        auth_service().verify_email(token)
    except ValidationError:
        db_session().rollback()
        return render_template("auth/link_invalid.html"), 400
    db_session().commit()
    flash(_("Your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Step 1: e-mail address and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    error = None
    if form.validate_on_submit():
        service = auth_service()
        try:
            user = service.authenticate(form.email.data, form.password.data, ip=client_ip())
        except EmailNotVerified as exc:
            service.resend_verification(form.email.data)
            db_session().commit()
            error = login_problem(exc)
        except AuthenticationError as exc:
            db_session().commit()  # failed attempts and lockouts must persist
            error = login_problem(exc)
        else:
            db_session().commit()
            if user.totp_enabled:
                begin_second_factor(user)
                return redirect(url_for("auth.login_totp", next=form.next.data or None))
            login_session(user)
            return _after_login(user)
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp() -> ResponseReturnValue:
    """Step 2: the code from the authenticator app."""
    user = pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    form = TotpForm()
    error = None
    if form.validate_on_submit():
        try:
            auth_service().verify_totp(user, form.code.data, ip=client_ip())
        except AuthenticationError as exc:
            db_session().commit()
            error = (
                login_problem(exc)
                if isinstance(exc, TooManyAttempts)
                else _("The code is not correct.")
            )
        else:
            db_session().commit()
            login_session(user)
            return _after_login(user)
    return render_template("auth/login_totp.html", form=form, error=error)


@bp.route("/login/recovery", methods=["GET", "POST"])
def login_recovery() -> ResponseReturnValue:
    """Step 2 without the device: one of the recovery codes."""
    user = pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    form = RecoveryForm()
    error = None
    if form.validate_on_submit():
        try:
            left = auth_service().use_recovery_code(user, form.code.data, ip=client_ip())
        except AuthenticationError as exc:
            db_session().commit()
            error = (
                login_problem(exc)
                if isinstance(exc, TooManyAttempts)
                else _("This recovery code is not valid.")
            )
        else:
            db_session().commit()
            login_session(user)
            flash(_("Recovery code accepted. You have %(n)s codes left.", n=left), "info")
            return _after_login(user)
    return render_template("auth/login_recovery.html", form=form, error=error)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Log out (POST with CSRF token, so no page can log you out)."""
    logout_session()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_request() -> ResponseReturnValue:
    """Ask for a password reset link."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        auth_service().request_password_reset(form.email.data, ip=client_ip())
        db_session().commit()
        return render_template("auth/check_mail.html", email=form.email.data, reset=True)
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_confirm(token: str) -> ResponseReturnValue:
    """Choose a new password with the link from the reset mail."""
    form = ResetConfirmForm()
    if form.validate_on_submit():
        try:
            auth_service().reset_password(token, form.password.data, ip=client_ip())
        except ValidationError as exc:
            db_session().rollback()
            if exc.location == "token":
                return render_template("auth/link_invalid.html"), 400
            form.password.errors = [*form.password.errors, password_problem(exc)]
        else:
            db_session().commit()
            flash(_("Your password has been changed. You can log in now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_confirm.html", form=form)
