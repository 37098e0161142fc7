"""CSRF on every state-changing route that accepts the browser session, the bearer-token
exemption, security headers on HTML and JSON responses, and the session cookie's flags."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import Rule

from nca_share.config import load_settings
from nca_share.db import Database
from nca_share.web import create_app
from tests.fixtures.web import make_token
from tests.security.conftest import World
from tests.security.test_routes import UNSAFE, _methods, _rules, _url


def _unsafe_routes(app: Flask) -> list[tuple[Rule, str]]:
    return [(rule, m) for rule in _rules(app) for m in _methods(rule) if m in UNSAFE]


def test_session_requests_without_csrf_token_are_rejected(app: Flask, world: World) -> None:
    """Every POST/PUT/PATCH/DELETE route, called with an analyst's session cookie but no or a
    wrong CSRF token, answers 400 (web pages and /api/v1 alike) and changes nothing."""
    client = world.client("operator")
    routes = _unsafe_routes(app)
    assert len(routes) > 40
    failures = []
    for rule, method in routes:
        url = _url(app, rule, method, world, own=True)
        for headers in ({}, {"X-CSRFToken": "forged"}):
            response = client.open(url, method=method, headers=headers, json={})
            if response.status_code != 400:
                failures.append((method, url, headers, response.status_code))
    assert not failures, f"accepted without a valid CSRF token: {failures}"
    # The session survived: the rejections were CSRF, not a logout.
    assert client.get("/account").status_code == 200


def test_valid_csrf_header_passes_the_gate_on_the_api(app: Flask, world: World) -> None:
    """The same session with its real token in ``X-CSRFToken`` gets past the gate (so the 400s
    above are the CSRF check, not a broken route)."""
    client = world.client("member_a")
    token = world.csrf("member_a")
    response = client.post(
        f"/api/v1/organisations/{world.org_a}/contacts",
        json={"name": "Jan", "email": "jan@example.nl", "role": "primary"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code != 400 or "csrf" not in response.get_data(as_text=True).lower()
    refused = client.post(
        f"/api/v1/organisations/{world.org_a}/contacts",
        json={"name": "Jan", "email": "jan@example.nl", "role": "primary"},
    )
    assert refused.status_code == 400
    assert "csrf" in refused.get_data(as_text=True).lower()


def test_bearer_tokens_need_no_csrf_but_only_for_token_auth(app: Flask, world: World) -> None:
    """A bearer-token API call needs no CSRF token; a bogus bearer header next to a session
    cookie does not turn the session into a CSRF-free one (401, not the session's rights)."""
    token = make_token(app, world.users["member_a"], "orgs:read", "orgs:write")
    url = f"/api/v1/organisations/{world.org_a}/contacts"
    body = {"name": "Jan", "email": "jan@example.nl", "role": "primary"}
    fresh = app.test_client()
    with_token = fresh.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert with_token.status_code != 400, with_token.get_data(as_text=True)
    session_client = world.client("member_a")
    bogus = session_client.post(url, json=body, headers={"Authorization": "Bearer nonsense"})
    assert bogus.status_code == 401


def test_bearer_header_does_not_exempt_web_forms_from_csrf(app: Flask, world: World) -> None:
    """On a browser route the session is what authenticates, so an ``Authorization: Bearer``
    header must not switch the CSRF check off (it would be a bypass if any origin could ever
    send that header, e.g. through a permissive CORS proxy)."""
    client = world.client("operator")
    failures = []
    for rule, method in _unsafe_routes(app):
        if rule.rule.startswith("/api/"):
            continue
        url = _url(app, rule, method, world, own=True)
        response = client.open(url, method=method, headers={"Authorization": "Bearer x"})
        if response.status_code != 400:
            failures.append((method, url, response.status_code))
    assert not failures, f"session + 'Authorization: Bearer x' without CSRF token: {failures}"
    assert client.get("/account").status_code == 200


def _check_headers(headers: dict[str, str], where: str) -> None:
    csp = headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src", ""))
    assert script, where
    assert "'unsafe-inline'" not in script, where
    assert "'unsafe-eval'" not in script, where
    assert "frame-ancestors 'none'" in csp or headers.get("X-Frame-Options") == "DENY", where
    assert "object-src 'none'" in csp or "default-src 'none'" in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin"), where


def test_security_headers_on_html_json_and_errors(app: Flask, world: World) -> None:
    """Pages, API answers, errors and static files all carry CSP (no inline script),
    nosniff, framing denial and a tight Referrer-Policy; data answers are not cached."""
    anonymous = world.client("anonymous")
    analyst = world.client("analyst")
    token = make_token(app, world.users["analyst"], "stix:read")
    cases = {
        "login page": anonymous.get("/login"),
        "explorer": analyst.get("/objects"),
        "404 page": analyst.get("/objects/malware--00000000-0000-4000-8000-000000000000"),
        "API list": app.test_client().get(
            "/api/v1/stix/objects", headers={"Authorization": f"Bearer {token}"}
        ),
        "API 401": anonymous.get("/api/v1/stix/objects"),
        "healthz": anonymous.get("/healthz"),
    }
    for where, response in cases.items():
        _check_headers(dict(response.headers), where)
    for where in ("explorer", "API list", "404 page"):
        assert "no-store" in cases[where].headers.get("Cache-Control", ""), where


def test_session_cookie_flags(app: Flask, world: World, tmp_path: object) -> None:
    """The session cookie is HttpOnly and SameSite=Lax always, and Secure behind https."""
    response = world.app.test_client().get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie, cookie
    assert "SameSite=Lax" in cookie, cookie
    settings = load_settings(
        data_dir=app.extensions["nca_share.settings"].data_dir,
        database_url=app.extensions["nca_share.settings"].database_url,
        secret_key="test-secret-key-not-for-production",
        base_url="https://share.example.nl",
    )
    https_app = create_app(settings, database=app.extensions["nca_share.db"])
    assert isinstance(https_app.extensions["nca_share.db"], Database)
    secure = https_app.test_client().get("/login", base_url="https://share.example.nl")
    cookie = secure.headers.get("Set-Cookie", "")
    assert "Secure" in cookie, cookie
    assert "HttpOnly" in cookie, cookie
    assert "Strict-Transport-Security" in secure.headers
