"""The SSRF guard refuses non-public targets unless explicitly allowed."""

from __future__ import annotations

import pytest

from nca_share.config import Settings
from nca_share.errors import UnsafeURL
from nca_share.net import check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://example.org/",
        "file:///etc/passwd",
        "http:///nohost",
    ],
)
def test_refuses_private_and_odd_urls(plain_settings: Settings, url: str) -> None:
    """Loopback, private, link-local, mapped and non-http URLs are refused."""
    with pytest.raises(UnsafeURL):
        check_url(url, plain_settings)


def test_allow_private_opens_loopback(plain_settings: Settings) -> None:
    """With allow_private_urls (tests, demo) loopback is permitted, other schemes still not."""
    settings = plain_settings.model_copy(update={"allow_private_urls": True})
    assert check_url("http://127.0.0.1:8000/x", settings) == "http://127.0.0.1:8000/x"
    with pytest.raises(UnsafeURL):
        check_url("file:///etc/passwd", settings)


def test_connects_to_the_checked_address_not_a_second_lookup(
    plain_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard pins the connection to the address it checked (DNS-rebinding defence): a
    name only the guard's lookup knows still reaches the server, with its Host header."""
    import http.server
    import socket
    import threading
    from typing import Any

    from nca_share import net

    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Host", ""))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The outside world faked: the DNS answer for a name the system resolver cannot resolve,
    # and loopback standing in for a public address.
    # A rebinding resolver answers the first lookup of the name and fails every later one,
    # so the request only arrives if the connection uses the address the guard checked.
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_dns(host: str, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.invalid":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        if len(lookups) > 1:
            raise socket.gaierror(socket.EAI_NONAME, "rebound")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    monkeypatch.setattr(net, "_is_public", lambda address: True)
    try:
        with net.http_client(plain_settings, timeout=5) as client:
            response = client.get(f"http://rebind.invalid:{port}/x")
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 204
    assert seen == [f"rebind.invalid:{port}"]
    assert lookups == ["rebind.invalid"]
