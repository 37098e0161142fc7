"""Outbound HTTP with an SSRF guard: the one place that decides which URLs may be fetched.

Feeds, URL ingest and (later) webhooks go through ``check_url`` / ``http_client``. Loopback,
private, link-local and other non-public addresses are refused unless
``settings.allow_private_urls`` is set (tests and the embedded demo only).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx

from nca_share.config import Settings
from nca_share.errors import UnsafeURL

USER_AGENT = "nca_share/0.1 (+https://github.com/nca-share)"
ALLOWED_SCHEMES = frozenset({"http", "https"})


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _checked_addresses(url: str, settings: Settings) -> tuple[str, list[str]]:
    """The URL's host and, unless private URLs are allowed, its checked public addresses."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURL(f"only http and https URLs may be fetched, not {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise UnsafeURL(f"URL has no host: {url!r}")
    if settings.allow_private_urls:
        return host, []
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UnsafeURL(f"cannot resolve host {host!r}: {exc}") from exc
    addresses: list[str] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not _is_public(address):
            raise UnsafeURL(f"host {host!r} resolves to non-public address {address}")
        addresses.append(str(address))
    return host, addresses


def check_url(url: str, settings: Settings) -> str:
    """Return ``url`` if it may be fetched, else raise ``UnsafeURL`` saying why.

    :param url: an absolute http(s) URL.
    :raises UnsafeURL: wrong scheme, no host, or a host resolving to a non-public address.
    """
    _checked_addresses(url, settings)
    return url


class _GuardTransport(httpx.HTTPTransport):
    """Checks every request, redirects included, before it leaves the process, and connects
    to the very address that was checked (no second DNS lookup a rebinding attacker could
    answer differently); TLS still verifies the certificate against the host name (SNI)."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._settings = settings

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host, addresses = _checked_addresses(str(request.url), self._settings)
        if addresses and addresses[0] != host:
            request.extensions = {**request.extensions, "sni_hostname": host}
            request.url = request.url.copy_with(host=addresses[0])
        return super().handle_request(request)


def http_client(settings: Settings, *, timeout: float = 30.0, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` whose every request (and redirect) passes ``check_url``.

    :param kwargs: passed to ``httpx.Client`` (auth, headers, cert, …).
    """
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    transport_kwargs: dict[str, Any] = {}
    if "verify" in kwargs:
        transport_kwargs["verify"] = kwargs.pop("verify")
    if "cert" in kwargs:
        transport_kwargs["cert"] = kwargs.pop("cert")
    return httpx.Client(
        transport=_GuardTransport(settings, retries=1, **transport_kwargs),
        timeout=timeout,
        follow_redirects=True,
        headers=headers,
        **kwargs,
    )
