"""STIX store: versions, markings, relationships, observable index, TLP resolution, fast
validation, bulk upsert, STIX 2.0→2.1 upgrade.

Pure helpers live in :mod:`~nca_share.stix.tlp` (TLP and marking definitions),
:mod:`~nca_share.stix.observables` (observable normalisation and extraction),
:mod:`~nca_share.stix.patterns` (observables from STIX patterns) and
:mod:`~nca_share.stix.upgrade` (STIX 2.0 → 2.1).
"""
