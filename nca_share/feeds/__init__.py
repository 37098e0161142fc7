"""Feed collection: the feed registry, one small source class per feed type, the CSAF / MISP /
CSV → STIX 2.1 parsers, warning lists applied before anything reaches the store, the collect job
with its cursors and back-off, and feed health.

Feeds never decide who gets what (that is ``matching``/``notify``); they only bring STIX in.
"""
