"""Account pages through the test client: sign up with a real mail, TOTP enrolment (forced
for staff), login with TOTP and recovery codes, lockout, tokens, operator pages, explorer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from nca_share.clock import FrozenClock
from nca_share.notify.email import Mailer
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import (
    csrf_token,
    ingest,
    login,
    make_org,
    make_user,
    post_form,
    relationship,
    sdo,
)


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    """A frozen clock the app's services use."""
    frozen = FrozenClock(datetime.now(UTC))
    app.extensions["nca_share.clock"] = frozen
    return frozen


def _secret(html: str) -> str:
    match = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html)
    assert match, "no TOTP secret on the page"
    return match.group(1)


def test_signup_verify_and_login(app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    """Sign up, receive the link over real SMTP, verify, log in."""
    app.extensions["nca_share.mailer"] = Mailer(
        smtp_server.settings_for(app.extensions["nca_share.settings"])
    )
    email, password = "nieuw@bedrijf.nl", "een lang genoeg wachtwoord"
    response = post_form(
        client, "/signup", {"email": email, "password": password, "confirm": password}
    )
    assert response.status_code == 200
    assert "Controleer uw e-mail" in response.get_data(as_text=True)
    smtp_server.wait_for(to=email)
    link = urlsplit(smtp_server.last_link(email))
    assert link.path.startswith("/verify/")
    before = post_form(client, "/login", {"email": email, "password": password})
    assert "Bevestig eerst uw e-mailadres" in before.get_data(as_text=True)
    verified = client.get(link.path)
    assert verified.status_code == 302
    assert client.get(link.path).status_code == 400  # links work once
    logged_in = post_form(client, "/login", {"email": email, "password": password})
    assert logged_in.status_code == 302
    assert email in client.get("/").get_data(as_text=True)


def test_signup_rejects_weak_password(client: FlaskClient) -> None:
    """A too-short password is refused with a Dutch message next to the field."""
    response = post_form(
        client, "/signup", {"email": "a@b.nl", "password": "kort", "confirm": "kort"}
    )
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "Minimaal" in html or "minimaal" in html


def test_staff_are_forced_to_enrol_then_use_totp_and_recovery_codes(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    """An analyst must enrol in TOTP first; then login needs the code or a recovery code."""
    analyst = make_user(app, "analist@ncsc.nl", "analyst")
    response = post_form(client, "/login", {"email": analyst.email, "password": analyst.password})
    assert response.headers["Location"] == "/account/totp"
    assert client.get("/objects").headers["Location"] == "/account/totp"
    assert client.get("/api/v1/me").status_code == 403
    page = client.get("/account/totp").get_data(as_text=True)
    secret = _secret(page)
    token = csrf_token(client, "/account/totp")  # a GET starts a new enrolment...
    secret = _secret(client.get("/account/totp").get_data(as_text=True))  # ...use the last
    done = client.post(
        "/account/totp",
        data={"code": pyotp.TOTP(secret).at(clock.now()), "csrf_token": token},
    )
    codes = re.findall(r"<li><code>([0-9a-f-]{19})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    assert client.get("/objects").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get("/objects").status_code == 302

    step1 = post_form(client, "/login", {"email": analyst.email, "password": analyst.password})
    assert step1.headers["Location"].startswith("/login/totp")
    assert client.get("/objects").status_code == 302  # not signed in between the steps
    clock.advance(timedelta(seconds=30))
    wrong = post_form(client, "/login/totp", {"code": "000000"})
    assert "niet juist" in wrong.get_data(as_text=True)
    ok = post_form(client, "/login/totp", {"code": pyotp.TOTP(secret).at(clock.now())})
    assert ok.status_code == 302
    assert client.get("/objects").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    post_form(client, "/login", {"email": analyst.email, "password": analyst.password})
    used = post_form(client, "/login/recovery", {"code": codes[0]})
    assert used.status_code == 302
    assert client.get("/objects").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    post_form(client, "/login", {"email": analyst.email, "password": analyst.password})
    again = post_form(client, "/login/recovery", {"code": codes[0]})
    assert "niet geldig" in again.get_data(as_text=True)


def test_lockout_after_repeated_failures(app: Flask, client: FlaskClient) -> None:
    """After repeated wrong passwords even the right one is refused for a while."""
    user = make_user(app, "doelwit@bedrijf.nl")
    limit = app.extensions["nca_share.settings"].auth.max_failed_logins
    for _ in range(limit):
        bad = post_form(client, "/login", {"email": user.email, "password": "fout wachtwoord!"})
        assert "Onjuist e-mailadres of wachtwoord" in bad.get_data(as_text=True)
    locked = post_form(client, "/login", {"email": user.email, "password": user.password})
    assert locked.status_code == 200
    assert "Te veel mislukte pogingen" in locked.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_without_csrf_token_is_rejected(app: Flask, client: FlaskClient) -> None:
    """The login form, like every form, refuses a POST without CSRF token."""
    user = make_user(app, "csrf@bedrijf.nl")
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "path",
    ["/logout", "/account/tokens", "/account/tokens/1/revoke", "/operator/users/1/disable"],
)
def test_state_changing_posts_need_csrf(app: Flask, client: FlaskClient, path: str) -> None:
    """Signed-in POSTs without a CSRF token are rejected with 400."""
    login(client, make_user(app, "sme@bedrijf.nl"))
    assert client.post(path, data={"name": "x", "scopes": "stix:read"}).status_code == 400
    assert client.get("/account").status_code == 200  # still signed in


def test_tokens_are_shown_once_and_only_own_can_be_revoked(app: Flask, client: FlaskClient) -> None:
    """A created token is shown once; another user's token id answers 404."""
    org = make_org(app, "12121212", "Eigen B.V.")
    me = make_user(app, "ik@bedrijf.nl", ("member", org, None))
    other = make_user(app, "ander@bedrijf.nl", ("member", org, None))
    other_client = app.test_client()
    login(other_client, other)
    token_page = other_client.post(
        "/account/tokens",
        data={
            "name": "theirs",
            "scopes": "stix:read",
            "expires_days": "30",
            "csrf_token": csrf_token(other_client, "/account"),
        },
    ).get_data(as_text=True)
    assert re.search(r'data-testid="token-value">ncas_', token_page)
    login(client, me)
    created = client.post(
        "/account/tokens",
        data={
            "name": "mine",
            "scopes": "stix:read",
            "expires_days": "30",
            "csrf_token": csrf_token(client, "/account"),
        },
    ).get_data(as_text=True)
    value = re.search(r'data-testid="token-value">(ncas_[^<]+)<', created)
    assert value
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {value.group(1)}"}).status_code
        == 200
    )
    overview = client.get("/account").get_data(as_text=True)
    assert value.group(1) not in overview  # never shown again
    ids = [int(i) for i in re.findall(r"/account/tokens/(\d+)/revoke", overview)]
    assert len(ids) == 1
    theirs = max(ids) + 1 if ids[0] < 2 else 1
    token = csrf_token(client, "/account")
    assert (
        client.post(f"/account/tokens/{theirs}/revoke", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(f"/account/tokens/{ids[0]}/revoke", data={"csrf_token": token}).status_code
        == 302
    )
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {value.group(1)}"}).status_code
        == 401
    )


def test_operator_pages(app: Flask, client: FlaskClient, clock: FrozenClock) -> None:
    """Operators see the audit log (filterable) and users; others get 404."""
    member = make_user(app, "lid@bedrijf.nl")
    login(client, member)
    assert client.get("/operator/audit").status_code == 404
    assert client.get("/operator/users").status_code == 404
    operator = make_user(app, "beheer@ncsc.nl", "operator", totp=True)
    op_client = app.test_client()
    clock.advance(timedelta(seconds=30))
    assert operator.totp_secret
    login(op_client, operator, totp_code=pyotp.TOTP(operator.totp_secret).at(clock.now()))
    audit = op_client.get("/operator/audit?action=auth.login").get_data(as_text=True)
    assert "auth.login" in audit
    assert "user.create" not in audit
    users = op_client.get("/operator/users").get_data(as_text=True)
    assert "lid@bedrijf.nl" in users
    granted = op_client.post(
        f"/operator/users/{member.id}/roles",
        data={"role": "analyst", "csrf_token": csrf_token(op_client, "/operator/users")},
    )
    assert granted.status_code == 302
    assert "role.grant" in op_client.get("/operator/audit").get_data(as_text=True)
    # The member became staff: their next request is forced to enrol in TOTP.
    assert client.get("/objects").headers["Location"] == "/account/totp"


def test_explorer_search_and_object_page(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    """The explorer filters by text and type and shows relationships, observables and JSON."""
    malware = sdo("malware", "Pikabot", "GREEN", description="Loader <b>bold</b>")
    indicator = sdo("indicator", "Pikabot C2", "GREEN")
    rel = relationship(indicator, "indicates", malware, "GREEN")
    other = sdo("tool", "Cobalt Strike", "CLEAR")
    ingest(app, [malware, indicator, rel, other])
    analyst = make_user(app, "analist@ncsc.nl", "analyst", totp=True)
    clock.advance(timedelta(seconds=30))
    assert analyst.totp_secret
    login(client, analyst, totp_code=pyotp.TOTP(analyst.totp_secret).at(clock.now()))
    found = client.get("/objects?q=pika&type=malware").get_data(as_text=True)
    assert "Pikabot" in found
    assert "Cobalt Strike" not in found
    page = client.get(f"/objects/{malware['id']}").get_data(as_text=True)
    assert f'href="/objects/{indicator["id"]}"' in page
    assert "indicates" in page
    assert "Loader &lt;b&gt;bold&lt;/b&gt;" in page
    assert "TLP:GREEN" in page
    ind_page = client.get(f"/objects/{indicator['id']}").get_data(as_text=True)
    assert "198.51.100.7" in ind_page  # the observable from the pattern
    assert client.get("/objects/malware--00000000-0000-4000-8000-000000000000").status_code == 404


def test_explorer_filters_tlp_source_and_dates(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    """The explorer narrows by TLP, source and the date an object was added."""
    green = sdo("malware", "Groen", "GREEN")
    amber = sdo("malware", "Oranje", "AMBER")
    ingest(app, [green], source="feed-a")
    ingest(app, [amber], source="feed-b")
    analyst = make_user(app, "filter@ncsc.nl", "analyst", totp=True)
    clock.advance(timedelta(seconds=30))
    assert analyst.totp_secret
    login(client, analyst, totp_code=pyotp.TOTP(analyst.totp_secret).at(clock.now()))

    def names(query: str) -> set[str]:
        html = client.get(f"/objects?type=malware&{query}").get_data(as_text=True)
        return set(re.findall(r'href="/objects/malware--[^"]+">([^<]+)</a>', html))

    assert names("") == {"Groen", "Oranje"}
    assert names("tlp=1") == {"Groen"}
    assert names("tlp=2") == {"Oranje"}
    assert names("source=feed-b") == {"Oranje"}
    today = datetime.now(UTC).date()
    assert names(f"added_from={today - timedelta(days=1)}") == {"Groen", "Oranje"}
    assert names(f"added_until={today - timedelta(days=2)}") == set()
    assert names("added_from=not-a-date") == {"Groen", "Oranje"}  # bad input is ignored


def test_language_choice_is_stored_in_the_profile(app: Flask) -> None:
    """Choosing English while signed in is remembered for the next session."""
    user = make_user(app, "taal@bedrijf.nl")
    first = app.test_client()
    login(first, user)
    first.post("/language", data={"lang": "en", "csrf_token": csrf_token(first)})
    second = app.test_client()
    login(second, user)
    assert '<html lang="en">' in second.get("/").get_data(as_text=True)


def test_password_reset_over_smtp(app: Flask, client: FlaskClient, smtp_server: SmtpServer) -> None:
    """A reset link arrives by mail, sets a new password once, and the old one stops working."""
    app.extensions["nca_share.mailer"] = Mailer(
        smtp_server.settings_for(app.extensions["nca_share.settings"])
    )
    user = make_user(app, "vergeten@bedrijf.nl")
    sent = post_form(client, "/reset-password", {"email": user.email})
    assert "Controleer uw e-mail" in sent.get_data(as_text=True)
    unknown = post_form(client, "/reset-password", {"email": "niemand@bedrijf.nl"})
    assert unknown.get_data(as_text=True).count("Controleer uw e-mail") == sent.get_data(
        as_text=True
    ).count("Controleer uw e-mail")  # the same answer: no account enumeration
    smtp_server.wait_for(to=user.email)
    path = urlsplit(smtp_server.last_link(user.email)).path
    assert path.startswith("/reset/")
    new = "een nieuw lang wachtwoord"
    done = post_form(client, path, {"password": new, "confirm": new})
    assert done.status_code == 302
    assert post_form(client, path, {"password": new, "confirm": new}).status_code == 400
    old = post_form(client, "/login", {"email": user.email, "password": user.password})
    assert "Onjuist e-mailadres of wachtwoord" in old.get_data(as_text=True)
    assert post_form(client, "/login", {"email": user.email, "password": new}).status_code == 302


def test_account_password_change_and_totp_management(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    """Change the password (old sessions end), renew recovery codes, switch TOTP off where
    allowed; staff cannot switch it off."""
    user = make_user(app, "zelf@bedrijf.nl", totp=True)
    assert user.totp_secret
    other_session = app.test_client()
    clock.advance(timedelta(seconds=30))
    login(other_session, user, totp_code=pyotp.TOTP(user.totp_secret).at(clock.now()))
    clock.advance(timedelta(seconds=30))
    login(client, user, totp_code=pyotp.TOTP(user.totp_secret).at(clock.now()))
    new = "mijn nieuwe wachtwoord!"
    token = csrf_token(client, "/account")
    client.post(
        "/account/password",
        data={"current": "fout", "password": new, "confirm": new, "csrf_token": token},
    )
    assert "niet juist" in client.get("/account").get_data(as_text=True)
    client.post(
        "/account/password",
        data={"current": user.password, "password": new, "confirm": new, "csrf_token": token},
    )
    assert client.get("/account").status_code == 200
    assert other_session.get("/account").status_code == 302  # the other session ended

    clock.advance(timedelta(seconds=30))
    renewed = client.post(
        "/account/totp/recovery-codes",
        data={
            "code": pyotp.TOTP(user.totp_secret).at(clock.now()),
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert len(re.findall(r"<li><code>", renewed.get_data(as_text=True))) == 10
    clock.advance(timedelta(seconds=30))
    client.post(
        "/account/totp/disable",
        data={
            "code": pyotp.TOTP(user.totp_secret).at(clock.now()),
            "csrf_token": csrf_token(client, "/account"),
        },
    )
    assert "Uit." in client.get("/account").get_data(as_text=True)

    staff = make_user(app, "staf@ncsc.nl", "reviewer", totp=True)
    assert staff.totp_secret
    staff_client = app.test_client()
    clock.advance(timedelta(seconds=30))
    login(staff_client, staff, totp_code=pyotp.TOTP(staff.totp_secret).at(clock.now()))
    assert "/account/totp/disable" not in staff_client.get("/account").get_data(as_text=True)
    clock.advance(timedelta(seconds=30))
    staff_client.post(
        "/account/totp/disable",
        data={
            "code": pyotp.TOTP(staff.totp_secret).at(clock.now()),
            "csrf_token": csrf_token(staff_client, "/account"),
        },
    )
    assert "Aan." in staff_client.get("/account").get_data(as_text=True)


def test_type_choices_only_name_visible_types(app: Flask, client: FlaskClient) -> None:
    """The explorer's type filter does not reveal custom types of invisible objects."""
    ingest(app, [sdo("malware", "Zichtbaar", "GREEN"), sdo("x-geheim-type", "Geheim", "RED")])
    login(client, make_user(app, "lid@bedrijf.nl"))
    html = client.get("/objects").get_data(as_text=True)
    assert 'value="malware"' in html
    assert "x-geheim-type" not in html
