"""``nca-share users``, ``nca-share tokens`` and ``nca-share audit``: operator commands for
accounts, roles, API tokens and reading the audit log (a thin adapter over ``AuthService``
and ``AuditLog``)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from nca_share.auth.audit import AuditLog, AuditQuery
from nca_share.auth.models import Role
from nca_share.auth.scopes import SCOPES
from nca_share.auth.service import AuthService
from nca_share.cli.context import CliContext, pass_cli
from nca_share.constituency.models import Organisation, Partnership
from nca_share.errors import NcaShareError, NotFound

#: Who the audit log names for changes made on the command line.
CLI_ACTOR = "cli"

F = TypeVar("F", bound=Callable[..., Any])


def _domain_errors(fn: F) -> F:
    """Show domain errors as one clear line and exit 1 (no traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NcaShareError as exc:
            where = getattr(exc, "location", None)
            raise click.ClickException(f"{where}: {exc.message}" if where else exc.message) from exc

    return wrapper  # type: ignore[return-value]


@contextmanager
def _service(cli: CliContext) -> Iterator[AuthService]:
    with cli.database.session() as session:
        yield AuthService(session, cli.settings)


def _org_id(session: Session, kvk: str | None) -> int | None:
    if kvk is None:
        return None
    org_id = session.scalar(select(Organisation.id).where(Organisation.kvk == kvk.strip()))
    if org_id is None:
        raise NotFound(f"no organisation with KVK number {kvk}")
    return org_id


def _partnership_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    pid = session.scalar(select(Partnership.id).where(Partnership.slug == slug.strip()))
    if pid is None:
        raise NotFound(f"no partnership {slug}")
    return pid


def _grant(
    svc: AuthService, user: Any, role: str, org: str | None, partnership: str | None
) -> None:
    svc.grant_role(
        user,
        role,
        organisation_id=_org_id(svc.session, org) if role == Role.MEMBER else None,
        partnership_id=_partnership_id(svc.session, partnership)
        if role == Role.COORDINATOR
        else None,
        actor=CLI_ACTOR,
    )


ROLE_CHOICE = click.Choice([r.value for r in Role])


@click.group("users")
def users_group() -> None:
    """Accounts and roles."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="Repeat for several.")
@click.option("--org", help="KVK number of the organisation (for --role member).")
@click.option("--partnership", help="Slug of the partnership (for --role coordinator).")
@click.option("--locale", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_cli
@_domain_errors
def users_create(
    cli: CliContext,
    email: str,
    roles: tuple[str, ...],
    org: str | None,
    partnership: str | None,
    locale: str,
    password_stdin: bool,
) -> None:
    """Create a verified account; without --password-stdin a strong password is generated
    and printed once."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = secrets.token_urlsafe(18)
        generated = True
    with _service(cli) as svc:
        user = svc.create_user(email, password, locale=locale, verified=True, actor=CLI_ACTOR)
        for role in roles:
            _grant(svc, user, role, org, partnership)
        click.echo(f"created user {user.id} {user.email} roles: {', '.join(roles) or '-'}")
        if generated:
            click.echo(f"password (shown once): {password}")
        if svc.requires_totp(user):
            click.echo("two-factor authentication will be required at the first login")


@users_group.command("list")
@pass_cli
def users_list(cli: CliContext) -> None:
    """List accounts with their roles."""
    with _service(cli) as svc:
        for user in svc.list_users():
            roles = ",".join(
                sorted(
                    r.role
                    + (f":org={r.organisation_id}" if r.organisation_id else "")
                    + (f":partnership={r.partnership_id}" if r.partnership_id else "")
                    for r in user.roles
                )
            )
            flags = [
                "verified" if user.is_verified else "unverified",
                "totp" if user.totp_enabled else "no-totp",
            ]
            if user.disabled:
                flags.append("disabled")
            click.echo(f"{user.id}\t{user.email}\t{roles or '-'}\t{' '.join(flags)}")


def _role_options(fn: F) -> F:
    for option in reversed(
        [
            click.option("--email", required=True),
            click.option("--role", required=True, type=ROLE_CHOICE),
            click.option("--org", help="KVK number (member)."),
            click.option("--partnership", help="Partnership slug (coordinator)."),
        ]
    ):
        fn = option(fn)
    return fn


@users_group.command("grant-role")
@_role_options
@pass_cli
@_domain_errors
def users_grant_role(
    cli: CliContext, email: str, role: str, org: str | None, partnership: str | None
) -> None:
    """Give a user a role."""
    with _service(cli) as svc:
        user = svc.get_user_by_email(email)
        _grant(svc, user, role, org, partnership)
        click.echo(f"{user.email}: granted {role}")


@users_group.command("revoke-role")
@_role_options
@pass_cli
@_domain_errors
def users_revoke_role(
    cli: CliContext, email: str, role: str, org: str | None, partnership: str | None
) -> None:
    """Take a role away from a user."""
    with _service(cli) as svc:
        user = svc.get_user_by_email(email)
        svc.revoke_role(
            user,
            role,
            organisation_id=_org_id(svc.session, org),
            partnership_id=_partnership_id(svc.session, partnership),
            actor=CLI_ACTOR,
        )
        click.echo(f"{user.email}: revoked {role}")


@users_group.command("disable")
@click.option("--email", required=True)
@click.option("--enable", is_flag=True, help="Re-enable instead.")
@pass_cli
@_domain_errors
def users_disable(cli: CliContext, email: str, enable: bool) -> None:
    """Disable (or re-enable) an account."""
    with _service(cli) as svc:
        user = svc.get_user_by_email(email)
        svc.set_disabled(user, not enable, actor=CLI_ACTOR)
        click.echo(f"{user.email}: {'enabled' if enable else 'disabled'}")


@users_group.command("reset-totp")
@click.option("--email", required=True)
@pass_cli
@_domain_errors
def users_reset_totp(cli: CliContext, email: str) -> None:
    """Clear a user's second factor (lost device); they enrol again at the next login."""
    with _service(cli) as svc:
        user = svc.get_user_by_email(email)
        svc.reset_totp(user, actor=CLI_ACTOR)
        click.echo(f"{user.email}: two-factor authentication reset")


@click.group("tokens")
def tokens_group() -> None:
    """API tokens."""


@tokens_group.command("create")
@click.option("--email", required=True, help="The user the token acts for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(sorted(SCOPES)),
    help="Repeat for several (default: stix:read).",
)
@click.option("--expires", "expires_days", type=int, help="Lifetime in days.")
@click.option("--name", default="cli", show_default=True)
@pass_cli
@_domain_errors
def tokens_create(
    cli: CliContext, email: str, scopes: tuple[str, ...], expires_days: int | None, name: str
) -> None:
    """Create an API token and print it once."""
    with _service(cli) as svc:
        user = svc.get_user_by_email(email)
        plaintext, token = svc.create_token(
            user, name, scopes or ("stix:read",), expires_days, actor=CLI_ACTOR
        )
        click.echo(
            f"token {token.id} for {user.email}, scopes {' '.join(token.scopes)}, "
            f"expires {token.expires_at.isoformat()}",
            err=True,
        )
        click.echo(plaintext)


@tokens_group.command("list")
@click.option("--email", help="Only this user's tokens.")
@pass_cli
@_domain_errors
def tokens_list(cli: CliContext, email: str | None) -> None:
    """List tokens (never their secret)."""
    with _service(cli) as svc:
        user = svc.get_user_by_email(email) if email else None
        now = svc.clock.now()
        for token in svc.list_tokens(user):
            state = (
                "active" if token.is_active(now) else ("revoked" if token.revoked_at else "expired")
            )
            click.echo(
                f"{token.id}\t{token.user.email}\t{token.name}\t{token.prefix}…\t"
                f"{' '.join(token.scopes)}\t{token.expires_at.isoformat()}\t{state}"
            )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@pass_cli
@_domain_errors
def tokens_revoke(cli: CliContext, token_id: int) -> None:
    """Revoke a token by id."""
    with _service(cli) as svc:
        token = svc.revoke_token(token_id, actor=CLI_ACTOR)
        click.echo(f"token {token.id} revoked")


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("list")
@click.option("--action", help="e.g. auth.login, role.grant, token.create")
@click.option("--actor", help="Actor e-mail address.")
@click.option("--since", help="ISO 8601 time, e.g. 2026-11-28T00:00:00Z.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@pass_cli
@_domain_errors
def audit_list(
    cli: CliContext, action: str | None, actor: str | None, since: str | None, limit: int
) -> None:
    """Show audit entries, newest first."""
    since_dt = None
    if since:
        try:
            since_dt = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise click.BadParameter(
                f"not an ISO 8601 time: {since}", param_hint="--since"
            ) from None
        if since_dt.tzinfo is None:
            raise click.BadParameter("give a time zone, e.g. Z", param_hint="--since")
    with cli.database.session() as session:
        entries = AuditLog(session).list(
            AuditQuery(action=action, actor_email=actor, since=since_dt, limit=limit)
        )
        for e in entries:
            click.echo(
                f"{e.at.isoformat()}\t{e.action}\t{e.actor_email or '-'}\t{e.target or '-'}\t"
                f"{e.ip or '-'}\t{e.details or ''}"
            )


commands = [users_group, tokens_group, audit_group]
