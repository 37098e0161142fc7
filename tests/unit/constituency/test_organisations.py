"""OrganisationService: registration, derived NIS2 classification, designation override,
maturity history, contacts, delivery preferences and delegations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nca_share.clock import FrozenClock
from nca_share.constituency.maturity import load_basisscan
from nca_share.constituency.organisations import OrganisationService
from nca_share.db import Database
from nca_share.errors import Conflict, NotFound, ValidationError

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_classification_follows_the_facts(database: Database) -> None:
    """Changing size or entity types recomputes the NIS2 result, rule and reasons."""
    with database.session() as session:
        orgs = OrganisationService(session)
        org = orgs.create(
            {"kvk": "12345678", "name": "Net B.V.", "employees": "20", "turnover_eur": "3000000",
             "balance_eur": "2500000", "nis2_entity_types": "electricity_dso"}
        )  # fmt: skip
        assert (org.size_class, org.classification) == ("small", "out_of_scope")
        orgs.update(org.id, {"employees": 400, "turnover_eur": 90_000_000})
        assert (org.size_class, org.classification, org.classification_rule) == (
            "large", "essential", 7
        )  # fmt: skip
        assert org.classification_reasons["nl"]
        assert org.classification_reasons["en"]
        assert "energy" in org.classification_reasons["stix_sectors"]


def test_designation_override_records_who_when_why(database: Database) -> None:
    """A designation raises the result and keeps who, when and why; clearing restores it."""
    clock = FrozenClock(T0)
    with database.session() as session:
        orgs = OrganisationService(session, clock=clock)
        org = orgs.create({"kvk": "12345678", "name": "Klein B.V.", "employees": 5})
        assert org.classification == "out_of_scope"
        with pytest.raises(ValidationError):
            orgs.set_designation(org.id, "essential", by="analist@nca.nl", reason="")
        orgs.set_designation(org.id, "essential", by="analist@nca.nl", reason="sole provider")
        assert (org.classification, org.classification_rule) == ("essential", 1)
        assert (org.designation_by, org.designation_at, org.designation_reason) == (
            "analist@nca.nl", T0, "sole provider"
        )  # fmt: skip
        orgs.set_designation(org.id, None, by="analist@nca.nl", reason=None)
        assert org.classification == "out_of_scope"


def test_duplicate_and_bad_fields(database: Database) -> None:
    """A taken KVK number conflicts; every bad field is reported at once."""
    with database.session() as session:
        orgs = OrganisationService(session)
        orgs.create({"kvk": "12345678", "name": "Alfa"})
        with pytest.raises(Conflict):
            orgs.create({"kvk": "12345678", "name": "Alfa 2"})
        with pytest.raises(ValidationError) as info:
            orgs.create(
                {"kvk": "1234", "name": "", "province": "Wallonië", "nis2_entity_types": "x"}
            )
        fields = {e["field"] for e in info.value.details["errors"]}
        assert fields == {"kvk", "name", "province", "nis2_entity_types"}
        with pytest.raises(NotFound):
            orgs.get_by_kvk("99999999")


def test_self_assessment_and_analyst_level(database: Database) -> None:
    """A basisscan sets the level with history; an analyst override needs a reason."""
    clock = FrozenClock(T0)
    with database.session() as session:
        orgs = OrganisationService(session, clock=clock)
        org = orgs.create({"kvk": "12345678", "name": "Alfa"})
        assert org.maturity_level == "M0"
        assert orgs.needs_reassessment(org)
        answers = {s.id: "yes" for s in load_basisscan().statements}
        first = orgs.record_self_assessment(org.id, answers, by="eigenaar@alfa.nl")
        assert (first.level, org.maturity_level) == ("M4", "M4")
        assert first.result["reasons_nl"]
        assert first.result["overall_score"] == 100
        assert not orgs.needs_reassessment(org)
        with pytest.raises(ValidationError):
            orgs.set_maturity_level(org.id, "M3", by="analist", reason=" ")
        clock.advance(timedelta(days=1))
        orgs.set_maturity_level(org.id, "M2", by="analist", reason="incident showed gaps")
        assert org.maturity_level == "M2"
        history = orgs.assessments(org.id)
        assert [(a.source, a.level) for a in history] == [("analyst", "M2"), ("self", "M4")]
        clock.advance(timedelta(days=366))
        assert orgs.needs_reassessment(org)
        with pytest.raises(ValidationError):
            orgs.record_self_assessment(org.id, {"nope": "yes"}, by=None)


def test_contacts_preferences_delegation(database: Database) -> None:
    """Contacts, preferences and delegations are validated and kept per organisation."""
    with database.session() as session:
        orgs = OrganisationService(session)
        org = orgs.create({"kvk": "12345678", "name": "Alfa"})
        contact = orgs.add_contact(
            org.id, name="Eva", email="Eva@Alfa.NL", role="24x7", phone="+31 6 1234 5678"
        )
        assert (contact.email, contact.language) == ("Eva@alfa.nl", "nl")
        with pytest.raises(ValidationError):
            orgs.add_contact(org.id, name="X", email="x@alfa.nl", role="boss")
        orgs.update_contact(org.id, contact.id, {"language": "en"})
        assert contact.language == "en"
        assert orgs.preferences(org.id).channels == ["email"]
        with pytest.raises(ValidationError):
            orgs.set_preferences(
                org.id, channels=["webhook"], mode="daily", min_urgency="urgent", language="en"
            )
        prefs = orgs.set_preferences(
            org.id, channels="email;atom", mode="weekly", min_urgency="urgent", language="en"
        )
        assert (prefs.channels, prefs.mode) == (["email", "atom"], "weekly")
        delegation = orgs.add_delegation(
            org.id, supplier_name="IT Partner B.V.", contact_name="Piet",
            contact_email="piet@itpartner.nl", scope=["notices"], consented_by="Eva (directie)",
        )  # fmt: skip
        assert delegation.consented_at is not None
        orgs.revoke_delegation(org.id, delegation.id)
        assert orgs.delegations(org.id) == []
