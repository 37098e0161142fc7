"""Constituency web pages: the SME onboarding wizard (KVK → sector → size → NIS2 result →
basisscan → assets → contacts → preferences), the company profile, the partnership pages
with coordinator member management, and accepting an invitation from its e-mail link.

A thin adapter: forms in, services called, templates out. Access is decided by
``nca_share.constituency.visibility`` on the request's principal (another organisation's
page is a 404).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from nca_share.access.principal import Principal
from nca_share.auth.models import User
from nca_share.constituency import classification, visibility
from nca_share.constituency.forms import (
    AssetForm,
    ContactForm,
    DelegationForm,
    DesignationForm,
    EmptyForm,
    InviteForm,
    JoinForm,
    MaturityLevelForm,
    PartnershipSettingsForm,
    PreferencesForm,
    ReasonForm,
    SectorForm,
    SizeForm,
    StartForm,
)
from nca_share.constituency.labels import label
from nca_share.constituency.maturity import (
    Answer,
    answer_label,
    level_description,
    load_basisscan,
    reassessment_due_at,
)
from nca_share.constituency.models import PROVINCES, Organisation
from nca_share.constituency.partnerships import PartnershipService
from nca_share.constituency.products import ProductCatalogue
from nca_share.errors import Conflict, NcaShareError, NotFound, PermissionDenied, ValidationError
from nca_share.web.context import db_session
from nca_share.web.i18n import select_locale
from nca_share.web.nav import NavItem
from nca_share.web.services import asset_service as _assets
from nca_share.web.services import auth_service
from nca_share.web.services import organisation_service as _orgs
from nca_share.web.services import partnership_service as _partnerships
from nca_share.web.session import current_principal, current_user
from nca_share.web.views.account import login_required
from nca_share.web.views.main import safe_next

bp = Blueprint("constituency", __name__, template_folder="templates")
bp.add_app_template_global(label, "label")

NAV = (
    NavItem("constituency.my_organisations", _l("My organisation"), order=20),
    NavItem(
        "constituency.partnerships",
        _l("Partnerships"),
        visible=lambda p: bool(
            p.is_staff or p.organisation_ids or p.partnership_ids or p.coordinated_partnership_ids
        ),
        order=30,
    ),
    NavItem(
        "constituency.review",
        _l("Asset claims"),
        visible=lambda p: visibility.is_editor_staff(p),
        order=40,
    ),
)

#: The wizard's steps after the start page, in order: (endpoint suffix, label).
STEPS: tuple[tuple[str, Any], ...] = (
    ("start", _l("Company")),
    ("sector", _l("Sector")),
    ("size", _l("Size")),
    ("nis2", _l("NIS2 result")),
    ("basisscan", _l("Basisscan")),
    ("assets", _l("Assets")),
    ("contacts", _l("Contacts")),
    ("preferences", _l("Preferences")),
)


def _principal() -> Principal:
    return current_principal()


def _user() -> User:
    user = current_user()
    if user is None:
        abort(401)
    return user


def _actor() -> str:
    return _user().email


def _org_for_write(org_id: int) -> Organisation:
    try:
        visibility.check_org_write(db_session(), _principal(), org_id)
        return _orgs().get(org_id)
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)


def _org_for_read(org_id: int) -> Organisation:
    try:
        visibility.check_org_read(db_session(), _principal(), org_id)
        return _orgs().get(org_id)
    except NotFound:
        abort(404)


def _flash_error(exc: NcaShareError) -> None:
    flash(_("Please correct this: %(problem)s", problem=str(exc)), "error")


def _form_errors(form: Any, exc: ValidationError) -> None:
    """Attach a service's field errors to the form fields they name."""
    errors = exc.details.get("errors") or [{"field": exc.location, "message": exc.message}]
    for item in errors:
        field = getattr(form, str(item.get("field")), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), item["message"]]
        else:
            flash(str(item.get("message")), "error")


def _lang() -> str:
    return "nl" if select_locale().startswith("nl") else "en"


def _next_step(org_id: int, step: str) -> ResponseReturnValue:
    names = [s for s, _label in STEPS]
    following = names[names.index(step) + 1] if names.index(step) + 1 < len(names) else None
    if following is None:
        flash(_("Your organisation is registered. Welcome!"), "success")
        return redirect(url_for("constituency.profile", org_id=org_id))
    return redirect(url_for(f"constituency.step_{following}", org_id=org_id))


def _wizard(template: str, org: Organisation | None, step: str, **ctx: Any) -> str:
    return render_template(f"constituency/{template}", org=org, steps=STEPS, step=step, **ctx)


# -------------------------------------------------------------------------- organisations


@bp.get("/organisations")
@login_required
def my_organisations() -> ResponseReturnValue:
    """The organisations the user belongs to (staff: all), with a link to register one."""
    readable = visibility.readable_org_ids(db_session(), _principal())
    own = sorted(_principal().organisation_ids)
    orgs = _orgs().list_organisations(ids=own, limit=100)
    if len(orgs) == 1 and readable is not None and not _principal().coordinated_partnership_ids:
        return redirect(url_for("constituency.profile", org_id=orgs[0].id))
    others = (
        _orgs().list_organisations(query=request.args.get("q"), limit=200)
        if readable is None
        else []
    )
    return render_template("constituency/organisations.html", orgs=orgs, others=others)


@bp.route("/onboarding", methods=["GET", "POST"])
@login_required
def step_start() -> ResponseReturnValue:
    """Step 1: KVK number and name; creates the organisation and makes the user a member."""
    form = StartForm()
    if form.validate_on_submit():
        data = {"kvk": form.kvk.data or "", "name": form.name.data or ""}
        if form.province.data:
            data["province"] = form.province.data
        if form.municipality.data:
            data["municipality"] = form.municipality.data
        try:
            org = _orgs().create(data)
        except Conflict:
            form.kvk.errors = [
                _(
                    "This KVK number is already registered. Ask a colleague who manages it, "
                    "or the authority, to add you."
                )
            ]
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            # The constituency's rule: whoever registers a new KVK number becomes the first
            # member of that organisation. Granted as the system (the user cannot grant
            # themselves roles); further members are added by invitation or by staff.
            auth_service().grant_role(_user(), "member", organisation_id=org.id, actor=None)
            db_session().commit()
            return _next_step(org.id, "start")
    return _wizard("step_start.html", None, "start", form=form)


@bp.route("/organisations/<int:org_id>/onboarding/sector", methods=["GET", "POST"])
@login_required
def step_sector(org_id: int) -> ResponseReturnValue:
    """Step 2: SBI codes (with NIS2 hints) and NIS2 entity types."""
    org = _org_for_write(org_id)
    form = SectorForm(obj=None)
    lang = _lang()
    choices = classification.entity_type_choices(lang)
    form.nis2_entity_types.choices = [
        (slug, f"{label} ({sector})") for slug, label, sector in choices if sector
    ] + [(slug, label) for slug, label, sector in choices if not sector]
    if request.method == "GET":
        form.sbi_codes.data = "; ".join(org.sbi_codes)
        form.nis2_entity_types.data = list(org.nis2_entity_types)
    if form.validate_on_submit():
        try:
            _orgs().update(
                org.id,
                {
                    "sbi_codes": form.sbi_codes.data or "",
                    "nis2_entity_types": list(form.nis2_entity_types.data or []),
                },
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            db_session().commit()
            if request.form.get("action") == "hints":
                return redirect(url_for("constituency.step_sector", org_id=org.id))
            return _next_step(org.id, "sector")
    hints = classification.sbi_hints(org.sbi_codes, org.sbi_version)
    hint_rows = []
    taxonomy_types = {slug: label for slug, label, _sector in choices}
    for hint in hints:
        hint_rows.append(
            {
                "sbi": hint.sbi_code,
                "nace": hint.nace_class,
                "key": hint.nis2_key,
                "types": [taxonomy_types.get(t, t) for t in hint.entity_types],
                "note": hint.note_nl if lang == "nl" else hint.note_en,
                "ambiguous": hint.ambiguous,
            }
        )
    return _wizard("step_sector.html", org, "sector", form=form, hints=hint_rows)


@bp.route("/organisations/<int:org_id>/onboarding/size", methods=["GET", "POST"])
@login_required
def step_size(org_id: int) -> ResponseReturnValue:
    """Step 3: head count, turnover and balance-sheet total."""
    org = _org_for_write(org_id)
    form = SizeForm()
    if request.method == "GET":
        form.employees.data = org.employees
        form.turnover_eur.data = org.turnover_eur
        form.balance_eur.data = org.balance_eur
        form.group_aggregated.data = org.group_aggregated
    if form.validate_on_submit():
        try:
            _orgs().update(
                org.id,
                {
                    "employees": form.employees.data,
                    "turnover_eur": form.turnover_eur.data,
                    "balance_eur": form.balance_eur.data,
                    "group_aggregated": bool(form.group_aggregated.data),
                },
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            db_session().commit()
            return _next_step(org.id, "size")
    return _wizard("step_size.html", org, "size", form=form)


@bp.route("/organisations/<int:org_id>/onboarding/nis2", methods=["GET", "POST"])
@login_required
def step_nis2(org_id: int) -> ResponseReturnValue:
    """Step 4: the NIS2 result, explained."""
    org = _org_for_write(org_id)
    form = EmptyForm()
    if form.validate_on_submit():
        return _next_step(org.id, "nis2")
    return _wizard("step_nis2.html", org, "nis2", form=form, nis2=_nis2_view(org))


@bp.route("/organisations/<int:org_id>/onboarding/basisscan", methods=["GET", "POST"])
@login_required
def step_basisscan(org_id: int) -> ResponseReturnValue:
    """Step 5: the basisscan; scoring shows the maturity level, explained."""
    org = _org_for_write(org_id)
    form = EmptyForm()
    scan = load_basisscan()
    answers: dict[str, str] = {}
    missing: list[str] = []
    if form.validate_on_submit():
        if request.form.get("action") == "skip":
            return _next_step(org.id, "basisscan")
        answers = {s.id: request.form.get(f"q-{s.id}", "") for s in scan.statements}
        missing = [k for k, v in answers.items() if not v]
        if not missing:
            try:
                _orgs().record_self_assessment(org.id, answers, by=_actor())
            except ValidationError as exc:
                _flash_error(exc)
            else:
                db_session().commit()
                return redirect(url_for("constituency.step_maturity", org_id=org.id))
        else:
            flash(_("Please answer every statement."), "error")
    return _wizard(
        "step_basisscan.html",
        org,
        "basisscan",
        form=form,
        scan=scan,
        answers=answers,
        missing=missing,
        options=[(a.value, answer_label(a, _lang())) for a in Answer],
        lang=_lang(),
    )


@bp.route("/organisations/<int:org_id>/onboarding/maturity", methods=["GET", "POST"])
@login_required
def step_maturity(org_id: int) -> ResponseReturnValue:
    """After the basisscan: the maturity level with its explanation and the tips."""
    org = _org_for_write(org_id)
    form = EmptyForm()
    if form.validate_on_submit():
        return _next_step(org.id, "basisscan")
    return _wizard("step_maturity.html", org, "basisscan", form=form, maturity=_maturity_view(org))


@bp.route("/organisations/<int:org_id>/onboarding/assets", methods=["GET", "POST"])
@login_required
def step_assets(org_id: int) -> ResponseReturnValue:
    """Step 6: networks, domains and products, with DNS verification instructions."""
    org = _org_for_write(org_id)
    form = AssetForm()
    if request.form.get("action") == "next" and EmptyForm().validate_on_submit():
        return _next_step(org.id, "assets")
    if form.validate_on_submit() and _claim(org, form):
        return redirect(url_for("constituency.step_assets", org_id=org.id))
    products = ProductCatalogue(db_session(), current_principal()).search(
        request.args.get("product_q", "")
    )
    return _wizard(
        "step_assets.html",
        org,
        "assets",
        form=form,
        assets=_asset_views(org),
        products=products,
        product_q=request.args.get("product_q", ""),
        done_form=EmptyForm(),
    )


def _claim(org: Organisation, form: AssetForm) -> bool:
    try:
        _assets().claim(
            org.id,
            form.kind.data or "",
            form.value.data or "",
            by=_actor(),
            cpe=form.cpe.data,
            vendor=form.vendor.data,
            product=form.product.data,
            version_range=form.version_range.data,
        )
    except (ValidationError, Conflict) as exc:
        _flash_error(exc)
        return False
    db_session().commit()
    flash(_("Asset added. It is pending until it is verified."), "success")
    return True


@bp.route("/organisations/<int:org_id>/onboarding/contacts", methods=["GET", "POST"])
@login_required
def step_contacts(org_id: int) -> ResponseReturnValue:
    """Step 7: who receives warnings."""
    org = _org_for_write(org_id)
    form = ContactForm()
    if request.method == "GET" and not org.contacts:
        form.email.data = _user().email
        form.role.data = "primary"
        form.language.data = _lang()
    if request.form.get("action") == "next" and EmptyForm().validate_on_submit():
        if not org.contacts:
            flash(_("Add at least one contact."), "error")
            return redirect(url_for("constituency.step_contacts", org_id=org.id))
        return _next_step(org.id, "contacts")
    if form.validate_on_submit():
        try:
            _orgs().add_contact(
                org.id,
                name=form.name.data or "",
                email=form.email.data or "",
                role=form.role.data or "",
                phone=form.phone.data,
                language=form.language.data or "nl",
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            db_session().commit()
            return redirect(url_for("constituency.step_contacts", org_id=org.id))
    return _wizard(
        "step_contacts.html", org, "contacts", form=form, contacts=org.contacts,
        done_form=EmptyForm(),
    )  # fmt: skip


@bp.route("/organisations/<int:org_id>/onboarding/preferences", methods=["GET", "POST"])
@login_required
def step_preferences(org_id: int) -> ResponseReturnValue:
    """Step 8: channels, rhythm, threshold and language."""
    org = _org_for_write(org_id)
    form = PreferencesForm()
    if request.method == "GET":
        prefs = _orgs().preferences(org.id)
        form.channels.data = list(prefs.channels)
        form.mode.data = prefs.mode
        form.min_urgency.data = prefs.min_urgency
        form.language.data = prefs.language
        form.webhook_url.data = prefs.webhook_url
        db_session().commit()
    if form.validate_on_submit():
        try:
            _orgs().set_preferences(
                org.id,
                channels=list(form.channels.data or []),
                mode=form.mode.data or "",
                min_urgency=form.min_urgency.data or "",
                language=form.language.data or "",
                webhook_url=form.webhook_url.data,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            db_session().commit()
            return _next_step(org.id, "preferences")
    return _wizard("step_preferences.html", org, "preferences", form=form)


# ------------------------------------------------------------------------------- profile


def _nis2_view(org: Organisation) -> dict[str, Any]:
    lang = _lang()
    reasons = org.classification_reasons or {}
    labels = {
        "essential": _("Essential entity"),
        "important": _("Important entity"),
        "registration_only": _("Registration duties only"),
        "out_of_scope": _("Not in scope of NIS2"),
    }
    return {
        "result": org.classification,
        "label": labels.get(org.classification or "", "—"),
        "rule": org.classification_rule,
        "reasons": reasons.get(lang, []),
        "size_reasons": reasons.get(f"size_{lang}", []),
        "article": reasons.get("article_nl" if lang == "nl" else "article"),
        "provisional": reasons.get("provisional", False),
        "designation": org.designation,
        "designation_by": org.designation_by,
        "designation_at": org.designation_at,
        "designation_reason": org.designation_reason,
    }


def _maturity_view(org: Organisation) -> dict[str, Any]:
    lang = _lang()
    description = level_description(org.maturity_level)
    history = _orgs().assessments(org.id)
    latest = history[0] if history else None
    tips: list[str] = []
    reasons: list[str] = []
    if latest is not None and latest.source == "self":
        by_id = {s.id: s for s in load_basisscan().statements}
        tips = [
            (by_id[t].tip_nl if lang == "nl" else by_id[t].tip_en)
            for t in latest.result.get("tips", [])[:5]
            if t in by_id
        ]
        reasons = latest.result.get(f"reasons_{lang}", [])
    elif latest is not None and latest.reason:
        reasons = [_("Set by an analyst: %(reason)s", reason=latest.reason)]
    return {
        "level": org.maturity_level,
        "name": description.name_nl if lang == "nl" else description.name_en,
        "summary": description.summary_nl if lang == "nl" else description.summary_en,
        "receives": description.receives_nl if lang == "nl" else description.receives_en,
        "reasons": reasons,
        "tips": tips,
        "assessed_at": org.maturity_assessed_at,
        "due_at": reassessment_due_at(org.maturity_assessed_at)
        if org.maturity_assessed_at
        else None,
        "reassess": _orgs().needs_reassessment(org),
        "history": history,
    }


def _asset_views(org: Organisation) -> list[dict[str, Any]]:
    service = _assets()
    views = []
    for asset in org.assets:
        views.append(
            {
                "asset": asset,
                "txt_record": service.txt_record(asset) if asset.kind == "domain" else None,
            }
        )
    return views


@bp.get("/organisations/<int:org_id>")
@login_required
def profile(org_id: int) -> ResponseReturnValue:
    """The company profile."""
    org = _org_for_read(org_id)
    principal = _principal()
    can_write = visibility.is_editor_staff(principal) or org.id in principal.organisation_ids
    memberships = _partnerships().memberships_of(org.id)
    return render_template(
        "constituency/profile.html",
        org=org,
        province=PROVINCES.get(org.province or "", "—"),
        nis2=_nis2_view(org),
        maturity=_maturity_view(org),
        assets=_asset_views(org),
        memberships=memberships,
        can_write=can_write,
        staff=visibility.is_editor_staff(principal),
        form=EmptyForm(),
        designation_form=DesignationForm(
            data={"designation": org.designation or "", "reason": org.designation_reason}
        ),
        level_form=MaturityLevelForm(data={"level": org.maturity_level}),
        reason_form=ReasonForm(),
        delegations=_orgs().delegations(org.id),
        delegation_form=DelegationForm(),
    )


@bp.post("/organisations/<int:org_id>/delegations")
@login_required
def add_delegation(org_id: int) -> ResponseReturnValue:
    """The company consents that an IT supplier / MSP contact receives its warnings."""
    org = _org_for_write(org_id)
    form = DelegationForm()
    if form.validate_on_submit():
        try:
            _orgs().add_delegation(
                org.id,
                supplier_name=form.supplier_name.data or "",
                contact_name=form.contact_name.data or "",
                contact_email=form.contact_email.data or "",
                scope=list(form.scope.data or []),
                consented_by=_actor(),
            )
        except ValidationError as exc:
            _flash_error(exc)
        else:
            db_session().commit()
            flash(_("The delegation was recorded."), "success")
    else:
        flash(_("Fill in every field and confirm the consent."), "error")
    return redirect(url_for("constituency.profile", org_id=org.id))


@bp.post("/organisations/<int:org_id>/delegations/<int:delegation_id>/revoke")
@login_required
def revoke_delegation(org_id: int, delegation_id: int) -> ResponseReturnValue:
    """Withdraw a delegation."""
    org = _org_for_write(org_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        _orgs().revoke_delegation(org.id, delegation_id)
    except NotFound:
        abort(404)
    db_session().commit()
    flash(_("The delegation was withdrawn."), "success")
    return redirect(url_for("constituency.profile", org_id=org.id))


def _require_staff() -> Principal:
    principal = _principal()
    if not visibility.is_editor_staff(principal):
        abort(403)
    return principal


@bp.post("/organisations/<int:org_id>/designation")
@login_required
def set_designation(org_id: int) -> ResponseReturnValue:
    """An analyst sets or clears a national designation, with a reason."""
    _require_staff()
    form = DesignationForm()
    if form.validate_on_submit():
        try:
            _orgs().set_designation(
                org_id, form.designation.data or None, by=_actor(), reason=form.reason.data
            )
        except NotFound:
            abort(404)
        except ValidationError as exc:
            _flash_error(exc)
        else:
            db_session().commit()
            flash(_("The designation was saved."), "success")
    return redirect(url_for("constituency.profile", org_id=org_id))


@bp.post("/organisations/<int:org_id>/maturity-level")
@login_required
def set_maturity_level(org_id: int) -> ResponseReturnValue:
    """An analyst sets the maturity level, with a reason."""
    _require_staff()
    form = MaturityLevelForm()
    if form.validate_on_submit():
        try:
            _orgs().set_maturity_level(
                org_id, form.level.data or "", by=_actor(), reason=form.reason.data or ""
            )
        except NotFound:
            abort(404)
        except ValidationError as exc:
            _flash_error(exc)
        else:
            db_session().commit()
            flash(_("The maturity level was saved."), "success")
    else:
        flash(_("Give a reason for the new level."), "error")
    return redirect(url_for("constituency.profile", org_id=org_id))


@bp.post("/assets/<int:asset_id>/<any(approve, reject):decision>")
@login_required
def decide_asset(asset_id: int, decision: str) -> ResponseReturnValue:
    """An analyst approves or rejects (with a reason) an asset claim."""
    _require_staff()
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    service = _assets()
    try:
        if decision == "approve":
            asset = service.approve(asset_id, by=_actor(), reason=form.reason.data or None)
        else:
            asset = service.reject(asset_id, by=_actor(), reason=form.reason.data or "")
    except NotFound:
        abort(404)
    except ValidationError as exc:
        _flash_error(exc)
    else:
        db_session().commit()
        flash(_("%(value)s: %(status)s", value=asset.value, status=asset.status), "success")
    return redirect(safe_next(request.form.get("back")) or url_for("constituency.review"))


@bp.get("/review/assets")
@login_required
def review() -> ResponseReturnValue:
    """The analysts' queue: overlapping claims and claims waiting for a decision."""
    _require_staff()
    service = _assets()
    overlaps = service.review_queue()
    pending = service.list_assets(status="pending")
    ids = {a.organisation_id for a in pending}
    ids.update(x.organisation_id for _o, a, b in overlaps for x in (a, b))
    orgs = {o.id: o for o in _orgs().list_organisations(ids=sorted(ids), limit=len(ids) + 1)}
    return render_template(
        "constituency/review.html",
        overlaps=overlaps,
        pending=pending,
        orgs=orgs,
        reason_form=ReasonForm(),
    )


@bp.post("/review/overlaps/<int:overlap_id>/resolve")
@login_required
def resolve_overlap(overlap_id: int) -> ResponseReturnValue:
    """Close an overlap with a note on what was decided."""
    _require_staff()
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        _assets().resolve_overlap(overlap_id, by=_actor(), resolution=form.reason.data or "")
    except NotFound:
        abort(404)
    except ValidationError as exc:
        _flash_error(exc)
    else:
        db_session().commit()
        flash(_("The overlap was resolved."), "success")
    return redirect(url_for("constituency.review"))


@bp.post("/organisations/<int:org_id>/assets/<int:asset_id>/verify")
@login_required
def verify_asset(org_id: int, asset_id: int) -> ResponseReturnValue:
    """Check a domain's DNS TXT record now."""
    org = _org_for_write(org_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        result = _assets().verify_dns(asset_id, org_id=org.id)
    except NotFound:
        abort(404)
    except ValidationError as exc:
        _flash_error(exc)
    else:
        db_session().commit()
        if result.verified:
            flash(_("Verified: the TXT record was found."), "success")
        else:
            flash(_("Not verified yet: %(detail)s", detail=result.detail), "error")
    return redirect(
        safe_next(request.form.get("back")) or url_for("constituency.profile", org_id=org.id)
    )


# --------------------------------------------------------------------------- partnerships


@bp.get("/partnerships")
@login_required
def partnerships() -> ResponseReturnValue:
    """The partnerships the user belongs to or coordinates (staff: all)."""
    principal = _principal()
    ids = None
    if not principal.is_staff:
        ids = sorted(principal.partnership_ids | principal.coordinated_partnership_ids)
    service = _partnerships()
    items = service.list_partnerships(ids=ids)
    # Members may ask to join other partnerships: their names and scope are public, their
    # members are not.
    others = []
    own_orgs = _orgs().list_organisations(ids=sorted(principal.organisation_ids))
    if own_orgs and not principal.is_staff:
        known = {p.id for p in items}
        others = [p for p in service.list_partnerships() if p.id not in known]
    return render_template(
        "constituency/partnerships.html",
        partnerships=items,
        others=others,
        own_orgs=own_orgs,
        coordinated=principal.coordinated_partnership_ids,
        join_form=JoinForm(),
    )


@bp.post("/partnerships/<int:pid>/request")
@login_required
def request_join(pid: int) -> ResponseReturnValue:
    """A member asks for their organisation to join a partnership."""
    form = JoinForm()
    chosen = request.form.get("organisation_id", "")
    org_id = int(chosen) if chosen.isdigit() else -1
    if org_id not in _principal().organisation_ids:
        abort(404)
    if form.validate_on_submit():
        try:
            _partnerships().request_join(pid, org_id, by=_actor(), message=form.message.data)
        except NotFound:
            abort(404)
        except Conflict as exc:
            _flash_error(exc)
        else:
            db_session().commit()
            flash(_("Your request was sent to the coordinators."), "success")
    return redirect(url_for("constituency.partnerships"))


@bp.get("/partnerships/<int:pid>")
@login_required
def partnership(pid: int) -> ResponseReturnValue:
    """One partnership: coordinators, members (when visible) and, for coordinators,
    invitations, pending requests and member management."""
    service = _partnerships()
    principal = _principal()
    try:
        view = service.member_view(pid, principal)
    except NotFound:
        abort(404)
    manage = service.can_manage(principal, pid)
    return render_template(
        "constituency/partnership.html",
        p=service.get(pid),
        view=view,
        manage=manage,
        invitations=service.pending_invitations(pid) if manage else [],
        requests=service.join_requests(pid) if manage else [],
        invite_form=InviteForm(),
        settings_form=PartnershipSettingsForm(
            data={
                "member_list_visible": service.get(pid).member_list_visible,
                "forwarding_policy": service.get(pid).forwarding_policy,
            }
        ),
        form=EmptyForm(),
        regions=[PROVINCES.get(r, r) for r in service.get(pid).regions],
    )


def _manage(pid: int) -> PartnershipService:
    try:
        visibility.check_partnership_manage(_principal(), pid)
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)
    return _partnerships()


@bp.post("/partnerships/<int:pid>/settings")
@login_required
def partnership_settings(pid: int) -> ResponseReturnValue:
    """A coordinator changes member-list visibility and the forwarding policy."""
    service = _manage(pid)
    form = PartnershipSettingsForm()
    if form.validate_on_submit():
        service.update(
            pid,
            {
                "member_list_visible": bool(form.member_list_visible.data),
                "forwarding_policy": form.forwarding_policy.data or "",
            },
        )
        db_session().commit()
        flash(_("The settings were saved."), "success")
    return redirect(url_for("constituency.partnership", pid=pid))


@bp.post("/partnerships/<int:pid>/invite")
@login_required
def invite(pid: int) -> ResponseReturnValue:
    """A coordinator invites an e-mail address."""
    service = _manage(pid)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation, _token = service.invite(
                pid, form.email.data or "", by=_actor(), language=form.language.data or "nl"
            )
        except ValidationError as exc:
            _flash_error(exc)
        except NcaShareError:
            db_session().rollback()
            flash(_("The invitation could not be sent. Please try again later."), "error")
        else:
            db_session().commit()
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
    else:
        flash(_("Enter a valid e-mail address."), "error")
    return redirect(url_for("constituency.partnership", pid=pid))


@bp.post("/partnerships/<int:pid>/members/<int:org_id>/remove")
@login_required
def remove_member(pid: int, org_id: int) -> ResponseReturnValue:
    """A coordinator removes a member organisation."""
    service = _manage(pid)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        membership = service.remove(pid, org_id, by=_actor())
    except NotFound:
        abort(404)
    db_session().commit()
    flash(_("%(name)s was removed.", name=membership.organisation.name), "success")
    return redirect(url_for("constituency.partnership", pid=pid))


@bp.post("/partnerships/<int:pid>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(pid: int, invitation_id: int) -> ResponseReturnValue:
    """A coordinator withdraws a pending invitation."""
    service = _manage(pid)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.revoke_invitation(pid, invitation_id)
    except NotFound:
        abort(404)
    db_session().commit()
    flash(_("The invitation was withdrawn."), "success")
    return redirect(url_for("constituency.partnership", pid=pid))


@bp.post("/partnerships/<int:pid>/requests/<int:rid>/<any(approve, reject):decision>")
@login_required
def decide_request(pid: int, rid: int, decision: str) -> ResponseReturnValue:
    """A coordinator approves or rejects a join request."""
    service = _manage(pid)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        service.decide_join(pid, rid, approve=decision == "approve", by=_actor())
    except NotFound:
        abort(404)
    except Conflict as exc:
        _flash_error(exc)
    else:
        db_session().commit()
    return redirect(url_for("constituency.partnership", pid=pid))


@bp.route("/partnerships/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str) -> ResponseReturnValue:
    """The link in the invitation mail: shows the partnership and accepts for the user's
    organisation."""
    service = _partnerships()
    try:
        invitation = service.check_invitation(token)
    except (NotFound, Conflict) as exc:
        return render_template("constituency/invitation.html", problem=exc.message), 404
    user = _user()
    own = _orgs().list_organisations(ids=sorted(_principal().organisation_ids))
    form = JoinForm()
    if form.validate_on_submit():
        chosen = request.form.get("organisation_id", "")
        org_id = int(chosen) if chosen.isdigit() else None
        try:
            membership = service.accept(token, user, organisation_id=org_id)
        except (PermissionDenied, Conflict) as exc:
            _flash_error(exc)
        else:
            db_session().commit()
            flash(
                _("%(org)s is now a member of %(p)s.", org=membership.organisation.name,
                  p=invitation.partnership.name),
                "success",
            )  # fmt: skip
            return redirect(url_for("constituency.partnership", pid=invitation.partnership_id))
    return render_template(
        "constituency/invitation.html", invitation=invitation, orgs=own, form=form, problem=None
    )
