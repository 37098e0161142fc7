"""``nca-share db``: schema migrations."""

from __future__ import annotations

import click

from nca_share.cli.context import CliContext, pass_cli
from nca_share.db import Database


@click.group("db")
def db_group() -> None:
    """Database schema management."""


@db_group.command("upgrade")
@pass_cli
def upgrade_cmd(cli: CliContext) -> None:
    """Migrate the database to the newest schema (safe to run again)."""
    database = Database(cli.settings)
    database.upgrade()
    click.echo(f"database at head: {database.engine.url.render_as_string(hide_password=True)}")


commands = [db_group]
