"""The main user journeys in a real browser (Debian chromium via Playwright), with Dutch
screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask

from nca_share.clock import FrozenClock
from nca_share.notify.email import Mailer
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import (
    LiveServer,
    ingest,
    make_user,
    relationship,
    screenshot,
    sdo,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    """The app's clock, moved by hand so each TOTP code falls in a fresh time step."""
    frozen = FrozenClock(datetime.now(UTC))
    app.extensions["nca_share.clock"] = frozen
    return frozen


def _code(secret: str, clock: FrozenClock) -> str:
    clock.advance(timedelta(seconds=30))
    return str(pyotp.TOTP(secret).at(clock.now()))


def _log_in(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_role("button", name="Aanmelden").click()


def _assert_accessible_basics(page: Any) -> None:
    """Every visible form control has a label, the page has one h1, a lang and a skip link."""
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
              .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.outerHTML.slice(0, 100))"""
    )
    assert unlabelled == []
    assert page.locator("h1").count() == 1
    assert page.locator("html").get_attribute("lang") in ("nl", "en")
    assert page.locator("a.skip-link[href='#main']").count() == 1


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url(re.compile(r"/$"))


def test_account_journey(
    app: Flask, live_server: LiveServer, page: Any, smtp_server: SmtpServer, clock: FrozenClock
) -> None:
    """Sign up, verify by mail, log in, enable TOTP, log in with TOTP and with a recovery
    code, and switch NL <-> EN."""
    app.extensions["nca_share.mailer"] = Mailer(
        smtp_server.settings_for(app.extensions["nca_share.settings"])
    )
    base = live_server.url
    email, password = "eigenaar@bakkerij.nl", "een heel geheim wachtwoord"

    page.goto(base + "/")
    screenshot(page, "01-start")
    page.get_by_role("link", name="Account aanmaken").click()
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_label("Herhaal wachtwoord").fill(password)
    screenshot(page, "02-registreren")
    _assert_accessible_basics(page)
    page.get_by_role("button", name="Account aanmaken").click()
    assert page.get_by_role("heading", name="Controleer uw e-mail").is_visible()

    smtp_server.wait_for(to=email)
    page.goto(base + urlsplit(smtp_server.last_link(email)).path)
    assert "Uw e-mailadres is bevestigd" in page.content()
    _log_in(page, base, email, password)
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_text(email).first.is_visible()

    page.goto(base + "/account")
    screenshot(page, "03-mijn-account")
    _assert_accessible_basics(page)
    page.get_by_role("link", name="Tweestapsverificatie instellen").click()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    screenshot(page, "04-tweestapsverificatie-instellen")
    page.get_by_label("Code uit uw authenticator-app").fill(_code(secret, clock))
    page.get_by_role("button", name="Inschakelen").click()
    codes = [
        c.strip() for c in page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    ]
    assert len(codes) == 10
    screenshot(page, "05-herstelcodes")
    _log_out(page)

    _log_in(page, base, email, password)
    page.wait_for_url(re.compile(r"/login/totp"))
    screenshot(page, "06-inloggen-code")
    page.get_by_label("Code uit uw authenticator-app").fill(_code(secret, clock))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("button", name="Afmelden").is_visible()
    _log_out(page)

    _log_in(page, base, email, password)
    page.get_by_role("link", name="Gebruik in plaats daarvan een herstelcode").click()
    page.get_by_label("Herstelcode").fill(codes[3])
    page.get_by_role("button", name="Bevestigen").click()
    assert "Herstelcode geaccepteerd" in page.content()

    assert page.locator("html").get_attribute("lang") == "nl"
    page.get_by_role("button", name="EN", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Log out").is_visible()
    page.goto(base + "/account")
    assert page.get_by_role("heading", name="My account").is_visible()
    page.get_by_role("button", name="NL", exact=True).click()
    assert page.get_by_role("heading", name="Mijn account").is_visible()


def test_analyst_explores_objects(
    app: Flask, live_server: LiveServer, page: Any, clock: FrozenClock
) -> None:
    """An analyst searches the explorer and opens an object with relationships."""
    malware = sdo(
        "malware",
        "Pikabot",
        "AMBER",
        description="Loader voor ransomware.",
        external_references=[{"source_name": "vendor", "url": "https://example.org/pikabot"}],
    )
    actor = sdo("intrusion-set", "Water Curupira", "GREEN")
    indicator = sdo("indicator", "Pikabot C2-server", "AMBER")
    ingest(
        app,
        [
            malware,
            actor,
            indicator,
            relationship(actor, "uses", malware, "GREEN"),
            relationship(indicator, "indicates", malware, "AMBER"),
        ],
    )
    analyst = make_user(app, "analist@ncsc.nl", "analyst", totp=True)
    assert analyst.totp_secret
    _log_in(page, live_server.url, analyst.email, analyst.password)
    page.get_by_label("Code uit uw authenticator-app").fill(_code(analyst.totp_secret, clock))
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(re.compile(r"/$"))

    page.get_by_role("link", name="Objecten").first.click()
    page.get_by_label("Zoek op naam").fill("pikabot")
    page.get_by_role("button", name="Zoeken").click()
    results = page.get_by_test_id("objects")
    assert results.get_by_role("link", name="Pikabot", exact=True).is_visible()
    assert results.get_by_role("link", name="Water Curupira").count() == 0
    screenshot(page, "07-objecten-zoeken")
    _assert_accessible_basics(page)
    results.get_by_role("link", name="Pikabot", exact=True).click()
    assert page.get_by_role("heading", name="Pikabot").is_visible()
    relations = page.get_by_test_id("relationships")
    assert relations.get_by_role("link", name="Water Curupira").is_visible()
    assert relations.get_by_role("link", name="Pikabot C2-server").is_visible()
    assert page.get_by_text("TLP:AMBER").first.is_visible()
    screenshot(page, "08-object")
    relations.get_by_role("link", name="Water Curupira").click()
    assert page.get_by_role("heading", name="Water Curupira").is_visible()


def test_operator_reads_the_audit_log(
    app: Flask, live_server: LiveServer, page: Any, clock: FrozenClock
) -> None:
    """An operator filters the audit log and sees the users list."""
    operator = make_user(app, "beheerder@ncsc.nl", "operator", totp=True)
    make_user(app, "lid@bakkerij.nl")
    assert operator.totp_secret
    page.goto(f"{live_server.url}/login")
    screenshot(page, "00-inloggen")
    _log_in(page, live_server.url, operator.email, operator.password)
    page.get_by_label("Code uit uw authenticator-app").fill(_code(operator.totp_secret, clock))
    page.get_by_role("button", name="Bevestigen").click()
    page.get_by_role("link", name="Auditlog").first.click()
    page.get_by_label("Actie").fill("auth.login")
    page.get_by_role("button", name="Filteren").click()
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    assert all(t.strip() == "auth.login" for t in rows.locator("td:nth-child(2)").all_inner_texts())
    screenshot(page, "11-auditlog")
    _assert_accessible_basics(page)
    page.get_by_role("link", name="Gebruikers").first.click()
    assert page.get_by_role("cell", name="lid@bakkerij.nl", exact=True).is_visible()
    screenshot(page, "12-gebruikers")
