# mypy: allow-subclassing-any
"""The web forms (Flask-WTF: every form carries a CSRF token). Labels are translatable."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

MIN_PASSWORD = 12


class SignupForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(
        _l("Password"),
        description=_l("At least %(n)s characters.", n=MIN_PASSWORD),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)],
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class TotpForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(), Length(min=6, max=8)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class RecoveryForm(FlaskForm):
    code = StringField(_l("Recovery code"), validators=[DataRequired(), Length(max=64)])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])


class ResetConfirmForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        description=_l("At least %(n)s characters.", n=MIN_PASSWORD),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)],
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    password = PasswordField(
        _l("New password"),
        description=_l("At least %(n)s characters.", n=MIN_PASSWORD),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)],
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The passwords differ.")),
        ],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])
    scopes = MultiCheckboxField(_l("Permissions (scopes)"), choices=[])
    expires_days = IntegerField(
        _l("Valid for (days)"), default=90, validators=[DataRequired(), NumberRange(min=1, max=365)]
    )


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change state (revoke, disable): CSRF only."""


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    action = StringField(_l("Action"), validators=[Optional(), Length(max=100)])
    actor = StringField(_l("User (e-mail)"), validators=[Optional(), Length(max=320)])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("Until"), validators=[Optional()])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    organisation_id = IntegerField(_l("Organisation id (for member)"), validators=[Optional()])
    partnership_id = IntegerField(_l("Partnership id (for coordinator)"), validators=[Optional()])


class ExplorerFilterForm(FlaskForm):
    class Meta:
        csrf = False

    type = SelectField(_l("Type"), choices=[], validators=[Optional()])
    q = StringField(_l("Search by name"), validators=[Optional(), Length(max=200)])
    tlp = SelectField(_l("TLP"), choices=[], validators=[Optional()])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=200)])
    added_from = DateField(_l("Added from"), validators=[Optional()])
    added_until = DateField(_l("Added until"), validators=[Optional()])
    include_revoked = BooleanField(_l("Include revoked objects"))
