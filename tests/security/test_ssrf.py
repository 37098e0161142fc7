"""SSRF guard: with ``allow_private_urls`` off (production), feeds of every source type that
point at loopback, private or link-local addresses, or at local files outside the data
directory, are refused before any request leaves, and the refusal is recorded on the feed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nca_share.config import Settings, load_settings
from nca_share.db import Database
from nca_share.errors import UnsafeURL
from nca_share.feeds.models import Feed
from nca_share.feeds.service import Collector, FeedInput, FeedService
from nca_share.feeds.sources import SOURCE_TYPES
from nca_share.net import check_url


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        body = b'{"type": "bundle", "id": "bundle--1", "objects": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


@pytest.fixture
def loopback_server() -> Iterator[str]:
    """A loopback HTTP server recording every request it gets."""
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def production_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test database with production's URL policy (private addresses refused)."""
    return load_settings(
        data_dir=tmp_path / "prod",
        database_url=settings.database_url,
        secret_key="test-secret-key-not-for-production",
        allow_private_urls=False,
    )


PRIVATE_URLS = [
    "http://127.0.0.1/",
    "http://localhost:8080/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://127.1/",
    "https://user:pw@127.0.0.1:443/x",
    "file:///etc/passwd",
    "gopher://127.0.0.1/",
    "ftp://10.0.0.1/",
    "http:///nohost",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_check_url_refuses_non_public_targets(tmp_path: Path, url: str) -> None:
    """Loopback, RFC 1918, link-local (cloud metadata), CGNAT, unspecified, IPv6 local and
    IPv4-mapped addresses, odd IPv4 spellings and non-http schemes are all refused."""
    settings = load_settings(data_dir=tmp_path, allow_private_urls=False)
    with pytest.raises(UnsafeURL):
        check_url(url, settings)


@pytest.mark.parametrize("kind", sorted(SOURCE_TYPES))
def test_feeds_of_every_type_never_reach_loopback(
    database: Database, production_settings: Settings, loopback_server: str, kind: str
) -> None:
    """A feed of each source type pointed at a loopback server records an "unsafe URL"
    error and the server receives no request at all."""
    url = f"{loopback_server}/feed.json" if kind != "stix-file" else "/etc/hostname"
    with database.session() as session:
        FeedService(session, production_settings).add(
            FeedInput(name=f"ssrf-{kind}", type=kind, url=url)
        )
    summary = Collector(database, production_settings).run(f"ssrf-{kind}")
    assert summary.status == "error", summary.as_dict()
    assert _Recorder.hits == []
    with database.session() as session:
        feed = session.query(Feed).filter_by(name=f"ssrf-{kind}").one()
        error = (feed.last_error or "").lower()
        assert "non-public" in error or "data directory" in error or "unsafe" in error, error
