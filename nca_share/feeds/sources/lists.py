"""CSV indicator lists and MISP feeds (``manifest.json`` + one ``<uuid>.json`` per event)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import orjson

from nca_share.errors import ValidationError
from nca_share.feeds.parsers import RecordProblem
from nca_share.feeds.parsers.csv_list import CsvMapping, parse_csv_list
from nca_share.feeds.parsers.misp import map_misp_document
from nca_share.feeds.sources.base import Batch, FeedSource, join_url
from nca_share.feeds.stixgen import parse_timestamp


class CsvSource(FeedSource):
    """A CSV list: ``config.csv`` is the column mapping (see :class:`CsvMapping`)."""

    slug: ClassVar[str] = "csv"
    title: ClassVar[str] = "CSV indicator list"
    config_schema: ClassVar[dict[str, str]] = {
        "csv": "column mapping: value, type, fixed_type, first_seen, comment, port, delimiter, "
        "header, multi_value_separator, labels",
    }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        super().validate_config(config)
        try:
            CsvMapping.from_config(dict(config.get("csv") or {}))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"bad CSV mapping: {exc}", location="config.csv") from None

    def collect(self) -> Iterator[Batch]:
        feed = self.ctx.feed
        url = str(feed.url)
        mapping = CsvMapping.from_config(dict(feed.config.get("csv") or {}))
        fetched, state = self.ctx.fetch_conditional(url, f"url:{url}")
        if fetched is None:
            yield Batch(objects=[], cursors={f"url:{url}": state})
            return
        when = fetched.last_modified or self.ctx.clock.now()
        result = parse_csv_list(
            fetched.content, mapping, feed_key=feed.name, default_time=when, source_name=feed.name
        )
        self.ctx.problems.extend(
            RecordProblem(f"{url} {p.location}", p.message, p.raw) for p in result.problems
        )
        yield Batch(objects=result.objects, cursors={f"url:{url}": state}, newest=when)


class MispFeedSource(FeedSource):
    """A MISP feed directory: only events whose manifest timestamp changed are fetched."""

    slug: ClassVar[str] = "misp-feed"
    title: ClassVar[str] = "MISP feed"

    def collect(self) -> Iterator[Batch]:
        base = str(self.ctx.feed.url)
        if not base.endswith("/"):
            base += "/"
        manifest_url = join_url(base, "manifest.json")
        try:
            manifest = orjson.loads(self.ctx.fetch(manifest_url).content)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(
                f"manifest.json is not JSON: {exc}", location=manifest_url
            ) from None
        if not isinstance(manifest, dict):
            raise ValidationError("manifest.json must be an object", location=manifest_url)
        for event_uuid, meta in sorted(manifest.items()):
            meta = meta if isinstance(meta, dict) else {}
            stamp = str(meta.get("timestamp") or "")
            key = f"misp-event:{event_uuid}"
            if stamp and self.ctx.cursor(key).get("timestamp") == stamp:
                continue
            url = join_url(base, f"{event_uuid}.json")
            fetched = self.ctx.fetch(url, allow_missing=True)
            if fetched.status == 404:
                self.ctx.problems.append(RecordProblem(url, "event listed in manifest is missing"))
                continue
            try:
                document = orjson.loads(fetched.content)
            except orjson.JSONDecodeError as exc:
                self.ctx.problems.append(RecordProblem(url, f"not JSON: {exc}"))
                continue
            result = map_misp_document(document, location=url)
            self.ctx.problems.extend(result.problems)
            newest = parse_timestamp(stamp) if stamp else None
            yield Batch(
                objects=result.objects,
                cursors={key: {"timestamp": stamp or self.ctx.clock.now().isoformat()}},
                newest=newest,
            )
