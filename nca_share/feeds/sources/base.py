"""What every source class gets and gives: the collect context, batches, fetching.

A source yields :class:`Batch` es (STIX objects plus the cursor updates that become true once
those objects are stored); the collector ingests each batch, then persists its cursors, so an
interrupted run resumes after the last stored batch with no gap. Fetching goes through the
SSRF-guarded client (:func:`nca_share.net.http_client`); ``file://`` URLs and plain paths are
read from disk only inside the data directory or when private URLs are allowed (tests, demo).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from nca_share.clock import Clock
from nca_share.config import Settings
from nca_share.errors import FetchError, UnsafeURL, ValidationError
from nca_share.feeds.parsers import RecordProblem
from nca_share.net import http_client

#: the largest document a feed may deliver in one response
MAX_FETCH_BYTES = 512 * 2**20
AUTH_TYPES = ("none", "basic", "bearer", "api-key", "client-cert")
#: secret field names per auth type
AUTH_SECRETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "basic": ("password",),
    "bearer": ("token",),
    "api-key": ("api_key",),
    "client-cert": ("client_cert", "client_key"),
}


@dataclass(frozen=True)
class FeedSpec:
    """A detached snapshot of a feed row with its secrets decrypted (only inside a run)."""

    id: int
    name: str
    type: str
    url: str | None
    config: dict[str, Any]
    auth_type: str
    auth_config: dict[str, Any]
    secrets: dict[str, str] = field(repr=False)
    default_tlp: str
    lifetime_days: int | None
    confidence: int | None = None


@dataclass
class CsafRecord:
    """A fetched CSAF document to keep (raw) with its validation outcome."""

    url: str
    tracking_id: str | None
    version: str | None
    sha256: str
    valid: bool
    messages: list[str]
    raw: dict[str, Any]


@dataclass
class Batch:
    """Objects to ingest, then cursors to persist once they are stored."""

    objects: list[dict[str, Any]]
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)
    csaf: list[CsafRecord] = field(default_factory=list)
    #: the newest item time of this batch (for the lag figure)
    newest: datetime | None = None
    #: documents refused before mapping (e.g. invalid CSAF); counted as quarantined
    refused: int = 0
    #: the enclosing bundle's spec_version ("2.0" marks objects without one as STIX 2.0)
    spec_version: str | None = None


@dataclass
class Fetched:
    """A fetched resource."""

    status: int
    content: bytes
    headers: dict[str, str]
    url: str

    @property
    def last_modified(self) -> datetime | None:
        value = self.headers.get("last-modified")
        if not value:
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class CollectContext:
    """Everything a source may use during one run."""

    def __init__(
        self,
        feed: FeedSpec,
        settings: Settings,
        clock: Clock,
        cursor_loader: Callable[[str], dict[str, Any]],
    ) -> None:
        self.feed = feed
        self.settings = settings
        self.clock = clock
        self._cursor_loader = cursor_loader
        self._pending: dict[str, dict[str, Any]] = {}
        self.problems: list[RecordProblem] = []
        self._stack = ExitStack()
        self._client: httpx.Client | None = None

    def cursor(self, key: str) -> dict[str, Any]:
        """The stored state for ``key`` (or state set earlier in this run), ``{}`` if none."""
        if key in self._pending:
            return self._pending[key]
        return self._cursor_loader(key)

    def remember(self, cursors: dict[str, dict[str, Any]]) -> None:
        """Called by the collector after a batch is stored."""
        self._pending.update(cursors)

    # ------------------------------------------------------------------ auth

    def _cert_files(self) -> tuple[str, str] | None:
        secrets = self.feed.secrets
        if self.feed.auth_type != "client-cert" or not secrets.get("client_cert"):
            return None
        directory = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="nca-feed-"))
        cert = Path(directory) / "cert.pem"
        key = Path(directory) / "key.pem"
        cert.write_text(secrets["client_cert"])
        key.write_text(secrets.get("client_key", ""))
        os.chmod(key, 0o600)
        return str(cert), str(key)

    def auth_headers(self) -> dict[str, str]:
        """Headers carrying bearer tokens or API keys."""
        auth, secrets = self.feed.auth_type, self.feed.secrets
        if auth == "bearer" and secrets.get("token"):
            return {"Authorization": f"Bearer {secrets['token']}"}
        if auth == "api-key" and secrets.get("api_key"):
            header = str(self.feed.auth_config.get("header") or "X-API-Key")
            return {header: secrets["api_key"]}
        return {}

    def basic_auth(self) -> tuple[str, str] | None:
        if self.feed.auth_type == "basic":
            return (
                str(self.feed.auth_config.get("username", "")),
                self.feed.secrets.get("password", ""),
            )
        return None

    def client_cert(self) -> tuple[str, str] | None:
        return self._cert_files()

    def ca_bundle(self) -> str | None:
        """A CA bundle file to verify the server with (``auth_config.ca_bundle``), for feeds
        served under a private CA."""
        value = self.feed.auth_config.get("ca_bundle")
        return str(value) if value else None

    # ------------------------------------------------------------------ fetching

    def http(self) -> httpx.Client:
        """The run's guarded HTTP client (auth applied)."""
        if self._client is None:
            kwargs: dict[str, Any] = {"headers": self.auth_headers()}
            basic = self.basic_auth()
            if basic:
                kwargs["auth"] = basic
            cert = self.client_cert()
            if cert or self.ca_bundle():
                # one SSL context carries the private CA and the client certificate
                context = ssl.create_default_context(cafile=self.ca_bundle())
                if cert:
                    context.load_cert_chain(cert[0], cert[1])
                kwargs["verify"] = context
            self._client = self._stack.enter_context(http_client(self.settings, **kwargs))
        return self._client

    def local_path(self, url: str) -> Path | None:
        """The file a ``file://`` URL or plain path names (checked), else ``None``.

        :raises UnsafeURL: a local path outside the data directory while private URLs are off.
        """
        parts = urlsplit(url)
        if parts.scheme in ("http", "https"):
            return None
        if parts.scheme not in ("", "file"):
            raise UnsafeURL(f"unsupported URL scheme {parts.scheme!r} in {url!r}")
        path = Path(unquote(parts.path) if parts.scheme == "file" else url).resolve()
        if not self.settings.allow_private_urls:
            root = Path(self.settings.data_dir).resolve()
            if not path.is_relative_to(root):
                raise UnsafeURL(f"local feed files must be inside the data directory: {path}")
        return path

    def fetch(
        self, url: str, *, headers: dict[str, str] | None = None, allow_missing: bool = False
    ) -> Fetched:
        """GET ``url`` (http(s) or a local file).

        :raises FetchError: network failure or an HTTP error status (404 with
            ``allow_missing`` gives status 404 instead).
        """
        path = self.local_path(url)
        if path is not None:
            try:
                data = path.read_bytes()
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                if allow_missing:
                    return Fetched(404, b"", {}, url)
                raise FetchError(f"file not found: {path}") from None
            except OSError as exc:
                raise FetchError(f"cannot read {path}: {exc.strerror}") from None
            stamp = datetime.fromtimestamp(mtime, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
            return Fetched(200, data, {"last-modified": stamp}, path.as_uri())
        try:
            with self.http().stream("GET", url, headers=headers or {}) as response:
                if response.status_code == 404 and allow_missing:
                    return Fetched(404, b"", {}, url)
                if response.status_code >= 400:
                    raise FetchError(f"cannot fetch {url}: HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_FETCH_BYTES:
                        raise FetchError(
                            f"{url} is larger than {MAX_FETCH_BYTES // 2**20} MiB; refused"
                        )
                    chunks.append(chunk)
                return Fetched(
                    response.status_code,
                    b"".join(chunks),
                    {k.lower(): v for k, v in response.headers.items()},
                    str(response.url),
                )
        except httpx.HTTPError as exc:
            raise FetchError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None

    def fetch_conditional(self, url: str, key: str) -> tuple[Fetched | None, dict[str, Any]]:
        """Fetch unless unchanged since the stored cursor (ETag/Last-Modified over HTTP, mtime +
        SHA-256 for files). Returns (``None`` when unchanged, the new cursor state)."""
        state = self.cursor(key)
        path = self.local_path(url)
        if path is not None:
            try:
                mtime = path.stat().st_mtime
            except OSError as exc:
                raise FetchError(f"cannot read {path}: {exc.strerror}") from None
            if state.get("mtime") == mtime:
                return None, state
            fetched = self.fetch(url)
            digest = hashlib.sha256(fetched.content).hexdigest()
            new_state = {"mtime": mtime, "sha256": digest}
            if state.get("sha256") == digest:
                return None, new_state
            return fetched, new_state
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("last_modified"):
            headers["If-Modified-Since"] = str(state["last_modified"])
        fetched = self.fetch(url, headers=headers)
        if fetched.status == 304:
            return None, state
        digest = hashlib.sha256(fetched.content).hexdigest()
        new_state = {
            "etag": fetched.headers.get("etag"),
            "last_modified": fetched.headers.get("last-modified"),
            "sha256": digest,
        }
        if state.get("sha256") == digest:
            return None, new_state
        return fetched, new_state

    def close(self) -> None:
        self._stack.close()


def join_url(base: str, relative: str) -> str:
    """Resolve ``relative`` against ``base`` (a URL or a local path)."""
    if urlsplit(relative).scheme in ("http", "https", "file"):
        return relative
    if urlsplit(base).scheme in ("http", "https", "file"):
        return urljoin(base, relative)
    directory = Path(base) if base.endswith(("/", os.sep)) else Path(base).parent
    return str(directory / relative)


class FeedSource:
    """One feed type. Subclasses set the class attributes and implement :meth:`collect`."""

    #: the type slug stored in ``feeds.type``
    slug: ClassVar[str]
    #: human description (English; the UI translates the slug)
    title: ClassVar[str]
    #: allowed ``config`` keys → short description
    config_schema: ClassVar[dict[str, str]] = {}
    #: whether the feed needs a URL (or path)
    needs_url: ClassVar[bool] = True
    #: secret fields this type may hold (sealed at rest, never shown back); which of them a
    #: feed uses depends on its auth type (``AUTH_SECRETS``)
    secret_fields: ClassVar[tuple[str, ...]] = (
        "password",
        "token",
        "api_key",
        "client_cert",
        "client_key",
    )

    def __init__(self, ctx: CollectContext) -> None:
        self.ctx = ctx

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Refuse unknown config keys.

        :raises ValidationError: a key this type does not know.
        """
        unknown = set(config) - set(cls.config_schema)
        if unknown:
            raise ValidationError(
                f"unknown settings for a {cls.slug} feed: {', '.join(sorted(unknown))}",
                location="config",
            )

    def collect(self) -> Iterator[Batch]:
        raise NotImplementedError
