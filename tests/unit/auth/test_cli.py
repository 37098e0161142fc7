"""``nca-share users|tokens|audit`` against a real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from nca_share.auth.service import AuthService
from nca_share.cli import context as cli_context
from nca_share.cli import main
from nca_share.config import Settings
from nca_share.constituency.models import Organisation, Partnership
from nca_share.db import Database
from nca_share.errors import AuthenticationError

Invoke = Callable[..., Result]


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    """Invoke the CLI on the test database; engines the commands open are disposed after."""
    env = {
        "NCA_SHARE_DATABASE_URL": database_url,
        "NCA_SHARE_SECRET_KEY": "cli-test-secret",
        "NCA_SHARE_AUTH__ARGON2_TIME_COST": "1",
        "NCA_SHARE_AUTH__ARGON2_MEMORY_KIB": "1024",
    }
    opened: list[Database] = []

    class TrackedDatabase(Database):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            opened.append(self)

    monkeypatch.setattr(cli_context, "Database", TrackedDatabase)

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)

    yield invoke
    for db in opened:
        db.dispose()


def test_create_list_grant_revoke(run: Invoke, database: Database, settings: Settings) -> None:
    """Operators create users with roles, list them and change roles; all audited."""
    with database.session() as s:
        s.add_all(
            [Organisation(kvk="12345678", name="Bakkerij"), Partnership(slug="zorg", name="Zorg")]
        )
    res = run(
        "users", "create", "--email", "Op@Example.nl", "--role", "operator", "--role", "analyst"
    )
    assert res.exit_code == 0, res.output
    password = res.output.split("password (shown once): ")[1].split()[0]
    assert len(password) >= 20
    assert "two-factor" in res.output
    res = run(
        "users",
        "create",
        "--email",
        "m@example.nl",
        "--role",
        "member",
        "--org",
        "12345678",
        "--password-stdin",
        stdin="a member password\n",
    )
    assert res.exit_code == 0, res.output
    assert "shown once" not in res.output
    res = run(
        "users",
        "grant-role",
        "--email",
        "m@example.nl",
        "--role",
        "coordinator",
        "--partnership",
        "zorg",
    )
    assert res.exit_code == 0, res.output
    res = run("users", "list")
    lines = {line.split("\t")[1]: line for line in res.output.splitlines()}
    assert "analyst,operator" in lines["op@example.nl"]
    assert "coordinator:partnership=" in lines["m@example.nl"]
    assert "member:org=" in lines["m@example.nl"]
    res = run("users", "revoke-role", "--email", "m@example.nl", "--role", "coordinator")
    assert res.exit_code == 0, res.output
    with database.session() as s:
        svc = AuthService(s, settings.model_copy(update={"secret_key": "cli-test-secret"}))
        assert svc.authenticate("op@example.nl", password, None).role_names() == {
            "operator",
            "analyst",
        }
        assert svc.authenticate("m@example.nl", "a member password", None).role_names() == {
            "member"
        }
    res = run("audit", "list", "--action", "role.revoke")
    assert res.exit_code == 0
    assert res.output.count("role.revoke") == 1
    assert "\tcli\t" in res.output


def test_errors_are_one_line(run: Invoke) -> None:
    """Unknown organisations, weak passwords and unknown users fail cleanly."""
    res = run("users", "create", "--email", "m@example.nl", "--role", "member", "--org", "99999999")
    assert res.exit_code == 1
    assert "no organisation with KVK number 99999999" in res.output
    res = run("users", "create", "--email", "w@example.nl", "--password-stdin", stdin="short\n")
    assert res.exit_code == 1
    assert "password" in res.output
    res = run("tokens", "create", "--email", "nobody@example.nl")
    assert res.exit_code == 1
    assert "user not found" in res.output
    res = run("audit", "list", "--since", "yesterday")
    assert res.exit_code == 2


def test_tokens_create_list_revoke(run: Invoke, database: Database, settings: Settings) -> None:
    """A token is printed once, works within its scopes and stops after revocation."""
    run("users", "create", "--email", "a@example.nl", "--role", "analyst")
    res = run(
        "tokens",
        "create",
        "--email",
        "a@example.nl",
        "--scope",
        "stix:read",
        "--scope",
        "feeds:read",
        "--expires",
        "7",
        "--name",
        "ci",
    )
    assert res.exit_code == 0, res.output
    token = res.stdout.strip().splitlines()[-1]
    assert token.startswith("ncas_")
    with database.session() as s:
        principal = AuthService(s, settings).authenticate_token(token)
    assert principal.scopes == frozenset({"stix:read", "feeds:read"})
    res = run("tokens", "create", "--email", "a@example.nl", "--scope", "audit:read")
    assert res.exit_code == 1
    assert "audit:read" in res.output
    res = run("tokens", "list")
    assert token not in res.output
    assert "\tactive" in res.output
    token_id = res.output.split("\t")[0]
    assert run("tokens", "revoke", token_id).exit_code == 0
    assert "\trevoked" in run("tokens", "list", "--email", "a@example.nl").output
    with database.session() as s, pytest.raises(AuthenticationError, match="invalid or expired"):
        AuthService(s, settings).authenticate_token(token)
