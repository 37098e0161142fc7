"""The ``nca-share`` command line: a thin adapter over the services.

Each command group lives in its own module under ``nca_share.cli`` and exposes ``commands``
(a list of click commands). ``COMMAND_MODULES`` is the explicit registry: add a line to it
when a package brings a new group.
"""

from __future__ import annotations

import importlib
import logging

import click

from nca_share.cli.context import CliContext

COMMAND_MODULES: tuple[str, ...] = (
    "nca_share.cli.up",
    "nca_share.cli.db",
    "nca_share.cli.feeds",
    "nca_share.cli.ingest",
    "nca_share.cli.jobs",
    "nca_share.cli.matching",
    "nca_share.cli.orgs",
    "nca_share.cli.serve",
    "nca_share.cli.users",
)


@click.group()
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.pass_context
def main(ctx: click.Context, verbose: int) -> None:
    """nca_share: threat-information sharing for the national cybersecurity authority."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = CliContext()


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).commands:
        main.add_command(_command)
