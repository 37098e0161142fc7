"""CSAF 2.0 providers: ``provider-metadata.json`` → distributions → advisories.

Distributions: a directory (``changes.csv`` with path and time per document, else ``index.txt``)
or ROLIE feeds (entries with their ``updated`` time and hash links). A document is fetched only
when its listed time differs from the cursor, and ingested only when its SHA-256 changed. Its
``.sha256`` / ``.sha512`` file is checked where present (a ROLIE hash link, else the
conventional file next to it); a mismatch or a failed validation (``csaf`` package: schema +
mandatory tests) quarantines the document with the messages — it is kept raw in
``feed_csaf_documents`` with ``valid = false`` and nothing of it reaches the STIX store.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any, ClassVar

import orjson

from nca_share.errors import FetchError, ValidationError
from nca_share.feeds.parsers import RecordProblem, as_dict
from nca_share.feeds.parsers.csaf import map_csaf_document, validate_csaf
from nca_share.feeds.sources.base import Batch, CsafRecord, FeedSource, join_url
from nca_share.feeds.stixgen import parse_timestamp


class CsafProviderSource(FeedSource):
    """A CSAF 2.0 provider (URL of its ``provider-metadata.json``)."""

    slug: ClassVar[str] = "csaf-provider"
    title: ClassVar[str] = "CSAF 2.0 provider"
    config_schema: ClassVar[dict[str, str]] = {
        "tlp_labels": "only ROLIE feeds with these TLP labels (default: all)",
    }

    def _json(self, url: str) -> Any:
        fetched = self.ctx.fetch(url)
        try:
            return orjson.loads(fetched.content)
        except orjson.JSONDecodeError as exc:
            raise ValidationError(f"not JSON: {exc}", location=url) from None

    def _documents(self, metadata_url: str) -> dict[str, tuple[str, str | None]]:
        """document URL → (listed time, hash URL or None), over every distribution."""
        metadata = as_dict(self._json(metadata_url))
        wanted = {str(t).upper() for t in self.ctx.feed.config.get("tlp_labels") or []}
        found: dict[str, tuple[str, str | None]] = {}
        distributions = metadata.get("distributions") or []
        if not distributions:
            raise ValidationError("provider metadata lists no distributions", location=metadata_url)
        for distribution in distributions:
            distribution = as_dict(distribution)
            directory = distribution.get("directory_url")
            if directory:
                found.update(self._directory(join_url(metadata_url, str(directory))))
            for feed in as_dict(distribution.get("rolie")).get("feeds") or []:
                feed = as_dict(feed)
                if wanted and str(feed.get("tlp_label", "")).upper() not in wanted:
                    continue
                if feed.get("url"):
                    for url, value in self._rolie(join_url(metadata_url, str(feed["url"]))).items():
                        found.setdefault(url, value)
        return found

    def _directory(self, directory: str) -> dict[str, tuple[str, str | None]]:
        if not directory.endswith("/"):
            directory += "/"
        found: dict[str, tuple[str, str | None]] = {}
        changes = self.ctx.fetch(join_url(directory, "changes.csv"), allow_missing=True)
        if changes.status != 404:
            text = changes.content.decode("utf-8-sig", errors="replace")
            for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
                if len(row) < 2 or not row[0].strip():
                    if row:
                        self.ctx.problems.append(
                            RecordProblem(
                                f"{directory}changes.csv line {line_no}", "expected path,time"
                            )
                        )
                    continue
                found[join_url(directory, row[0].strip())] = (row[1].strip(), None)
            return found
        index = self.ctx.fetch(join_url(directory, "index.txt"), allow_missing=True)
        if index.status == 404:
            self.ctx.problems.append(RecordProblem(directory, "neither changes.csv nor index.txt"))
            return found
        for line in index.content.decode("utf-8", errors="replace").splitlines():
            if line.strip():
                found[join_url(directory, line.strip())] = ("", None)
        return found

    def _rolie(self, feed_url: str) -> dict[str, tuple[str, str | None]]:
        feed = as_dict(as_dict(self._json(feed_url)).get("feed"))
        found: dict[str, tuple[str, str | None]] = {}
        for entry in feed.get("entry") or []:
            entry = as_dict(entry)
            links = [as_dict(link) for link in entry.get("link") or []]
            url = as_dict(entry.get("content")).get("src") or next(
                (link.get("href") for link in links if link.get("rel") == "self"), None
            )
            if not url:
                continue
            hashes = [
                str(link["href"])
                for link in links
                if link.get("rel") == "hash" and link.get("href")
            ]
            found[join_url(feed_url, str(url))] = (
                str(entry.get("updated") or ""),
                hashes[0] if hashes else None,
            )
        return found

    def _verify_hash(self, url: str, content: bytes, hash_url: str | None) -> str | None:
        """A problem message, or ``None`` when the hashes found match (or none exist)."""
        candidates = [hash_url] if hash_url else [f"{url}.sha256", f"{url}.sha512"]
        for candidate in candidates:
            fetched = self.ctx.fetch(candidate, allow_missing=True)
            if fetched.status == 404:
                continue
            algorithm = "sha512" if candidate.endswith(".sha512") else "sha256"
            expected = fetched.content.decode("ascii", errors="replace").split()
            actual = hashlib.new(algorithm, content).hexdigest()
            if not expected or expected[0].lower() != actual:
                said = expected[0] if expected else "(empty)"
                return f"{algorithm} mismatch: {candidate} says {said}, document is {actual}"
            return None
        return None

    def collect(self) -> Iterator[Batch]:
        metadata_url = str(self.ctx.feed.url)
        documents = self._documents(metadata_url)
        for url, (listed, hash_url) in sorted(documents.items()):
            key = f"csaf:{url}"
            state = self.ctx.cursor(key)
            if listed and state.get("listed") == listed:
                continue
            try:
                fetched = self.ctx.fetch(url)
            except FetchError as exc:
                self.ctx.problems.append(RecordProblem(url, str(exc)))
                continue
            digest = hashlib.sha256(fetched.content).hexdigest()
            new_state = {"listed": listed, "sha256": digest}
            if state.get("sha256") == digest:
                yield Batch(objects=[], cursors={key: new_state})
                continue
            messages: list[str] = []
            problem = self._verify_hash(url, fetched.content, hash_url)
            if problem:
                messages.append(problem)
            try:
                document = orjson.loads(fetched.content)
            except orjson.JSONDecodeError as exc:
                document = None
                messages.append(f"not JSON: {exc}")
            if document is not None:
                messages.extend(validate_csaf(document))
            raw = as_dict(document)
            tracking = as_dict(as_dict(raw.get("document")).get("tracking"))
            record = CsafRecord(
                url=url,
                tracking_id=str(tracking["id"])[:300] if tracking.get("id") else None,
                version=str(tracking["version"])[:50] if tracking.get("version") else None,
                sha256=digest,
                valid=not messages,
                messages=messages,
                raw=raw,
            )
            if messages:
                self.ctx.problems.append(
                    RecordProblem(url, "quarantined: " + "; ".join(messages[:3]))
                )
                yield Batch(objects=[], cursors={key: new_state}, csaf=[record], refused=1)
                continue
            result = map_csaf_document(raw, source_url=url)
            self.ctx.problems.extend(result.problems)
            newest = parse_timestamp(str(tracking.get("current_release_date") or ""))
            yield Batch(
                objects=result.objects, cursors={key: new_state}, csaf=[record], newest=newest
            )
