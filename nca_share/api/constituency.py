# mypy: disable-error-code="untyped-decorator"
"""REST API of the constituency: organisations (list, create, change, profile, designation,
maturity), their assets (claim, DNS verification, analyst decisions, overlap queue), contacts,
delivery preferences, the product pick-list, and partnerships with memberships, invitations and
join requests.

Scopes: ``orgs:read`` for reads, ``orgs:write`` for changes. Who may touch which organisation
or partnership is decided by ``nca_share.constituency.visibility`` on top of the principal from
``nca_share.access``: another organisation's id is a 404, never a 403. ``GET
/api/v1/organisations/<id>`` (the minimal read) lives in ``nca_share.api.organisations``.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, abort
from flask.views import MethodView
from flask_smorest import Blueprint

from nca_share.access.principal import Principal
from nca_share.api import errors
from nca_share.api.auth import requires
from nca_share.constituency import visibility
from nca_share.constituency.assets import AssetService
from nca_share.constituency.models import (
    ASSET_KINDS,
    CHANNELS,
    CONTACT_ROLES,
    DELIVERY_MODES,
    LANGUAGES,
    MATURITY_LEVELS,
    PARTNERSHIP_KINDS,
    URGENCIES,
    Asset,
    Contact,
    DeliveryPreferences,
    Invitation,
    Membership,
    Organisation,
    Partnership,
)
from nca_share.constituency.partnerships import PartnershipService
from nca_share.constituency.products import ProductCatalogue
from nca_share.errors import AuthenticationError, NotFound, PermissionDenied
from nca_share.notify.email import MailDeliveryError
from nca_share.web.context import db_session, get_settings
from nca_share.web.services import asset_service as _assets
from nca_share.web.services import auth_service
from nca_share.web.services import organisation_service as _orgs
from nca_share.web.services import partnership_service as _partnerships
from nca_share.web.session import current_principal

blp = Blueprint(
    "constituency_api",
    __name__,
    url_prefix="/api/v1",
    description="Constituency: organisations, assets, contacts, preferences, partnerships",
)

# ------------------------------------------------------------------------------- schemas


class OrgListArgs(ma.Schema):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    province = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40))
    classification = ma.fields.String(load_default=None, validate=ma.validate.Length(max=24))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**31 - 1))


class OrgIn(ma.Schema):
    """Organisation fields; values are validated by the service (every bad field reported)."""

    kvk = ma.fields.String()
    name = ma.fields.String()
    sbi_codes = ma.fields.List(ma.fields.String())
    sbi_version = ma.fields.String()
    employees = ma.fields.Integer(allow_none=True)
    turnover_eur = ma.fields.Integer(allow_none=True)
    balance_eur = ma.fields.Integer(allow_none=True)
    group_aggregated = ma.fields.Boolean()
    province = ma.fields.String(allow_none=True)
    municipality = ma.fields.String(allow_none=True)
    nis2_entity_types = ma.fields.List(ma.fields.String())
    cer_critical_entity = ma.fields.Boolean()


class OrgSummary(ma.Schema):
    id = ma.fields.Integer(required=True)
    kvk = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    province = ma.fields.String(allow_none=True)
    size_class = ma.fields.String(allow_none=True)
    classification = ma.fields.String(allow_none=True)
    maturity_level = ma.fields.String(required=True)


class Classification(ma.Schema):
    result = ma.fields.String(allow_none=True)
    rule = ma.fields.Integer(allow_none=True)
    reasons = ma.fields.Dict(metadata={"description": "nl/en reasons, article, provisional"})
    designation = ma.fields.String(allow_none=True)
    designation_by = ma.fields.String(allow_none=True)
    designation_at = ma.fields.AwareDateTime(allow_none=True)
    designation_reason = ma.fields.String(allow_none=True)


class AssetOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    value = ma.fields.String(required=True)
    cpe = ma.fields.String(allow_none=True)
    purl = ma.fields.String(allow_none=True)
    vendor = ma.fields.String(allow_none=True)
    product = ma.fields.String(allow_none=True)
    version_range = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)
    verification_method = ma.fields.String(allow_none=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    txt_record = ma.fields.String(allow_none=True)


class ContactIn(ma.Schema):
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True, load_default=None)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(CONTACT_ROLES))
    language = ma.fields.String(load_default="nl", validate=ma.validate.OneOf(LANGUAGES))


class ContactPatch(ma.Schema):
    name = ma.fields.String()
    email = ma.fields.String()
    phone = ma.fields.String(allow_none=True)
    role = ma.fields.String(validate=ma.validate.OneOf(CONTACT_ROLES))
    language = ma.fields.String(validate=ma.validate.OneOf(LANGUAGES))


class ContactOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True)
    role = ma.fields.String(required=True)
    language = ma.fields.String(required=True)


class PreferencesIn(ma.Schema):
    channels = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(CHANNELS)), required=True)
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(DELIVERY_MODES))
    min_urgency = ma.fields.String(required=True, validate=ma.validate.OneOf(URGENCIES))
    language = ma.fields.String(required=True, validate=ma.validate.OneOf(LANGUAGES))
    webhook_url = ma.fields.String(allow_none=True, load_default=None)


class PreferencesOut(PreferencesIn):
    pass


class MembershipOut(ma.Schema):
    partnership_id = ma.fields.Integer(required=True)
    organisation_id = ma.fields.Integer(required=True)
    organisation_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    joined_at = ma.fields.AwareDateTime(allow_none=True)
    ended_at = ma.fields.AwareDateTime(allow_none=True)


class OrgProfile(OrgSummary):
    sbi_codes = ma.fields.List(ma.fields.String())
    sbi_version = ma.fields.String()
    employees = ma.fields.Integer(allow_none=True)
    turnover_eur = ma.fields.Integer(allow_none=True)
    balance_eur = ma.fields.Integer(allow_none=True)
    group_aggregated = ma.fields.Boolean()
    municipality = ma.fields.String(allow_none=True)
    nis2_entity_types = ma.fields.List(ma.fields.String())
    cer_critical_entity = ma.fields.Boolean()
    nis2 = ma.fields.Nested(Classification)
    maturity_assessed_at = ma.fields.AwareDateTime(allow_none=True)
    reassessment_due = ma.fields.Boolean()
    assets = ma.fields.List(ma.fields.Nested(AssetOut))
    contacts = ma.fields.List(ma.fields.Nested(ContactOut))
    preferences = ma.fields.Nested(PreferencesOut, allow_none=True)
    partnerships = ma.fields.List(ma.fields.Nested(MembershipOut))


class DesignationIn(ma.Schema):
    designation = ma.fields.String(
        required=True, allow_none=True, validate=ma.validate.OneOf(["essential", "important"])
    )
    reason = ma.fields.String(load_default=None, allow_none=True)


class MaturityIn(ma.Schema):
    """Either ``answers`` (a basisscan) or ``level`` + ``reason`` (analysts)."""

    answers = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    level = ma.fields.String(validate=ma.validate.OneOf(MATURITY_LEVELS))
    reason = ma.fields.String()


class MaturityOut(ma.Schema):
    level = ma.fields.String(required=True)
    source = ma.fields.String(required=True)
    reason = ma.fields.String(allow_none=True)
    result = ma.fields.Dict()
    assessed_at = ma.fields.AwareDateTime(required=True)


class AssetIn(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(ASSET_KINDS))
    value = ma.fields.String(load_default="")
    cpe = ma.fields.String(load_default=None, allow_none=True)
    purl = ma.fields.String(load_default=None, allow_none=True)
    vendor = ma.fields.String(load_default=None, allow_none=True)
    product = ma.fields.String(load_default=None, allow_none=True)
    version_range = ma.fields.String(load_default=None, allow_none=True)


class DelegationIn(ma.Schema):
    supplier_name = ma.fields.String(required=True)
    supplier_kvk = ma.fields.String(load_default=None, allow_none=True)
    contact_name = ma.fields.String(required=True)
    contact_email = ma.fields.String(required=True)
    scope = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(["notices", "advisories", "digests"])),
        required=True,
    )
    consented_by = ma.fields.String(
        required=True, metadata={"description": "Who at the company gave consent"}
    )


class DelegationOut(DelegationIn):
    id = ma.fields.Integer(required=True)
    consented_at = ma.fields.AwareDateTime(required=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class VerifyOut(ma.Schema):
    verified = ma.fields.Boolean(required=True)
    detail = ma.fields.String(required=True)
    asset = ma.fields.Nested(AssetOut)


class DecisionIn(ma.Schema):
    reason = ma.fields.String(load_default=None, allow_none=True)


class OverlapOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)
    detected_at = ma.fields.AwareDateTime(required=True)
    assets = ma.fields.List(ma.fields.Dict())


class ProductArgs(ma.Schema):
    q = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=100))
    limit = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=100))


class ProductOut(ma.Schema):
    label = ma.fields.String(required=True)
    cpe = ma.fields.String(allow_none=True)
    purl = ma.fields.String(allow_none=True)
    vendor = ma.fields.String(allow_none=True)
    product = ma.fields.String(allow_none=True)


class PartnershipIn(ma.Schema):
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(PARTNERSHIP_KINDS))
    slug = ma.fields.String(load_default=None, allow_none=True)
    description = ma.fields.String(load_default=None, allow_none=True)
    sectors = ma.fields.List(ma.fields.String(), load_default=list)
    regions = ma.fields.List(ma.fields.String(), load_default=list)
    forwarding_policy = ma.fields.String(
        load_default="coordinator_approval",
        validate=ma.validate.OneOf(["automatic", "coordinator_approval"]),
    )
    member_list_visible = ma.fields.Boolean(load_default=False)


class PartnershipPatch(ma.Schema):
    name = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    sectors = ma.fields.List(ma.fields.String())
    regions = ma.fields.List(ma.fields.String())
    forwarding_policy = ma.fields.String(
        validate=ma.validate.OneOf(["automatic", "coordinator_approval"])
    )
    member_list_visible = ma.fields.Boolean()


class PartnershipOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    sectors = ma.fields.List(ma.fields.String())
    regions = ma.fields.List(ma.fields.String())
    forwarding_policy = ma.fields.String(required=True)
    member_list_visible = ma.fields.Boolean(required=True)


class PartnershipDetail(PartnershipOut):
    coordinators = ma.fields.List(ma.fields.String(), metadata={"description": "E-mails"})
    members = ma.fields.List(
        ma.fields.Nested(MembershipOut),
        allow_none=True,
        metadata={"description": "null when the member list is hidden from the caller"},
    )


class InvitationIn(ma.Schema):
    email = ma.fields.String(required=True)
    language = ma.fields.String(load_default="nl", validate=ma.validate.OneOf(LANGUAGES))
    organisation_id = ma.fields.Integer(load_default=None, allow_none=True)


class InvitationOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    language = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    accepted_at = ma.fields.AwareDateTime(allow_none=True)


class AcceptIn(ma.Schema):
    organisation_id = ma.fields.Integer(load_default=None, allow_none=True)


class JoinRequestIn(ma.Schema):
    organisation_id = ma.fields.Integer(required=True)
    message = ma.fields.String(load_default=None, allow_none=True)


class JoinRequestOut(ma.Schema):
    id = ma.fields.Integer(required=True)
    organisation_id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    message = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


# ------------------------------------------------------------------------------- helpers


def _principal() -> Principal:
    return current_principal()


def _actor(principal: Principal) -> str:
    return principal.email or f"user:{principal.user_id}"


def _read_org(org_id: int) -> Organisation:
    visibility.check_org_read(db_session(), _principal(), org_id)
    return _orgs().get(org_id)


def _write_org(org_id: int) -> Organisation:
    visibility.check_org_write(db_session(), _principal(), org_id)
    return _orgs().get(org_id)


def _require_editor_staff() -> Principal:
    principal = _principal()
    if not visibility.is_editor_staff(principal):
        raise PermissionDenied("analysts and operators only")
    return principal


def _summary(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "kvk": org.kvk,
        "name": org.name,
        "province": org.province,
        "size_class": org.size_class,
        "classification": org.classification,
        "maturity_level": org.maturity_level,
    }


def asset_out(asset: Asset, service: AssetService) -> dict[str, Any]:
    return {
        "id": asset.id,
        "kind": asset.kind,
        "value": asset.value,
        "cpe": asset.cpe,
        "purl": asset.purl,
        "vendor": asset.vendor,
        "product": asset.product,
        "version_range": asset.version_range,
        "status": asset.status,
        "verification_method": asset.verification_method,
        "verified_at": asset.verified_at,
        "txt_record": service.txt_record(asset) if asset.kind == "domain" else None,
    }


def _contact_out(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "role": contact.role,
        "language": contact.language,
    }


def _prefs_out(prefs: DeliveryPreferences | None) -> dict[str, Any] | None:
    if prefs is None:
        return None
    return {
        "channels": prefs.channels,
        "mode": prefs.mode,
        "min_urgency": prefs.min_urgency,
        "language": prefs.language,
        "webhook_url": prefs.webhook_url,
    }


def _membership_out(m: Membership) -> dict[str, Any]:
    return {
        "partnership_id": m.partnership_id,
        "organisation_id": m.organisation_id,
        "organisation_name": m.organisation.name,
        "status": m.status,
        "joined_at": m.joined_at,
        "ended_at": m.ended_at,
    }


def _partnership_out(p: Partnership) -> dict[str, Any]:
    return {
        "id": p.id,
        "slug": p.slug,
        "name": p.name,
        "kind": p.kind,
        "description": p.description,
        "sectors": p.sectors,
        "regions": p.regions,
        "forwarding_policy": p.forwarding_policy,
        "member_list_visible": p.member_list_visible,
    }


def _invitation_out(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.id,
        "email": i.email,
        "language": i.language,
        "created_at": i.created_at,
        "expires_at": i.expires_at,
        "accepted_at": i.accepted_at,
    }


def profile(org: Organisation) -> dict[str, Any]:
    """The full profile of one organisation (for the API and the web page)."""
    orgs = _orgs()
    assets = _assets()
    data = _summary(org)
    data.update(
        {
            "sbi_codes": org.sbi_codes,
            "sbi_version": org.sbi_version,
            "employees": org.employees,
            "turnover_eur": org.turnover_eur,
            "balance_eur": org.balance_eur,
            "group_aggregated": org.group_aggregated,
            "municipality": org.municipality,
            "nis2_entity_types": org.nis2_entity_types,
            "cer_critical_entity": org.cer_critical_entity,
            "nis2": {
                "result": org.classification,
                "rule": org.classification_rule,
                "reasons": org.classification_reasons,
                "designation": org.designation,
                "designation_by": org.designation_by,
                "designation_at": org.designation_at,
                "designation_reason": org.designation_reason,
            },
            "maturity_assessed_at": org.maturity_assessed_at,
            "reassessment_due": orgs.needs_reassessment(org),
            "assets": [asset_out(a, assets) for a in org.assets],
            "contacts": [_contact_out(c) for c in org.contacts],
            "preferences": _prefs_out(org.preferences),
            "partnerships": [
                _membership_out(m)
                for m in PartnershipService(db_session(), get_settings()).memberships_of(org.id)
            ],
        }
    )
    return data


def _commit() -> None:
    db_session().commit()


# ---------------------------------------------------------------------------- organisations


@blp.route("/organisations")
class Organisations(MethodView):
    @requires("orgs:read")
    @blp.arguments(OrgListArgs, location="query")
    @blp.response(200, OrgSummary(many=True))
    @errors(blp, 401, 403)
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Organisations the caller may see, by name."""
        readable = visibility.readable_org_ids(db_session(), _principal())
        orgs = _orgs().list_organisations(
            query=args["q"],
            province=args["province"],
            classification=args["classification"],
            ids=None if readable is None else sorted(readable),
            limit=args["limit"],
            offset=args["offset"],
        )
        return [_summary(o) for o in orgs]

    @requires("orgs:write")
    @blp.arguments(OrgIn)
    @blp.response(201, OrgProfile)
    @errors(blp, 401, 403, 409, 422)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register an organisation (analysts and operators)."""
        _require_editor_staff()
        org = _orgs().create(data)
        _commit()
        return profile(org)


@blp.route("/organisations/<int:org_id>")
class OrganisationWrite(MethodView):
    @requires("orgs:write")
    @blp.arguments(OrgIn)
    @blp.response(200, OrgProfile)
    @errors(blp, 401, 403, 404, 409, 422)
    def patch(self, data: dict[str, Any], org_id: int) -> dict[str, Any]:
        """Change fields of an organisation; the NIS2 classification is recomputed."""
        _write_org(org_id)
        org = _orgs().update(org_id, data)
        _commit()
        return profile(org)


@blp.route("/organisations/<int:org_id>/profile")
class OrganisationProfile(MethodView):
    @requires("orgs:read")
    @blp.response(200, OrgProfile)
    @errors(blp, 401, 403, 404)
    def get(self, org_id: int) -> dict[str, Any]:
        """Everything about one organisation: NIS2 result with reasons, maturity, assets,
        contacts, preferences and partnerships."""
        return profile(_read_org(org_id))


@blp.route("/organisations/<int:org_id>/designation")
class OrganisationDesignation(MethodView):
    @requires("orgs:write")
    @blp.arguments(DesignationIn)
    @blp.response(200, Classification)
    @errors(blp, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], org_id: int) -> dict[str, Any]:
        """Set or clear (``null``) a national designation, with a reason (analysts)."""
        principal = _require_editor_staff()
        org = _orgs().set_designation(
            org_id, data["designation"], by=_actor(principal), reason=data["reason"]
        )
        _commit()
        return profile(org)["nis2"]  # type: ignore[no-any-return]


@blp.route("/organisations/<int:org_id>/maturity")
class OrganisationMaturity(MethodView):
    @requires("orgs:read")
    @blp.response(200, MaturityOut(many=True))
    @errors(blp, 401, 403, 404)
    def get(self, org_id: int) -> list[Any]:
        """The maturity history, newest first."""
        _read_org(org_id)
        return list(_orgs().assessments(org_id))

    @requires("orgs:write")
    @blp.arguments(MaturityIn)
    @blp.response(201, MaturityOut)
    @errors(blp, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], org_id: int) -> Any:
        """Record a basisscan (``answers``) or, as an analyst, set a ``level`` with a reason."""
        principal = _principal()
        if "level" in data:
            _read_org(org_id)
            _require_editor_staff()
            result = _orgs().set_maturity_level(
                org_id, data["level"], by=_actor(principal), reason=data.get("reason", "")
            )
        else:
            _write_org(org_id)
            result = _orgs().record_self_assessment(
                org_id, data.get("answers", {}), by=_actor(principal)
            )
        _commit()
        return result


@blp.route("/organisations/<int:org_id>/assets")
class OrganisationAssets(MethodView):
    @requires("orgs:read")
    @blp.response(200, AssetOut(many=True))
    @errors(blp, 401, 403, 404)
    def get(self, org_id: int) -> list[dict[str, Any]]:
        """The organisation's assets with their verification status."""
        _read_org(org_id)
        service = _assets()
        return [asset_out(a, service) for a in service.list_assets(org_id=org_id)]

    @requires("orgs:write")
    @blp.arguments(AssetIn)
    @blp.response(201, AssetOut)
    @errors(blp, 401, 403, 404, 409, 422)
    def post(self, data: dict[str, Any], org_id: int) -> dict[str, Any]:
        """Claim an asset (pending); overlaps with other organisations go to review."""
        _write_org(org_id)
        service = _assets()
        kind = data.pop("kind")
        value = data.pop("value")
        asset = service.claim(org_id, kind, value, by=_actor(_principal()), **data)
        _commit()
        return asset_out(asset, service)


@blp.route("/organisations/<int:org_id>/assets/<int:asset_id>")
class OrganisationAsset(MethodView):
    @requires("orgs:write")
    @blp.response(204)
    @errors(blp, 401, 403, 404)
    def delete(self, org_id: int, asset_id: int) -> Response:
        """Withdraw a claim."""
        _write_org(org_id)
        _assets().remove(asset_id, org_id=org_id)
        _commit()
        return Response(status=204)


@blp.route("/organisations/<int:org_id>/assets/<int:asset_id>/verify")
class OrganisationAssetVerify(MethodView):
    @requires("orgs:write")
    @blp.response(200, VerifyOut)
    @errors(blp, 401, 403, 404, 422)
    def post(self, org_id: int, asset_id: int) -> dict[str, Any]:
        """Check the domain's DNS TXT record for the verification token."""
        _write_org(org_id)
        service = _assets()
        result = service.verify_dns(asset_id, org_id=org_id)
        _commit()
        asset = service.get(asset_id)
        return {
            "verified": result.verified,
            "detail": result.detail,
            "asset": asset_out(asset, service),
        }


@blp.route("/assets/<int:asset_id>/<any(approve, reject):decision>")
class AssetDecision(MethodView):
    @requires("orgs:write")
    @blp.arguments(DecisionIn)
    @blp.response(200, AssetOut)
    @errors(blp, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], asset_id: int, decision: str) -> dict[str, Any]:
        """An analyst approves or rejects (with a reason) an asset claim."""
        principal = _require_editor_staff()
        service = _assets()
        if decision == "approve":
            asset = service.approve(asset_id, by=_actor(principal), reason=data["reason"])
        else:
            asset = service.reject(asset_id, by=_actor(principal), reason=data["reason"] or "")
        _commit()
        return asset_out(asset, service)


@blp.route("/assets/overlaps")
class AssetOverlaps(MethodView):
    @requires("orgs:read")
    @blp.response(200, OverlapOut(many=True))
    @errors(blp, 401, 403)
    def get(self) -> list[dict[str, Any]]:
        """The review queue of overlapping claims (staff)."""
        if not _principal().is_staff:
            raise PermissionDenied("staff only")
        service = _assets()
        return [
            {
                "id": overlap.id,
                "reason": overlap.reason,
                "detected_at": overlap.detected_at,
                "assets": [
                    {
                        "id": a.id,
                        "organisation_id": a.organisation_id,
                        "value": a.value,
                        "status": a.status,
                    }
                    for a in (first, second)
                ],  # fmt: skip
            }
            for overlap, first, second in service.review_queue()
        ]


@blp.route("/organisations/<int:org_id>/contacts")
class OrganisationContacts(MethodView):
    @requires("orgs:read")
    @blp.response(200, ContactOut(many=True))
    @errors(blp, 401, 403, 404)
    def get(self, org_id: int) -> list[dict[str, Any]]:
        """The organisation's contacts."""
        return [_contact_out(c) for c in _read_org(org_id).contacts]

    @requires("orgs:write")
    @blp.arguments(ContactIn)
    @blp.response(201, ContactOut)
    @errors(blp, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], org_id: int) -> dict[str, Any]:
        """Add a contact."""
        _write_org(org_id)
        contact = _orgs().add_contact(org_id, **data)
        _commit()
        return _contact_out(contact)


@blp.route("/organisations/<int:org_id>/contacts/<int:contact_id>")
class OrganisationContact(MethodView):
    @requires("orgs:write")
    @blp.arguments(ContactPatch)
    @blp.response(200, ContactOut)
    @errors(blp, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], org_id: int, contact_id: int) -> dict[str, Any]:
        """Change a contact."""
        _write_org(org_id)
        contact = _orgs().update_contact(org_id, contact_id, data)
        _commit()
        return _contact_out(contact)

    @requires("orgs:write")
    @blp.response(204)
    @errors(blp, 401, 403, 404)
    def delete(self, org_id: int, contact_id: int) -> Response:
        """Remove a contact."""
        _write_org(org_id)
        _orgs().remove_contact(org_id, contact_id)
        _commit()
        return Response(status=204)


@blp.route("/organisations/<int:org_id>/preferences")
class OrganisationPreferences(MethodView):
    @requires("orgs:read")
    @blp.response(200, PreferencesOut)
    @errors(blp, 401, 403, 404)
    def get(self, org_id: int) -> dict[str, Any] | None:
        """Delivery preferences (defaults when never set)."""
        _read_org(org_id)
        prefs = _orgs().preferences(org_id)
        _commit()
        return _prefs_out(prefs)

    @requires("orgs:write")
    @blp.arguments(PreferencesIn)
    @blp.response(200, PreferencesOut)
    @errors(blp, 401, 403, 404, 422)
    def put(self, data: dict[str, Any], org_id: int) -> dict[str, Any] | None:
        """Replace the delivery preferences."""
        _write_org(org_id)
        prefs = _orgs().set_preferences(org_id, **data)
        _commit()
        return _prefs_out(prefs)


@blp.route("/organisations/<int:org_id>/delegations")
class OrganisationDelegations(MethodView):
    @requires("orgs:read")
    @blp.response(200, DelegationOut(many=True))
    @errors(blp, 401, 403, 404)
    def get(self, org_id: int) -> list[Any]:
        """Active delegations to IT suppliers / MSPs, with who consented and when."""
        _read_org(org_id)
        return list(_orgs().delegations(org_id))

    @requires("orgs:write")
    @blp.arguments(DelegationIn)
    @blp.response(201, DelegationOut)
    @errors(blp, 401, 403, 404, 422)
    def post(self, data: dict[str, Any], org_id: int) -> Any:
        """Record the company's consent that a supplier contact receives its warnings."""
        _write_org(org_id)
        delegation = _orgs().add_delegation(org_id, **data)
        _commit()
        return delegation


@blp.route("/organisations/<int:org_id>/delegations/<int:delegation_id>")
class OrganisationDelegation(MethodView):
    @requires("orgs:write")
    @blp.response(200, DelegationOut)
    @errors(blp, 401, 403, 404)
    def delete(self, org_id: int, delegation_id: int) -> Any:
        """Revoke a delegation (kept with its revocation time)."""
        _write_org(org_id)
        delegation = _orgs().revoke_delegation(org_id, delegation_id)
        _commit()
        return delegation


@blp.route("/products")
class Products(MethodView):
    @requires("orgs:read")
    @blp.arguments(ProductArgs, location="query")
    @blp.response(200, ProductOut(many=True))
    @errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """Products seen in ingested intelligence, to pick assets from."""
        options = ProductCatalogue(db_session(), _principal()).search(
            args["q"], limit=args["limit"]
        )
        return [o.as_dict() for o in options]


# ----------------------------------------------------------------------------- partnerships


@blp.route("/partnerships")
class Partnerships(MethodView):
    @requires("orgs:read")
    @blp.response(200, PartnershipOut(many=True))
    @errors(blp, 401, 403)
    def get(self) -> list[dict[str, Any]]:
        """Partnerships the caller belongs to, coordinates, or (staff) all."""
        principal = _principal()
        ids = None
        if not principal.is_staff:
            ids = sorted(principal.partnership_ids | principal.coordinated_partnership_ids)
        return [_partnership_out(p) for p in _partnerships().list_partnerships(ids=ids)]

    @requires("orgs:write")
    @blp.arguments(PartnershipIn)
    @blp.response(201, PartnershipOut)
    @errors(blp, 401, 403, 409, 422)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a partnership (analysts and operators)."""
        _require_editor_staff()
        partnership = _partnerships().create(**data)
        _commit()
        return _partnership_out(partnership)


@blp.route("/partnerships/<int:pid>")
class PartnershipResource(MethodView):
    @requires("orgs:read")
    @blp.response(200, PartnershipDetail)
    @errors(blp, 401, 403, 404)
    def get(self, pid: int) -> dict[str, Any]:
        """A partnership; ``members`` is null when its member list is hidden from the caller
        (members see only the coordinators unless the partnership opts in)."""
        service = _partnerships()
        view = service.member_view(pid, _principal())
        data = _partnership_out(service.get(pid))
        data["coordinators"] = [u.email for u in view.coordinators]
        data["members"] = (
            None if view.members is None else [_membership_out(m) for m in view.members]
        )
        return data

    @requires("orgs:write")
    @blp.arguments(PartnershipPatch)
    @blp.response(200, PartnershipOut)
    @errors(blp, 401, 403, 404, 422)
    def patch(self, data: dict[str, Any], pid: int) -> dict[str, Any]:
        """Change a partnership (its coordinators or staff)."""
        visibility.check_partnership_manage(_principal(), pid)
        partnership = _partnerships().update(pid, data)
        _commit()
        return _partnership_out(partnership)


@blp.route("/partnerships/<int:pid>/invitations")
class PartnershipInvitations(MethodView):
    @requires("orgs:read")
    @blp.response(200, InvitationOut(many=True))
    @errors(blp, 401, 403, 404)
    def get(self, pid: int) -> list[dict[str, Any]]:
        """Pending invitations (coordinators, staff)."""
        visibility.check_partnership_manage(_principal(), pid)
        return [_invitation_out(i) for i in _partnerships().pending_invitations(pid)]

    @requires("orgs:write")
    @blp.arguments(InvitationIn)
    @blp.response(201, InvitationOut)
    @errors(blp, 401, 403, 404, 422, 503)
    def post(self, data: dict[str, Any], pid: int) -> dict[str, Any]:
        """Invite an e-mail address; the invitation mail carries the accept link (503 and
        nothing stored when the mail server refuses it)."""
        principal = _principal()
        visibility.check_partnership_manage(principal, pid)
        try:
            invitation, _token = _partnerships().invite(
                pid, data["email"], by=_actor(principal), language=data["language"],
                organisation_id=data["organisation_id"],
            )  # fmt: skip
        except MailDeliveryError:
            # Nothing is stored when the mail cannot go out: the coordinator retries.
            db_session().rollback()
            abort(503)
        _commit()
        return _invitation_out(invitation)


@blp.route("/partnerships/invitations/<token>/accept")
class InvitationAccept(MethodView):
    @requires("orgs:write")
    @blp.arguments(AcceptIn)
    @blp.response(200, MembershipOut)
    @errors(blp, 401, 403, 404, 409)
    def post(self, data: dict[str, Any], token: str) -> dict[str, Any]:
        """The caller accepts an invitation for (one of) their organisation(s)."""
        principal = _principal()
        if principal.user_id is None:
            raise AuthenticationError("authentication required")
        user = auth_service().get_user(principal.user_id)
        membership = _partnerships().accept(token, user, organisation_id=data["organisation_id"])
        _commit()
        return _membership_out(membership)


@blp.route("/partnerships/<int:pid>/members/<int:org_id>")
class PartnershipMember(MethodView):
    @requires("orgs:write")
    @blp.response(200, MembershipOut)
    @errors(blp, 401, 403, 404)
    def delete(self, pid: int, org_id: int) -> dict[str, Any]:
        """Remove a member (coordinators, staff) or leave (a member for its own organisation)."""
        principal = _principal()
        service = _partnerships()
        if org_id in principal.organisation_ids and not service.can_manage(principal, pid):
            visibility.check_partnership_read(principal, pid)
            membership = service.leave(pid, org_id, by=_actor(principal))
        else:
            visibility.check_partnership_manage(principal, pid)
            membership = service.remove(pid, org_id, by=_actor(principal))
        _commit()
        return _membership_out(membership)


@blp.route("/partnerships/<int:pid>/join-requests")
class PartnershipJoinRequests(MethodView):
    @requires("orgs:read")
    @blp.response(200, JoinRequestOut(many=True))
    @errors(blp, 401, 403, 404)
    def get(self, pid: int) -> list[Any]:
        """Pending join requests (coordinators, staff)."""
        visibility.check_partnership_manage(_principal(), pid)
        return list(_partnerships().join_requests(pid))

    @requires("orgs:write")
    @blp.arguments(JoinRequestIn)
    @blp.response(201, JoinRequestOut)
    @errors(blp, 401, 403, 404, 409)
    def post(self, data: dict[str, Any], pid: int) -> Any:
        """Ask for one's own organisation to join."""
        principal = _principal()
        if data["organisation_id"] not in principal.organisation_ids:
            raise NotFound("no such organisation", details={"id": data["organisation_id"]})
        _partnerships().get(pid)
        request = _partnerships().request_join(
            pid, data["organisation_id"], by=_actor(principal), message=data["message"]
        )
        _commit()
        return request


@blp.route("/partnerships/<int:pid>/join-requests/<int:rid>/<any(approve, reject):decision>")
class PartnershipJoinDecision(MethodView):
    @requires("orgs:write")
    @blp.response(200, JoinRequestOut)
    @errors(blp, 401, 403, 404, 409)
    def post(self, pid: int, rid: int, decision: str) -> Any:
        """A coordinator approves or rejects a join request."""
        principal = _principal()
        visibility.check_partnership_manage(principal, pid)
        request = _partnerships().decide_join(
            pid, rid, approve=decision == "approve", by=_actor(principal)
        )
        _commit()
        return request
