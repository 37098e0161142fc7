"""Imports every package's models so ``Base.metadata`` knows all tables (Alembic, tests).

Each domain package adds one import line here when it adds ``models.py``.
"""

import nca_share.access.models  # noqa: F401
import nca_share.auth.models  # noqa: F401
import nca_share.constituency.models  # noqa: F401
import nca_share.feeds.models  # noqa: F401
import nca_share.jobs.models  # noqa: F401
import nca_share.matching.models  # noqa: F401
import nca_share.stix.models  # noqa: F401
