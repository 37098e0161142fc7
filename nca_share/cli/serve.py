"""``nca-share serve``: run the web application and API with waitress."""

from __future__ import annotations

import logging

import click

from nca_share.cli.context import CliContext, pass_cli

log = logging.getLogger(__name__)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@pass_cli
def serve_cmd(cli: CliContext, host: str, port: int, threads: int) -> None:
    """Serve the web UI and the REST API (migrates the database first)."""
    from waitress import serve

    from nca_share.web import create_app

    database = cli.database  # migrated to head on first use
    app = create_app(cli.settings, database=database)
    click.echo(f"nca_share serving at http://{host}:{port}/ (Ctrl+C stops)")
    serve(app, host=host, port=port, threads=threads, ident="nca_share")


commands = [serve_cmd]
