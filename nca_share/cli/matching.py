"""``nca-share matching``: product knowledge (NVD, KEV), matching runs and the recipient
preview on the command line. A thin adapter over ``nca_share.matching``; domain errors become
one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from nca_share.cli.context import CliContext, pass_cli
from nca_share.errors import NcaShareError


@click.group("matching")
def matching_group() -> None:
    """Who is affected, and why. / Wie wordt geraakt, en waarom."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        click.echo(f"error: {path}: {exc}", err=True)
        sys.exit(1)


def _load(cli: CliContext, paths: tuple[Path, ...], kind: str, rematch: bool) -> None:
    from nca_share.matching.jobs import enqueue_match
    from nca_share.matching.knowledge import kev_rows, nvd_rows, store_rows, vulnerability_ids_for

    reader = nvd_rows if kind == "nvd" else kev_rows
    total, cves = 0, set()
    for path in paths:
        try:
            rows = reader(_read_json(path))
        except NcaShareError as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            sys.exit(1)
        with cli.database.session() as session:
            total += store_rows(session, rows)
        cves |= {r["cve"] for r in rows}
    queued = 0
    if rematch and cves:
        with cli.database.session() as session:
            ids = vulnerability_ids_for(session, cves)
            queued = len(enqueue_match(session, ids, origin=f"knowledge:{kind}"))
    click.echo(f"{total} product rows for {len(cves)} CVEs; {queued} matching jobs queued")


@matching_group.command("load-nvd")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--no-rematch", is_flag=True, help="Do not re-match stored vulnerabilities.")
@pass_cli
def load_nvd(cli: CliContext, paths: tuple[Path, ...], no_rematch: bool) -> None:
    """Load NVD CVE API 2.0 responses (CPE configurations)."""
    _load(cli, paths, "nvd", not no_rematch)


@matching_group.command("load-kev")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option("--no-rematch", is_flag=True, help="Do not re-match stored vulnerabilities.")
@pass_cli
def load_kev(cli: CliContext, paths: tuple[Path, ...], no_rematch: bool) -> None:
    """Load the CISA Known Exploited Vulnerabilities catalogue."""
    _load(cli, paths, "kev", not no_rematch)


@matching_group.command("run")
@click.argument("stix_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Match every current object.")
@click.option("--no-notify", is_flag=True, help="Store matches without creating notices.")
@pass_cli
def run_cmd(cli: CliContext, stix_ids: tuple[str, ...], everything: bool, no_notify: bool) -> None:
    """Match objects now (idempotent) and print the totals as JSON."""
    from nca_share.matching.index import ConstituencyIndex
    from nca_share.matching.store import MatchingService
    from nca_share.stix.models import StixObject

    with cli.database.session() as session:
        ids = list(stix_ids)
        if everything:
            ids = list(
                session.scalars(select(StixObject.stix_id).where(StixObject.is_current.is_(True)))
            )
        if not ids:
            click.echo("error: give STIX ids or --all", err=True)
            sys.exit(1)
        index = ConstituencyIndex.load(session)
        result = MatchingService(session, index, cli.settings).run(ids, notify=not no_notify)
    click.echo(json.dumps(result.as_dict()))


@matching_group.command("preview")
@click.argument("stix_ids", nargs=-1)
@click.option("--sector", "sectors", multiple=True, help="STIX industry sector.")
@click.option("--nis2", multiple=True, help="NIS2 class (essential, important) or annex key.")
@click.option("--region", "regions", multiple=True, help="Province slug or ISO code (NL-NH).")
@click.option("--product", "products", multiple=True, help="CPE, PURL or vendor:product.")
@click.option("--locale", type=click.Choice(["nl", "en"]), default="nl")
@pass_cli
def preview_cmd(
    cli: CliContext,
    stix_ids: tuple[str, ...],
    sectors: tuple[str, ...],
    nis2: tuple[str, ...],
    regions: tuple[str, ...],
    products: tuple[str, ...],
    locale: str,
) -> None:
    """Who would receive these objects / criteria (JSON)."""
    from nca_share.matching.engine import Criteria
    from nca_share.matching.index import ConstituencyIndex
    from nca_share.matching.preview import PreviewService

    criteria = Criteria(sectors=sectors, nis2=nis2, regions=regions, products=products)
    with cli.database.session() as session:
        service = PreviewService(
            session, ConstituencyIndex.load(session), timezone=cli.settings.timezone
        )
        result = service.preview(stix_ids, criteria, locale=locale)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False))


@matching_group.command("stats")
@pass_cli
def stats_cmd(cli: CliContext) -> None:
    """Size of the constituency index (JSON)."""
    from nca_share.matching.index import ConstituencyIndex

    with cli.database.session() as session:
        click.echo(json.dumps(ConstituencyIndex.load(session).stats()))


commands = [matching_group]
