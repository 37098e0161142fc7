"""The application shell: health, errors, security headers, CSRF, language switch."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.web import create_app
from nca_share.web.security import CONTENT_SECURITY_POLICY
from tests.fixtures.web import csrf_token


def test_healthz_is_ok(client: FlaskClient) -> None:
    """/healthz answers 200 with a JSON status."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client: FlaskClient) -> None:
    """/readyz answers 200 when the database answers."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}


def test_readyz_is_503_when_the_database_is_gone(settings: Settings, tmp_path: object) -> None:
    """/readyz answers 503 when the database cannot be reached; /healthz stays 200."""
    broken = settings.model_copy(
        update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1"}
    )
    database = Database(broken)
    app = create_app(broken, database=database)
    client = app.test_client()
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    database.dispose()


def test_factory_does_not_touch_the_database(plain_settings: Settings) -> None:
    """create_app only wires: no migration, no connection (the SQLite file is not created)."""
    create_app(plain_settings)
    assert not (plain_settings.data_dir / "nca_share.db").exists()


def test_security_headers_on_pages(client: FlaskClient) -> None:
    """Pages carry a strict CSP without inline script, nosniff, no framing, a referrer policy."""
    response = client.get("/")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.get_data(as_text=True)


def test_session_cookie_flags(settings: Settings, database: Database) -> None:
    """The session cookie is HttpOnly and SameSite=Lax, and Secure when served over https."""
    for base_url, secure in (("http://127.0.0.1:8000", False), ("https://share.example", True)):
        app = create_app(settings.model_copy(update={"base_url": base_url}), database=database)
        client = app.test_client()
        client.get("/")
        cookie = client.get_cookie("nca_share_session")
        assert cookie is not None
        assert cookie.http_only
        assert cookie.same_site == "Lax"
        assert cookie.secure is secure


def test_html_404_page(client: FlaskClient) -> None:
    """Unknown pages get an HTML 404 in the user's language."""
    response = client.get("/bestaat-niet")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Deze pagina of dit object bestaat niet." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/bestaat-niet", 404, "not_found"),
        ("DELETE", "/api/v1/openapi.json", 405, "method_not_allowed"),
    ],
)
def test_api_errors_are_json(
    client: FlaskClient, method: str, path: str, status: int, code: str
) -> None:
    """API errors are {code, message, details} JSON, also for 404 and 405."""
    response = client.open(path, method=method)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code


def test_500_never_echoes_the_exception(app: Flask) -> None:
    """An unexpected error gives a generic 500 (JSON under /api) without the exception text."""

    @app.get("/api/v1/_boom")
    def boom() -> str:
        raise RuntimeError("secret-internal-detail")

    @app.get("/_boom")
    def boom_page() -> str:
        raise RuntimeError("secret-internal-detail")

    client = app.test_client()
    api = client.get("/api/v1/_boom")
    assert api.status_code == 500
    assert api.get_json()["code"] == "internal_error"
    assert "secret-internal-detail" not in api.get_data(as_text=True)
    page = client.get("/_boom")
    assert page.status_code == 500
    assert "secret-internal-detail" not in page.get_data(as_text=True)


def test_post_without_csrf_token_is_rejected(client: FlaskClient) -> None:
    """A form POST without the CSRF token is refused with 400 and changes nothing."""
    response = client.post("/language", data={"lang": "en"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert 'lang="nl"' in client.get("/").get_data(as_text=True)


def test_language_switch_changes_the_ui(client: FlaskClient) -> None:
    """Dutch by default; the switch turns the UI English and back."""
    assert "Aanmelden" in client.get("/").get_data(as_text=True)
    token = csrf_token(client)
    response = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Log in" in english
    client.post("/language", data={"lang": "nl", "csrf_token": csrf_token(client)})
    assert '<html lang="nl">' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_language_switch_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    """The `next` target of the language switch is never an open redirect."""
    token = csrf_token(client)
    response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_nul_characters_and_huge_ids_never_reach_the_database(app: Flask) -> None:
    """NUL in parameters or paths and ids beyond 32 bits give normal answers, not 500s."""
    from tests.fixtures.web import login, make_user

    client = app.test_client()
    login(client, make_user(app, "nul@example.nl"))
    assert client.get("/objects?q=a%00b&source=%00").status_code == 200
    assert client.get("/objects/malware--a%00b").status_code == 404
    huge = client.get("/api/v1/organisations/99999999999999999999")
    assert huge.status_code == 404
    assert huge.get_json()["code"] == "not_found"


def test_values_the_database_cannot_hold_are_422(app: Flask) -> None:
    """A number too large for the database column is the client's error (422), not a 500."""
    from sqlalchemy import text

    from nca_share.web.context import db_session

    @app.get("/api/v1/_cast")
    def cast() -> str:
        db_session().execute(text("SELECT CAST(:v AS INTEGER)"), {"v": 2**70})
        return "no error"

    response = app.test_client().get("/api/v1/_cast")
    assert response.status_code == 422
    assert response.get_json()["code"] == "value_out_of_range"
