"""CSAF 2.0 provider collection from the CISA layout served on loopback."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.models import FeedCsafDocument
from nca_share.feeds.service import Collector, FeedInput, FeedService
from nca_share.stix.models import StixObject

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CISA = SHARED / "cisa-csaf" / "csaf_files"
CASES = SHARED / "oasis-csaf" / "validator-testcases"
#: CISA advisories in the shared data that fail CSAF 2.0 mandatory tests (checked by hand):
#: 6.1.31 a version range in product_version, 6.1.27.x a remediation for a product without
#: status, 6.1.11 a CWE name that differs from the CWE catalogue.
INVALID_CISA = {
    "icsa-24-116-04.json": "6.1.31",
    "icsa-24-004-02.json": "6.1.27",
    "icsa-24-023-04.json": "6.1.11",
}

pytestmark = pytest.mark.slow


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A CSAF provider on loopback: OT advisories as a directory distribution (changes.csv),
    IT advisories as a ROLIE feed, OASIS mandatory test cases as a directory with index.txt."""
    root = tmp_path / "provider"
    shutil.copytree(CISA, root / "csaf_files")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    ot = root / "csaf_files" / "OT" / "white"
    lines = []
    for doc in sorted((ot / "2024").glob("*.json")):
        when = json.loads(doc.read_text())["document"]["tracking"]["current_release_date"]
        lines.append(f'"2024/{doc.name}","{when}"')
    (ot / "changes.csv").write_text("\n".join(lines) + "\n")
    it = root / "csaf_files" / "IT" / "white"
    entries = []
    for doc in sorted((it / "2024").glob("*.json")):
        url = f"{base}/csaf_files/IT/white/2024/{doc.name}"
        tracking = json.loads(doc.read_text())["document"]["tracking"]
        links = [{"rel": "self", "href": url}]
        if Path(f"{doc}.sha512").exists():
            links.append({"rel": "hash", "href": f"{url}.sha512"})
        entries.append(
            {
                "id": tracking["id"],
                "title": tracking["id"],
                "link": links,
                "updated": tracking["current_release_date"],
                "content": {"src": url, "type": "application/json"},
            }
        )
    (it / "feed-tlp-white.json").write_text(
        json.dumps(
            {
                "feed": {
                    "id": "it-white",
                    "title": "IT",
                    "updated": "2024-10-24T00:00:00Z",
                    "entry": entries,
                }
            }
        )
    )
    oasis = root / "oasis"
    oasis.mkdir()
    names = []
    for test in json.loads((CASES / "testcases.json").read_text())["tests"]:
        if test["group"] != "mandatory":
            continue
        for case in test.get("failures", []) + test.get("valid", []):
            shutil.copy(CASES / case["name"], oasis / Path(case["name"]).name)
            names.append(Path(case["name"]).name)
    (oasis / "index.txt").write_text("\n".join(names) + "\n")
    metadata = {
        "canonical_url": f"{base}/provider-metadata.json",
        "distributions": [
            {"directory_url": f"{base}/csaf_files/OT/white/"},
            {
                "rolie": {
                    "feeds": [
                        {
                            "tlp_label": "WHITE",
                            "url": f"{base}/csaf_files/IT/white/feed-tlp-white.json",
                        }
                    ]
                }
            },
            {"directory_url": f"{base}/oasis/"},
        ],
        "last_updated": "2024-10-24T00:00:00Z",
        "list_on_CSAF_aggregators": False,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": False,
        "publisher": {"category": "coordinator", "name": "test", "namespace": base},
        "role": "csaf_trusted_provider",
    }
    (root / "provider-metadata.json").write_text(json.dumps(metadata))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{base}/provider-metadata.json", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _docs(database: Database) -> dict[str, FeedCsafDocument]:
    with database.session() as session:
        rows = session.scalars(select(FeedCsafDocument)).all()
        return {row.url.rsplit("/", 1)[-1]: row for row in rows}


def test_provider_collected_verified_validated_and_changes_refetched(
    database: Database, settings: Settings, provider: tuple[str, Path]
) -> None:
    """Every CISA advisory is collected (the three known-invalid ones quarantined with the
    validator's messages), sha512 files are checked, OASIS must-fail cases are quarantined and
    must-pass cases accepted; a changed advisory is collected again, nothing else."""
    url, root = provider
    tampered = root / "csaf_files/OT/white/2024/icsa-24-004-01.json.sha512"
    assert tampered.exists()
    tampered.write_text("0" * 128 + "  icsa-24-004-01.json\n")
    with database.session() as session:
        FeedService(session, settings).add(FeedInput(name="cisa", type="csaf-provider", url=url))
    first = Collector(database, settings).run("cisa")
    assert first.status == "ok", first.error
    docs = _docs(database)
    cisa = {p.name for p in CISA.rglob("*.json") if "feed" not in p.name}
    assert cisa <= set(docs)
    for name in cisa:
        row = docs[name]
        if name in INVALID_CISA:
            assert not row.valid
            assert any(m.startswith(INVALID_CISA[name]) for m in row.messages), row.messages
        elif name == "icsa-24-004-01.json":
            assert not row.valid
            assert row.messages[0].startswith("sha512 mismatch")
        else:
            assert row.valid, (name, row.messages)
    index = json.loads((CASES / "testcases.json").read_text())
    for test in index["tests"]:
        if test["group"] != "mandatory":
            continue
        for case in test.get("failures", []):
            assert not docs[Path(case["name"]).name].valid, case["name"]
        for case in test.get("valid", []):
            assert docs[Path(case["name"]).name].valid, case["name"]
    with database.session() as session:
        reports = session.scalars(
            select(StixObject).where(StixObject.type == "report", StixObject.is_current)
        ).all()
        tracking = {r.raw.get("x_csaf_tracking_id") for r in reports}
    valid_cisa = [n for n in cisa if docs[n].valid]
    assert {docs[n].tracking_id for n in valid_cisa} <= tracking

    second = Collector(database, settings).run("cisa")
    assert second.status == "ok"
    assert second.added == 0
    assert second.read == 0

    changed = root / "csaf_files/OT/white/2024/icsa-24-095-01.json"
    doc = json.loads(changed.read_text())
    doc["document"]["tracking"]["current_release_date"] = "2024-12-01T00:00:00.000000Z"
    doc["document"]["tracking"]["version"] = "2"
    doc["document"]["tracking"]["revision_history"].append(
        {"date": "2024-12-01T00:00:00.000000Z", "number": "2", "summary": "update"}
    )
    doc["document"]["title"] = "Changed title"
    changed.write_bytes(json.dumps(doc).encode())
    changes = root / "csaf_files/OT/white/changes.csv"
    changes.write_text(
        "\n".join(
            f'"2024/{changed.name}","2024-12-01T00:00:00.000000Z"'
            if line.startswith(f'"2024/{changed.name}"')
            else line
            for line in changes.read_text().splitlines()
        )
        + "\n"
    )
    third = Collector(database, settings).run("cisa")
    assert third.status == "ok", third.error
    assert third.added > 0
    assert _docs(database)[changed.name].version == "2"
    with database.session() as session:
        report = session.scalars(
            select(StixObject).where(
                StixObject.type == "report",
                StixObject.is_current,
                StixObject.name == "Changed title",
            )
        ).all()
        assert len(report) == 1
    assert hashlib.sha256(changed.read_bytes()).hexdigest() == _docs(database)[changed.name].sha256
