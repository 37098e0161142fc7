"""``nca-share up`` (the embedded platform) and ``nca-share demo`` (seed + up)."""

from __future__ import annotations

import click

from nca_share.cli.context import CliContext, pass_cli


def _serve_options(fn: click.decorators.FC) -> click.decorators.FC:
    fn = click.option("--host", default="127.0.0.1", show_default=True)(fn)
    fn = click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))(fn)
    fn = click.option(
        "--workers", default=None, type=click.IntRange(0, 64), help="Worker threads."
    )(fn)
    return fn


@click.command("up")
@_serve_options
@pass_cli
def up_cmd(cli: CliContext, host: str, port: int, workers: int | None) -> None:
    """Run web server, scheduler and workers in one process (embedded mode)."""
    from nca_share.db import Database
    from nca_share.demo.runner import ensure_local_secret, run_embedded

    settings = ensure_local_secret(cli.settings)
    database = Database(settings)
    database.upgrade()
    click.echo(f"nca_share running at http://{host}:{port}/ (Ctrl+C stops)")
    run_embedded(settings, database, host=host, port=port, workers=workers)


@click.command("demo")
@_serve_options
@click.option("--no-serve", is_flag=True, help="Only load the demo data, then exit.")
@pass_cli
def demo_cmd(cli: CliContext, host: str, port: int, workers: int | None, no_serve: bool) -> None:
    """Load the demo data (idempotent) and run the embedded platform."""
    from nca_share.db import Database
    from nca_share.demo.runner import ensure_local_secret, format_accounts, run_embedded, seed_demo

    settings = ensure_local_secret(cli.settings.model_copy(update={"allow_private_urls": True}))
    database = Database(settings)
    click.echo("Loading the demo data …")
    summary = seed_demo(settings, database)
    for step, result in summary.steps.items():
        click.echo(f"  {step}: {result}")
    click.echo(format_accounts(summary))
    if no_serve:
        return
    click.echo(f"\nnca_share serving at http://{host}:{port}/ (Ctrl+C stops)")
    run_embedded(settings, database, host=host, port=port, workers=workers)


commands = [up_cmd, demo_cmd]
