"""TAXII 2.1 and 2.0 collections through taxii2-client.

The feed URL is a discovery endpoint (``…/taxii2/``: every API root it lists), an API root
(every readable collection is collected, or those named in ``config.collections``) or one
collection URL. Collection is incremental: per collection a
cursor holds ``added_after`` = the ``X-TAXII-Date-Added-Last`` of the last *stored* page. Pages
follow ``next`` (2.1) or ``Range`` (2.0). After each page is stored the cursor moves, so a run
broken off mid-pagination resumes at the first page not stored: no gaps; the boundary page may
be fetched again (resuming from one microsecond before the cursor guards against equal
timestamps) and the store's (id, version) key makes those repeats "unchanged", never
duplicates. A server that sends no ``X-TAXII-Date-Added-Last`` is re-read in full each run.

taxii2-client speaks through our own ``requests`` session: every URL (redirects included) passes
:func:`nca_share.net.check_url` first, and every request has a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urljoin

import requests

from nca_share.errors import FetchError
from nca_share.feeds.sources.base import Batch, FeedSource
from nca_share.feeds.stixgen import parse_timestamp
from nca_share.net import USER_AGENT, check_url

DEFAULT_TIMEOUT = (10.0, 60.0)
PAGE_SIZE = 1000


class GuardedSession(requests.Session):
    """A requests session that checks every URL against the SSRF guard and never waits
    forever; it remembers the headers of the last response (for the TAXII date headers)."""

    def __init__(self, settings: Any) -> None:
        super().__init__()
        self._settings = settings
        self.last_headers: dict[str, str] = {}
        self.headers["User-Agent"] = USER_AGENT

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        check_url(str(request.url), self._settings)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = DEFAULT_TIMEOUT
        response = super().send(request, **kwargs)
        self.last_headers = {k.lower(): v for k, v in response.headers.items()}
        return response


def _taxii_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Taxii21Source(FeedSource):
    """A TAXII 2.1 API root or collection."""

    slug: ClassVar[str] = "taxii21"
    title: ClassVar[str] = "TAXII 2.1 collection(s)"
    config_schema: ClassVar[dict[str, str]] = {
        "collections": "collection ids to read (default: every readable one)",
        "page_size": "objects per request (default 1000)",
        "discovery": "the URL is a discovery endpoint: read every API root it lists "
        "(implied by a URL ending in /taxii2/)",
    }
    version = "2.1"

    def _session(self) -> GuardedSession:
        session = GuardedSession(self.ctx.settings)
        basic = self.ctx.basic_auth()
        if basic:
            session.auth = basic
        session.headers.update(self.ctx.auth_headers())
        cert = self.ctx.client_cert()
        if cert:
            session.cert = cert
        ca_bundle = self.ctx.ca_bundle()
        if ca_bundle:
            session.verify = ca_bundle
        return session

    def _connection(self, session: GuardedSession) -> Any:
        from taxii2client.common import _HTTPConnection

        conn = _HTTPConnection(version=self.version)
        conn.session = session
        return conn

    def _collections(self, conn: Any) -> list[Any]:
        if self.version == "2.1":
            from taxii2client.v21 import ApiRoot, Collection
        else:
            from taxii2client.v20 import ApiRoot, Collection
        url = str(self.ctx.feed.url)
        if not url.endswith("/"):
            url += "/"
        if "/collections/" in url:
            return [Collection(url, conn=conn)]
        wanted = set(self.ctx.feed.config.get("collections") or [])
        if url.rstrip("/").endswith("/taxii2") or self.ctx.feed.config.get("discovery"):
            # Read discovery through our own connection: taxii2-client's Server would build
            # API roots with fresh sessions that bypass the SSRF guard.
            discovery = conn.get(url)
            listed = discovery.get("api_roots") if isinstance(discovery, dict) else None
            roots = [ApiRoot(urljoin(url, str(r)), conn=conn) for r in listed or []]
        else:
            roots = [ApiRoot(url, conn=conn)]
        found = [
            c
            for root in roots
            for c in root.collections
            if c.can_read and (not wanted or c.id in wanted)
        ]
        return sorted(found, key=lambda c: str(c.url))

    def collect(self) -> Iterator[Batch]:
        from taxii2client.exceptions import TAXIIServiceException

        session = self._session()
        conn = self._connection(session)
        try:
            try:
                collections = self._collections(conn)
            except (requests.RequestException, TAXIIServiceException, ValueError) as exc:
                raise FetchError(f"TAXII discovery failed at {self.ctx.feed.url}: {exc}") from None
            for collection in collections:
                yield from self._collect_one(collection, session)
        finally:
            session.close()

    def _pages(
        self, collection: Any, added_after: str | None, session: GuardedSession
    ) -> Iterator[dict[str, Any]]:
        size = int(self.ctx.feed.config.get("page_size") or PAGE_SIZE)
        kwargs: dict[str, Any] = {"added_after": added_after} if added_after else {}
        envelope = collection.get_objects(limit=size, **kwargs)
        yield envelope
        while envelope.get("more"):
            if envelope.get("next"):
                envelope = collection.get_objects(limit=size, next=envelope["next"], **kwargs)
            else:
                # "more" without "next": page on by the last page's date-added header
                last = session.last_headers.get("x-taxii-date-added-last")
                if not last or last == kwargs.get("added_after"):
                    return
                kwargs = {"added_after": last}
                envelope = collection.get_objects(limit=size, **kwargs)
            yield envelope

    def _collect_one(self, collection: Any, session: GuardedSession) -> Iterator[Batch]:
        from taxii2client.exceptions import TAXIIServiceException

        key = f"taxii:{collection.url}"
        state = self.ctx.cursor(key)
        cursor = parse_timestamp(str(state.get("added_after") or ""))
        added_after = _taxii_time(cursor - timedelta(microseconds=1)) if cursor else None
        try:
            for envelope in self._pages(collection, added_after, session):
                objects = [o for o in envelope.get("objects") or [] if isinstance(o, dict)]
                last = parse_timestamp(session.last_headers.get("x-taxii-date-added-last", ""))
                cursors: dict[str, dict[str, Any]] = {}
                if last is not None and (cursor is None or last > cursor):
                    cursor = last
                    cursors[key] = {"added_after": _taxii_time(last)}
                yield Batch(
                    objects=objects,
                    cursors=cursors,
                    newest=last,
                    spec_version="2.0" if self.version == "2.0" else None,
                )
        except (requests.RequestException, TAXIIServiceException, ValueError) as exc:
            raise FetchError(f"TAXII collection {collection.url} failed: {exc}") from None


class Taxii20Source(Taxii21Source):
    """A TAXII 2.0 API root or collection (``Range`` pagination)."""

    slug: ClassVar[str] = "taxii20"
    title: ClassVar[str] = "TAXII 2.0 collection(s)"
    version = "2.0"

    def _pages(
        self, collection: Any, added_after: str | None, session: GuardedSession
    ) -> Iterator[dict[str, Any]]:
        from taxii2client.v20 import as_pages

        size = int(self.ctx.feed.config.get("page_size") or PAGE_SIZE)
        kwargs: dict[str, Any] = {"added_after": added_after} if added_after else {}
        yield from as_pages(collection.get_objects, per_request=size, **kwargs)
