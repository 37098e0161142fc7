"""Extension singletons that carry no per-app state (each app calls ``init_app``)."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
