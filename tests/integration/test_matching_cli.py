"""``nca-share matching``: load NVD knowledge (and re-match), run, preview, stats; ``nca-share
ingest`` enqueues a matching job for what it stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from nca_share.cli import main
from nca_share.config import Settings
from nca_share.constituency.assets import AssetService
from nca_share.constituency.models import Organisation
from nca_share.db import Database
from nca_share.jobs.models import Job

NVD = Path("/work/shared/data/nvd-api-2.0/CVE-2017-7542.json")


def _invoke(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str]:
    monkeypatch.setenv("NCA_SHARE_DATABASE_URL", database_url)
    monkeypatch.setenv("NCA_SHARE_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.skipif(not NVD.is_file(), reason="shared data not present")
def test_cli_load_ingest_run_preview(
    database: Database, database_url: str, settings: Settings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Knowledge loads idempotently, ingest queues matching, run stores the product match,
    preview and stats answer in JSON, bad input is one error line."""
    with database.session() as session:
        org = Organisation(kvk="11112222", name="Linux BV")
        session.add(org)
        session.flush()
        service = AssetService(session, settings)
        asset = service.claim(
            org.id, "product", cpe="cpe:2.3:o:linux:linux_kernel:4.4:*:*:*:*:*:*:*"
        )
        service.approve(asset.id, by="test")
    code, out = _invoke(database_url, tmp_path, monkeypatch, "matching", "load-nvd", str(NVD))
    assert code == 0
    assert out.startswith("1 product rows for 1 CVEs")
    bundle = tmp_path / "vuln.json"
    vuln_id = "vulnerability--7d0c8f0e-1111-4c2b-9d3e-000000000001"
    vuln = {
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": vuln_id,
        "created": "2017-08-01T00:00:00.000Z",
        "modified": "2017-08-01T00:00:00.000Z",
        "name": "CVE-2017-7542",
    }
    bundle.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{vuln_id[15:]}", "objects": [vuln]})
    )
    code, _ = _invoke(database_url, tmp_path, monkeypatch, "ingest", str(bundle))
    assert code == 0
    with database.session() as session:
        job = session.scalar(select(Job).where(Job.kind == "match_objects"))
        assert job is not None
        assert job.payload["stix_ids"] == [vuln_id]
    code, out = _invoke(database_url, tmp_path, monkeypatch, "matching", "run", vuln_id)
    assert code == 0
    assert json.loads(out)["per_dimension"] == {"product": 1}
    code, out = _invoke(database_url, tmp_path, monkeypatch, "matching", "preview", vuln_id)
    assert json.loads(out)["recipients"][0]["name"] == "Linux BV"
    code, out = _invoke(database_url, tmp_path, monkeypatch, "matching", "stats")
    assert json.loads(out)["assets"] == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, out = _invoke(database_url, tmp_path, monkeypatch, "matching", "load-kev", str(broken))
    assert code == 1
