"""Ingest benchmark: a synthetic 100,000-object STIX 2.1 bundle through the CLI's code path.

Builds the bundle (see ``benchmarks.common.synthetic_objects``), writes it to a file and
ingests it into a fresh database with ``IngestService.ingest_path`` (exactly what
``nca-share ingest FILE`` calls, default batch size from the settings),
and times ``stix2.parse`` on a 10,000-object sample of the same objects in the same run (half
of it just before the ingest, half just after, so a machine whose speed drifts during the run
affects both sides alike).
As in the CLI, a large input is decoded and prepared by two processes on Linux (a forked
preparation process beside the writer); ``ours_per_s`` is wall-clock, and the "per CPU
second" line counts the CPU time of both processes. The last line printed is one JSON
object with the figures.

    python benchmarks/ingest.py                       # fresh SQLite file in a temp directory
    python benchmarks/ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import synthetic_objects  # noqa: E402
from nca_share.config import load_settings  # noqa: E402
from nca_share.db import Database, make_engine  # noqa: E402
from nca_share.stix.ingest import IngestService  # noqa: E402
from nca_share.stix.tlp import TLP  # noqa: E402


def _fresh_database(url: str | None, workdir: Path) -> tuple[Database, str | None]:
    """A migrated, empty database; on PostgreSQL a new schema (dropped afterwards)."""
    schema = None
    if url is None:
        url = f"sqlite:///{workdir / 'bench.db'}"
    elif url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}options=-csearch_path%3D{schema}"
    database = Database(load_settings(database_url=url, data_dir=workdir))
    database.upgrade()
    return database, schema


def _drop_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _sample(objects: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """An evenly spread sample (every type in its share of the bundle)."""
    step = max(1, len(objects) // size)
    return objects[::step][:size]


def _baseline(chosen: list[dict[str, Any]]) -> tuple[float, float]:
    """Seconds ``stix2.parse`` takes for ``chosen``: (wall clock, process CPU time). The
    first call imports stix2 and warms it up on a few objects, untimed."""
    import stix2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for obj in chosen[:50]:
            stix2.parse(obj, allow_custom=True)
        start = time.perf_counter()
        cpu_start = time.process_time()
        for obj in chosen:
            stix2.parse(obj, allow_custom=True)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    return elapsed, cpu


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the preparation process)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_MEMORY_PROBE = """
import resource, sys
from nca_share.cli import main
sys.argv = ["nca-share", "ingest", sys.argv[1], "--json"]
try:
    main()
except SystemExit:
    pass
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(own, child, file=sys.stderr)
"""


def _peak_memory(bundle: Path, workdir: Path) -> str:
    """Peak resident memory of ``nca-share ingest BUNDLE`` into a fresh SQLite database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NCA_SHARE_")}
    env.update(
        NCA_SHARE_DATABASE_URL=f"sqlite:///{workdir / 'memory.db'}",
        NCA_SHARE_DATA_DIR=str(workdir),
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    result = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", _MEMORY_PROBE, str(bundle)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    own, child = (int(n) / 1024 for n in result.stderr.split()[-2:])  # KiB on Linux
    return (
        f"peak memory of `nca-share ingest` ({bundle.stat().st_size / 1e6:.1f} MB): writer "
        f"{own:,.0f} MB, preparation process {child:,.0f} MB"
    )


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=10_000, help="stix2.parse sample size")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--profile", default=None, help="write a cProfile dump of the ingest")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also run `nca-share ingest` on the bundle in a fresh process (SQLite) and print "
        "the peak memory of the writer and of its preparation process",
    )
    args = parser.parse_args(argv)

    objects = synthetic_objects(args.objects)
    data = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    total = len(objects)
    print(f"bundle: {total} objects, {len(data) / 1e6:.1f} MB")
    # Keep only the stix2.parse sample: the CLI process does not carry the generator's
    # 100,000 dicts around (they would be copied page by page after the ingest's fork).
    chosen = _sample(objects, args.sample)
    del objects
    gc.collect()
    # stix2.parse is timed on half the sample before our ingest and half after, so a
    # machine that speeds up or slows down during the run affects both sides alike
    before = _baseline(chosen[0::2])

    with tempfile.TemporaryDirectory(prefix="nca-bench-") as tmp:
        bundle = Path(tmp) / "bundle.json"
        bundle.write_bytes(data)
        del data
        if args.memory:
            print(_peak_memory(bundle, Path(tmp)))
        database, schema = _fresh_database(args.database_url, Path(tmp))
        backend = database.engine.dialect.name
        try:
            service = IngestService(database, batch_size=args.batch_size)
            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            start = time.perf_counter()
            cpu_start = _cpu_seconds()
            report = service.ingest_path(bundle, source="benchmark", default_tlp=TLP.AMBER)
            elapsed = time.perf_counter() - start
            cpu = _cpu_seconds() - cpu_start
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
            again_start = time.perf_counter()
            again = service.ingest_path(bundle, source="benchmark")
            again_elapsed = time.perf_counter() - again_start
        finally:
            database.dispose()
            if schema and args.database_url:
                _drop_schema(args.database_url, schema)

    ours = report.read / elapsed
    print(f"backend: {backend}")
    print(f"ingest: {report.counts()} in {elapsed:.2f} s = {ours:,.0f} objects/s")
    print(
        f"ingest CPU time (this process and its preparation process): {cpu:.2f} s "
        f"(load average {_load()}, {os.cpu_count()} CPUs)"
    )
    print(
        f"re-ingest (no-op): new_versions={again.new_versions} in {again_elapsed:.2f} s "
        f"= {again.read / again_elapsed:,.0f} objects/s"
    )
    if report.quarantined or report.new_versions != total or again.new_versions:
        print("ERROR: unexpected counts", file=sys.stderr)
        return 1
    after = _baseline(chosen[1::2])
    baseline = len(chosen) / (before[0] + after[0])
    baseline_cpu = len(chosen) / (before[1] + after[1])
    print(
        f"stix2.parse: {baseline:,.0f} objects/s on a {len(chosen)}-object sample "
        f"(half before our ingest: {len(chosen[0::2]) / before[0]:,.0f}/s, "
        f"half after: {len(chosen[1::2]) / after[0]:,.0f}/s)"
    )
    ours_cpu = report.read / cpu
    print(
        f"per CPU second (less sensitive to a busy machine): ours {ours_cpu:,.0f}/s, "
        f"stix2.parse {baseline_cpu:,.0f}/s, ratio {ours_cpu / baseline_cpu:.1f}"
    )
    details = {
        "backend": backend,
        "ours_cpu_per_s": round(ours_cpu),
        "baseline_cpu_per_s": round(baseline_cpu),
        "ratio_cpu": round(ours_cpu / baseline_cpu, 1),
        "load_average": _load(),
    }
    print(f"details: {json.dumps(details)}")
    # the last line: exactly the keys issue 2 specifies
    result = {
        "benchmark": "ingest",
        "objects": total,
        "ours_per_s": round(ours),
        "baseline": "stix2.parse",
        "baseline_per_s": round(baseline),
        "ratio": round(ours / baseline, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
