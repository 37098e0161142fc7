"""Sign up, e-mail verification, log in (password, then TOTP or a recovery code), log out,
password reset."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from nca_share.web.session import logout_session

bp = Blueprint("auth", __name__)


@bp.route("/aanmelden", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Log in with e-mail and password."""
    return render_template("index.html")


@bp.route("/registreren", methods=["GET", "POST"])
def signup() -> ResponseReturnValue:
    """Create an account."""
    return render_template("index.html")


@bp.post("/afmelden")
def logout() -> ResponseReturnValue:
    """Log out."""
    logout_session()
    return redirect(url_for("main.index"))
