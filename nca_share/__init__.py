"""nca_share: the threat-information sharing platform of the national cybersecurity authority.

Package map (see ARCHITECTURE.md §2): ``config`` (settings), ``db`` (engine and base),
``errors`` (error hierarchy), ``stix`` (versioned STIX store and ingest), ``jobs`` (jobs
table, worker, scheduler), ``feeds``, ``sectors``, ``constituency``, ``matching``,
``access``, ``auth`` and the thin adapters ``cli``, ``web``, ``api``.
"""

__version__ = "0.1.0"
