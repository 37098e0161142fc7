"""An XSS corpus in STIX names, descriptions and external references renders inert in the
real browser, on the explorer list and on every object page.

The browser context bypasses the Content-Security-Policy on purpose: the test proves the
escaping itself, not just the CSP safety net (a separate check runs with the CSP on).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask

from nca_share.clock import FrozenClock
from tests.fixtures.web import LiveServer, ingest, make_user, relationship, screenshot, sdo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARK = "window.__xss=1;alert(1)"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f'<img src=x onerror="{MARK}">',
    f'"><svg onload="{MARK}">',
    f"<svg><script>{MARK}</script></svg>",
    f"' onmouseover='{MARK}' autofocus onfocus='{MARK}",
    f'" autofocus onfocus="{MARK}" x="',
    f"</script><script>{MARK}</script>",
    f'<iframe src="javascript:{MARK}"></iframe>',
    f'<a href="javascript:{MARK}">klik</a>',
    f"<details open ontoggle={MARK}>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={MARK}>",
    f"<body onload={MARK}>",
    "{{ 7*7 }} {% print(1) %}",
]
URLS = [
    f"javascript:{MARK}",
    f"JaVaScRiPt:{MARK}",
    f" javascript:{MARK}",
    f"data:text/html,<script>{MARK}</script>",
    f'https://example.org/"><script>{MARK}</script>',
    f"vbscript:{MARK}",
]
INIT = """
window.__xss = undefined;
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective));
"""


def _objects() -> list[dict[str, Any]]:
    objects = []
    for i, payload in enumerate(PAYLOADS):
        objects.append(
            sdo(
                "malware",
                f"xss{i} {payload}",
                "GREEN",
                description=f"beschrijving {payload}",
                external_references=[
                    {
                        "source_name": payload,
                        "url": URLS[i % len(URLS)],
                        "description": payload,
                        "external_id": payload[:40],
                    },
                    {"source_name": "ok", "url": "https://example.org/ok"},
                ],
            )
        )
    hub = sdo("intrusion-set", f"hub {PAYLOADS[0]}", "GREEN")
    return [*objects, hub, *(relationship(hub, "uses", o, "GREEN") for o in objects)]


def _login(app: Flask, page: Any, base: str) -> None:
    clock = FrozenClock(datetime.now(UTC))
    app.extensions["nca_share.clock"] = clock
    analyst = make_user(app, "analist@ncsc.nl", "analyst", totp=True)
    assert analyst.totp_secret
    page.goto(f"{base}/login")
    page.get_by_label("E-mailadres").fill(analyst.email)
    page.get_by_label("Wachtwoord", exact=True).fill(analyst.password)
    page.get_by_role("button", name="Aanmelden").click()
    clock.advance(timedelta(seconds=30))
    page.get_by_label("Code uit uw authenticator-app").fill(
        pyotp.TOTP(analyst.totp_secret).at(clock.now())
    )
    page.get_by_role("button", name="Bevestigen").click()
    page.wait_for_url(re.compile(r"/$"))


def _assert_inert(page: Any, dialogs: list[str], where: str) -> None:
    page.mouse.move(5, 5)
    page.mouse.move(600, 400)
    page.keyboard.press("Tab")
    page.wait_for_timeout(50)  # let any injected handler run (none should exist)
    assert dialogs == [], f"a dialog fired on {where}"
    assert page.evaluate("window.__xss") is None, f"injected script ran on {where}"
    injected = page.evaluate(
        """() => Array.from(document.querySelectorAll('*')).filter(el =>
              Array.from(el.attributes).some(a => a.name.startsWith('on'))
              || (el.tagName === 'SCRIPT' && !el.src)
              || ['IFRAME', 'SVG', 'IMG', 'MATH', 'DETAILS'].includes(el.tagName.toUpperCase())
                 && el.closest('main') && !el.closest('.raw')
              || (el.tagName === 'A' && !/^(https?:|\\/|#)/i.test(el.getAttribute('href') || ''))
            ).map(el => el.outerHTML.slice(0, 120))"""
    )
    assert injected == [], f"injected markup on {where}: {injected}"


@pytest.fixture
def xss_page(browser: Any) -> Any:
    """A page whose context ignores the CSP, so only escaping stands between payload and DOM."""
    context = browser.new_context(bypass_csp=True, locale="nl-NL")
    context.set_default_timeout(15_000)
    context.add_init_script(INIT)
    tab = context.new_page()
    yield tab
    context.close()


def test_xss_corpus_renders_inert(app: Flask, live_server: LiveServer, xss_page: Any) -> None:
    """No payload runs or injects markup on the explorer list and the object pages."""
    objects = _objects()
    ingest(app, objects)
    page = xss_page
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    _login(app, page, live_server.url)
    page.goto(f"{live_server.url}/objects?type=malware&q=xss")
    assert page.get_by_test_id("objects").locator("tbody tr").count() == len(PAYLOADS)
    assert page.get_by_text(PAYLOADS[0], exact=False).first.is_visible()  # shown as text
    assert page.get_by_text("{{ 7*7 }}", exact=False).first.is_visible()  # no template eval
    _assert_inert(page, dialogs, "the explorer list")
    screenshot(page, "09-xss-lijst")
    for obj in objects:
        if obj["type"] == "relationship":
            continue
        page.goto(f"{live_server.url}/objects/{obj['id']}")
        _assert_inert(page, dialogs, obj["name"][:40])
        if obj["type"] == "malware":
            assert obj["description"] in page.get_by_test_id("description").inner_text()
            links = page.get_by_test_id("references").locator("a")
            hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
            assert all(h and h.startswith("https://") for h in hrefs), hrefs
    page.goto(f"{live_server.url}/objects/{objects[0]['id']}")
    screenshot(page, "10-xss-object")
    raw = page.get_by_test_id("raw-json").inner_text()
    assert "</script><script>" in raw or "<script>" in raw  # shown literally, as text


def test_csp_blocks_inline_script(app: Flask, live_server: LiveServer, page: Any) -> None:
    """With the CSP on, an inline script injected into the page is refused by the browser."""
    page.add_init_script(INIT)
    page.goto(f"{live_server.url}/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__xss = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(50)
    assert page.evaluate("window.__xss") is None
    assert "script-src-elem" in page.evaluate("window.__csp") or "script-src" in page.evaluate(
        "window.__csp"
    )
