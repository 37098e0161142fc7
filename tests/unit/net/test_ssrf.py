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
