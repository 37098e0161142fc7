"""``nca-share ingest``: load STIX bundles or objects from files, URLs or standard input.

A thin adapter over ``nca_share.stix.ingest.IngestService``. Exit codes: 0 everything was
stored, 1 something was quarantined, 2 an input could not be read (missing file, fetch
failure, malformed JSON, not STIX).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from nca_share.cli.context import CliContext, pass_cli
from nca_share.errors import NcaShareError
from nca_share.stix.ingest import IngestProgress, IngestReport, IngestService
from nca_share.stix.tlp import TLP

MAX_PROBLEMS_SHOWN = 50


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


@click.command("ingest")
@click.argument("targets", nargs=-1, required=True, metavar="PATH|URL|-")
@click.option(
    "--tlp",
    "tlp_label",
    default=None,
    help="TLP for objects without a TLP marking (default: settings, TLP:AMBER).",
)
@click.option("--source", default=None, help="Source name recorded with each object.")
@click.option("--strict", is_flag=True, help="Also run stix2-validator on every object (slow).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
@pass_cli
def ingest_cmd(
    cli: CliContext,
    targets: tuple[str, ...],
    tlp_label: str | None,
    source: str | None,
    strict: bool,
    as_json: bool,
) -> None:
    """Ingest STIX 2.0/2.1 bundles or objects. / Laad STIX-bundels of -objecten in."""
    try:
        default_tlp = TLP.parse(tlp_label or cli.settings.default_tlp)
    except NcaShareError as exc:
        raise click.BadParameter(str(exc), param_hint="--tlp") from None
    service = IngestService(cli.database)
    total = IngestReport()
    failures: list[str] = []
    show_progress = not as_json and sys.stderr.isatty()
    for target in targets:
        name = source or ("stdin" if target == "-" else f"cli:{Path(target).name}"[:200])
        bar = _Bar() if show_progress else None
        try:
            if target == "-":
                report = service.ingest_bytes(
                    sys.stdin.buffer.read(),
                    origin="stdin",
                    source=name,
                    default_tlp=default_tlp,
                    strict=strict,
                    progress=bar,
                )
            elif _is_url(target):
                report = service.ingest_url(
                    target,
                    cli.settings,
                    source=name,
                    default_tlp=default_tlp,
                    strict=strict,
                    progress=bar,
                )
            else:
                report = service.ingest_path(
                    Path(target), source=name, default_tlp=default_tlp, strict=strict, progress=bar
                )
        except NcaShareError as exc:
            failures.append(f"{target}: {exc}")
            continue
        finally:
            if bar is not None:
                bar.close()
        total.add(report)
        if report.changed_ids:  # matching: who is affected (a job per ingested input)
            from nca_share.matching.jobs import enqueue_match

            with cli.database.session() as session:
                enqueue_match(session, report.changed_ids, origin=name)

    if as_json:
        click.echo(json.dumps(total.counts()))
        for failure in failures:
            click.echo(f"error: {failure}", err=True)
    else:
        _print_summary(total, failures)
    if failures:
        sys.exit(2)
    sys.exit(1 if total.quarantined else 0)


class _Bar(IngestProgress):
    """A click progress bar on stderr, sized once the service knows (or estimates) the
    object count."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int) -> None:
        self._bar = click.progressbar(length=max(total, 1), label="ingest", file=sys.stderr)
        self._bar.__enter__()

    def resize(self, total: int) -> None:
        if self._bar is not None:
            self._bar.length = max(total, 1)

    def __call__(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _print_summary(report: IngestReport, failures: list[str]) -> None:
    counts = report.counts()
    click.echo(
        "read {read}, stored {stored} (new versions {new_versions}, unchanged {unchanged}), "
        "quarantined {quarantined} / gelezen {read}, opgeslagen {stored} (nieuwe versies "
        "{new_versions}, ongewijzigd {unchanged}), in quarantaine {quarantined}".format(**counts)
    )
    errors = [p for p in report.problems if p.severity == "error"]
    warnings = [p for p in report.problems if p.severity != "error"]
    for problem in errors[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"quarantined: {problem}")
    if len(errors) > MAX_PROBLEMS_SHOWN:
        click.echo(f"… and {len(errors) - MAX_PROBLEMS_SHOWN} more (see stix_quarantine)")
    for problem in warnings[:MAX_PROBLEMS_SHOWN]:
        click.echo(f"warning: {problem}")
    for failure in failures:
        click.echo(f"error: {failure}", err=True)


commands = [ingest_cmd]
