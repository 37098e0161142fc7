"""Constituency journeys in a real browser (Debian chromium via Playwright), in Dutch:
SME onboarding with the NIS2 result and maturity level explained; a coordinator invites a
member over real loopback SMTP, the member accepts from the e-mail and cannot see the other
members' names, and the coordinator removes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect

from nca_share.clock import FrozenClock
from nca_share.constituency.partnerships import PartnershipService
from nca_share.db import Database
from nca_share.notify.email import Mailer
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import LiveServer, make_org, make_user, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    """The app's clock, moved by hand so each TOTP code falls in a fresh time step."""
    frozen = FrozenClock(datetime.now(UTC))
    app.extensions["nca_share.clock"] = frozen
    return frozen


def _log_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_role("button", name="Aanmelden").click()


def test_sme_onboarding_in_dutch(app: Flask, live_server: LiveServer, page: Any) -> None:
    """An SME registers step by step and sees its NIS2 result and maturity level explained."""
    base = live_server.url
    owner = make_user(app, "eigenaar@waterbedrijf.nl")
    _log_in(page, base, owner.email, owner.password)
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("link", name="Mijn organisatie").first.click()
    page.get_by_role("link", name="Organisatie aanmelden").click()
    page.get_by_label("KVK-nummer").fill("12345678")
    page.get_by_label("Bedrijfsnaam").fill("Waterbedrijf De Bron B.V.")
    page.get_by_label("Provincie").select_option("gelderland")
    screenshot(page, "constituency-01-bedrijf")
    page.get_by_role("button", name="Volgende").click()

    page.get_by_label("SBI-codes").fill("3600")
    page.get_by_role("button", name="Toon hints voor deze SBI-codes").click()
    expect(page.get_by_test_id("sbi-hints")).to_be_visible()
    page.locator("input[value=drinking_water_supplier]").check()
    screenshot(page, "constituency-02-sector")
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url(re.compile(r"/onboarding/size$"))

    page.get_by_label("Aantal medewerkers").fill("320")
    page.get_by_label("Jaaromzet (euro)").fill("80000000")
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url(re.compile(r"/onboarding/nis2$"))

    result = page.get_by_test_id("nis2-result")
    assert page.get_by_test_id("nis2-label").inner_text() == "Essentiële entiteit"
    reasons = result.get_by_test_id("nis2-reasons").inner_text()
    assert "essentiële entiteit" in reasons
    assert "bijlage I" in reasons
    screenshot(page, "constituency-03-nis2")
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url(re.compile(r"/onboarding/basisscan$"))

    statements = page.locator("[data-statement]")
    for index in range(statements.count()):
        value = "yes" if index % 2 else "partly"
        statements.nth(index).locator(f"input[value={value}]").check()
    page.get_by_role("button", name="Toon mijn niveau").click()
    page.wait_for_url(re.compile(r"/onboarding/maturity$"))
    level = page.get_by_test_id("maturity-level").inner_text()
    assert level.startswith("M3")
    assert page.get_by_test_id("maturity-summary").inner_text().strip()
    assert page.get_by_test_id("maturity-reasons").inner_text().strip()
    screenshot(page, "constituency-04-volwassenheid")
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url(re.compile(r"/onboarding/assets$"))

    page.get_by_label("Waarde").fill("debron-water.nl")
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.get_by_test_id("assets")).to_contain_text("nca-share-verify=")
    expect(page.get_by_test_id("assets")).to_contain_text("in afwachting")
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url(re.compile(r"/onboarding/contacts$"))

    page.get_by_label("Naam", exact=True).fill("Sanne de Vries")
    page.get_by_role("button", name="Contactpersoon toevoegen").click()
    expect(page.get_by_test_id("contacts")).to_contain_text("Sanne de Vries")
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url(re.compile(r"/onboarding/preferences$"))

    page.get_by_label("Hoe vaak").select_option("weekly")
    page.get_by_role("button", name="Afronden").click()
    page.wait_for_url(re.compile(r"/organisations/\d+$"))
    expect(page.get_by_role("heading", name="Waterbedrijf De Bron B.V.")).to_be_visible()
    assert page.get_by_test_id("nis2-label").inner_text() == "Essentiële entiteit"
    assert page.get_by_test_id("maturity-level").inner_text().startswith("M3")
    screenshot(page, "constituency-05-profiel")


def test_coordinator_invites_member_accepts_and_is_removed(
    app: Flask,
    database: Database,
    live_server: LiveServer,
    browser: Any,
    page: Any,
    smtp_server: SmtpServer,
    clock: FrozenClock,
) -> None:
    """Invite by e-mail, accept from the mail link, members stay hidden, coordinator removes."""
    settings = app.extensions["nca_share.settings"]
    app.extensions["nca_share.mailer"] = Mailer(smtp_server.settings_for(settings))
    base = live_server.url
    alfa = make_org(app, "12345678", "Alfa Zorg B.V.")
    bravo = make_org(app, "23456789", "Bravo Kliniek B.V.")
    with database.session() as session:
        service = PartnershipService(session, settings)
        partnership = service.create(name="Zorg-CERT Oost", kind="sector", sectors=["I.5"])
        service.add_member(partnership.id, bravo, by="test")
        pid = partnership.id
    coordinator = make_user(app, "coordinator@zorgcert.nl", ("coordinator", None, pid), totp=True)
    member = make_user(app, "eva@alfazorg.nl", ("member", alfa, None))
    assert coordinator.totp_secret

    _log_in(page, base, coordinator.email, coordinator.password)
    page.wait_for_url(re.compile(r"/login/totp"))
    clock.advance(timedelta(seconds=30))
    page.get_by_label("Code uit uw authenticator-app").fill(
        pyotp.TOTP(coordinator.totp_secret).at(clock.now())
    )
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{base}/partnerships/{pid}")
    assert "Bravo Kliniek B.V." in page.get_by_test_id("members").inner_text()
    page.get_by_label("E-mailadres").fill(member.email)
    page.get_by_role("button", name="Uitnodiging versturen").click()
    expect(page.get_by_text(f"Uitnodiging verstuurd naar {member.email}.")).to_be_visible()
    expect(page.get_by_test_id("invitations")).to_contain_text(member.email)
    screenshot(page, "constituency-06-uitnodiging")

    mail = smtp_server.wait_for(member.email)
    assert "Zorg-CERT Oost" in mail.subject
    link = urlsplit(smtp_server.last_link(member.email)).path

    member_context = browser.new_context(locale="nl-NL")
    member_page = member_context.new_page()
    try:
        member_page.goto(base + link)
        page_url = member_page.url
        assert "/login" in page_url
        member_page.get_by_label("E-mailadres").fill(member.email)
        member_page.get_by_label("Wachtwoord", exact=True).fill(member.password)
        member_page.get_by_role("button", name="Aanmelden").click()
        member_page.wait_for_url(re.compile(r"/partnerships/invitations/"))
        expect(member_page.get_by_text("Zorg-CERT Oost").first).to_be_visible()
        member_page.get_by_role("button", name="Uitnodiging accepteren").click()
        member_page.wait_for_url(re.compile(rf"/partnerships/{pid}$"))
        expect(
            member_page.get_by_text("Alfa Zorg B.V. is nu lid van Zorg-CERT Oost.")
        ).to_be_visible()
        expect(member_page.get_by_test_id("members-hidden")).to_be_visible()
        assert "coordinator@zorgcert.nl" in member_page.get_by_test_id("coordinators").inner_text()
        assert "Bravo Kliniek" not in member_page.content()
        screenshot(member_page, "constituency-07-lid-ziet-geen-leden")
    finally:
        member_context.close()

    page.reload()
    members = page.get_by_test_id("members")
    assert "Alfa Zorg B.V." in members.inner_text()
    page.get_by_role("button", name="Alfa Zorg B.V. verwijderen").click()
    expect(page.get_by_text("Alfa Zorg B.V. is verwijderd.")).to_be_visible()
    row = page.get_by_test_id("members").get_by_role("row", name=re.compile("Alfa Zorg"))
    expect(row).to_contain_text("verwijderd")
    screenshot(page, "constituency-08-verwijderd")
