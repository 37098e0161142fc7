# mypy: allow-subclassing-any
"""Web forms of the constituency pages (Flask-WTF, CSRF on every form). Labels are
translatable (domain ``constituency``); values are validated again by the services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from nca_share.constituency.models import PROVINCES


def _c(*pairs: tuple[str, Any]) -> list[SelectChoice]:
    """Choices as ``SelectChoice`` (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StartForm(FlaskForm):
    kvk = StringField(
        _l("KVK number"),
        description=_l("The 8 digits on your Chamber of Commerce extract."),
        validators=[DataRequired(), Length(min=8, max=8)],
        render_kw={"inputmode": "numeric"},
    )
    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=300)])
    province = SelectField(
        _l("Province"),
        choices=_c(("", "—"), *sorted(PROVINCES.items(), key=lambda kv: kv[1])),
        validators=[Optional()],
    )
    municipality = StringField(_l("Municipality"), validators=[Optional(), Length(max=100)])


class SectorForm(FlaskForm):
    sbi_codes = StringField(
        _l("SBI codes"),
        description=_l("Separate several codes with a semicolon, e.g. 6202; 6311."),
        validators=[Optional(), Length(max=200)],
    )
    nis2_entity_types = MultiCheckboxField(
        _l("What does your organisation do? (NIS2 entity types)"), choices=[]
    )


class SizeForm(FlaskForm):
    employees = IntegerField(_l("Number of employees"), validators=[Optional(), NumberRange(min=0)])
    turnover_eur = IntegerField(
        _l("Annual turnover (euro)"), validators=[Optional(), NumberRange(min=0)]
    )
    balance_eur = IntegerField(
        _l("Balance-sheet total (euro)"), validators=[Optional(), NumberRange(min=0)]
    )
    group_aggregated = BooleanField(_l("These figures include our parent and sister companies"))


class AssetForm(FlaskForm):
    kind = SelectField(
        _l("Type"),
        choices=_c(
            ("domain", _l("Domain name")),
            ("cidr", _l("IP network (CIDR)")),
            ("asn", _l("AS number")),
            ("product", _l("Product")),
        ),
    )
    value = StringField(
        _l("Value"),
        description=_l("e.g. example.nl, 192.0.2.0/24 or AS64500"),
        validators=[Optional(), Length(max=300)],
    )
    cpe = StringField(_l("CPE 2.3 name (products)"), validators=[Optional(), Length(max=500)])
    vendor = StringField(_l("Vendor (products)"), validators=[Optional(), Length(max=200)])
    product = StringField(_l("Product name (products)"), validators=[Optional(), Length(max=200)])
    version_range = StringField(_l("Versions (products)"), validators=[Optional(), Length(max=200)])


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    role = SelectField(
        _l("Role"),
        choices=_c(
            ("primary", _l("Primary contact")),
            ("security_officer", _l("Security officer")),
            ("24x7", _l("24/7 contact")),
            ("technical", _l("Technical contact")),
        ),
    )
    language = SelectField(_l("Language"), choices=_c(("nl", "Nederlands"), ("en", "English")))


class PreferencesForm(FlaskForm):
    channels = MultiCheckboxField(
        _l("Channels"),
        choices=_c(
            ("email", _l("E-mail")),
            ("inbox", _l("Inbox on this site")),
            ("webhook", _l("Webhook")),
            ("atom", _l("Atom feed")),
            ("taxii", _l("TAXII")),
        ),
    )
    mode = SelectField(
        _l("How often"),
        choices=_c(
            ("immediate", _l("Immediately")),
            ("daily", _l("Daily digest")),
            ("weekly", _l("Weekly digest")),
        ),
    )
    min_urgency = SelectField(
        _l("Minimum urgency"),
        choices=_c(("normal", _l("Normal and urgent")), ("urgent", _l("Urgent only"))),
    )
    language = SelectField(_l("Language"), choices=_c(("nl", "Nederlands"), ("en", "English")))
    webhook_url = StringField(_l("Webhook URL"), validators=[Optional(), Length(max=2000)])


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    language = SelectField(
        _l("Language of the invitation"), choices=_c(("nl", "Nederlands"), ("en", "English"))
    )


class JoinForm(FlaskForm):
    message = TextAreaField(_l("Message to the coordinators"), validators=[Optional()])


class EmptyForm(FlaskForm):
    """CSRF only: for buttons that change state."""


class DesignationForm(FlaskForm):
    designation = SelectField(
        _l("National designation"),
        choices=_c(
            ("", _l("None")),
            ("essential", _l("Essential entity")),
            ("important", _l("Important entity")),
        ),
        validators=[Optional()],
    )
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class MaturityLevelForm(FlaskForm):
    level = SelectField(
        _l("Maturity level"),
        choices=_c(("M0", "M0"), ("M1", "M1"), ("M2", "M2"), ("M3", "M3"), ("M4", "M4")),
    )
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class PartnershipSettingsForm(FlaskForm):
    member_list_visible = BooleanField(_l("Members may see each other's names"))
    forwarding_policy = SelectField(
        _l("Forward bulletins"),
        choices=_c(
            ("coordinator_approval", _l("after approval by a coordinator")),
            ("automatic", _l("automatically")),
        ),
    )


class DelegationForm(FlaskForm):
    supplier_name = StringField(
        _l("IT supplier or MSP"), validators=[DataRequired(), Length(max=300)]
    )
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=200)])
    contact_email = EmailField(
        _l("Contact e-mail address"), validators=[DataRequired(), Length(max=320)]
    )
    scope = MultiCheckboxField(
        _l("What they receive"),
        choices=_c(
            ("notices", _l("Warnings about our own systems")),
            ("advisories", _l("Advisories")),
            ("digests", _l("Digests")),
        ),
    )
    consent = BooleanField(
        _l("I confirm that our company consents to sharing this information with them"),
        validators=[DataRequired()],
    )
