"""Every route of the application is classified, and each class answers every kind of
principal as the security model says: anonymous visitors are sent to the login page (web)
or get 401 (API), members get 403 on staff routes, other organisations' and partnerships'
resources are 404 (hidden resources look missing), API tokens without the scope get 403."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.fixtures.web import make_token
from tests.security.conftest import World

PUBLIC = "public"  # anyone, no sign-in needed
AUTHENTICATED = "authenticated"  # any signed-in user (data inside is filtered by TLP/role)
STAFF = "staff"  # analyst / reviewer / operator only
ORG = "org"  # an organisation's own resources (``org_id``): others get 404
PARTNERSHIP = "partnership"  # a partnership's resources (``pid``): outsiders get 404
ANY_TOKEN = "any"  # API route any valid token may call (no scope needed)

#: endpoint -> (class, API scope or None for browser-only routes). A new route must be added
#: here: decide who may reach it and which scope a token needs.
ROUTES: dict[str, tuple[str, str | None]] = {
    # --- public pages and machinery
    "static": (PUBLIC, None),
    "health.healthz": (PUBLIC, None),
    "health.readyz": (PUBLIC, None),
    "main.index": (PUBLIC, None),
    "main.set_language": (PUBLIC, None),
    "auth.login": (PUBLIC, None),
    "auth.login_totp": (PUBLIC, None),
    "auth.login_recovery": (PUBLIC, None),
    "auth.logout": (PUBLIC, None),
    "auth.signup": (PUBLIC, None),
    "auth.verify_email": (PUBLIC, None),
    "auth.reset_request": (PUBLIC, None),
    "auth.reset_confirm": (PUBLIC, None),
    "api-docs.openapi_json": (PUBLIC, None),
    # --- any signed-in user
    "account.overview": (AUTHENTICATED, None),
    "account.change_password": (AUTHENTICATED, None),
    "account.create_token": (AUTHENTICATED, None),
    "account.revoke_token": (AUTHENTICATED, None),
    "account.totp_setup": (AUTHENTICATED, None),
    "account.disable_totp": (AUTHENTICATED, None),
    "account.regenerate_codes": (AUTHENTICATED, None),
    "explorer.search": (AUTHENTICATED, None),
    "explorer.detail": (AUTHENTICATED, None),
    "constituency.my_organisations": (AUTHENTICATED, None),
    "constituency.step_start": (AUTHENTICATED, None),
    "constituency.partnerships": (AUTHENTICATED, None),
    "constituency.accept_invitation": (AUTHENTICATED, None),
    "me.MeResource": (AUTHENTICATED, ANY_TOKEN),
    "stix.Objects": (AUTHENTICATED, "stix:read"),
    "stix.Object": (AUTHENTICATED, "stix:read"),
    "stix.Relationships": (AUTHENTICATED, "stix:read"),
    "stix.Versions": (AUTHENTICATED, "stix:read"),
    "constituency_api.Organisations": (AUTHENTICATED, "orgs:read"),
    "constituency_api.Products": (AUTHENTICATED, "orgs:read"),
    "constituency_api.Partnerships": (AUTHENTICATED, "orgs:read"),
    "constituency_api.InvitationAccept": (AUTHENTICATED, "orgs:write"),
    "matching_api.Notices": (AUTHENTICATED, "matches:read"),
    "matching_api.NoticeResource": (AUTHENTICATED, "matches:read"),
    # --- staff only
    "operator.audit": (STAFF, None),
    "operator.users": (STAFF, None),
    "operator.toggle_disabled": (STAFF, None),
    "operator.reset_totp": (STAFF, None),
    "operator.grant_role": (STAFF, None),
    "operator.revoke_role": (STAFF, None),
    "feeds.health": (STAFF, None),
    "matching.preview": (STAFF, None),
    "constituency.review": (STAFF, None),
    "constituency.resolve_overlap": (STAFF, None),
    "constituency.decide_asset": (STAFF, None),
    "audit.Audit": (STAFF, "audit:read"),
    "feeds_api.Feeds": (STAFF, "feeds:read"),
    "feeds_api.FeedItem": (STAFF, "feeds:read"),
    "feeds_api.FeedRunNow": (STAFF, "feeds:write"),
    "feeds_api.FeedSuppressions": (STAFF, "feeds:read"),
    "matching_api.PreviewResource": (STAFF, "matches:read"),
    "constituency_api.AssetOverlaps": (STAFF, "orgs:read"),
    "constituency_api.AssetDecision": (STAFF, "orgs:write"),
    # --- one organisation's resources
    "constituency.profile": (ORG, None),
    "constituency.verify_asset": (ORG, None),
    "constituency.add_delegation": (ORG, None),
    "constituency.revoke_delegation": (ORG, None),
    "constituency.set_designation": (ORG, None),
    "constituency.set_maturity_level": (ORG, None),
    "constituency.step_assets": (ORG, None),
    "constituency.step_basisscan": (ORG, None),
    "constituency.step_contacts": (ORG, None),
    "constituency.step_maturity": (ORG, None),
    "constituency.step_nis2": (ORG, None),
    "constituency.step_preferences": (ORG, None),
    "constituency.step_sector": (ORG, None),
    "constituency.step_size": (ORG, None),
    "matching.organisation": (ORG, None),
    "organisations.OrganisationResource": (ORG, "orgs:read"),
    "constituency_api.OrganisationWrite": (ORG, "orgs:write"),
    "constituency_api.OrganisationAssets": (ORG, "orgs:read"),
    "constituency_api.OrganisationAsset": (ORG, "orgs:write"),
    "constituency_api.OrganisationAssetVerify": (ORG, "orgs:write"),
    "constituency_api.OrganisationContacts": (ORG, "orgs:read"),
    "constituency_api.OrganisationContact": (ORG, "orgs:write"),
    "constituency_api.OrganisationDelegations": (ORG, "orgs:read"),
    "constituency_api.OrganisationDelegation": (ORG, "orgs:write"),
    "constituency_api.OrganisationDesignation": (ORG, "orgs:write"),
    "constituency_api.OrganisationMaturity": (ORG, "orgs:read"),
    "constituency_api.OrganisationPreferences": (ORG, "orgs:read"),
    "constituency_api.OrganisationProfile": (ORG, "orgs:read"),
    "matching_api.OrganisationMatches": (ORG, "matches:read"),
    # --- one partnership's resources
    "constituency.partnership": (PARTNERSHIP, None),
    "constituency.revoke_invitation": (PARTNERSHIP, None),
    "constituency.invite": (PARTNERSHIP, None),
    "constituency.remove_member": (PARTNERSHIP, None),
    "constituency.request_join": (PARTNERSHIP, None),
    "constituency.decide_request": (PARTNERSHIP, None),
    "constituency.partnership_settings": (PARTNERSHIP, None),
    "constituency_api.PartnershipResource": (PARTNERSHIP, "orgs:read"),
    "constituency_api.PartnershipInvitations": (PARTNERSHIP, "orgs:read"),
    "constituency_api.PartnershipJoinRequests": (PARTNERSHIP, "orgs:read"),
    "constituency_api.PartnershipJoinDecision": (PARTNERSHIP, "orgs:write"),
    "constituency_api.PartnershipMember": (PARTNERSHIP, "orgs:write"),
}

#: Write scopes of endpoints whose read and write methods need different scopes.
WRITE_SCOPE = {"orgs:read": "orgs:write", "feeds:read": "feeds:write"}
#: Partnership routes a member of a partnership that is not its coordinator may use.
MEMBER_PARTNERSHIP_ROUTES = {"constituency.partnership", "constituency_api.PartnershipResource"}
#: Partnership routes anyone signed in may use (asking to join is how outsiders get in).
OPEN_PARTNERSHIP_ROUTES = {"constituency.request_join", "constituency_api.PartnershipJoinRequests"}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _rules(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def _url(
    app: Flask, rule: Rule, method: str, world: World, *, own: bool = False, missing: bool = False
) -> str:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        if arg in ("org_id", "organisation_id"):
            values[arg] = 888_888 if missing else world.org_a if own else world.org_b
        elif arg == "pid":
            values[arg] = 888_888 if missing else world.partnership
        elif arg == "decision":
            values[arg] = "approve"
        elif arg in ("token", "name", "stix_id"):
            values[arg] = (
                "malware--00000000-0000-4000-8000-000000000000" if arg == "stix_id" else "x" * 24
            )
        elif arg == "filename":
            values[arg] = "nope.css"
        else:
            values[arg] = 999_999
    return str(app.url_map.bind("localhost").build(rule.endpoint, values, method=method))


def _scope(endpoint: str, method: str) -> str | None:
    scope = ROUTES[endpoint][1]
    if scope is not None and method in UNSAFE:
        return WRITE_SCOPE.get(scope, scope)
    return scope


def test_every_route_is_classified(app: Flask) -> None:
    """Each URL rule has an explicit access class here, and no class names a vanished route."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ROUTES.keys())
    assert not missing, (
        f"unclassified routes {missing}: add each to ROUTES in tests/security/test_routes.py "
        "with its access class (public/authenticated/staff/org/partnership) and API scope"
    )
    assert not sorted(ROUTES.keys() - endpoints), "ROUTES names endpoints that no longer exist"
    for rule in app.url_map.iter_rules():
        is_api = rule.rule.startswith("/api/")
        has_scope = ROUTES[rule.endpoint][1] is not None
        assert is_api == has_scope or ROUTES[rule.endpoint][0] == PUBLIC, rule.endpoint


def test_anonymous_is_sent_to_login_or_gets_401(app: Flask, world: World) -> None:
    """Every non-public route refuses an anonymous visitor: web pages redirect to the login
    page, API calls answer 401, for every method (unsafe ones with a valid CSRF token)."""
    client = world.client("anonymous")
    token = world.csrf("anonymous")
    failures = []
    for rule in _rules(app):
        klass, _scope_name = ROUTES[rule.endpoint]
        if klass == PUBLIC:
            continue
        for method in _methods(rule):
            url = _url(app, rule, method, world)
            response = client.open(url, method=method, headers={"X-CSRFToken": token})
            if rule.rule.startswith("/api/"):
                ok = response.status_code == 401
            else:
                location = response.headers.get("Location", "")
                ok = response.status_code == 302 and location.startswith("/login")
            if not ok:
                failures.append((method, url, response.status_code))
    assert not failures, f"anonymous reached: {failures}"


def test_tokens_without_the_scope_get_403(app: Flask, world: World) -> None:
    """An operator's token holding every scope but the one an API route needs gets 403
    (scopes narrow a token below its user's roles on every API route)."""
    from nca_share.auth.scopes import SCOPES

    tokens = {
        scope: make_token(app, world.users["operator"], *(s for s in SCOPES if s != scope))
        for scope in SCOPES
    }
    client = app.test_client()
    failures = []
    for rule in _rules(app):
        for method in _methods(rule):
            scope = _scope(rule.endpoint, method)
            if scope is None or scope == ANY_TOKEN:
                continue
            url = _url(app, rule, method, world, own=True)
            headers = {"Authorization": f"Bearer {tokens[scope]}"}
            response = client.open(url, method=method, headers=headers, json={})
            if response.status_code != 403:
                failures.append((method, url, scope, response.status_code))
    assert not failures, f"served without the scope: {failures}"


def _refused(world: World, who: str, rule: Rule, method: str, url: str) -> int:
    client = world.client(who)
    headers = {"X-CSRFToken": world.csrf(who)}
    data = {"csrf_token": headers["X-CSRFToken"]}
    if rule.rule.startswith("/api/"):
        return client.open(url, method=method, headers=headers, json={}).status_code
    return client.open(url, method=method, data=data, headers=headers).status_code


@pytest.mark.parametrize("who", ["member_a", "coordinator"])
def test_non_staff_are_refused_staff_routes(app: Flask, world: World, who: str) -> None:
    """A member and a coordinator get 403 (or 404) on every staff-only route and method."""
    failures = []
    for rule in _rules(app):
        if ROUTES[rule.endpoint][0] != STAFF:
            continue
        for method in _methods(rule):
            url = _url(app, rule, method, world)
            status = _refused(world, who, rule, method, url)
            if status not in (403, 404):
                failures.append((method, url, status))
    assert not failures, f"{who} reached staff routes: {failures}"


def _looks_missing(world: World, who: str, rule: Rule, method: str) -> tuple[Any, ...] | None:
    """None when ``who`` is refused ``rule`` exactly as for a resource that does not exist
    (reads: 404; writes: the same 4xx as for a missing id, e.g. 422 for a body validated
    before the lookup); else the evidence."""
    url = _url(world.app, rule, method, world)
    status = _refused(world, who, rule, method, url)
    if method == "GET":
        return None if status == 404 else (who, method, url, status)
    missing = _refused(world, who, rule, method, _url(world.app, rule, method, world, missing=True))
    if status == missing and 400 <= status < 500:
        return None
    return (who, method, url, status, f"missing id: {missing}")


@pytest.mark.parametrize("who", ["member_a", "coordinator"])
def test_other_organisations_look_missing(app: Flask, world: World, who: str) -> None:
    """Organisation B's resources answer a member of A and P's coordinator (B is not in P)
    exactly as a non-existent organisation would (404 for reads), for every method."""
    failures: list[Any] = []
    for rule in _rules(app):
        if ROUTES[rule.endpoint][0] != ORG:
            continue
        for method in _methods(rule):
            evidence = _looks_missing(world, who, rule, method)
            if evidence:
                failures.append(evidence)
    assert not failures, f"{who} got a non-404 on organisation B: {failures}"


def test_own_organisation_is_readable(app: Flask, world: World) -> None:
    """The member of A reads A's own pages and API resources (the 404s above are not just
    every organisation route failing)."""
    client = world.client("member_a")
    checked = 0
    for rule in _rules(app):
        if ROUTES[rule.endpoint][0] != ORG or "GET" not in _methods(rule):
            continue
        if set(rule.arguments) - {"org_id", "organisation_id"}:
            continue
        url = _url(app, rule, "GET", world, own=True)
        assert client.get(url).status_code == 200, url
        checked += 1
    assert checked >= 5


def test_partnerships_are_tenants(app: Flask, world: World) -> None:
    """Partnership P answers the member of B (an outsider) as a missing partnership on every
    route but asking to join; the member of A (in P) reads P but is refused the
    coordinator's routes."""
    failures: list[Any] = []
    for rule in _rules(app):
        if ROUTES[rule.endpoint][0] != PARTNERSHIP:
            continue
        for method in _methods(rule):
            url = _url(app, rule, method, world)
            if rule.endpoint not in OPEN_PARTNERSHIP_ROUTES:
                evidence = _looks_missing(world, "member_b", rule, method)
                if evidence:
                    failures.append(evidence)
            if rule.endpoint in MEMBER_PARTNERSHIP_ROUTES and method == "GET":
                if world.client("member_a").get(url).status_code != 200:
                    failures.append(("member_a", method, url, "not readable"))
            elif rule.endpoint not in OPEN_PARTNERSHIP_ROUTES:
                insider = _refused(world, "member_a", rule, method, url)
                if insider not in (403, 404, 422):  # 422: body checked before the role
                    failures.append(("member_a", method, url, insider))
    assert not failures, f"partnership P leaked or was writable: {failures}"
