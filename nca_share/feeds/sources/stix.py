"""STIX bundles by URL (conditional GET with ETag / Last-Modified) or as a watched file
(mtime + SHA-256): a changed document is ingested whole; the store keeps what is new."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from nca_share.feeds.parsers import RecordProblem
from nca_share.feeds.sources.base import Batch, FeedSource


class StixUrlSource(FeedSource):
    """A STIX 2.x bundle (or object list) at a URL."""

    slug: ClassVar[str] = "stix-url"
    title: ClassVar[str] = "STIX bundle by URL"

    def collect(self) -> Iterator[Batch]:
        from nca_share.stix.decode import parse_stix_bytes

        url = str(self.ctx.feed.url)
        fetched, state = self.ctx.fetch_conditional(url, f"url:{url}")
        if fetched is None:
            yield Batch(objects=[], cursors={f"url:{url}": state})
            return
        objects, spec = parse_stix_bytes(fetched.content, url)
        for index, obj in enumerate(objects):
            if not isinstance(obj, dict):
                self.ctx.problems.append(RecordProblem(f"{url} #{index}", "not a JSON object"))
        yield Batch(
            objects=[o for o in objects if isinstance(o, dict)],
            cursors={f"url:{url}": state},
            newest=fetched.last_modified,
            spec_version=spec,
        )


class StixFileSource(StixUrlSource):
    """A watched STIX file on disk (path or ``file://`` URL)."""

    slug: ClassVar[str] = "stix-file"
    title: ClassVar[str] = "Watched STIX file"
    secret_fields: ClassVar[tuple[str, ...]] = ()
