"""The explicit registry of feed source types: slug → class (STYLE.md §2).

Add a type by writing one small :class:`~nca_share.feeds.sources.base.FeedSource` subclass and
one line here. No metaclass or directory-scanning magic.
"""

from __future__ import annotations

from nca_share.errors import ValidationError
from nca_share.feeds.sources.base import FeedSource
from nca_share.feeds.sources.csaf import CsafProviderSource
from nca_share.feeds.sources.lists import CsvSource, MispFeedSource
from nca_share.feeds.sources.stix import StixFileSource, StixUrlSource
from nca_share.feeds.sources.taxii import Taxii20Source, Taxii21Source

SOURCE_TYPES: dict[str, type[FeedSource]] = {
    "taxii21": Taxii21Source,
    "taxii20": Taxii20Source,
    "stix-url": StixUrlSource,
    "stix-file": StixFileSource,
    "csaf-provider": CsafProviderSource,
    "misp-feed": MispFeedSource,
    "csv": CsvSource,
}


def source_type(slug: str) -> type[FeedSource]:
    """The class for a type slug.

    :raises ValidationError: unknown slug.
    """
    try:
        return SOURCE_TYPES[slug]
    except KeyError:
        raise ValidationError(
            f"unknown feed type {slug!r} (known: {', '.join(SOURCE_TYPES)})", location="type"
        ) from None
