"""``nca-share feeds``: list, show, add, run feeds; reconcile the catalogue; the allow-list and
the suppression log. A thin adapter over :mod:`nca_share.feeds.service`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from nca_share.cli.context import CliContext, pass_cli
from nca_share.errors import NcaShareError
from nca_share.feeds.service import Collector, FeedInput, FeedService
from nca_share.feeds.sources import SOURCE_TYPES
from nca_share.feeds.sources.base import AUTH_SECRETS, AUTH_TYPES


def _fail(exc: NcaShareError) -> None:
    raise click.ClickException(str(exc))


@click.group("feeds")
def feeds_group() -> None:
    """Feed registry and collection."""


@feeds_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_cli
def list_cmd(cli: CliContext, as_json: bool) -> None:
    """List feeds with their health."""
    with cli.database.session() as session:
        service = FeedService(session, cli.settings)
        rows = [service.describe(f) for f in service.all()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'name':24} {'type':14} {'on':3} {'last success':26} {'added':>6}  last error")
    for row in rows:
        health = row["health"]
        click.echo(
            f"{row['name'][:24]:24} {row['type']:14} {'yes' if row['enabled'] else 'no':3} "
            f"{health['last_success_at'] or '-':26} {health['last_added'] or 0:>6}  "
            f"{(health['last_error'] or '')[:60]}"
        )


@feeds_group.command("show")
@click.argument("name")
@pass_cli
def show_cmd(cli: CliContext, name: str) -> None:
    """Show one feed (secrets only as set / not set) and its recent runs."""
    try:
        with cli.database.session() as session:
            service = FeedService(session, cli.settings)
            feed = service.get(name)
            data = service.describe(feed)
            data["runs"] = [
                {
                    "id": r.id,
                    "started_at": r.started_at.isoformat(),
                    "status": r.status,
                    "read": r.objects_read,
                    "added": r.objects_added,
                    "suppressed": r.suppressed,
                    "quarantined": r.quarantined,
                    "error": r.error,
                    "problems": r.problem_details,
                }
                for r in service.runs(feed, 10)
            ]
    except NcaShareError as exc:
        _fail(exc)
    click.echo(json.dumps(data, indent=2))


@feeds_group.command("add")
@click.argument("name")
@click.option("--type", "type_", required=True, type=click.Choice(sorted(SOURCE_TYPES)))
@click.option("--url", help="URL or local path of the feed.")
@click.option("--config", "config_json", default="{}", help="Type settings as JSON.")
@click.option("--auth", "auth_type", type=click.Choice(AUTH_TYPES), default="none")
@click.option("--username", help="Basic auth user name.")
@click.option("--header", help="API-key header name (default X-API-Key).")
@click.option(
    "--secret-stdin",
    is_flag=True,
    help='Read the secret(s) as JSON from standard input, e.g. {"password": "…"}.',
)
@click.option("--interval", "interval_s", type=int, default=3600, show_default=True)
@click.option("--tlp", "default_tlp", default="AMBER", show_default=True)
@click.option("--reliability", default="F", show_default=True)
@click.option("--confidence", type=int)
@click.option("--lifetime-days", type=int)
@click.option("--disabled", is_flag=True)
@pass_cli
def add_cmd(
    cli: CliContext,
    name: str,
    type_: str,
    url: str | None,
    config_json: str,
    auth_type: str,
    username: str | None,
    header: str | None,
    secret_stdin: bool,
    interval_s: int,
    default_tlp: str,
    reliability: str,
    confidence: int | None,
    lifetime_days: int | None,
    disabled: bool,
) -> None:
    """Register a feed. Secrets never appear on the command line."""
    try:
        config: Any = json.loads(config_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--config") from None
    secrets: dict[str, str] | None = None
    if secret_stdin:
        try:
            secrets = {str(k): str(v) for k, v in json.loads(sys.stdin.read()).items()}
        except (json.JSONDecodeError, AttributeError) as exc:
            raise click.BadParameter(f"expected a JSON object: {exc}") from None
    auth_config = {k: v for k, v in (("username", username), ("header", header)) if v}
    data = FeedInput(
        name=name,
        type=type_,
        url=url,
        config=config,
        auth_type=auth_type,
        auth_config=auth_config,
        secrets=secrets,
        interval_s=interval_s,
        default_tlp=default_tlp,
        reliability=reliability,
        confidence=confidence,
        lifetime_days=lifetime_days,
        enabled=not disabled,
    )
    try:
        with cli.database.session() as session:
            feed = FeedService(session, cli.settings).add(data)
            click.echo(
                f"feed {feed.name!r} added (id {feed.id}); secrets: "
                f"{'set' if feed.secrets_encrypted else 'not set'}"
                f" (expects {', '.join(AUTH_SECRETS[auth_type]) or 'none'})"
            )
    except NcaShareError as exc:
        _fail(exc)


@feeds_group.command("run")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@pass_cli
def run_cmd(cli: CliContext, name: str, as_json: bool) -> None:
    """Collect one feed now."""
    try:
        summary = Collector(cli.database, cli.settings).run(name)
    except NcaShareError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        click.echo(
            f"{summary.feed}: {summary.status}; read {summary.read}, added {summary.added}, "
            f"unchanged {summary.unchanged}, suppressed {summary.suppressed}, "
            f"quarantined {summary.quarantined}, problems {summary.problems}"
            + (f"; error: {summary.error}" if summary.error else "")
        )
    if summary.status != "ok":
        sys.exit(1)


@feeds_group.command("reconcile")
@click.argument("path", type=click.Path(path_type=Path), default=Path("config/feeds.toml"))
@pass_cli
def reconcile_cmd(cli: CliContext, path: Path) -> None:
    """Create or update the feeds declared in a feeds.toml catalogue."""
    try:
        with cli.database.session() as session:
            names = FeedService(session, cli.settings).reconcile_catalogue(path)
    except NcaShareError as exc:
        _fail(exc)
    click.echo(f"{len(names)} feeds reconciled: {', '.join(names)}")


@feeds_group.command("allow")
@click.argument("kind", type=click.Choice(["ip", "domain", "url"]))
@click.argument("value")
@click.option("--reason", default="")
@click.option("--remove", is_flag=True, help="Remove the entry instead.")
@pass_cli
def allow_cmd(cli: CliContext, kind: str, value: str, reason: str, remove: bool) -> None:
    """Add (or remove) an operator allow-list entry: such values are never ingested."""
    try:
        with cli.database.session() as session:
            service = FeedService(session, cli.settings)
            if remove:
                click.echo("removed" if service.disallow(kind, value) else "not on the list")
            else:
                entry = service.allow(kind, value, reason, by="cli")
                click.echo(f"allow-listed {entry.kind} {entry.value}")
    except NcaShareError as exc:
        _fail(exc)


@feeds_group.command("suppressed")
@click.option("--feed", "feed_name")
@click.option("--limit", type=int, default=50)
@pass_cli
def suppressed_cmd(cli: CliContext, feed_name: str | None, limit: int) -> None:
    """Review what the warning lists kept out, and why."""
    try:
        with cli.database.session() as session:
            service = FeedService(session, cli.settings)
            feed = service.get(feed_name) if feed_name else None
            for row in service.suppressions(feed, limit):
                click.echo(
                    f"{row.created_at.isoformat()} {row.stix_id} {row.value!r} "
                    f"[{row.list_name}] {row.reason}"
                )
    except NcaShareError as exc:
        _fail(exc)


commands = [feeds_group]
