"""``nca-share worker``, ``nca-share scheduler`` and ``nca-share jobs …``: background work."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from nca_share.cli.context import CliContext, pass_cli
from nca_share.errors import NcaShareError
from nca_share.jobs.models import Job, JobState
from nca_share.jobs.scheduler import DEFAULT_INTERVAL_S, Scheduler
from nca_share.jobs.service import JobService
from nca_share.jobs.worker import Worker, default_worker_id


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (running jobs finish) instead of killing the process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@click.command("worker")
@click.option("--threads", type=click.IntRange(min=1), help="Worker threads (default: settings).")
@click.option("--burst", is_flag=True, help="Exit as soon as no job is due.")
@pass_cli
def worker_cmd(cli: CliContext, threads: int | None, burst: bool) -> None:
    """Run due background jobs until stopped (Ctrl-C / SIGTERM lets running jobs finish)."""
    settings = cli.settings
    database = cli.database
    count = threads or settings.jobs.worker_threads
    stop = threading.Event()
    base = default_worker_id()
    ran = [0] * count

    def run(n: int) -> None:
        worker = Worker(database, settings, worker_id=f"{base}:{n + 1}")
        ran[n] = worker.run_forever(stop, burst=burst)

    workers = [
        threading.Thread(target=run, args=(n,), name=f"nca-share-worker-{n + 1}", daemon=True)
        for n in range(count)
    ]
    with _stop_on_signals(stop):
        for thread in workers:
            thread.start()
        for thread in workers:
            while thread.is_alive():
                thread.join(0.5)
    click.echo(f"worker stopped: {sum(ran)} jobs run")


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Enqueue what is due now and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=1.0),
    default=DEFAULT_INTERVAL_S,
    show_default=True,
    help="Seconds between ticks.",
)
@pass_cli
def scheduler_cmd(cli: CliContext, once: bool, interval: float) -> None:
    """Enqueue periodic and scheduled jobs (feed polls, maintenance); never runs them."""
    scheduler = Scheduler(cli.database, cli.settings)
    if once:
        ids = scheduler.tick()
        click.echo(f"enqueued {len(ids)} jobs")
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        scheduler.start(blocking=True, interval_s=interval)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        scheduler.shutdown(wait=False)
    click.echo("scheduler stopped")


@click.group("jobs")
def jobs_group() -> None:
    """Inspect and manage background jobs (operators, debugging)."""


def _row(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "attempts": job.attempts,
        "run_after": job.run_after.isoformat(),
        "unique_key": job.unique_key,
        "last_error": job.last_error,
    }


@jobs_group.command("list")
@click.option("--state", type=click.Choice([s.value for s in JobState]))
@click.option("--kind")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_cli
def list_cmd(
    cli: CliContext, state: str | None, kind: str | None, limit: int, as_json: bool
) -> None:
    """List jobs, newest first."""
    with cli.database.session() as session:
        jobs = JobService(session).list_jobs(state=state, kind=kind, limit=limit)
        rows = [_row(job) for job in jobs]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            error = f"  {row['last_error']}" if row["last_error"] else ""
            click.echo(
                f"{row['id']:>8}  {row['state']:<7} {row['kind']:<24} "
                f"attempts={row['attempts']} run_after={row['run_after']}{error}"
            )
    if not rows and not as_json:
        click.echo("no jobs")


def _manage(cli: CliContext, job_id: int, action: str) -> None:
    try:
        with cli.database.session() as session:
            service = JobService(session)
            job = service.retry(job_id) if action == "retry" else service.cancel(job_id)
            row = _row(job)
    except NcaShareError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"job {row['id']} ({row['kind']}) is now {row['state']}")


@jobs_group.command("retry")
@click.argument("job_id", type=int)
@pass_cli
def retry_cmd(cli: CliContext, job_id: int) -> None:
    """Queue a dead job again (attempts reset) or make a queued job due now."""
    _manage(cli, job_id, "retry")


@jobs_group.command("cancel")
@click.argument("job_id", type=int)
@pass_cli
def cancel_cmd(cli: CliContext, job_id: int) -> None:
    """Dead-letter a queued job so it does not run."""
    _manage(cli, job_id, "cancel")


@jobs_group.command("enqueue")
@click.argument("kind")
@click.option("--payload", default="{}", show_default=True, help="JSON object.")
@click.option("--unique-key", help="Skip when a job with this key exists.")
@pass_cli
def enqueue_cmd(cli: CliContext, kind: str, payload: str, unique_key: str | None) -> None:
    """Enqueue one job of KIND now."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from exc
    try:
        with cli.database.session() as session:
            job_id = JobService(session).enqueue(kind, data, unique_key=unique_key)
    except NcaShareError as exc:
        raise click.ClickException(str(exc)) from exc
    if job_id is None:
        click.echo(f"a job with unique key {unique_key!r} exists already; nothing enqueued")
    else:
        click.echo(f"enqueued job {job_id}")


commands = [worker_cmd, scheduler_cmd, jobs_group]
