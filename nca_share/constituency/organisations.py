"""OrganisationService: organisations and what hangs off them — contacts, delivery
preferences, maturity (self-assessments and analyst levels), NIS2 designation overrides and
IT-supplier delegations. The derived NIS2 classification is recomputed on every change.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.constituency import classification
from nca_share.constituency import validation as v
from nca_share.constituency.fields import organisation_fields
from nca_share.constituency.maturity import reassessment_due, score_answers
from nca_share.constituency.models import (
    CHANNELS,
    CONTACT_ROLES,
    DELIVERY_MODES,
    DESIGNATIONS,
    LANGUAGES,
    MATURITY_LEVELS,
    URGENCIES,
    Contact,
    Delegation,
    DeliveryPreferences,
    MaturityAssessment,
    Organisation,
)
from nca_share.errors import Conflict, NotFound, ValidationError

log = logging.getLogger(__name__)


class OrganisationService:
    """Create, change and read organisations; every method works inside the given session."""

    def __init__(self, session: Session, *, clock: Clock | None = None) -> None:
        self.session = session
        self.clock = clock or SystemClock()

    # -- organisations ---------------------------------------------------------------------

    def get(self, org_id: int) -> Organisation:
        """The organisation with this id.

        :raises NotFound: when there is none.
        """
        org = self.session.get(Organisation, org_id)
        if org is None:
            raise NotFound(f"organisation {org_id} not found")
        return org

    def find_by_kvk(self, kvk: str) -> Organisation | None:
        return self.session.scalar(select(Organisation).where(Organisation.kvk == kvk.strip()))

    def get_by_kvk(self, kvk: str) -> Organisation:
        """The organisation with this KVK number.

        :raises NotFound: when there is none.
        """
        org = self.find_by_kvk(kvk)
        if org is None:
            raise NotFound(f"no organisation with KVK number {kvk}")
        return org

    def list_organisations(
        self,
        *,
        query: str | None = None,
        province: str | None = None,
        classification: str | None = None,
        ids: Sequence[int] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Organisation]:
        """Organisations ordered by name, optionally filtered."""
        stmt = select(Organisation).order_by(Organisation.name, Organisation.id)
        if query:
            like = f"%{query.strip().lower()}%"
            stmt = stmt.where(
                or_(func.lower(Organisation.name).like(like), Organisation.kvk == query.strip())
            )
        if province:
            stmt = stmt.where(Organisation.province == v.province(province))
        if classification:
            stmt = stmt.where(Organisation.classification == classification)
        if ids is not None:
            stmt = stmt.where(Organisation.id.in_(list(ids)))
        return list(self.session.scalars(stmt.limit(limit).offset(offset)))

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(Organisation)) or 0)

    def create(self, data: Mapping[str, Any]) -> Organisation:
        """Register an organisation.

        :param data: organisation fields (``kvk`` and ``name`` required).
        :raises ValidationError: listing every bad field.
        :raises Conflict: when the KVK number is taken.
        """
        fields = organisation_fields(data)
        if self.find_by_kvk(fields["kvk"]) is not None:
            raise Conflict(f"an organisation with KVK number {fields['kvk']} exists")
        org = Organisation(**{**_defaults(), **fields})
        org.created_at = org.updated_at = self.clock.now()
        classification.refresh(org)
        self.session.add(org)
        self.session.flush()
        log.info("organisation %s (%s) registered", org.kvk, org.id)
        return org

    def update(self, org_id: int, data: Mapping[str, Any]) -> Organisation:
        """Change some fields of an organisation and recompute its classification.

        :raises ValidationError: listing every bad field.
        :raises Conflict: when a new KVK number is taken.
        """
        org = self.get(org_id)
        fields = organisation_fields(data, partial=True)
        if "kvk" in fields and fields["kvk"] != org.kvk and self.find_by_kvk(fields["kvk"]):
            raise Conflict(f"an organisation with KVK number {fields['kvk']} exists")
        for key, value in fields.items():
            setattr(org, key, value)
        org.updated_at = self.clock.now()
        classification.refresh(org)
        self.session.flush()
        return org

    def delete(self, org_id: int) -> None:
        self.session.delete(self.get(org_id))
        self.session.flush()

    def set_designation(
        self, org_id: int, designation: str | None, *, by: str, reason: str | None
    ) -> Organisation:
        """Record (or clear, with ``None``) a national designation: who, when and why.

        :raises ValidationError: for an unknown designation or a missing reason.
        """
        org = self.get(org_id)
        if designation is not None:
            designation = v.choice(designation, DESIGNATIONS, field="designation")
            if not reason or not reason.strip():
                raise ValidationError("a designation needs a reason", location="reason")
        org.designation = designation
        org.designation_by = by
        org.designation_at = self.clock.now()
        org.designation_reason = reason.strip() if reason else None
        classification.refresh(org)
        self.session.flush()
        return org

    # -- maturity ----------------------------------------------------------------------------

    def record_self_assessment(
        self, org_id: int, answers: Mapping[str, Any], *, by: str | None
    ) -> MaturityAssessment:
        """Score a basisscan questionnaire and make its level the organisation's level.

        :raises ValidationError: when the answers are incomplete or unknown.
        """
        org = self.get(org_id)
        scored = score_answers(answers)
        result = {
            "overall_score": scored.overall_score,
            "principles": {
                str(n): {"score": p.score, "level": p.level.value, "dont_know": p.dont_know}
                for n, p in scored.per_principle_scores.items()
            },
            "reasons_nl": list(scored.reasons_nl),
            "reasons_en": list(scored.reasons_en),
            "tips": [t.statement_id for t in scored.tips],
            "basisscan_version": scored.basisscan_version,
        }
        return self._assess(
            org, "self", dict(answers), scored.level.value, reason=None, by=by, result=result
        )

    def set_maturity_level(
        self, org_id: int, level: str, *, by: str, reason: str
    ) -> MaturityAssessment:
        """An analyst sets the level by hand, with a reason.

        :raises ValidationError: for an unknown level or an empty reason.
        """
        level = level.strip().upper()
        if level not in MATURITY_LEVELS:
            raise ValidationError(
                f"maturity level must be one of {', '.join(MATURITY_LEVELS)}", location="level"
            )
        if not reason.strip():
            raise ValidationError("setting a maturity level needs a reason", location="reason")
        return self._assess(self.get(org_id), "analyst", {}, level, reason=reason.strip(), by=by)

    def _assess(
        self,
        org: Organisation,
        source: str,
        answers: dict[str, Any],
        level: str,
        *,
        reason: str | None,
        by: str | None,
        result: dict[str, Any] | None = None,
    ) -> MaturityAssessment:
        now = self.clock.now()
        assessment = MaturityAssessment(
            organisation_id=org.id,
            source=source,
            answers=answers,
            result=result or {},
            level=level,
            reason=reason,
            assessed_by=by,
            assessed_at=now,
        )
        self.session.add(assessment)
        org.maturity_level = level
        org.maturity_assessed_at = now
        self.session.flush()
        return assessment

    def assessments(self, org_id: int) -> list[MaturityAssessment]:
        """The maturity history, newest first."""
        return list(
            self.session.scalars(
                select(MaturityAssessment)
                .where(MaturityAssessment.organisation_id == org_id)
                .order_by(MaturityAssessment.assessed_at.desc(), MaturityAssessment.id.desc())
            )
        )

    def needs_reassessment(self, org: Organisation) -> bool:
        """True when the organisation was never assessed or its last assessment is a year old."""
        return reassessment_due(org.maturity_assessed_at, self.clock.now())

    # -- contacts ----------------------------------------------------------------------------

    def add_contact(
        self,
        org_id: int,
        *,
        name: str,
        email: str,
        role: str,
        phone: str | None = None,
        language: str = "nl",
    ) -> Contact:
        """Add a contact person.

        :raises ValidationError: naming the bad field.
        """
        org = self.get(org_id)
        contact = Contact(
            organisation_id=org.id, **_contact_fields(name, email, role, phone, language)
        )
        contact.created_at = self.clock.now()
        self.session.add(contact)
        self.session.flush()
        return contact

    def update_contact(self, org_id: int, contact_id: int, data: Mapping[str, Any]) -> Contact:
        contact = self.get_contact(org_id, contact_id)
        merged: dict[str, Any] = {
            "name": contact.name,
            "email": contact.email,
            "role": contact.role,
            "phone": contact.phone,
            "language": contact.language,
        }
        unknown = set(data) - set(merged)
        if unknown:
            raise ValidationError(
                f"unknown field {sorted(unknown)[0]!r}", location=sorted(unknown)[0]
            )
        merged.update(data)
        for key, value in _contact_fields(**merged).items():
            setattr(contact, key, value)
        self.session.flush()
        return contact

    def get_contact(self, org_id: int, contact_id: int) -> Contact:
        contact = self.session.get(Contact, contact_id)
        if contact is None or contact.organisation_id != org_id:
            raise NotFound(f"contact {contact_id} not found")
        return contact

    def remove_contact(self, org_id: int, contact_id: int) -> None:
        self.session.delete(self.get_contact(org_id, contact_id))
        self.session.flush()

    # -- preferences -------------------------------------------------------------------------

    def preferences(self, org_id: int) -> DeliveryPreferences:
        """The delivery preferences, created with defaults (e-mail, immediate) when absent."""
        org = self.get(org_id)
        if org.preferences is None:
            org.preferences = DeliveryPreferences(
                channels=["email"], mode="immediate", min_urgency="normal", language="nl"
            )
            self.session.flush()
        return org.preferences

    def set_preferences(
        self,
        org_id: int,
        *,
        channels: Sequence[str] | str,
        mode: str,
        min_urgency: str,
        language: str,
        webhook_url: str | None = None,
    ) -> DeliveryPreferences:
        """Replace the delivery preferences.

        :raises ValidationError: naming the bad field.
        """
        chosen = v.choices(
            list(channels) if not isinstance(channels, str) else channels,
            CHANNELS,
            field="channels",
        )
        if not chosen:
            raise ValidationError("choose at least one channel", location="channels")
        hook = (webhook_url or "").strip() or None
        if "webhook" in chosen and not hook:
            raise ValidationError("the webhook channel needs a webhook URL", location="webhook_url")
        if hook and not hook.startswith("https://") and not hook.startswith("http://"):
            raise ValidationError("webhook URL must start with https://", location="webhook_url")
        prefs = self.preferences(org_id)
        prefs.channels = chosen
        prefs.mode = v.choice(mode, DELIVERY_MODES, field="mode")
        prefs.min_urgency = v.choice(min_urgency, URGENCIES, field="min_urgency")
        prefs.language = v.choice(language, LANGUAGES, field="language")
        prefs.webhook_url = hook
        prefs.updated_at = self.clock.now()
        self.session.flush()
        return prefs

    # -- delegation --------------------------------------------------------------------------

    def add_delegation(
        self,
        org_id: int,
        *,
        supplier_name: str,
        contact_name: str,
        contact_email: str,
        scope: Sequence[str],
        consented_by: str,
        supplier_kvk: str | None = None,
    ) -> Delegation:
        """Record the company's consent that an IT supplier / MSP contact gets its warnings.

        :param scope: what is delegated, e.g. ``["notices", "advisories"]``.
        :raises ValidationError: naming the bad field.
        """
        org = self.get(org_id)
        if not consented_by.strip():
            raise ValidationError("who gave consent must be recorded", location="consented_by")
        scopes = v.choices(list(scope), ("notices", "advisories", "digests"), field="scope")
        if not scopes:
            raise ValidationError("choose what is delegated", location="scope")
        delegation = Delegation(
            organisation_id=org.id,
            supplier_name=v.name(supplier_name, field="supplier_name"),
            supplier_kvk=v.kvk_number(supplier_kvk, field="supplier_kvk") if supplier_kvk else None,
            contact_name=v.name(contact_name, field="contact_name", max_len=200),
            contact_email=v.email(contact_email, field="contact_email"),
            scope=scopes,
            consented_by=consented_by.strip(),
            consented_at=self.clock.now(),
        )
        self.session.add(delegation)
        self.session.flush()
        return delegation

    def delegations(self, org_id: int, *, include_revoked: bool = False) -> list[Delegation]:
        stmt = select(Delegation).where(Delegation.organisation_id == org_id)
        if not include_revoked:
            stmt = stmt.where(Delegation.revoked_at.is_(None))
        return list(self.session.scalars(stmt.order_by(Delegation.id)))

    def revoke_delegation(self, org_id: int, delegation_id: int) -> Delegation:
        delegation = self.session.get(Delegation, delegation_id)
        if delegation is None or delegation.organisation_id != org_id:
            raise NotFound(f"delegation {delegation_id} not found")
        delegation.revoked_at = self.clock.now()
        self.session.flush()
        return delegation


def _defaults() -> dict[str, Any]:
    return {
        "sbi_codes": [],
        "sbi_version": "2025",
        "group_aggregated": False,
        "nis2_entity_types": [],
        "cer_critical_entity": False,
        "classification_reasons": {},
        "maturity_level": "M0",
    }


def _contact_fields(
    name: str, email: str, role: str, phone: str | None, language: str
) -> dict[str, Any]:
    return {
        "name": v.name(name, max_len=200),
        "email": v.email(email),
        "role": v.choice(role, CONTACT_ROLES, field="role"),
        "phone": v.phone(phone) if phone and phone.strip() else None,
        "language": v.choice(language or "nl", LANGUAGES, field="language"),
    }
