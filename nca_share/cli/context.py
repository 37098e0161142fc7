"""Lazily built settings and database shared by every CLI command."""

from __future__ import annotations

from functools import cached_property

import click

from nca_share.config import Settings, load_settings
from nca_share.db import Database


class CliContext:
    """What a command needs; built on first use so ``--help`` touches nothing."""

    @cached_property
    def settings(self) -> Settings:
        return load_settings()

    @cached_property
    def database(self) -> Database:
        """The database, migrated to head (commands that need the schema just use this).

        It is disposed when the click context closes, so no connection outlives the command.
        """
        db = Database(self.settings)
        db.upgrade()
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.find_root().call_on_close(db.dispose)
        return db


pass_cli = click.make_pass_decorator(CliContext, ensure=True)
