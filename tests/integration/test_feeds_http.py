"""Outbound HTTP of feeds: auth headers and conditional GET (ETag) against a loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.service import Collector, FeedInput, FeedService

BUNDLE = json.dumps(
    {
        "type": "bundle",
        "id": "bundle--6b0c8a64-0f67-4cc7-9c2e-1f5b8c1d2e3f",
        "objects": [
            {
                "type": "malware",
                "spec_version": "2.1",
                "id": "malware--6b0c8a64-0f67-4cc7-9c2e-1f5b8c1d2e31",
                "created": "2025-01-01T00:00:00Z",
                "modified": "2025-01-01T00:00:00Z",
                "name": "m",
                "is_family": True,
            }
        ],
    }
).encode()


class _Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.etag = '"v1"'


@pytest.fixture
def server() -> Iterator[tuple[str, _Recorder]]:
    """Serves one bundle with an ETag; answers 304 to a matching If-None-Match."""
    recorder = _Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            recorder.requests.append({k.lower(): v for k, v in self.headers.items()})
            if self.headers.get("If-None-Match") == recorder.etag:
                self.send_response(304)
                self.send_header("ETag", recorder.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("ETag", recorder.etag)
            self.send_header("Content-Length", str(len(BUNDLE)))
            self.end_headers()
            self.wfile.write(BUNDLE)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/bundle.json", recorder
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize(
    ("auth_type", "auth_config", "secrets", "header", "expected"),
    [
        ("bearer", {}, {"token": "tok-1"}, "authorization", "Bearer tok-1"),
        ("api-key", {"header": "X-OTX-Key"}, {"api_key": "k-2"}, "x-otx-key", "k-2"),
        ("basic", {"username": "u"}, {"password": "p"}, "authorization", "Basic dTpw"),
    ],
)
def test_auth_headers_and_etag(
    database: Database,
    settings: Settings,
    server: tuple[str, _Recorder],
    auth_type: str,
    auth_config: dict[str, str],
    secrets: dict[str, str],
    header: str,
    expected: str,
) -> None:
    """The secret reaches the server in the right header; the second run sends If-None-Match,
    gets 304 and reads nothing."""
    url, recorder = server
    with database.session() as session:
        FeedService(session, settings).add(
            FeedInput(
                name="u",
                type="stix-url",
                url=url,
                auth_type=auth_type,
                auth_config=auth_config,
                secrets=secrets,
            )
        )
    first = Collector(database, settings).run("u")
    assert (first.status, first.added) == ("ok", 1), first.error
    assert recorder.requests[0][header] == expected
    second = Collector(database, settings).run("u")
    assert (second.status, second.read) == ("ok", 0)
    assert recorder.requests[1]["if-none-match"] == '"v1"'


def test_private_address_refused_without_allow_private(
    database: Database, settings: Settings, server: tuple[str, _Recorder]
) -> None:
    """With private URLs not allowed, the SSRF guard refuses a loopback feed; nothing is sent."""
    url, recorder = server
    strict = settings.model_copy(update={"allow_private_urls": False})
    with database.session() as session:
        FeedService(session, strict).add(FeedInput(name="p", type="stix-url", url=url))
    summary = Collector(database, strict).run("p")
    assert summary.status == "error"
    assert "non-public" in (summary.error or "")
    assert recorder.requests == []
