"""The STIX store: versioned objects, markings and TLP, relationships, the observable index,
fast validation, bulk ingest and the read API used by every later package."""
